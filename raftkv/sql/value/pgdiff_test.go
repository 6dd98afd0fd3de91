//go:build pgdiff

// The differential tests in this file compare the package with a real
// PostgreSQL 15 (C collation, UTF8) named by CAIRN_PG_URL, e.g.
//
//	CAIRN_PG_URL=postgres://postgres@127.0.0.1:5432/postgres go test -tags pgdiff ./raftkv/sql/value/
//
// They are behind the pgdiff build tag because they need that server.

package value

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

func pgConn(t *testing.T) *pgx.Conn {
	url := os.Getenv("CAIRN_PG_URL")
	if url == "" {
		t.Fatal("CAIRN_PG_URL is not set (a PostgreSQL 15 to compare with)")
	}
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(context.Background(), "SET TimeZone='UTC'")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pgEval runs sql with text args and returns its single text result or an
// error "CODE message".
func pgEval(c *pgx.Conn, sql string, args ...string) (string, bool, string) {
	params := make([][]byte, len(args))
	for i, a := range args {
		params[i] = []byte(a)
	}
	res := c.PgConn().ExecParams(context.Background(), sql, params, nil, nil, []int16{0}).Read()
	if err := res.Err; err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			return "", false, pe.Code + " " + pe.Message
		}
		return "", false, "?? " + err.Error()
	}
	if len(res.Rows) != 1 {
		return "", false, "?? rows"
	}
	if res.Rows[0][0] == nil {
		return "NULL", true, ""
	}
	return string(res.Rows[0][0]), true, ""
}

func ourErr(err error) string {
	var e *sqlerr.Error
	if errors.As(err, &e) {
		return e.Code + " " + e.Message
	}
	return "?? " + err.Error()
}

func pgTypeName(t Type) string {
	s := t.String()
	if s == "bpchar" {
		return "bpchar"
	}
	return s
}

func TestPGTextOutput(t *testing.T) {
	c := pgConn(t)
	r := testRand(t)
	bad := 0
	for _, typ := range genTypes {
		for range 200 {
			v := genValue(r, typ)
			in := string(AppendText(nil, v))
			if strings.ContainsRune(in, 0) {
				continue
			}
			got, ok, e := pgEval(c, fmt.Sprintf("SELECT $1::text::%s", pgTypeName(typ)), in)
			if !ok {
				if bad++; bad < 30 {
					t.Errorf("%s: PG rejects our output %q: %s", typ, in, e)
				}
				continue
			}
			if got != in {
				if bad++; bad < 30 {
					t.Errorf("%s: ours %q, PG %q", typ, in, got)
				}
			}
		}
	}
}

var numTypes = []Type{Int2, Int4, Int8, Float4, Float8, Numeric}

func TestPGArith(t *testing.T) {
	c := pgConn(t)
	r := testRand(t)
	ops := map[string]func(a, b Value) (Value, error){"+": Add, "-": Sub, "*": Mul, "/": Div, "%": Mod}
	bad := 0
	for range 3000 {
		ta, tb := numTypes[r.Intn(len(numTypes))], numTypes[r.Intn(len(numTypes))]
		a, b := genValue(r, ta), genValue(r, tb)
		if r.Intn(3) == 0 {
			a = Value{Type: ta, Int: int64(r.Intn(100) - 50), Float: float64(r.Intn(100) - 50), Dec: genDec(r)}
		}
		for op, f := range ops {
			sa, sb := string(AppendText(nil, a)), string(AppendText(nil, b))
			want, ok, e := pgEval(c, fmt.Sprintf("SELECT ($1::text::%s %s $2::text::%s)", ta, op, tb), sa, sb)
			v, err := f(a, b)
			var got string
			if err != nil {
				got = ourErr(err)
			} else {
				got = v.String()
			}
			if !ok {
				want = e
			}
			if got != want {
				if bad++; bad < 40 {
					t.Errorf("%s::%s %s %s::%s: ours %q, PG %q", sa, ta, op, sb, tb, got, want)
				}
			}
		}
	}
}

func TestPGCompare(t *testing.T) {
	c := pgConn(t)
	r := testRand(t)
	bad := 0
	for _, typ := range genTypes {
		for range 200 {
			a, b := genValue(r, typ), genValue(r, typ)
			sa, sb := string(AppendText(nil, a)), string(AppendText(nil, b))
			if strings.ContainsRune(sa+sb, 0) {
				continue
			}
			want, ok, e := pgEval(c, fmt.Sprintf("SELECT (CASE WHEN $1::text::%[1]s < $2::text::%[1]s THEN -1 WHEN $1::text::%[1]s = $2::text::%[1]s THEN 0 ELSE 1 END)::text", pgTypeName(typ)), sa, sb)
			if !ok {
				t.Fatalf("%s: %s", typ, e)
			}
			cm, err := Compare(a, b)
			if err != nil || fmt.Sprint(cm) != want {
				if bad++; bad < 30 {
					t.Errorf("%s: Compare(%q, %q) = %d, PG %s", typ, sa, sb, cm, want)
				}
			}
		}
	}
}

func TestPGCast(t *testing.T) {
	c := pgConn(t)
	r := testRand(t)
	targets := append([]Type{}, genTypes...)
	targets = append(targets, Type{Kind: KindNumeric, Precision: 5, Scale: 2}, Type{Kind: KindText, Varchar: true, Length: 2})
	bad := 0
	for _, from := range genTypes {
		for _, to := range targets {
			for range 20 {
				v := genValue(r, from)
				sv := string(AppendText(nil, v))
				if strings.ContainsRune(sv, 0) {
					continue
				}
				want, ok, e := pgEval(c, fmt.Sprintf("SELECT $1::text::%s::%s", pgTypeName(from), pgTypeName(to)), sv)
				res, err := Cast(v, to)
				var got string
				if err != nil {
					got = ourErr(err)
				} else {
					got = string(AppendText(nil, res))
					if res.Null {
						got = "NULL"
					}
				}
				if !ok {
					want = e
				}
				if got != want {
					if bad++; bad < 60 {
						t.Errorf("%q::%s::%s: ours %q, PG %q", sv, from, to, got, want)
					}
				}
			}
		}
	}
}

func TestPGFloatOutput(t *testing.T) {
	c := pgConn(t)
	r := testRand(t)
	bad := 0
	for i := range 20000 {
		typ := Float8
		if i%2 == 1 {
			typ = Float4
		}
		v := genValue(r, typ)
		in := strconv.FormatFloat(v.Float, 'g', -1, 64)
		if typ.Width == 4 {
			in = strconv.FormatFloat(v.Float, 'g', -1, 32)
		}
		want, ok, e := pgEval(c, fmt.Sprintf("SELECT $1::text::%s", typ), in)
		if !ok {
			t.Fatalf("%s %q: %s", typ, in, e)
		}
		if got := string(AppendText(nil, v)); got != want {
			if bad++; bad < 30 {
				t.Errorf("%s %s: ours %q, PG %q", typ, in, got, want)
			}
		}
	}
	t.Logf("%d mismatches", bad)
}

func TestPGInputs(t *testing.T) {
	c := pgConn(t)
	inputs := map[Type][]string{
		Int4:        {" 12 ", "+7", "-0", "1e3", "12a", "", " ", "2147483648", "-2147483648", "0x1f", "1_000", "١٢", "+", "-", "00012", "9999999999999999999999"},
		Int2:        {"32768", "-32768", "12.0"},
		Int8:        {"9223372036854775808", "-9223372036854775808", " 5"},
		Float8:      {"1e400", "-1e400", "1e-400", "NaN", "nan", "-nan", "inf", "-Infinity", "+Infinity", " 1.5 ", "1.", ".5", ".", "1e", "0x10", "1,5", "4.9e-324", "2.5e-324", "1e-320"},
		Float4:      {"3.4e38", "3.5e38", "1e-46", "1e-45", "0.1", "16777217"},
		Numeric:     {" 1.50 ", "1e3", "1E-3", "+.5", "-5.", "1e", "e5", "NaN", "-nan", "Infinity", "-inf", "1.2.3", "١", "0000.0000", "-0.000", "1e-16383", "12345678901234567890.12345678901234567890"},
		Bool:        {"t", "TRUE", " yes ", "y", "n", "on", "o", "of", "off", "1", "0", "2", "tr", "fa", "", "truex"},
		Text:        {"a", "", " x "},
		Bytea:       {`\x`, `\x0`, `\xAB cd`, `\xzz`, `abc`, `a\\b`, `a\101`, `a\1`, `a\400`, `\`, `\\`},
		Date:        {"2024-01-02", "2024-1-2", "2024-02-30", "2024-13-01", "0000-01-01", "0001-01-01 BC", "99999-01-01", "2024-01-02 25:00", "01/02/2024", "2024-01-02T10:00:00Z", "epoch", "20240102", "2024/01/02", "junk"},
		Timestamp:   {"2024-01-02 03:04:05.123456789", "2024-01-02T03:04:05Z", "2024-01-02 03:04:05+05:30", "2024-01-02 24:00:00", "2024-01-02 24:00:01", "2024-01-02 23:59:60", "2024-01-02 03:04", "2024-01-02 3:4:5", "2024-01-02 03:04:05 AD", "0044-03-15 12:00:00 BC", "2024-01-02 03:04:05.", "2024-01-02 03:04:05 UTC"},
		TimestampTZ: {"2024-01-02 03:04:05+02", "2024-01-02 03:04:05-0730", "2024-01-02 03:04:05 +02:00", "2024-01-02 03:04:05+14", "2024-01-02 03:04:05+16", "2024-01-02T03:04:05.5Z", "2024-01-02", "2024-01-02 03:04:05 GMT"},
		JSONB:       {`{"a":1, "a":2}`, `[1,2`, `{"a":}`, `"\u0000"`, `"\ud800"`, `1e1000`, `-0`, `0.00`, `[1e-2, 1E+2, 12.50]`, `{"b":{"bb":1,"a":[]},"a":null}`, ` true `, `nul`, `"é\u00e9\t"`, `{"k":"\/"}`, `[]`, `01`, `1.`, `.5`, `[1,]`},
	}
	bad := 0
	for typ, ins := range inputs {
		for _, in := range ins {
			want, ok, e := pgEval(c, fmt.Sprintf("SELECT $1::text::%s", pgTypeName(typ)), in)
			v, err := ParseText(typ, []byte(in))
			var got string
			if err != nil {
				got = ourErr(err)
			} else {
				got = string(AppendText(nil, v))
			}
			if !ok {
				want = e
			}
			if got != want {
				bad++
				t.Errorf("%s %q: ours %q, PG %q", typ, in, got, want)
			}
		}
	}
}

func TestPGJSONAndLike(t *testing.T) {
	c := pgConn(t)
	docs := []string{`{"a": {"b": [1, 2]}, "s": "x", "n": null, "arr": [10, "y", null], "num": 1.50}`, `[1, "two", {"k": 3}, null, true]`, `"str"`, `5`}
	keys := []Value{NewText("a"), NewText("s"), NewText("n"), NewText("arr"), NewText("num"), NewText("zz"), NewInt4(0), NewInt4(1), NewInt4(-1), NewInt4(4), NewInt4(-5), NewInt4(9)}
	for _, d := range docs {
		for _, k := range keys {
			for _, op := range []string{"->", "->>"} {
				kt := "text"
				if k.Type.Kind == KindInt {
					kt = "int"
				}
				want, ok, e := pgEval(c, fmt.Sprintf("SELECT ($1::text::jsonb %s $2::text::%s)::text", op, kt), d, k.String())
				if !ok {
					want = e
				}
				res, err := JSONField(jsonV(t, d), k, op == "->>")
				got := res.String()
				if err != nil {
					got = ourErr(err)
				}
				if got != want {
					t.Errorf("%s %s %v: ours %q, PG %q", d, op, k, got, want)
				}
			}
		}
	}
	subjects := []string{"", "a", "abc", "ABC", "a%c", "a_c", `a\c`, "日本語", "aaa", "abab"}
	patterns := []string{"", "%", "_", "a%", "%c", "_b_", `a\%c`, `a\_c`, `a\\c`, "A%", "%a%a%", "日_語", "%%", "a%b%", `%\`, "ab%ab"}
	for _, s := range subjects {
		for _, p := range patterns {
			for _, ci := range []bool{false, true} {
				op := "LIKE"
				if ci {
					op = "ILIKE"
				}
				want, ok, e := pgEval(c, fmt.Sprintf("SELECT ($1::text %s $2::text)::text", op), s, p)
				if !ok {
					want = e
				}
				m, err := Like(s, p, ci)
				got := fmt.Sprint(m)
				if err != nil {
					got = ourErr(err)
				}
				if got != want {
					t.Errorf("%q %s %q: ours %q, PG %q", s, op, p, got, want)
				}
			}
		}
	}
}

func TestPGBinary(t *testing.T) {
	c := pgConn(t)
	r := testRand(t)
	bad := 0
	for _, typ := range genTypes {
		for range 200 {
			v := genValue(r, typ)
			in := string(AppendText(nil, v))
			if strings.ContainsRune(in, 0) {
				continue
			}
			res := c.PgConn().ExecParams(context.Background(), fmt.Sprintf("SELECT $1::text::%s", pgTypeName(typ)), [][]byte{[]byte(in)}, nil, nil, []int16{1}).Read()
			if res.Err != nil {
				t.Fatalf("%s %q: %v", typ, in, res.Err)
			}
			want := res.Rows[0][0]
			got, err := AppendBinary(nil, v)
			if err != nil || string(got) != string(want) {
				if bad++; bad < 20 {
					t.Errorf("%s %q: ours %x, PG %x", typ, in, got, want)
				}
			}
			// PG reads our binary.
			res = c.PgConn().ExecParams(context.Background(), fmt.Sprintf("SELECT $1::%s", pgTypeName(typ)), [][]byte{got}, []uint32{typ.OID()}, []int16{1}, []int16{0}).Read()
			if res.Err != nil {
				if bad++; bad < 20 {
					t.Errorf("%s %q: PG rejects our binary %x: %v", typ, in, got, res.Err)
				}
				continue
			}
			if string(res.Rows[0][0]) != in {
				if bad++; bad < 20 {
					t.Errorf("%s %q: PG reads our binary as %q", typ, in, res.Rows[0][0])
				}
			}
		}
	}
}

func TestPGAssign(t *testing.T) {
	c := pgConn(t)
	r := testRand(t)
	targets := append([]Type{}, genTypes...)
	targets = append(targets, Type{Kind: KindNumeric, Precision: 5, Scale: 2}, Type{Kind: KindText, Varchar: true, Length: 2}, Type{Kind: KindText, Fixed: true, Length: 3})
	bad := 0
	for ti, to := range targets {
		if _, err := c.Exec(context.Background(), fmt.Sprintf("CREATE TEMP TABLE a%d (x %s)", ti, to)); err != nil {
			t.Fatal(err)
		}
		for _, from := range genTypes {
			for range 15 {
				v := genValue(r, from)
				sv := string(AppendText(nil, v))
				if strings.ContainsRune(sv, 0) {
					continue
				}
				want, ok, e := pgEval(c, fmt.Sprintf("INSERT INTO a%d (x) VALUES ($1::text::%s) RETURNING x", ti, pgTypeName(from)), sv)
				if !ok {
					want = e
				}
				res, err := AssignCast(v, to)
				var got string
				if err != nil {
					got = ourErr(err)
				} else {
					got = string(AppendText(nil, res))
				}
				want = strings.Replace(want, `column "x" is`, "column is", 1)
				if got != want {
					if bad++; bad < 40 {
						t.Errorf("%q::%s → %s: ours %q, PG %q", sv, from, to, got, want)
					}
				}
			}
		}
	}
}

func TestPGMisc(t *testing.T) {
	c := pgConn(t)
	r := testRand(t)
	bad := 0
	report := func(what, got, want string) {
		if got != want {
			if bad++; bad < 40 {
				t.Errorf("%s: ours %q, PG %q", what, got, want)
			}
		}
	}
	res := func(v Value, err error) string {
		if err != nil {
			return ourErr(err)
		}
		if v.Null {
			return "NULL"
		}
		return string(AppendText(nil, v))
	}
	pg := func(sql string, args ...string) string {
		w, ok, e := pgEval(c, sql, args...)
		if !ok {
			return e
		}
		return w
	}
	for _, ta := range genTypes {
		for _, tb := range []Type{Text, ta} {
			for range 10 {
				a, b := genValue(r, ta), genValue(r, tb)
				sa, sb := string(AppendText(nil, a)), string(AppendText(nil, b))
				if strings.ContainsRune(sa+sb, 0) {
					continue
				}
				report(fmt.Sprintf("%q::%s || %q::%s", sa, ta, sb, tb), res(Concat(a, b)), pg(fmt.Sprintf("SELECT $1::text::%s || $2::text::%s", pgTypeName(ta), pgTypeName(tb)), sa, sb))
			}
		}
	}
	for _, typ := range numTypes {
		for range 50 {
			v := genValue(r, typ)
			s := string(AppendText(nil, v))
			report(fmt.Sprintf("-(%q::%s)", s, typ), res(Neg(v)), pg(fmt.Sprintf("SELECT -($1::text::%s)", typ), s))
			report(fmt.Sprintf("abs(%q::%s)", s, typ), res(Abs(v)), pg(fmt.Sprintf("SELECT abs($1::text::%s)", typ), s))
			if typ.Kind == KindNumeric || typ.Kind == KindInt {
				sc := int32(r.Intn(8) - 3)
				report(fmt.Sprintf("round(%q::%s, %d)", s, typ, sc), res(Round(v, sc)), pg(fmt.Sprintf("SELECT round($1::text::%s, %d)", typ, sc), s))
			}
		}
	}
	for _, typ := range numTypes {
		for range 30 {
			n := 1 + r.Intn(5)
			var vals []string
			var sum Value
			st, _ := SumType(typ)
			sum = NullOf(st)
			for range n {
				v := genValue(r, typ)
				if typ.Kind == KindInt {
					v.Int /= 8
				}
				vals = append(vals, string(AppendText(nil, v)))
				var err error
				if sum.Null {
					sum, err = Cast(v, st)
				} else {
					sum, err = Add(sum, v)
				}
				if err != nil {
					sum = Value{}
					break
				}
			}
			if sum.Type.Kind == KindUnknown {
				continue
			}
			q := "SELECT avg(x::" + typ.String() + ") FROM unnest($1::text[]) x"
			arr := "{" + strings.Join(vals, ",") + "}"
			avgSum := sum
			if typ.Kind == KindFloat {
				// avg accumulates floats in double precision.
				avgSum = NewFloat(0)
				for _, s := range vals {
					x, _ := ParseText(typ, []byte(s))
					avgSum, _ = Add(avgSum, x)
				}
			}
			want := pg(q, arr)
			if want == "22003 value out of range: overflow" {
				continue // PostgreSQL's sum of squares overflowed (documented on Avg)
			}
			report(fmt.Sprintf("avg(%s::%s)", arr, typ), res(Avg(avgSum, int64(n))), want)
			q = "SELECT sum(x::" + typ.String() + ") FROM unnest($1::text[]) x"
			report(fmt.Sprintf("sum(%s::%s)", arr, typ), res(sum, nil), pg(q, arr))
		}
	}
}
