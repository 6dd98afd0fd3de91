package value

import (
	"math"

	"github.com/cockroachdb/apd/v3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// SumType returns the result type of sum() over values of type t, as in
// PostgreSQL: smallint and integer sum to bigint, bigint and numeric to
// numeric, real to real, double precision to double precision. ok is false
// when sum() does not take t (42883 for the caller).
func SumType(t Type) (Type, bool) {
	switch t.Kind {
	case KindInt:
		if t.Width == 8 {
			return Numeric, true
		}
		return Int8, true
	case KindNumeric, KindUnknown:
		return Numeric, true
	case KindFloat:
		return Type{Kind: KindFloat, Width: t.Width}, true
	}
	return Type{}, false
}

// AvgType returns the result type of avg() over values of type t: numeric
// for integers and numerics, double precision for floats; ok is false when
// avg() does not take t.
func AvgType(t Type) (Type, bool) {
	switch t.Kind {
	case KindInt, KindNumeric, KindUnknown:
		return Numeric, true
	case KindFloat:
		return Float8, true
	}
	return Type{}, false
}

// Avg returns sum/count as PostgreSQL's avg() computes it: a numeric
// division with the usual numeric scale (avg of 25.00 and 99.99 is
// 62.4950000000000000) for integer and numeric sums, a float division for
// floats. count 0 gives NULL of AvgType. For real inputs accumulate the sum
// in double precision (PostgreSQL's float4_accum does), not with
// SumType's real. PostgreSQL's avg(double precision) also fails with
// 22003 when the running sum of squares overflows; Avg does not.
func Avg(sum Value, count int64) (Value, error) {
	rt, ok := AvgType(sum.Type)
	if !ok {
		return Value{}, sqlerr.New(sqlerr.UndefinedFunction, "function avg(%s) does not exist", sum.Type.String())
	}
	if count == 0 || sum.Null {
		return NullOf(rt), nil
	}
	if rt.Kind == KindFloat {
		return Value{Type: Float8, Float: toFloat(sum) / float64(count)}, nil
	}
	if sum.Type.Kind == KindUnknown {
		var err error
		if sum, err = ParseText(Numeric, []byte(sum.Str)); err != nil {
			return Value{}, err
		}
	}
	d, err := decArith("/", toDec(sum), decFromInt(count))
	if err != nil {
		return Value{}, err
	}
	return Value{Type: Numeric, Dec: d}, nil
}

// Round implements round(v, scale): numerics round half away from zero to
// scale digits (a negative scale rounds left of the point; the result has
// max(scale, 0) digits after it), integers become numerics first, and a
// double precision rounds half to even with scale 0 (PostgreSQL's
// round(float8)); other scales on floats are 42883.
func Round(v Value, scale int32) (Value, error) {
	if v.Null {
		if v.Type.Kind == KindFloat {
			return NullOf(Float8), nil
		}
		return NullOf(Numeric), nil
	}
	switch v.Type.Kind {
	case KindFloat:
		if scale != 0 {
			return Value{}, sqlerr.New(sqlerr.UndefinedFunction, "function round(double precision, integer) does not exist")
		}
		return Value{Type: Float8, Float: math.RoundToEven(v.Float)}, nil
	case KindInt, KindNumeric, KindUnknown:
		if v.Type.Kind == KindUnknown {
			var err error
			if v, err = ParseText(Numeric, []byte(v.Str)); err != nil {
				return Value{}, err
			}
		}
		d := toDec(v)
		if !isFiniteDec(d) {
			return Value{Type: Numeric, Dec: normDec(d)}, nil
		}
		if scale > numericMaxResultScale {
			scale = numericMaxResultScale
		}
		if scale < -numericMaxResultScale {
			scale = -numericMaxResultScale
		}
		r := roundDec(d, scale)
		if scale < 0 {
			r = roundDec(r, 0)
		}
		return Value{Type: Numeric, Dec: r}, nil
	}
	return Value{}, sqlerr.New(sqlerr.UndefinedFunction, "function round(%s) does not exist", v.Type.String())
}

// Abs implements abs(v) for integers (22003 for the most negative value),
// floats and numerics.
func Abs(v Value) (Value, error) {
	if v.Null {
		return v, nil
	}
	switch v.Type.Kind {
	case KindInt:
		if v.Int < 0 {
			return Neg(v)
		}
		return v, nil
	case KindFloat:
		return Value{Type: v.Type, Float: math.Abs(v.Float)}, nil
	case KindNumeric:
		d := normDec(toDec(v))
		if d.Form != apd.NaN {
			d.Negative = false
		}
		return Value{Type: v.Type, Dec: d}, nil
	}
	return Value{}, sqlerr.New(sqlerr.UndefinedFunction, "function abs(%s) does not exist", v.Type.String())
}
