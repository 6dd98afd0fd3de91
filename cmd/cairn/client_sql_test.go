package main

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestSQLPrinterFormats(t *testing.T) {
	fields := []pgconn.FieldDescription{{Name: "name", DataTypeOID: 25}, {Name: "amount", DataTypeOID: oidNumeric}, {Name: "ok", DataTypeOID: oidBool}, {Name: "doc", DataTypeOID: oidJSONB}}
	rows := [][][]byte{
		{[]byte("John"), []byte("99.99"), []byte("t"), []byte(`{"a": 1}`)},
		{[]byte("Jane"), []byte("149.99"), []byte("f"), nil},
	}
	cases := map[string]string{
		outputTable: " name | amount | ok |   doc    \n" +
			"------+--------+----+----------\n" +
			" John |  99.99 | t  | {\"a\": 1} \n" +
			" Jane | 149.99 | f  |          \n" +
			"(2 rows)\n\n",
		outputCSV: "name,amount,ok,doc\nJohn,99.99,t,\"{\"\"a\"\": 1}\"\nJane,149.99,f,\n",
		outputJSON: `{"name":"John","amount":99.99,"ok":true,"doc":{"a": 1}}` + "\n" +
			`{"name":"Jane","amount":149.99,"ok":false,"doc":null}` + "\n",
	}
	for format, want := range cases {
		var b bytes.Buffer
		p := newSQLPrinter(&b, format)
		if err := p.begin(fields); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := p.row(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.end(true, "SELECT 2"); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("--output %s:\n%s\nwant:\n%s", format, b.String(), want)
		}
	}
}

func TestSQLPrinterCommandTags(t *testing.T) {
	for format, want := range map[string]string{outputTable: "INSERT 0 2\n", outputCSV: "", outputJSON: `{"command":"INSERT 0 2"}` + "\n"} {
		var b bytes.Buffer
		if err := newSQLPrinter(&b, format).end(false, "INSERT 0 2"); err != nil {
			t.Fatal(err)
		}
		if b.String() != want {
			t.Errorf("--output %s: %q, want %q", format, b.String(), want)
		}
	}
}

func TestJSONCellKeepsNonNumbersAsStrings(t *testing.T) {
	for _, c := range []struct {
		oid  uint32
		in   string
		want string
	}{
		{oidFloat8, "NaN", `"NaN"`},
		{oidFloat8, "Infinity", `"Infinity"`},
		{oidInt8, "42", "42"},
		{25, `he said "hi"`, `"he said \"hi\""`},
	} {
		if got := jsonCell(c.oid, []byte(c.in)); got != c.want {
			t.Errorf("jsonCell(%d, %q) = %s, want %s", c.oid, c.in, got, c.want)
		}
	}
}

func TestSQLCompleteNeedsASemicolonOutsideQuotesAndComments(t *testing.T) {
	for text, want := range map[string]bool{
		"SELECT 1;":              true,
		"SELECT 1":               false,
		"SELECT 1; -- done":      true,
		"SELECT ';":              false,
		"SELECT $$ a; $$;":       true,
		"SELECT $$ a; ":          false,
		"SELECT 1; /* open":      false,
		"CREATE TABLE t (a int,": false,
		"  ":                     false,
	} {
		if got := sqlComplete(text); got != want {
			t.Errorf("sqlComplete(%q) = %v, want %v", text, got, want)
		}
	}
}
