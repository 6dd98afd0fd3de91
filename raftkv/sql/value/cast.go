package value

import (
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Cast converts v to type to as an explicit CAST / :: does in PostgreSQL:
// text (and untyped literals) parse with the target's input function
// (22P02 on bad text), integers narrow with 22003 out of range, numeric and
// float round to integers (numeric half away from zero, float half to
// even), numeric(p,s) rounds to s and is 22003 past p, varchar(n)/char(n)
// silently cut longer strings, bool ↔ int and text, timestamp ↔
// timestamptz (the session zone is UTC), date ↔ timestamp, jsonb ↔ text,
// jsonb scalars to bool and numbers. A NULL casts to the NULL of to. Other
// pairs are 42846 cannot cast.
func Cast(v Value, to Type) (Value, error) { return convert(v, to, true) }

// AssignCast converts v to a column's type on INSERT/UPDATE (PostgreSQL's
// assignment cast): as Cast, except that a string longer than varchar(n) or
// char(n) is the 22001 error "value too long for type character
// varying(n)" unless the excess is all blanks (then it is cut), and that
// the casts PostgreSQL allows only explicitly (text to a non-text type,
// bool ↔ integer, jsonb to a scalar type, text to jsonb or bytea) are the
// 42804 error "column is of type integer but expression is of type text"
// — the caller may put the column's name in: PostgreSQL says `column "x"
// is of type …`. Untyped literals convert to anything.
func AssignCast(v Value, to Type) (Value, error) {
	if !v.Null && !assignable(v.Type, to) {
		e := sqlerr.New(sqlerr.DatatypeMismatch, "column is of type %s but expression is of type %s", typeNameBe(to), typeNameBe(v.Type))
		e.Hint = "You will need to rewrite or cast the expression."
		return Value{}, e
	}
	return convert(v, to, false)
}

// assignable reports whether PostgreSQL converts a from to to in an
// assignment without an explicit cast.
func assignable(from, to Type) bool {
	if from.Kind == KindUnknown || to.Kind == KindUnknown || from.Kind == to.Kind {
		return true
	}
	switch to.Kind {
	case KindText:
		return true // every type has an assignment I/O cast to text
	case KindInt, KindFloat, KindNumeric:
		return isNumberKind(from.Kind)
	case KindTimestamp, KindTimestampTZ, KindDate:
		return isTimeKind(from.Kind)
	}
	return false
}

func convert(v Value, to Type, explicit bool) (Value, error) {
	if v.Null {
		return NullOf(to), nil
	}
	from := v.Type
	if to.Kind == KindUnknown {
		return v, nil
	}
	if from.Kind == KindUnknown {
		if to.Kind == KindText {
			return fitText(v.Str, to, explicit)
		}
		return ParseText(to, []byte(v.Str))
	}
	switch to.Kind {
	case KindText:
		var s string
		switch from.Kind {
		case KindText:
			s = textKey(v)
			if from.Fixed && to.Fixed {
				s = v.Str
			}
		case KindBool:
			s = "false"
			if v.Bool {
				s = "true"
			}
		default:
			s = string(AppendText(nil, v))
		}
		return fitText(s, to, explicit)
	case KindInt:
		return castToInt(v, to)
	case KindFloat:
		return castToFloat(v, to)
	case KindNumeric:
		return castToNumeric(v, to)
	case KindBool:
		switch from.Kind {
		case KindBool:
			return v, nil
		case KindInt:
			if v.Type.Width != 4 {
				break // PostgreSQL casts only integer to boolean
			}
			return NewBool(v.Int != 0), nil
		case KindText:
			return ParseText(Bool, []byte(v.Str))
		case KindJSON:
			n, err := jsonScalar(v, to, jsonBool)
			if err != nil {
				return Value{}, err
			}
			return NewBool(n.b), nil
		}
	case KindBytes:
		switch from.Kind {
		case KindBytes:
			return v, nil
		case KindText:
			return ParseText(Bytea, []byte(v.Str))
		}
	case KindTimestamp, KindTimestampTZ, KindDate:
		switch from.Kind {
		case KindTimestamp, KindTimestampTZ:
			if to.Kind == KindDate {
				return Value{Type: Date, Time: midnight(v.Time)}, nil
			}
			return Value{Type: to, Time: v.Time}, nil
		case KindDate:
			return Value{Type: to, Time: v.Time}, nil
		case KindText:
			return ParseText(to, []byte(v.Str))
		}
	case KindJSON:
		switch from.Kind {
		case KindJSON:
			return v, nil
		case KindText:
			return ParseText(JSONB, []byte(v.Str))
		}
	}
	return Value{}, errCannotCast(from, to)
}

func castToInt(v Value, to Type) (Value, error) {
	rt := Type{Kind: KindInt, Width: to.Width}
	switch v.Type.Kind {
	case KindInt:
		if !intFits(v.Int, to.Width) {
			return Value{}, errIntRange(to.Width)
		}
		return Value{Type: rt, Int: v.Int}, nil
	case KindBool:
		if to.Width != 4 {
			break // PostgreSQL casts boolean to integer only
		}
		if v.Bool {
			return Value{Type: rt, Int: 1}, nil
		}
		return Value{Type: rt}, nil
	case KindFloat:
		f := math.RoundToEven(v.Float)
		if math.IsNaN(f) || f < -9.223372036854775808e18 || f >= 9.223372036854775808e18 || !intFits(int64(f), to.Width) {
			return Value{}, errIntRange(to.Width)
		}
		return Value{Type: rt, Int: int64(f)}, nil
	case KindNumeric:
		return numericToInt(toDec(v), rt)
	case KindText:
		return ParseText(rt, []byte(v.Str))
	case KindJSON:
		n, err := jsonScalar(v, rt, jsonNumber)
		if err != nil {
			return Value{}, err
		}
		return numericToInt(n.num, rt)
	}
	return Value{}, errCannotCast(v.Type, to)
}

func numericToInt(d *apd.Decimal, rt Type) (Value, error) {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return Value{}, sqlerr.New(sqlerr.FeatureNotSupported, "cannot convert NaN to %s", rt.String())
	case apd.Infinite:
		return Value{}, sqlerr.New(sqlerr.FeatureNotSupported, "cannot convert infinity to %s", rt.String())
	}
	r := roundDec(d, 0)
	c := signedCoeff(r)
	if !c.IsInt64() || !intFits(c.Int64(), rt.Width) {
		return Value{}, errIntRange(rt.Width)
	}
	return Value{Type: rt, Int: c.Int64()}, nil
}

func castToFloat(v Value, to Type) (Value, error) {
	rt := Type{Kind: KindFloat, Width: to.Width}
	if rt.Width != 4 {
		rt.Width = 8
	}
	var f float64
	switch v.Type.Kind {
	case KindInt:
		f = float64(v.Int)
	case KindFloat:
		f = v.Float
	case KindNumeric:
		f = decToFloat(toDec(v))
		if math.IsInf(f, 0) && isFiniteDec(toDec(v)) {
			return Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "%s is out of range for type %s", quoteInput(numericString(toDec(v))), rt.String())
		}
	case KindText:
		return ParseText(rt, []byte(v.Str))
	case KindJSON:
		n, err := jsonScalar(v, rt, jsonNumber)
		if err != nil {
			return Value{}, err
		}
		f = decToFloat(n.num)
	default:
		return Value{}, errCannotCast(v.Type, to)
	}
	if rt.Width == 4 {
		g := float64(float32(f))
		if math.IsInf(g, 0) && !math.IsInf(f, 0) {
			return Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: overflow")
		}
		if g == 0 && f != 0 {
			return Value{}, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: underflow")
		}
		f = g
	}
	return Value{Type: rt, Float: f}, nil
}

func castToNumeric(v Value, to Type) (Value, error) {
	var d *apd.Decimal
	switch v.Type.Kind {
	case KindInt:
		d = decFromInt(v.Int)
	case KindNumeric:
		d = toDec(v)
	case KindFloat:
		d = floatToDec(v.Float, v.Type.Width)
	case KindText:
		return ParseText(to, []byte(v.Str))
	case KindJSON:
		n, err := jsonScalar(v, to, jsonNumber)
		if err != nil {
			return Value{}, err
		}
		d = n.num
	case KindBool:
		return Value{}, errCannotCast(v.Type, to)
	default:
		return Value{}, errCannotCast(v.Type, to)
	}
	r, err := applyNumericTypmod(d, to)
	if err != nil {
		return Value{}, err
	}
	return Value{Type: to, Dec: r}, nil
}

// floatToDec converts a float as PostgreSQL's float8_numeric does: through
// its text with DBL_DIG (15) significant digits (FLT_DIG, 6, for float4).
func floatToDec(f float64, width uint8) *apd.Decimal {
	switch {
	case math.IsNaN(f):
		return &apd.Decimal{Form: apd.NaN}
	case math.IsInf(f, 1):
		return &apd.Decimal{Form: apd.Infinite}
	case math.IsInf(f, -1):
		return &apd.Decimal{Form: apd.Infinite, Negative: true}
	}
	digits := 15
	if width == 4 {
		digits = 6
	}
	d, _, err := apd.NewFromString(strconv.FormatFloat(f, 'e', digits-1, 64))
	if err != nil {
		return new(apd.Decimal)
	}
	// %g drops trailing zeros: strip them from the fraction.
	d = normDec(d)
	if d.Exponent < 0 {
		c := d.Coeff.MathBigInt()
		exp := d.Exponent
		r := new(big10).init()
		for exp < 0 {
			q, m := r.quoRem10(c)
			if m != 0 {
				break
			}
			c = q
			exp++
		}
		out := new(apd.Decimal)
		out.Coeff.SetMathBigInt(c)
		out.Exponent = exp
		out.Negative = d.Negative
		return normDec(out)
	}
	return d
}

// jsonScalar returns the jsonb scalar of kind want held by v, or
// PostgreSQL's 22023 "cannot cast jsonb string to type integer".
func jsonScalar(v Value, to Type, want jsonKind) (*jsonNode, error) {
	n, err := parseJSON([]byte(v.Str))
	if err != nil {
		return nil, err
	}
	if n.kind != want {
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "cannot cast jsonb %s to type %s", jsonTypeName(n), typeNameBe(to))
	}
	return n, nil
}
