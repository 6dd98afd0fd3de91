package value

import (
	"testing"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

func TestLike(t *testing.T) {
	tests := []struct {
		s, p string
		ci   bool
		want bool
	}{
		{"abc", "a%", false, true},
		{"abc", "_b_", false, true},
		{"abc", "abc", false, true},
		{"abc", "ab", false, false},
		{"abc", "%c", false, true},
		{"abc", "%b", false, false},
		{"a%c", `a\%c`, false, true},
		{"abc", `a\%c`, false, false},
		{"a_c", `a\_c`, false, true},
		{"abc", `a\_c`, false, false},
		{`a\c`, `a\\c`, false, true},
		{"ABC", "a%", false, false},
		{"ABC", "a%", true, true},
		{"", "%", false, true},
		{"", "_", false, false},
		{"", "", false, true},
		{"aaa", "%a%a%a%", false, true},
		{"aa", "%a%a%a%", false, false},
		{"日本語", "日_語", false, true},
		{"mississippi", "%iss%ppi", false, true},
		{"mississippi", "m%%%i", false, true},
		{"abcabd", "%abd", false, true},
		// A trailing escape the match never reaches is no error (PostgreSQL 15).
		{"", `%\`, false, false},
		{"a", `a\`, false, false},
	}
	for _, tc := range tests {
		got, err := Like(tc.s, tc.p, tc.ci)
		if err != nil || got != tc.want {
			t.Errorf("Like(%q, %q, %v) = %v, %v; want %v", tc.s, tc.p, tc.ci, got, err, tc.want)
		}
	}
	if _, err := Like("ab", `a\`, false); sqlerr.Code(err) != sqlerr.InvalidEscape {
		t.Errorf("Like with trailing escape = %v, want 22025", err)
	}
}

func TestJSONField(t *testing.T) {
	doc := jsonV(t, `{"a": {"b": [1, 2]}, "s": "x", "n": null, "arr": [10, "y", null]}`)
	arr := jsonV(t, `[1, "two", {"k": 3}]`)
	tests := []struct {
		v      Value
		key    Value
		asText bool
		out    string
		typ    Type
	}{
		{doc, NewText("a"), false, `{"b": [1, 2]}`, JSONB},
		{doc, NewText("a"), true, `{"b": [1, 2]}`, Text},
		{doc, NewText("s"), false, `"x"`, JSONB},
		{doc, NewText("s"), true, `x`, Text},
		{doc, NewText("n"), false, `null`, JSONB},
		{doc, NewText("n"), true, `NULL`, Text},
		{doc, NewText("missing"), false, `NULL`, JSONB},
		{doc, NewUnknown("s"), true, `x`, Text},
		{doc, NewInt4(0), false, `NULL`, JSONB},
		{arr, NewInt4(1), true, `two`, Text},
		{arr, NewInt4(2), false, `{"k": 3}`, JSONB},
		{arr, NewInt4(-1), false, `{"k": 3}`, JSONB},
		{arr, NewInt4(-3), false, `1`, JSONB},
		{arr, NewInt4(3), false, `NULL`, JSONB},
		{arr, NewInt4(-4), false, `NULL`, JSONB},
		{arr, NewText("a"), false, `NULL`, JSONB},
		{jsonV(t, `"str"`), NewInt4(0), false, `"str"`, JSONB},
		{jsonV(t, `5`), NewInt4(-1), true, `5`, Text},
		{jsonV(t, `5`), NewInt4(1), true, `NULL`, Text},
		{jsonV(t, `"str"`), NewText("a"), false, `NULL`, JSONB},
		{NullOf(JSONB), NewText("a"), true, `NULL`, Text},
		{doc, NullOf(Text), false, `NULL`, JSONB},
	}
	for _, tc := range tests {
		got, err := JSONField(tc.v, tc.key, tc.asText)
		if err != nil || got.String() != tc.out || got.Type != tc.typ {
			t.Errorf("JSONField(%v, %v, %v) = %v (%s), %v; want %s (%s)", tc.v, tc.key, tc.asText, got, got.Type, err, tc.out, tc.typ)
		}
	}
	if _, err := JSONField(NewInt4(1), NewText("a"), false); sqlerr.Code(err) != sqlerr.UndefinedFunction {
		t.Errorf("JSONField on an integer = %v, want 42883", err)
	}
}

func TestParseType(t *testing.T) {
	tests := []struct {
		name   string
		mods   []int
		str    string
		oid    uint32
		size   int16
		typmod int32
	}{
		{"int", nil, "integer", 23, 4, -1},
		{"INTEGER", nil, "integer", 23, 4, -1},
		{"int4", nil, "integer", 23, 4, -1},
		{"serial", nil, "integer", 23, 4, -1},
		{"bigint", nil, "bigint", 20, 8, -1},
		{"bigserial", nil, "bigint", 20, 8, -1},
		{"int8", nil, "bigint", 20, 8, -1},
		{"smallint", nil, "smallint", 21, 2, -1},
		{"int2", nil, "smallint", 21, 2, -1},
		{"numeric", nil, "numeric", 1700, -1, -1},
		{"numeric", []int{10, 2}, "numeric(10,2)", 1700, -1, 10<<16 | 2 + 4},
		{"decimal", []int{5}, "numeric(5,0)", 1700, -1, 5<<16 + 4},
		{"text", nil, "text", 25, -1, -1},
		{"varchar", nil, "character varying", 1043, -1, -1},
		{"varchar", []int{5}, "character varying(5)", 1043, -1, 9},
		{"character  varying", []int{20}, "character varying(20)", 1043, -1, 24},
		{"char", nil, "character(1)", 1042, -1, 5},
		{"character", []int{3}, "character(3)", 1042, -1, 7},
		{"bpchar", nil, "bpchar", 1042, -1, -1},
		{"boolean", nil, "boolean", 16, 1, -1},
		{"bool", nil, "boolean", 16, 1, -1},
		{"timestamp", nil, "timestamp without time zone", 1114, 8, -1},
		{"timestamp without time zone", nil, "timestamp without time zone", 1114, 8, -1},
		{"timestamptz", nil, "timestamp with time zone", 1184, 8, -1},
		{"timestamp with time zone", nil, "timestamp with time zone", 1184, 8, -1},
		{"date", nil, "date", 1082, 4, -1},
		{"bytea", nil, "bytea", 17, -1, -1},
		{"jsonb", nil, "jsonb", 3802, -1, -1},
		{"json", nil, "jsonb", 3802, -1, -1},
		{"double precision", nil, "double precision", 701, 8, -1},
		{"float8", nil, "double precision", 701, 8, -1},
		{"float", nil, "double precision", 701, 8, -1},
		{"float", []int{10}, "real", 700, 4, -1},
		{"real", nil, "real", 700, 4, -1},
		{"float4", nil, "real", 700, 4, -1},
	}
	for _, tc := range tests {
		typ, err := ParseType(tc.name, tc.mods)
		if err != nil {
			t.Errorf("ParseType(%q, %v): %v", tc.name, tc.mods, err)
			continue
		}
		if typ.String() != tc.str || typ.OID() != tc.oid || typ.Size() != tc.size || typ.Modifier() != tc.typmod {
			t.Errorf("ParseType(%q, %v) = %s oid %d size %d typmod %d; want %s %d %d %d", tc.name, tc.mods,
				typ, typ.OID(), typ.Size(), typ.Modifier(), tc.str, tc.oid, tc.size, tc.typmod)
		}
		back, ok := TypeFromOID(typ.OID())
		if !ok || back.OID() != typ.OID() {
			t.Errorf("TypeFromOID(%d) = %v, %v", typ.OID(), back, ok)
		}
	}
	errs := []struct {
		name string
		mods []int
		code string
	}{
		{"money", nil, sqlerr.UndefinedObject},
		{"int", []int{5}, sqlerr.SyntaxError},
		{"varchar", []int{0}, sqlerr.InvalidParameterValue},
		{"varchar", []int{MaxCharLength + 1}, sqlerr.InvalidParameterValue},
		{"numeric", []int{0}, sqlerr.InvalidParameterValue},
		{"numeric", []int{1001}, sqlerr.InvalidParameterValue},
		{"numeric", []int{5, 2000}, sqlerr.InvalidParameterValue},
		{"numeric", []int{5, 2, 1}, sqlerr.SyntaxError},
		{"float", []int{54}, sqlerr.InvalidParameterValue},
		{"float", []int{0}, sqlerr.InvalidParameterValue},
	}
	for _, tc := range errs {
		if _, err := ParseType(tc.name, tc.mods); sqlerr.Code(err) != tc.code {
			t.Errorf("ParseType(%q, %v) = %v, want %s", tc.name, tc.mods, err, tc.code)
		}
	}
	if typ, ok := TypeFromOID(705); !ok || typ.Kind != KindUnknown || typ.OID() != 705 || typ.Size() != -2 {
		t.Errorf("TypeFromOID(705) = %v, %v", typ, ok)
	}
	if _, ok := TypeFromOID(12345); ok {
		t.Error("TypeFromOID(12345) is known")
	}
}

func TestAggregateHelpers(t *testing.T) {
	sum, _ := Add(mustNum(t, "25.00"), mustNum(t, "99.99"))
	if got, err := Avg(sum, 2); err != nil || got.String() != "62.4950000000000000" {
		t.Errorf("Avg(124.99, 2) = %v, %v", got, err)
	}
	if got, err := Avg(NewInt(10), 4); err != nil || got.String() != "2.5000000000000000" || got.Type != Numeric {
		t.Errorf("Avg(10::bigint, 4) = %v, %v", got, err)
	}
	if got, err := Avg(NewFloat(1), 4); err != nil || got.String() != "0.25" {
		t.Errorf("Avg(1.0::float8, 4) = %v, %v", got, err)
	}
	if got, err := Avg(NewInt(1), 0); err != nil || !got.Null {
		t.Errorf("Avg(_, 0) = %v, %v", got, err)
	}
	for _, tc := range []struct{ in, want Type }{{Int2, Int8}, {Int4, Int8}, {Int8, Numeric}, {num10_2, Numeric}, {Float4, Float4}, {Float8, Float8}} {
		if got, ok := SumType(tc.in); !ok || got != tc.want {
			t.Errorf("SumType(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if _, ok := SumType(Text); ok {
		t.Error("SumType(text) is ok")
	}
	rounds := []struct {
		v     Value
		scale int32
		want  string
	}{
		{mustNum(t, "2.5"), 0, "3"},
		{mustNum(t, "-2.5"), 0, "-3"},
		{mustNum(t, "1.2345"), 2, "1.23"},
		{mustNum(t, "1.235"), 2, "1.24"},
		{mustNum(t, "1.2"), 3, "1.200"},
		{mustNum(t, "1250"), -2, "1300"},
		{NewInt4(7), 0, "7"},
		{NewFloat(2.5), 0, "2"},
	}
	for _, tc := range rounds {
		if got, err := Round(tc.v, tc.scale); err != nil || got.String() != tc.want {
			t.Errorf("Round(%v, %d) = %v, %v; want %s", tc.v, tc.scale, got, err, tc.want)
		}
	}
	if got, err := Abs(mustNum(t, "-1.50")); err != nil || got.String() != "1.50" {
		t.Errorf("Abs(-1.50) = %v, %v", got, err)
	}
	if _, err := Abs(NewInt4(-2147483648)); sqlerr.Code(err) != sqlerr.NumericValueOutOfRange {
		t.Errorf("Abs(int4 min) = %v", err)
	}
}
