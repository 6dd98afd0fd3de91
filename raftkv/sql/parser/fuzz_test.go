package parser

import (
	"errors"
	"os"
	"reflect"
	"testing"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// FuzzParse checks that Parse never panics, that its errors are
// *sqlerr.Error, that Split cuts what it accepts into the same statements,
// and that whatever it accepts formats back to text that parses to an
// equal tree.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile("testdata/corpus.sql"); err == nil {
		for _, s := range Split(string(data)) {
			f.Add(s)
		}
	}
	for _, s := range []string{
		"", ";", "select", "select (", "select 'abc", "select \"", "select $", "/* a /* b */",
		"select 1 +", "select ((((1))))", "select e'\\x41\\u00e9\\101'", "select $a$x$a$",
		"select a[1]", "select count(*) over ()", "grant all on t to u", "select 1e", "select 1..2",
		"select a from t where a in ((select 1) + 1, 2)", "select -- c\n 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		_ = Split(sql)
		stmts, err := Parse(sql)
		if err != nil {
			var se *sqlerr.Error
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v is %T, not *sqlerr.Error", sql, err, err)
			}
			if se.Code == "" || se.Message == "" {
				t.Fatalf("Parse(%q) error without code or message: %#v", sql, se)
			}
			return
		}
		parts := Split(sql)
		if len(parts) != len(stmts) {
			t.Fatalf("Parse(%q) gives %d statements, Split %d: %q", sql, len(stmts), len(parts), parts)
		}
		for i, part := range parts {
			one, err := ParseOne(part)
			if err != nil {
				t.Fatalf("Split(%q)[%d] = %q does not parse alone: %v", sql, i, part, err)
			}
			stripPos(one)
			stripPos(stmts[i])
			if !reflect.DeepEqual(one, stmts[i]) {
				t.Fatalf("Split(%q)[%d] = %q parses differently alone", sql, i, part)
			}
		}
		for _, st := range stmts {
			if _, ok := st.(*ast.Unsupported); ok {
				continue
			}
			text := ast.Format(st)
			back, err := ParseOne(text)
			if err != nil {
				t.Fatalf("Parse(%q) ok, but its format %q does not parse: %v", sql, text, err)
			}
			stripPos(st)
			stripPos(back)
			if !reflect.DeepEqual(st, back) {
				t.Fatalf("Parse(%q) formats as %q, which parses to a different tree", sql, text)
			}
		}
	})
}
