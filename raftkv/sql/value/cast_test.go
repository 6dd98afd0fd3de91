package value

import (
	"testing"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

func TestCast(t *testing.T) {
	n := func(s string) Value { return mustNum(t, s) }
	ts := func(typ Type, s string) Value {
		v, err := ParseText(typ, []byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	varchar2 := Type{Kind: KindText, Varchar: true, Length: 2}
	num5_2 := Type{Kind: KindNumeric, Precision: 5, Scale: 2}
	tests := []struct {
		v      Value
		to     Type
		assign bool
		out    string
		code   string
		msg    string
	}{
		{v: n("2.5"), to: Int4, out: "3"},
		{v: n("-2.5"), to: Int4, out: "-3"},
		{v: n("2.4999"), to: Int2, out: "2"},
		{v: NewFloat(2.5), to: Int4, out: "2"},
		{v: NewFloat(3.5), to: Int4, out: "4"},
		{v: NewFloat(-2.5), to: Int8, out: "-2"},
		{v: NewFloat(1e10), to: Int4, code: "22003", msg: "integer out of range"},
		{v: NewFloat(nan()), to: Int8, code: "22003", msg: "bigint out of range"},
		{v: NewInt(3000000000), to: Int4, code: "22003", msg: "integer out of range"},
		{v: NewInt4(40000), to: Int2, code: "22003", msg: "smallint out of range"},
		{v: n("NaN"), to: Int4, code: "0A000", msg: "cannot convert NaN to integer"},
		{v: n("1e30"), to: Int8, code: "22003", msg: "bigint out of range"},
		{v: NewInt4(7), to: Numeric, out: "7"},
		{v: NewInt4(7), to: num10_2, out: "7.00"},
		{v: n("123.456"), to: num5_2, out: "123.46"},
		{v: n("999.995"), to: num5_2, code: "22003", msg: "numeric field overflow"},
		{v: NewFloat(0.1), to: Numeric, out: "0.1"},
		{v: NewFloat(1e20), to: Numeric, out: "100000000000000000000"},
		{v: NewFloat(1.0 / 3), to: Numeric, out: "0.333333333333333"},
		{v: NewFloat(-1234.5), to: Numeric, out: "-1234.5"},
		{v: NewFloat4(0.1), to: Numeric, out: "0.1"},
		{v: n("0.1"), to: Float8, out: "0.1"},
		{v: NewInt(1 << 53), to: Float8, out: "9.007199254740992e+15"},
		{v: NewFloat(1e300), to: Float4, code: "22003", msg: "value out of range: overflow"},
		{v: NewFloat(1e-300), to: Float4, code: "22003", msg: "value out of range: underflow"},
		{v: NewFloat(0.1), to: Float4, out: "0.1"},
		{v: NewText("abc"), to: varchar2, out: "ab"},
		{v: NewText("abc"), to: varchar2, assign: true, code: "22001", msg: "value too long for type character varying(2)"},
		{v: NewText("ab   "), to: varchar2, assign: true, out: "ab"},
		{v: NewText("日本語"), to: varchar2, out: "日本"},
		{v: NewText("ab"), to: char4, out: "ab  "},
		{v: NewText("abcdef"), to: char4, out: "abcd"},
		{v: NewText("abcdef"), to: char4, assign: true, code: "22001", msg: "value too long for type character(4)"},
		{v: Value{Type: char4, Str: "ab  "}, to: Text, out: "ab"},
		{v: NewUnknown("abc"), to: varchar2, out: "ab"},
		{v: NewUnknown("abc"), to: varchar2, assign: true, code: "22001", msg: "value too long for type character varying(2)"},
		{v: NewUnknown("42"), to: Int8, out: "42"},
		{v: NewText(" 42 "), to: Int4, out: "42"},
		{v: NewText("x"), to: Int4, code: "22P02", msg: `invalid input syntax for type integer: "x"`},
		{v: NewBool(true), to: Text, out: "true"},
		{v: NewBool(false), to: varchar5, out: "false"},
		{v: NewBool(true), to: Int4, out: "1"},
		{v: NewInt4(5), to: Bool, out: "t"},
		{v: NewInt4(0), to: Bool, out: "f"},
		{v: NewText("yes"), to: Bool, out: "t"},
		{v: NewInt4(12), to: Text, out: "12"},
		{v: n("1.50"), to: Text, out: "1.50"},
		{v: NewFloat(1e20), to: Text, out: "1e+20"},
		{v: NewBytes([]byte{1, 0xab}), to: Text, out: `\x01ab`},
		{v: NewText(`\x01ab`), to: Bytea, out: `\x01ab`},
		{v: ts(TimestampTZ, "2024-01-02 03:04:05+02"), to: Timestamp, out: "2024-01-02 01:04:05"},
		{v: ts(Timestamp, "2024-01-02 03:04:05"), to: TimestampTZ, out: "2024-01-02 03:04:05+00"},
		{v: ts(Timestamp, "2024-01-02 03:04:05"), to: Date, out: "2024-01-02"},
		{v: ts(Date, "2024-01-02"), to: Timestamp, out: "2024-01-02 00:00:00"},
		{v: ts(Date, "2024-01-02"), to: TimestampTZ, out: "2024-01-02 00:00:00+00"},
		{v: ts(Date, "2024-01-02"), to: Text, out: "2024-01-02"},
		{v: NewText(`{"b":1,"a":[true]}`), to: JSONB, out: `{"a": [true], "b": 1}`},
		{v: jsonV(t, `{"a": 1}`), to: Text, out: `{"a": 1}`},
		{v: jsonV(t, `1.50`), to: Numeric, out: "1.50"},
		{v: jsonV(t, `2.5`), to: Int4, out: "3"},
		{v: jsonV(t, `2.5`), to: Float8, out: "2.5"},
		{v: jsonV(t, `true`), to: Bool, out: "t"},
		{v: jsonV(t, `"x"`), to: Int4, code: "22023", msg: "cannot cast jsonb string to type integer"},
		{v: jsonV(t, `null`), to: Numeric, code: "22023", msg: "cannot cast jsonb null to type numeric"},
		{v: jsonV(t, `{}`), to: Bool, code: "22023", msg: "cannot cast jsonb object to type boolean"},
		{v: NewInt4(1), to: Date, code: "42846", msg: "cannot cast type integer to date"},
		{v: NewBool(true), to: Numeric, code: "42846", msg: "cannot cast type boolean to numeric"},
		{v: NullOf(Text), to: Int4, out: "NULL"},
		{v: NewText("5"), to: Int4, assign: true, code: "42804", msg: "column is of type integer but expression is of type text"},
		{v: NewBool(true), to: Int4, assign: true, code: "42804", msg: "column is of type integer but expression is of type boolean"},
		{v: NewText("{}"), to: JSONB, assign: true, code: "42804", msg: "column is of type jsonb but expression is of type text"},
		{v: jsonV(t, "1"), to: Numeric, assign: true, code: "42804", msg: "column is of type numeric but expression is of type jsonb"},
		{v: NewUnknown("5"), to: Int4, assign: true, out: "5"},
		{v: NewUnknown("{}"), to: JSONB, assign: true, out: "{}"},
		{v: NewFloat(2.5), to: Int4, assign: true, out: "2"},
		{v: n("2.5"), to: Int2, assign: true, out: "3"},
		{v: NewInt4(5), to: varchar5, assign: true, out: "5"},
		{v: jsonV(t, `{"a": 1}`), to: Text, assign: true, out: `{"a": 1}`},
		{v: ts(TimestampTZ, "2024-01-02 03:04:05"), to: Date, assign: true, out: "2024-01-02"},
		{v: NewInt(123456), to: num5_2, assign: true, code: "22003", msg: "numeric field overflow"},
	}
	for _, tc := range tests {
		f, name := Cast, "Cast"
		if tc.assign {
			f, name = AssignCast, "AssignCast"
		}
		got, err := f(tc.v, tc.to)
		if tc.code != "" {
			e, ok := err.(*sqlerr.Error)
			if !ok || e.Code != tc.code || e.Message != tc.msg {
				t.Errorf("%s(%v, %s) = %v, %v; want %s %q", name, tc.v, tc.to, got, err, tc.code, tc.msg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s(%v, %s): %v", name, tc.v, tc.to, err)
			continue
		}
		if got.String() != tc.out {
			t.Errorf("%s(%v, %s) = %q, want %q", name, tc.v, tc.to, got.String(), tc.out)
		}
		if got.Type != tc.to {
			t.Errorf("%s(%v, %s) has type %s", name, tc.v, tc.to, got.Type)
		}
	}
}

func TestCompare(t *testing.T) {
	n := func(s string) Value { return mustNum(t, s) }
	tests := []struct {
		a, b Value
		want int
	}{
		{NewInt4(1), n("1.00"), 0},
		{NewInt(2), n("1.99"), 1},
		{NewInt4(1), NewFloat(1.5), -1},
		{n("0.1"), NewFloat(0.1), 0},
		{NewFloat(nan()), NewFloat(posInf()), 1},
		{NewFloat(nan()), NewFloat(nan()), 0},
		{NewFloat(0), NewFloat(-1 * 0.0), 0},
		{n("NaN"), n("Infinity"), 1},
		{n("-Infinity"), n("-1e100"), -1},
		{NewText("a"), NewText("b"), -1},
		{NewText("a"), NewText("a\x00"), -1},
		{NewText("B"), NewText("a"), -1},
		{Value{Type: char4, Str: "ab  "}, NewText("ab"), 0},
		{Value{Type: char4, Str: "ab  "}, Value{Type: char4, Str: "ab"}, 0},
		{NewText("ab "), NewText("ab"), 1},
		{NewBytes([]byte{1}), NewBytes([]byte{1, 0}), -1},
		{dateV(t, "2024-01-02"), NewTimestamp(dateV(t, "2024-01-02").Time), 0},
		{NewBool(false), NewBool(true), -1},
		{NewUnknown("10"), NewInt4(9), 1},
		{jsonV(t, `{"a": 1}`), jsonV(t, `{"a": 1.0}`), 0},
		{jsonV(t, `[1, 2]`), jsonV(t, `[3]`), 1},
		{jsonV(t, `null`), jsonV(t, `"x"`), -1},
		// jsonb's btree quirks (PostgreSQL 15).
		{jsonV(t, `[]`), jsonV(t, `null`), -1},
		{jsonV(t, `[1]`), jsonV(t, `5`), 1},
		{jsonV(t, `[[]]`), jsonV(t, `[5]`), 1},
		{jsonV(t, `{}`), jsonV(t, `[1, 2]`), 1},
		{jsonV(t, `{"aa": 1}`), jsonV(t, `{"b": 1}`), -1},
		{jsonV(t, `{"a": 2, "b": 1}`), jsonV(t, `{"a": 1, "c": 0}`), 1},
		{NullOf(Int4), NewInt4(1), -1},
	}
	for _, tc := range tests {
		got, err := Compare(tc.a, tc.b)
		if err != nil || got != tc.want {
			t.Errorf("Compare(%v, %v) = %d, %v; want %d", tc.a, tc.b, got, err, tc.want)
		}
		back, err := Compare(tc.b, tc.a)
		if err != nil || back != -tc.want {
			t.Errorf("Compare(%v, %v) = %d, %v; want %d", tc.b, tc.a, back, err, -tc.want)
		}
	}
	if _, err := Compare(NewBool(true), NewInt4(1)); sqlerr.Code(err) != sqlerr.UndefinedFunction {
		t.Errorf("Compare(bool, int) = %v, want 42883", err)
	}
	if _, err := Compare(NewUnknown("x"), NewInt4(1)); sqlerr.Code(err) != sqlerr.InvalidTextRepresentation {
		t.Errorf("Compare('x', int) = %v, want 22P02", err)
	}
}
