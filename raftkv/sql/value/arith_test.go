package value

import (
	"testing"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

func mustNum(t *testing.T, s string) Value {
	t.Helper()
	v, err := NumericFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestArithmetic(t *testing.T) {
	n := func(s string) Value { return mustNum(t, s) }
	i4, i2 := NewInt4, NewInt2
	f8 := NewFloat
	ops := map[string]func(a, b Value) (Value, error){"+": Add, "-": Sub, "*": Mul, "/": Div, "%": Mod, "||": Concat}
	tests := []struct {
		a    Value
		op   string
		b    Value
		out  string
		typ  Type
		code string
		msg  string
	}{
		{a: i4(2), op: "+", b: i4(3), out: "5", typ: Int4},
		{a: i4(2147483647), op: "+", b: i4(1), code: "22003", msg: "integer out of range"},
		{a: i4(-2147483648), op: "-", b: i4(1), code: "22003", msg: "integer out of range"},
		{a: NewInt(9223372036854775807), op: "+", b: i4(1), code: "22003", msg: "bigint out of range"},
		{a: NewInt(-9223372036854775808), op: "*", b: i4(-1), code: "22003", msg: "bigint out of range"},
		{a: NewInt(-9223372036854775808), op: "/", b: i4(-1), code: "22003", msg: "bigint out of range"},
		{a: i2(32767), op: "+", b: i2(1), code: "22003", msg: "smallint out of range"},
		{a: i2(32767), op: "+", b: i4(1), out: "32768", typ: Int4},
		{a: i4(2), op: "*", b: NewInt(3), out: "6", typ: Int8},
		{a: i4(65536), op: "*", b: i4(65536), code: "22003", msg: "integer out of range"},
		{a: i4(7), op: "/", b: i4(-2), out: "-3", typ: Int4},
		{a: i4(-7), op: "/", b: i4(2), out: "-3", typ: Int4},
		{a: i4(-7), op: "%", b: i4(3), out: "-1", typ: Int4},
		{a: i4(7), op: "%", b: i4(-3), out: "1", typ: Int4},
		{a: i4(-2147483648), op: "%", b: i4(-1), out: "0", typ: Int4},
		{a: i4(1), op: "/", b: i4(0), code: "22012", msg: "division by zero"},
		{a: i4(1), op: "%", b: i4(0), code: "22012", msg: "division by zero"},
		{a: i4(1), op: "+", b: n("1.5"), out: "2.5", typ: Numeric},
		{a: i4(1), op: "+", b: f8(1.5), out: "2.5", typ: Float8},
		{a: n("1.5"), op: "+", b: f8(1), out: "2.5", typ: Float8},
		{a: NewFloat4(1.5), op: "*", b: NewFloat4(2), out: "3", typ: Float4},
		{a: n("10"), op: "/", b: i4(3), out: "3.3333333333333333", typ: Numeric},
		{a: n("1.00"), op: "/", b: i4(3), out: "0.33333333333333333333", typ: Numeric},
		{a: n("2"), op: "/", b: i4(3), out: "0.66666666666666666667", typ: Numeric},
		{a: n("124.99"), op: "/", b: i4(2), out: "62.4950000000000000", typ: Numeric},
		{a: n("1"), op: "/", b: n("8"), out: "0.12500000000000000000", typ: Numeric},
		{a: n("100000"), op: "/", b: n("3"), out: "33333.333333333333", typ: Numeric},
		{a: n("-7"), op: "/", b: n("2"), out: "-3.5000000000000000", typ: Numeric},
		{a: n("1.234567"), op: "/", b: n("1"), out: "1.23456700000000000000", typ: Numeric},
		{a: n("1"), op: "/", b: n("0.0000001"), out: "10000000.000000000000", typ: Numeric},
		{a: n("2.50"), op: "*", b: n("1.1"), out: "2.750", typ: Numeric},
		{a: n("25.00"), op: "+", b: n("99.99"), out: "124.99", typ: Numeric},
		{a: n("1.5"), op: "-", b: n("1.50"), out: "0.00", typ: Numeric},
		{a: n("5.5"), op: "%", b: i4(2), out: "1.5", typ: Numeric},
		{a: n("-5.5"), op: "%", b: n("2"), out: "-1.5", typ: Numeric},
		{a: n("1.0"), op: "/", b: i4(0), code: "22012", msg: "division by zero"},
		{a: n("1.0"), op: "%", b: n("0.00"), code: "22012", msg: "division by zero"},
		{a: n("NaN"), op: "+", b: i4(1), out: "NaN", typ: Numeric},
		{a: n("1e100000"), op: "*", b: n("1e100000"), code: "22003", msg: "value overflows numeric format"},
		{a: n("Infinity"), op: "-", b: n("Infinity"), out: "NaN", typ: Numeric},
		{a: n("Infinity"), op: "*", b: n("-2"), out: "-Infinity", typ: Numeric},
		{a: n("5"), op: "/", b: n("Infinity"), out: "0", typ: Numeric},
		{a: f8(1), op: "/", b: f8(0), code: "22012", msg: "division by zero"},
		{a: f8(1e308), op: "*", b: f8(10), code: "22003", msg: "value out of range: overflow"},
		{a: f8(1e-308), op: "*", b: f8(1e-308), code: "22003", msg: "value out of range: underflow"},
		{a: f8(posInf()), op: "+", b: f8(1), out: "Infinity", typ: Float8},
		{a: f8(5.5), op: "%", b: f8(2), code: "42883", msg: "operator does not exist: double precision % double precision"},
		{a: NewUnknown("1"), op: "+", b: i4(2), out: "3", typ: Int4},
		{a: NewUnknown("1"), op: "+", b: NewUnknown("2"), code: "42725", msg: "operator is not unique: unknown + unknown"},
		{a: NewUnknown("x"), op: "+", b: i4(2), code: "22P02", msg: `invalid input syntax for type integer: "x"`},
		{a: NewText("a"), op: "+", b: i4(2), code: "42883", msg: "operator does not exist: text + integer"},
		{a: NullOf(Int4), op: "+", b: i4(2), out: "NULL", typ: Int4},
		{a: i4(1), op: "/", b: NullOf(Int4), out: "NULL", typ: Int4},
		{a: NewText("a"), op: "||", b: i4(1), out: "a1", typ: Text},
		{a: NewBool(true), op: "||", b: NewText("x"), out: "truex", typ: Text},
		{a: Value{Type: char4, Str: "ab  "}, op: "||", b: NewText("c"), out: "abc", typ: Text},
		{a: NewText("a"), op: "||", b: NullOf(Text), out: "NULL", typ: Text},
		{a: NewBytes([]byte{1}), op: "||", b: NewBytes([]byte{2}), out: `\x0102`, typ: Bytea},
		{a: jsonV(t, `{"a":1,"b":2}`), op: "||", b: jsonV(t, `{"b":3}`), out: `{"a": 1, "b": 3}`, typ: JSONB},
		{a: jsonV(t, `[1]`), op: "||", b: jsonV(t, `[2, 3]`), out: `[1, 2, 3]`, typ: JSONB},
		{a: jsonV(t, `[1]`), op: "||", b: jsonV(t, `{"a": 1}`), out: `[1, {"a": 1}]`, typ: JSONB},
		{a: i4(1), op: "||", b: i4(2), code: "42883", msg: "operator does not exist: integer || integer"},
		{a: dateV(t, "2024-02-28"), op: "+", b: i4(2), out: "2024-03-01", typ: Date},
		{a: dateV(t, "2024-03-01"), op: "-", b: dateV(t, "2024-02-28"), out: "2", typ: Int4},
		{a: dateV(t, "2024-03-01"), op: "-", b: i4(1), out: "2024-02-29", typ: Date},
	}
	for _, tc := range tests {
		got, err := ops[tc.op](tc.a, tc.b)
		name := tc.a.String() + " " + tc.op + " " + tc.b.String()
		if tc.code != "" {
			e, ok := err.(*sqlerr.Error)
			if !ok || e.Code != tc.code || e.Message != tc.msg {
				t.Errorf("%s = %v, %v; want error %s %q", name, got, err, tc.code, tc.msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if got.String() != tc.out || got.Type != tc.typ {
			t.Errorf("%s = %s (%s), want %s (%s)", name, got, got.Type, tc.out, tc.typ)
		}
	}
}

func TestNeg(t *testing.T) {
	tests := []struct {
		in   Value
		out  string
		code string
	}{
		{NewInt4(5), "-5", ""},
		{NewInt4(-2147483648), "", "22003"},
		{NewInt2(-32768), "", "22003"},
		{NewInt(-9223372036854775808), "", "22003"},
		{mustNum(t, "1.50"), "-1.50", ""},
		{mustNum(t, "0.0"), "0.0", ""},
		{mustNum(t, "-Infinity"), "Infinity", ""},
		{NewFloat(0), "-0", ""},
		{NewText("x"), "", "42883"},
	}
	for _, tc := range tests {
		got, err := Neg(tc.in)
		if sqlerr.Code(err) != tc.code && !(tc.code == "" && err == nil) {
			t.Errorf("Neg(%v) = %v, %v; want code %s", tc.in, got, err, tc.code)
			continue
		}
		if tc.code == "" && got.String() != tc.out {
			t.Errorf("Neg(%v) = %v, want %s", tc.in, got, tc.out)
		}
	}
}

func jsonV(t *testing.T, s string) Value {
	t.Helper()
	v, err := NewJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func dateV(t *testing.T, s string) Value {
	t.Helper()
	v, err := ParseText(Date, []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
