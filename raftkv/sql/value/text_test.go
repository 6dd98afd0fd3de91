package value

import (
	"math"
	"strconv"
	"testing"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

var (
	varchar5 = Type{Kind: KindText, Varchar: true, Length: 5}
	char4    = Type{Kind: KindText, Fixed: true, Length: 4}
	num10_2  = Type{Kind: KindNumeric, Precision: 10, Scale: 2}
)

// TestParseAndPrintText checks input → output pairs as PostgreSQL 15
// prints them.
func TestParseAndPrintText(t *testing.T) {
	tests := []struct {
		t       Type
		in, out string
	}{
		{Bool, "t", "t"}, {Bool, " TRUE ", "t"}, {Bool, "yes", "t"}, {Bool, "on", "t"}, {Bool, "1", "t"},
		{Bool, "f", "f"}, {Bool, "False", "f"}, {Bool, "no", "f"}, {Bool, "off", "f"}, {Bool, "0", "f"}, {Bool, "of", "f"},
		{Int4, "42", "42"}, {Int4, "  -7 ", "-7"}, {Int4, "+5", "5"}, {Int4, "-2147483648", "-2147483648"},
		{Int2, "32767", "32767"}, {Int8, "-9223372036854775808", "-9223372036854775808"},
		{Float8, "0.1", "0.1"}, {Float8, "1e20", "1e+20"}, {Float8, "100", "100"}, {Float8, "1e15", "1e+15"},
		{Float8, "123456789012345", "123456789012345"}, {Float8, "0.0001", "0.0001"}, {Float8, "0.00001", "1e-05"},
		{Float8, "NaN", "NaN"}, {Float8, "infinity", "Infinity"}, {Float8, "-Infinity", "-Infinity"}, {Float8, "-0", "-0"},
		{Float8, "3.141592653589793", "3.141592653589793"}, {Float8, "1.7976931348623157e308", "1.7976931348623157e+308"},
		{Float8, "401572645024839168", "4.0157264502483917e+17"}, {Float8, "-39397958367383776", "-3.9397958367383776e+16"},
		{Float8, "2.2574793004143558e+17", "2.2574793004143558e+17"}, {Float8, "5e-324", "5e-324"}, {Float8, "1e100", "1e+100"},
		{Float8, "123456789012345678", "1.2345678901234568e+17"}, {Float8, "9007199254740993", "9.007199254740992e+15"}, {Float8, "900719925474099", "900719925474099"},
		{Float4, "0.1", "0.1"}, {Float4, "1e6", "1e+06"}, {Float4, "123456", "123456"}, {Float4, "3.14159265", "3.1415927"},
		{Numeric, "25.00", "25.00"}, {Numeric, " 1.50 ", "1.50"}, {Numeric, "1e3", "1000"}, {Numeric, "1.5e-3", "0.0015"},
		{Numeric, "-0", "0"}, {Numeric, "-0.00", "0.00"}, {Numeric, ".5", "0.5"}, {Numeric, "5.", "5"}, {Numeric, "NaN", "NaN"},
		{Numeric, "-inf", "-Infinity"}, {Numeric, "000123.4500", "123.4500"},
		{num10_2, "25", "25.00"}, {num10_2, "1.005", "1.01"}, {num10_2, "-1.005", "-1.01"}, {num10_2, "12345678.994", "12345678.99"},
		{Type{Kind: KindNumeric, Precision: 3, Scale: -1}, "1234", "1230"},
		{Text, "héllo", "héllo"}, {Text, "", ""},
		{varchar5, "abc", "abc"}, {varchar5, "abcde   ", "abcde"}, {varchar5, "日本語です", "日本語です"},
		{char4, "ab", "ab  "}, {char4, "abcd  ", "abcd"},
		{Bytea, `\x0aFF`, `\x0aff`}, {Bytea, `\x`, `\x`}, {Bytea, `\x 01 02`, `\x0102`}, {Bytea, `abc`, `\x616263`},
		{Bytea, `a\\b`, `\x615c62`}, {Bytea, `a\001`, `\x6101`},
		{Date, "2024-01-02", "2024-01-02"}, {Date, "2024-01-02 13:14:15", "2024-01-02"}, {Date, "1/2/2024", "2024-01-02"},
		{Date, "0044-03-15 BC", "0044-03-15 BC"}, {Date, "epoch", "1970-01-01"},
		{Timestamp, "2024-01-02", "2024-01-02 00:00:00"},
		{Timestamp, "2024-01-02 03:04:05", "2024-01-02 03:04:05"},
		{Timestamp, "2024-01-02T03:04:05.120", "2024-01-02 03:04:05.12"},
		{Timestamp, "2024-01-02 03:04:05.1234567", "2024-01-02 03:04:05.123457"},
		{Timestamp, "2024-01-02 03:04:05.9999996", "2024-01-02 03:04:06"},
		{Timestamp, "2024-01-02 03:04:05+02", "2024-01-02 03:04:05"},
		{Timestamp, "2024-01-02 03:04", "2024-01-02 03:04:00"},
		{Timestamp, "2024-12-31 23:59:60", "2025-01-01 00:00:00"},
		{TimestampTZ, "2024-01-02 03:04:05", "2024-01-02 03:04:05+00"},
		{TimestampTZ, "2024-01-02 03:04:05Z", "2024-01-02 03:04:05+00"},
		{TimestampTZ, "2024-01-02T03:04:05.5+02:00", "2024-01-02 01:04:05.5+00"},
		{TimestampTZ, "2024-01-02 03:04:05 -0130", "2024-01-02 04:34:05+00"},
		{TimestampTZ, "2024-01-02 00:30:00+01", "2024-01-01 23:30:00+00"},
		{JSONB, `{"b": [1, 2], "a": 1}`, `{"a": 1, "b": [1, 2]}`},
		{JSONB, `{"bb":1,"a":2,"c":3}`, `{"a": 2, "c": 3, "bb": 1}`},
		{JSONB, `{"a":1,"a":2}`, `{"a": 2}`},
		{JSONB, ` [1.0, 1e2, -0, 1E-2, true, null, "x"] `, `[1.0, 100, 0, 0.01, true, null, "x"]`},
		{JSONB, `"\u00e9\u0001/\"\\\n"`, `"é\u0001/\"\\\n"`},
		{JSONB, `{}`, `{}`}, {JSONB, `[]`, `[]`}, {JSONB, `{"a": {}}`, `{"a": {}}`},
		{Unknown, "whatever", "whatever"},
		// Checked against PostgreSQL 15.
		{Float8, "-nan", "NaN"}, {Float8, "0x10", "16"}, {Float8, "4.9e-324", "5e-324"},
		{Date, "20240102", "2024-01-02"}, {Date, "2024/01/02", "2024-01-02"}, {Date, "0001-01-01 BC", "0001-01-01 BC"},
		{Timestamp, "2024-01-02 03:04:05.", "2024-01-02 03:04:05"}, {Timestamp, "2024-01-02 24:00:00", "2024-01-03 00:00:00"},
		{TimestampTZ, "2024-01-02 03:04:05+14", "2024-01-01 13:04:05+00"},
	}
	for _, tc := range tests {
		v, err := ParseText(tc.t, []byte(tc.in))
		if err != nil {
			t.Errorf("ParseText(%s, %q): %v", tc.t, tc.in, err)
			continue
		}
		if got := string(AppendText(nil, v)); got != tc.out {
			t.Errorf("ParseText(%s, %q) prints %q, want %q", tc.t, tc.in, got, tc.out)
		}
		// The output reads back to an equal value.
		if tc.t.Kind != KindUnknown {
			back, err := ParseText(tc.t, []byte(tc.out))
			if err != nil {
				t.Errorf("ParseText(%s, %q) (output): %v", tc.t, tc.out, err)
			} else if c, _ := Compare(back, v); c != 0 {
				t.Errorf("%s: %q reads back as %v", tc.t, tc.out, back)
			}
		}
	}
}

func TestParseTextErrors(t *testing.T) {
	tests := []struct {
		t    Type
		in   string
		code string
		msg  string
	}{
		{Int4, "abc", sqlerr.InvalidTextRepresentation, `invalid input syntax for type integer: "abc"`},
		{Int4, "", sqlerr.InvalidTextRepresentation, `invalid input syntax for type integer: ""`},
		{Int4, "1.5", sqlerr.InvalidTextRepresentation, `invalid input syntax for type integer: "1.5"`},
		{Int8, "x", sqlerr.InvalidTextRepresentation, `invalid input syntax for type bigint: "x"`},
		{Int4, "99999999999", sqlerr.NumericValueOutOfRange, `value "99999999999" is out of range for type integer`},
		{Int2, "40000", sqlerr.NumericValueOutOfRange, `value "40000" is out of range for type smallint`},
		{Float8, "abc", sqlerr.InvalidTextRepresentation, `invalid input syntax for type double precision: "abc"`},
		{Float8, "1e400", sqlerr.NumericValueOutOfRange, `"1e400" is out of range for type double precision`},
		{Float8, "1e-400", sqlerr.NumericValueOutOfRange, `"1e-400" is out of range for type double precision`},
		{Float4, "1e40", sqlerr.NumericValueOutOfRange, `"1e40" is out of range for type real`},
		{Numeric, "abc", sqlerr.InvalidTextRepresentation, `invalid input syntax for type numeric: "abc"`},
		{Numeric, "1e", sqlerr.InvalidTextRepresentation, `invalid input syntax for type numeric: "1e"`},
		{Numeric, ".", sqlerr.InvalidTextRepresentation, `invalid input syntax for type numeric: "."`},
		{num10_2, "123456789.123", sqlerr.NumericValueOutOfRange, "numeric field overflow"},
		{Bool, "maybe", sqlerr.InvalidTextRepresentation, `invalid input syntax for type boolean: "maybe"`},
		{Bool, "o", sqlerr.InvalidTextRepresentation, `invalid input syntax for type boolean: "o"`},
		{varchar5, "abcdef", sqlerr.StringDataRightTruncation, "value too long for type character varying(5)"},
		{char4, "abcde", sqlerr.StringDataRightTruncation, "value too long for type character(4)"},
		{Text, "\xff", "22021", `invalid byte sequence for encoding "UTF8": 0xff`},
		{Bytea, `\x0`, sqlerr.InvalidParameterValue, "invalid hexadecimal data: odd number of digits"},
		{Bytea, `\xzz`, sqlerr.InvalidParameterValue, `invalid hexadecimal digit: "z"`},
		{Bytea, `a\9`, sqlerr.InvalidTextRepresentation, `invalid input syntax for type bytea`},
		{Date, "2024-02-30", sqlerr.DatetimeFieldOverflow, `date/time field value out of range: "2024-02-30"`},
		{Date, "2024-13-01", sqlerr.DatetimeFieldOverflow, `date/time field value out of range: "2024-13-01"`},
		{Date, "yesterday-ish", sqlerr.InvalidDatetimeFormat, `invalid input syntax for type date: "yesterday-ish"`},
		{Timestamp, "2024-01-02 25:00:00", sqlerr.DatetimeFieldOverflow, `date/time field value out of range: "2024-01-02 25:00:00"`},
		{Timestamp, "2024-01-02 03:04:05 junk", sqlerr.InvalidDatetimeFormat, `invalid input syntax for type timestamp: "2024-01-02 03:04:05 junk"`},
		{TimestampTZ, "nope", sqlerr.InvalidDatetimeFormat, `invalid input syntax for type timestamp with time zone: "nope"`},
		{JSONB, "{", sqlerr.InvalidTextRepresentation, "invalid input syntax for type json"},
		{JSONB, "[1] 2", sqlerr.InvalidTextRepresentation, "invalid input syntax for type json"},
		{JSONB, `"\u0000"`, "22P05", "unsupported Unicode escape sequence"},
		{JSONB, `"\ud800"`, sqlerr.InvalidTextRepresentation, "invalid input syntax for type json"},
		{JSONB, `"\udc00"`, sqlerr.InvalidTextRepresentation, "invalid input syntax for type json"},
		{Date, "0000-01-01", sqlerr.DatetimeFieldOverflow, `date/time field value out of range: "0000-01-01"`},
		{TimestampTZ, "2024-01-02 03:04:05+16", "22009", `time zone displacement out of range: "2024-01-02 03:04:05+16"`},
	}
	for _, tc := range tests {
		_, err := ParseText(tc.t, []byte(tc.in))
		e, ok := err.(*sqlerr.Error)
		if !ok {
			t.Errorf("ParseText(%s, %q) = %v, want %s error", tc.t, tc.in, err, tc.code)
			continue
		}
		if e.Code != tc.code || e.Message != tc.msg {
			t.Errorf("ParseText(%s, %q) = %s %q, want %s %q", tc.t, tc.in, e.Code, e.Message, tc.code, tc.msg)
		}
	}
	_, err := ParseText(num10_2, []byte("123456789.123"))
	if d := err.(*sqlerr.Error).Detail; d != "A field with precision 10, scale 2 must round to an absolute value less than 10^8." {
		t.Errorf("numeric overflow detail %q", d)
	}
	_, err = ParseText(Type{Kind: KindNumeric, Precision: 2, Scale: 2}, []byte("1"))
	if d := err.(*sqlerr.Error).Detail; d != "A field with precision 2, scale 2 must round to an absolute value less than 1." {
		t.Errorf("numeric overflow detail %q", d)
	}
}

func FuzzParseText(f *testing.F) {
	for _, s := range []string{"1", "-1.5e3", "2024-01-02 03:04:05+02", `{"a": [1]}`, `\x00ff`, "t", "NaN"} {
		f.Add(uint8(0), s)
	}
	f.Fuzz(func(t *testing.T, k uint8, s string) {
		typ := genTypes[int(k)%len(genTypes)]
		v, err := ParseText(typ, []byte(s))
		if err != nil {
			if _, ok := err.(*sqlerr.Error); !ok {
				t.Fatalf("ParseText(%s, %q): error %T is not *sqlerr.Error", typ, s, err)
			}
			return
		}
		out := AppendText(nil, v)
		back, err := ParseText(typ, out)
		if err != nil {
			t.Fatalf("ParseText(%s, %q) printed %q which does not parse: %v", typ, s, out, err)
		}
		if c, err := Compare(back, v); err != nil || c != 0 {
			t.Fatalf("ParseText(%s, %q) = %v, reads back as %v", typ, s, v, back)
		}
	})
}

// TestFloatOutputRoundTrips checks that the PostgreSQL-style float output
// of random bit patterns reads back to the same float.
func TestFloatOutputRoundTrips(t *testing.T) {
	r := testRand(t)
	for range 20000 {
		f := math.Float64frombits(r.Uint64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		out := string(AppendText(nil, NewFloat(f)))
		back, err := strconv.ParseFloat(out, 64)
		if err != nil || back != f {
			t.Fatalf("%v prints %q which reads %v, %v", f, out, back, err)
		}
		g := float32(f)
		if math.IsInf(float64(g), 0) {
			continue
		}
		out = string(AppendText(nil, NewFloat4(g)))
		back32, err := strconv.ParseFloat(out, 32)
		if err != nil || float32(back32) != g {
			t.Fatalf("real %v prints %q which reads %v, %v", g, out, back32, err)
		}
	}
}

// TestFloatFastPathMatchesRyu checks that strconv's digits equal the exact
// PostgreSQL-style walk for floats with an odd mantissa (the fast path).
func TestFloatFastPathMatchesRyu(t *testing.T) {
	r := testRand(t)
	for range 20000 {
		f := math.Float64frombits(r.Uint64() | 1)
		if math.IsNaN(f) || math.IsInf(f, 0) || f == 0 {
			continue
		}
		bits := math.Float64bits(f)
		m1, e1 := pgShortest(bits&(1<<52-1), int(bits>>52)&0x7ff, float64Format)
		m2, e2 := strconvShortest(f, float64Format)
		for m1%10 == 0 && m1 != 0 {
			m1, e1 = m1/10, e1+1
		}
		if m1 != m2 || e1 != e2 {
			t.Fatalf("%v: Ryu walk %de%d, strconv %de%d", f, m1, e1, m2, e2)
		}
		g := math.Float32frombits(r.Uint32() | 1)
		if math.IsNaN(float64(g)) || math.IsInf(float64(g), 0) {
			continue
		}
		b32 := uint64(math.Float32bits(g))
		m1, e1 = pgShortest(b32&(1<<23-1), int(b32>>23)&0xff, float32Format)
		m2, e2 = strconvShortest(float64(g), float32Format)
		for m1%10 == 0 && m1 != 0 {
			m1, e1 = m1/10, e1+1
		}
		if m1 != m2 || e1 != e2 {
			t.Fatalf("real %v: Ryu walk %de%d, strconv %de%d", g, m1, e1, m2, e2)
		}
	}
}
