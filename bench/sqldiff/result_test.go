package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func s(v string) *string { return &v }

func rows(rs ...[]*string) [][]*string { return rs }

func TestCompare(t *testing.T) {
	base := func(rs [][]*string) *result {
		return &result{names: []string{"a", "b"}, oids: []uint32{23, 1700}, rows: rs, tag: "SELECT"}
	}
	r1 := []*string{s("1"), s("25.00")}
	r2 := []*string{s("2"), nil}
	for _, tc := range []struct {
		name string
		a, b *result
		mode compareMode
		same bool
		why  string
	}{
		{"equal ordered", base(rows(r1, r2)), base(rows(r1, r2)), ordered, true, ""},
		{"order matters when ordered", base(rows(r1, r2)), base(rows(r2, r1)), ordered, false, `row 1 differs (column a: "1" vs "2")`},
		{"order ignored otherwise", base(rows(r1, r2)), base(rows(r2, r1)), unordered, true, ""},
		{"numeric scale is a difference", base(rows(r1)), base(rows([]*string{s("1"), s("25.0")})), unordered, false, "1 only in the anchor, 1 only in cairn"},
		{"NULL is not the empty string", base(rows(r2)), base(rows([]*string{s("2"), s("")})), unordered, false, "rows differ"},
		{"multiset counts duplicates", base(rows(r1, r1, r2)), base(rows(r1, r2, r2)), unordered, false, "1 only in the anchor, 1 only in cairn"},
		{"row count only", base(rows(r1, r2)), base(rows(r2, r2)), rowCount, true, ""},
		{"row counts differ", base(rows(r1)), base(rows(r1, r2)), rowCount, false, "1 rows vs 2"},
		{"types differ", base(rows(r1)), &result{names: []string{"a", "b"}, oids: []uint32{20, 1700}, rows: rows(r1), tag: "SELECT"}, unordered, false, "type int4 vs int8"},
		{"names differ", base(rows(r1)), &result{names: []string{"a", "?column?"}, oids: []uint32{23, 1700}, rows: rows(r1), tag: "SELECT"}, unordered, false, "column names"},
		{"tags differ", &result{tag: "INSERT 0 1"}, &result{tag: "INSERT 0 2"}, unordered, false, "command tag"},
		{"same SQLSTATE", &result{code: "23505", msg: "x"}, &result{code: "23505", msg: "other words"}, unordered, true, ""},
		{"other SQLSTATE", &result{code: "23505"}, &result{code: "23514"}, unordered, false, "SQLSTATE 23505 vs 23514"},
		{"client failures never agree", &result{code: "client", msg: "timeout"}, &result{code: "client", msg: "timeout"}, unordered, false, "the client failed (anchor: timeout, cairn: timeout)"},
		{"a cairn timeout is a difference", base(rows(r1)), &result{code: "client", msg: "timeout"}, unordered, false, "anchor: ok, cairn: timeout"},
		{"only cairn failed", base(rows(r1)), &result{code: "0A000"}, unordered, false, "only cairn failed (0A000)"},
		{"only the anchor failed", &result{code: "42601"}, base(rows(r1)), unordered, false, "only the anchor failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			same, why := compare(tc.a, tc.b, tc.mode)
			require.Equal(t, tc.same, same, why)
			require.Contains(t, why, tc.why)
		})
	}
}

func TestRowKeyUnambiguous(t *testing.T) {
	require.NotEqual(t, rowKey([]*string{s("a"), s("bc")}), rowKey([]*string{s("ab"), s("c")}))
	require.NotEqual(t, rowKey([]*string{nil}), rowKey([]*string{s("")}))
	require.NotEqual(t, rowKey([]*string{s("N;")}), rowKey([]*string{nil}))
	require.NotEqual(t, rowKey([]*string{s("1:x")}), rowKey([]*string{s("1"), s("x")}))
}

func TestOnlyIn(t *testing.T) {
	a := rows([]*string{s("1")}, []*string{s("1")}, []*string{s("2")})
	b := rows([]*string{s("1")}, []*string{s("3")})
	require.Equal(t, rows([]*string{s("1")}, []*string{s("2")}), onlyIn(a, b))
	require.Equal(t, rows([]*string{s("3")}), onlyIn(b, a))
}

func TestFormat(t *testing.T) {
	r := &result{names: []string{"id", "v"}, oids: []uint32{23, 25}, tag: "SELECT 3",
		rows: rows([]*string{s("2"), nil}, []*string{s("1"), s(strings.Repeat("x", 100))}, []*string{s("3"), s("c")})}
	out := r.format("  ", unordered, 2, 10)
	require.Contains(t, out, `"SELECT 3", 3 rows, columns (id int4, v text)`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 4)             // header, 2 rows, "… 1 more"
	require.Contains(t, lines[1], `"1"`) // sorted when unordered
	require.Contains(t, lines[1], `"xxxxxxxxxx…"`)
	require.Contains(t, lines[3], "1 more")
	require.Contains(t, (&result{code: "22012", msg: "division by zero"}).format("", ordered, 5, 10), "ERROR 22012: division by zero")
	require.Contains(t, (&result{rows: rows([]*string{nil})}).rowsText("", 5, 5), "| NULL |")
}

func TestRedact(t *testing.T) {
	require.Equal(t, "postgres://u:***@h:5432/db", redact("postgres://u:secret@h:5432/db"))
	require.Equal(t, "postgres://u@h/db", redact("postgres://u@h/db"))
	require.Equal(t, "host=x", redact("host=x"))
}
