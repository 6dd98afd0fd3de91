package value

import (
	"math"
	"time"

	"github.com/cockroachdb/apd/v3"
)

// NewInt returns a bigint (int8) value.
func NewInt(i int64) Value { return Value{Type: Int8, Int: i} }

// NewInt4 returns an integer (int4) value.
func NewInt4(i int32) Value { return Value{Type: Int4, Int: int64(i)} }

// NewInt2 returns a smallint (int2) value.
func NewInt2(i int16) Value { return Value{Type: Int2, Int: int64(i)} }

// NewIntOf returns i as a value of integer type t, or the 22003 "integer
// out of range" error of t's width when it does not fit.
func NewIntOf(t Type, i int64) (Value, error) {
	if t.Kind != KindInt {
		t = Int8
	}
	if !intFits(i, t.Width) {
		return Value{}, errIntRange(t.Width)
	}
	return Value{Type: Type{Kind: KindInt, Width: t.Width}, Int: i}, nil
}

// NewFloat returns a double precision (float8) value.
func NewFloat(f float64) Value { return Value{Type: Float8, Float: f} }

// NewFloat4 returns a real (float4) value; f is rounded to float32.
func NewFloat4(f float32) Value { return Value{Type: Float4, Float: float64(f)} }

// NewText returns a text value.
func NewText(s string) Value { return Value{Type: Text, Str: s} }

// NewUnknown returns an untyped literal ('…' before type inference): its
// text is parsed when it meets a typed value or is cast.
func NewUnknown(s string) Value { return Value{Type: Unknown, Str: s} }

// NewBool returns a boolean value.
func NewBool(b bool) Value { return Value{Type: Bool, Bool: b} }

// NewNumeric returns a numeric value holding a normalised copy of d (d is
// not retained): a positive exponent is folded into the coefficient (1E+3
// is 1000), -0 is 0. A nil d gives 0.
func NewNumeric(d *apd.Decimal) Value { return Value{Type: Numeric, Dec: normDec(d)} }

// NumericFromString parses PostgreSQL numeric input ("12.50", "-1e3",
// "NaN", "Infinity"); 22P02 on bad input. The value keeps the written
// scale: "25.00" prints 25.00.
func NumericFromString(s string) (Value, error) {
	d, err := parseNumeric(s)
	if err != nil {
		return Value{}, err
	}
	return Value{Type: Numeric, Dec: d}, nil
}

// NewBytes returns a bytea value (b is retained).
func NewBytes(b []byte) Value {
	if b == nil {
		b = []byte{}
	}
	return Value{Type: Bytea, Bytes: b}
}

// NewTimestamp returns a timestamp (without time zone) holding t's wall
// clock (its location is dropped), rounded to the microsecond.
func NewTimestamp(t time.Time) Value { return Value{Type: Timestamp, Time: wallUTC(t)} }

// NewTimestampTZ returns a timestamptz holding the instant t (in UTC),
// rounded to the microsecond.
func NewTimestampTZ(t time.Time) Value { return Value{Type: TimestampTZ, Time: roundMicro(t.UTC())} }

// NewDate returns the date of t's wall clock (midnight UTC).
func NewDate(t time.Time) Value { return Value{Type: Date, Time: midnight(t)} }

// NewJSON parses JSON text and returns a jsonb value holding it normalised
// as jsonb prints it (keys sorted by length then bytes, last duplicate
// wins, numbers exact); 22P02 on bad input.
func NewJSON(b []byte) (Value, error) {
	s, err := normalizeJSON(b)
	if err != nil {
		return Value{}, err
	}
	return Value{Type: JSONB, Str: s}, nil
}

// isNaN reports whether f is a NaN.
func isNaN(f float64) bool { return math.IsNaN(f) }
