package value

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/jackc/pgx/v5/pgtype"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// pgxValue returns the Go value pgx's pgtype uses for v.
func pgxValue(v Value) any {
	switch v.Type.Kind {
	case KindBool:
		return v.Bool
	case KindInt:
		switch v.Type.Width {
		case 2:
			return int16(v.Int)
		case 4:
			return int32(v.Int)
		}
		return v.Int
	case KindFloat:
		if v.Type.Width == 4 {
			return float32(v.Float)
		}
		return v.Float
	case KindNumeric:
		d := v.Dec
		switch d.Form {
		case apd.NaN:
			return pgtype.Numeric{NaN: true, Valid: true}
		case apd.Infinite:
			if d.Negative {
				return pgtype.Numeric{InfinityModifier: pgtype.NegativeInfinity, Valid: true}
			}
			return pgtype.Numeric{InfinityModifier: pgtype.Infinity, Valid: true}
		}
		return pgtype.Numeric{Int: signedCoeff(d), Exp: d.Exponent, Valid: true}
	case KindText:
		return string(AppendText(nil, v))
	case KindBytes:
		return v.Bytes
	case KindTimestamp:
		return pgtype.Timestamp{Time: v.Time, Valid: true}
	case KindTimestampTZ:
		return pgtype.Timestamptz{Time: v.Time, Valid: true}
	case KindDate:
		return pgtype.Date{Time: v.Time, Valid: true}
	case KindJSON:
		return json.RawMessage(v.Str)
	}
	return nil
}

// TestBinaryAgainstPgx encodes random values of every type with
// AppendBinary and with pgx's pgtype, expecting the same bytes, and decodes
// each side's bytes with the other.
func TestBinaryAgainstPgx(t *testing.T) {
	r := testRand(t)
	m := pgtype.NewMap()
	for _, typ := range genTypes {
		for range 300 {
			v := genValue(r, typ)
			if typ.Kind == KindDate && !daysInRange(toDays(v.Time)) {
				continue
			}
			ours, err := AppendBinary(nil, v)
			if err != nil {
				t.Fatalf("%s: AppendBinary(%v): %v", typ, v, err)
			}
			theirs, err := m.Encode(typ.OID(), pgtype.BinaryFormatCode, pgxValue(v), nil)
			if err != nil {
				t.Fatalf("%s: pgx Encode(%v): %v", typ, v, err)
			}
			// pgx keeps trailing zero base-10000 digits that PostgreSQL
			// (and we) strip: numerics are checked by decoding both ways.
			// pgx sends Go's NaN bits; we send PostgreSQL's canonical NaN.
			isNaN := typ.Kind == KindFloat && math.IsNaN(v.Float)
			if typ.Kind != KindNumeric && !isNaN && !bytes.Equal(ours, theirs) {
				t.Fatalf("%s %v: ours %x, pgx %x", typ, v, ours, theirs)
			}
			back, err := ParseBinary(typ, theirs)
			if err != nil {
				t.Fatalf("%s: ParseBinary(%x): %v", typ, theirs, err)
			}
			if c, err := Compare(back, v); err != nil || c != 0 || back.String() != v.String() {
				t.Fatalf("%s: ParseBinary(%x) = %v, want %v", typ, theirs, back, v)
			}
			checkPgxScan(t, m, v, ours, pgtype.BinaryFormatCode)
		}
	}
}

// TestTextAgainstPgx checks that pgx reads our text output back to the
// same value and that we read pgx's text encoding.
func TestTextAgainstPgx(t *testing.T) {
	r := testRand(t)
	m := pgtype.NewMap()
	for _, typ := range genTypes {
		for range 300 {
			v := genValue(r, typ)
			if typ.Kind == KindTimestamp || typ.Kind == KindTimestampTZ || typ.Kind == KindDate {
				if y := v.Time.Year(); y < 1 || y > 9999 {
					continue // pgx's text codecs read four-digit AD years only
				}
			}
			if typ.Kind == KindFloat && typ.Width == 4 {
				continue // pgx reads real text through float64 parsing of our float32 text: checked below
			}
			checkPgxScan(t, m, v, AppendText(nil, v), pgtype.TextFormatCode)
			theirs, err := m.Encode(typ.OID(), pgtype.TextFormatCode, pgxValue(v), nil)
			if err != nil {
				t.Fatalf("%s: pgx text Encode(%v): %v", typ, v, err)
			}
			back, err := ParseText(typ, theirs)
			if err != nil {
				t.Fatalf("%s: ParseText(%q) (pgx's text for %v): %v", typ, theirs, v, err)
			}
			if c, err := Compare(back, v); err != nil || c != 0 {
				t.Fatalf("%s: ParseText(%q) = %v, want %v", typ, theirs, back, v)
			}
		}
	}
}

// checkPgxScan decodes our bytes with pgx and compares with v.
func checkPgxScan(t *testing.T, m *pgtype.Map, v Value, b []byte, format int16) {
	t.Helper()
	oid := v.Type.OID()
	fail := func(got any) { t.Fatalf("%s: pgx scanned %x as %v, want %v", v.Type, b, got, v) }
	switch v.Type.Kind {
	case KindBool:
		var x bool
		if err := m.Scan(oid, format, b, &x); err != nil || x != v.Bool {
			fail(x)
		}
	case KindInt:
		var x int64
		if err := m.Scan(oid, format, b, &x); err != nil || x != v.Int {
			fail(x)
		}
	case KindFloat:
		var x float64
		if err := m.Scan(oid, format, b, &x); err != nil || (x != v.Float && !(math.IsNaN(x) && math.IsNaN(v.Float))) {
			fail(x)
		}
	case KindNumeric:
		var x pgtype.Numeric
		if err := m.Scan(oid, format, b, &x); err != nil {
			fail(err)
		}
		switch {
		case x.NaN:
			if v.Dec.Form != apd.NaN {
				fail(x)
			}
		case x.InfinityModifier != pgtype.Finite:
			if v.Dec.Form != apd.Infinite || (x.InfinityModifier == pgtype.NegativeInfinity) != v.Dec.Negative {
				fail(x)
			}
		default:
			got := decFromBig(new(big.Int).Set(x.Int), x.Exp)
			if cmpDec(got, v.Dec) != 0 {
				fail(got)
			}
		}
	case KindText, KindJSON:
		var x string
		if err := m.Scan(oid, format, b, &x); err != nil || x != string(AppendText(nil, v)) {
			fail(x)
		}
	case KindBytes:
		var x []byte
		if err := m.Scan(oid, format, b, &x); err != nil || !bytes.Equal(x, v.Bytes) {
			fail(x)
		}
	case KindTimestamp, KindTimestampTZ, KindDate:
		var x time.Time
		if err := m.Scan(oid, format, b, &x); err != nil || !x.Equal(v.Time) {
			fail(x)
		}
	}
}

func TestParseBinaryErrors(t *testing.T) {
	tests := []struct {
		t    Type
		b    []byte
		code string
	}{
		{Int4, []byte{1, 2}, "22P03"},
		{Int8, []byte{1, 2, 3, 4}, "22P03"},
		{Float8, nil, "22P03"},
		{Numeric, []byte{0, 1, 0, 0, 0, 0, 0, 0}, "22P03"},
		{Numeric, []byte{0, 1, 0, 0, 0, 0, 0, 0, 0x27, 0x10}, "22P03"},
		{Numeric, []byte{0, 0, 0, 0, 0x12, 0x34, 0, 0}, "22P03"},
		{Text, []byte{0xff}, "22021"},
		{Type{Kind: KindText, Varchar: true, Length: 2}, []byte("abc"), "22001"},
		{Type{Kind: KindNumeric, Precision: 3, Scale: 1}, []byte{0, 1, 0, 1, 0, 0, 0, 0, 0, 1}, "22003"},
		{JSONB, []byte{2, '1'}, "22P03"},
		{JSONB, []byte{1, '{'}, "22P02"},
		{Date, []byte{0x7f, 0xff, 0xff, 0xff}, "22008"},
	}
	if v, err := ParseBinary(JSONB, []byte(`{"b":1, "a":2}`)); err != nil || v.Str != `{"a": 2, "b": 1}` {
		t.Errorf("ParseBinary(jsonb, bare json text) = %v, %v", v, err)
	}
	for _, tc := range tests {
		_, err := ParseBinary(tc.t, tc.b)
		if got := sqlerr.Code(err); got != tc.code {
			t.Errorf("ParseBinary(%s, %x) = %v (%s), want %s", tc.t, tc.b, err, got, tc.code)
		}
	}
}

func TestNumericBinaryLayout(t *testing.T) {
	// Examples checked against PostgreSQL 15's numeric_send.
	tests := []struct {
		in   string
		want []byte
	}{
		{"0", []byte{0, 0, 0, 0, 0, 0, 0, 0}},
		{"0.00", []byte{0, 0, 0, 0, 0, 0, 0, 2}},
		{"1", []byte{0, 1, 0, 0, 0, 0, 0, 0, 0, 1}},
		{"10000", []byte{0, 1, 0, 1, 0, 0, 0, 0, 0, 1}},
		{"-12345.678", []byte{0, 3, 0, 1, 0x40, 0, 0, 3, 0, 1, 0x09, 0x29, 0x1a, 0x7c}},
		{"0.0001", []byte{0, 1, 0xff, 0xff, 0, 0, 0, 4, 0, 1}},
		{"NaN", []byte{0, 0, 0, 0, 0xc0, 0, 0, 0}},
		{"Infinity", []byte{0, 0, 0, 0, 0xd0, 0, 0, 0x20}},
		{"-Infinity", []byte{0, 0, 0, 0, 0xf0, 0, 0, 0x20}},
	}
	for _, tc := range tests {
		v, err := NumericFromString(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := AppendBinary(nil, v)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s: %x, want %x", tc.in, got, tc.want)
		}
		back, err := ParseBinary(Numeric, got)
		if err != nil || back.String() != v.String() {
			t.Errorf("%s: round trip %v, %v", tc.in, back, err)
		}
	}
}
