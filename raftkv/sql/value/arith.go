package value

import (
	"math"

	"github.com/cockroachdb/apd/v3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Add returns a + b with PostgreSQL's result types: two integers give the
// wider integer type (22003 "integer out of range" on overflow), an
// integer and a numeric give numeric, anything with a float gives double
// precision (real when both are real); date + integer adds days. A NULL
// operand gives NULL. An untyped literal operand is read as the other
// operand's type. Mismatched types are 42883 operator does not exist.
func Add(a, b Value) (Value, error) { return arith("+", a, b) }

// Sub returns a - b (see Add); date - date is the integer number of days
// between them, date - integer subtracts days.
func Sub(a, b Value) (Value, error) { return arith("-", a, b) }

// Mul returns a * b (see Add). Numeric products are exact.
func Mul(a, b Value) (Value, error) { return arith("*", a, b) }

// Div returns a / b (see Add): integer division truncates toward zero,
// numeric division has PostgreSQL's result scale (at least 16 significant
// digits, no fewer fraction digits than either operand, rounded half away
// from zero). Division by zero is 22012.
func Div(a, b Value) (Value, error) { return arith("/", a, b) }

// Mod returns a % b for integers and numerics (the sign of the result is
// the sign of a); 22012 when b is zero. Floats have no % in PostgreSQL.
func Mod(a, b Value) (Value, error) { return arith("%", a, b) }

func arith(op string, a, b Value) (Value, error) {
	if a.Type.Kind == KindUnknown && b.Type.Kind == KindUnknown && !a.Null && !b.Null {
		return Value{}, sqlerr.New(codeAmbiguousFunc, "operator is not unique: unknown %s unknown", op)
	}
	var err error
	if a.Null || b.Null {
		return NullOf(arithType(op, a.Type, b.Type)), nil
	}
	if a, b, err = resolveUnknown(a, b); err != nil {
		return Value{}, err
	}
	ka, kb := a.Type.Kind, b.Type.Kind
	switch {
	case isNumberKind(ka) && isNumberKind(kb):
		switch {
		case ka == KindFloat || kb == KindFloat:
			if op == "%" {
				return Value{}, errOperator(op, a, b)
			}
			return floatArith(op, a, b)
		case ka == KindNumeric || kb == KindNumeric:
			d, err := decArith(op, toDec(a), toDec(b))
			if err != nil {
				return Value{}, err
			}
			return Value{Type: Numeric, Dec: d}, nil
		}
		return intArith(op, a, b)
	case ka == KindDate && kb == KindInt && (op == "+" || op == "-"):
		n := b.Int
		if op == "-" {
			n = -n
		}
		return dateAddDays(a, n)
	case ka == KindInt && kb == KindDate && op == "+":
		return dateAddDays(b, a.Int)
	case ka == KindDate && kb == KindDate && op == "-":
		return Value{Type: Int4, Int: toDays(a.Time) - toDays(b.Time)}, nil
	}
	return Value{}, errOperator(op, a, b)
}

func dateAddDays(d Value, n int64) (Value, error) {
	days := toDays(d.Time) + n
	t := fromDays(days)
	if t.Year() > maxDateYear || t.Year() < minYear {
		return Value{}, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range")
	}
	return Value{Type: Date, Time: t}, nil
}

// arithType is the result type of a op b by their types alone (for NULL
// results).
func arithType(op string, a, b Type) Type {
	switch {
	case a.Kind == KindUnknown:
		a = b
	case b.Kind == KindUnknown:
		b = a
	}
	switch {
	case a.Kind == KindFloat || b.Kind == KindFloat:
		if a.Kind == KindFloat && b.Kind == KindFloat && a.Width == 4 && b.Width == 4 {
			return Float4
		}
		return Float8
	case a.Kind == KindNumeric || b.Kind == KindNumeric:
		return Numeric
	case a.Kind == KindInt && b.Kind == KindInt:
		return Type{Kind: KindInt, Width: max(a.Width, b.Width)}
	case a.Kind == KindDate && b.Kind == KindDate && op == "-":
		return Int4
	case a.Kind == KindDate || b.Kind == KindDate:
		return Date
	}
	return a
}

func intArith(op string, a, b Value) (Value, error) {
	w := max(a.Type.Width, b.Type.Width)
	x, y := a.Int, b.Int
	var r int64
	overflow := false
	switch op {
	case "+":
		r = x + y
		overflow = (x > 0 && y > 0 && r < 0) || (x < 0 && y < 0 && r >= 0)
	case "-":
		r = x - y
		overflow = (x >= 0 && y < 0 && r < 0) || (x < 0 && y > 0 && r >= 0)
	case "*":
		r = x * y
		overflow = x != 0 && (r/x != y || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64))
	case "/":
		if y == 0 {
			return Value{}, errDivZero()
		}
		if x == math.MinInt64 && y == -1 {
			overflow = true
		} else {
			r = x / y
		}
	case "%":
		if y == 0 {
			return Value{}, errDivZero()
		}
		if y != -1 {
			r = x % y
		}
	default:
		return Value{}, errOperator(op, a, b)
	}
	if overflow || !intFits(r, w) {
		return Value{}, errIntRange(w)
	}
	return Value{Type: Type{Kind: KindInt, Width: w}, Int: r}, nil
}

func floatArith(op string, a, b Value) (Value, error) {
	w := uint8(8)
	if a.Type.Kind == KindFloat && b.Type.Kind == KindFloat && a.Type.Width == 4 && b.Type.Width == 4 {
		w = 4
	}
	x, y := toFloat(a), toFloat(b)
	finite := !math.IsInf(x, 0) && !math.IsInf(y, 0)
	var r float64
	zeroOK := true
	switch op {
	case "+":
		r = x + y
	case "-":
		r = x - y
	case "*":
		r = x * y
		zeroOK = x == 0 || y == 0
	case "/":
		if y == 0 && !math.IsNaN(x) {
			return Value{}, errDivZero()
		}
		r = x / y
		zeroOK = x == 0 || math.IsInf(y, 0)
	}
	if math.IsNaN(x) || math.IsNaN(y) {
		zeroOK = true
	}
	r, err := checkFloat(r, finite, zeroOK, w)
	if err != nil {
		return Value{}, err
	}
	return Value{Type: Type{Kind: KindFloat, Width: w}, Float: r}, nil
}

// decNaN and decInf return fresh special values: callers own every
// decimal this package returns.
func decNaN() *apd.Decimal { return &apd.Decimal{Form: apd.NaN} }

func decInf(neg bool) *apd.Decimal { return &apd.Decimal{Form: apd.Infinite, Negative: neg} }

// decArith computes a op b on numerics with PostgreSQL's rules, including
// NaN and ±Infinity (PostgreSQL 14+).
func decArith(op string, a, b *apd.Decimal) (*apd.Decimal, error) {
	aNaN, bNaN := a.Form != apd.Finite && a.Form != apd.Infinite, b.Form != apd.Finite && b.Form != apd.Infinite
	if aNaN || bNaN {
		return decNaN(), nil
	}
	aInf, bInf := a.Form == apd.Infinite, b.Form == apd.Infinite
	aSign, bSign := decSign(a), decSign(b)
	switch op {
	case "+", "-":
		if op == "-" {
			bSign = -bSign
		}
		switch {
		case aInf && bInf:
			if aSign != bSign {
				return decNaN(), nil
			}
			return decInf(aSign < 0), nil
		case aInf:
			return decInf(aSign < 0), nil
		case bInf:
			return decInf(bSign < 0), nil
		}
		d := new(apd.Decimal)
		var err error
		if op == "+" {
			_, err = apd.BaseContext.Add(d, a, b)
		} else {
			_, err = apd.BaseContext.Sub(d, a, b)
		}
		if err != nil {
			return nil, errNumericOverflow()
		}
		return checkDecRange(normDec(d))
	case "*":
		if aInf || bInf {
			if aSign == 0 || bSign == 0 {
				return decNaN(), nil
			}
			return decInf(aSign*bSign < 0), nil
		}
		d := new(apd.Decimal)
		if _, err := apd.BaseContext.Mul(d, a, b); err != nil {
			return nil, errNumericOverflow()
		}
		d = normDec(d)
		if decScale(d) > numericMaxScale {
			// PostgreSQL rounds an exact product past the largest scale.
			d = roundDec(d, numericMaxScale)
		}
		return checkDecRange(d)
	case "/":
		if !bInf && bSign == 0 {
			return nil, errDivZero()
		}
		switch {
		case aInf && bInf:
			return decNaN(), nil
		case aInf:
			return decInf(aSign*bSign < 0), nil
		case bInf:
			return new(apd.Decimal), nil
		}
		return checkDecRange(divDec(a, b, selectDivScale(a, b)))
	case "%":
		if !bInf && bSign == 0 {
			return nil, errDivZero()
		}
		switch {
		case aInf:
			return decNaN(), nil
		case bInf:
			return normDec(a), nil
		}
		return modDec(a, b), nil
	}
	return nil, sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: numeric %s numeric", op)
}

func decSign(d *apd.Decimal) int {
	if d.Form == apd.Finite && d.Coeff.Sign() == 0 {
		return 0
	}
	if d.Negative {
		return -1
	}
	return 1
}

// checkDecRange refuses results with more integer digits than numeric
// holds (PostgreSQL's "value overflows numeric format").
func checkDecRange(d *apd.Decimal) (*apd.Decimal, error) {
	if isFiniteDec(d) && int64(d.NumDigits())+int64(d.Exponent) > numericMaxWeightDigits {
		return nil, errNumericOverflow()
	}
	return d, nil
}

func errNumericOverflow() *sqlerr.Error {
	return sqlerr.New(sqlerr.NumericValueOutOfRange, "value overflows numeric format")
}

// Neg returns -a (integers: 22003 for the most negative value).
func Neg(a Value) (Value, error) {
	if a.Null {
		return a, nil
	}
	switch a.Type.Kind {
	case KindInt:
		if a.Int == math.MinInt64 || !intFits(-a.Int, a.Type.Width) {
			return Value{}, errIntRange(a.Type.Width)
		}
		return Value{Type: a.Type, Int: -a.Int}, nil
	case KindFloat:
		return Value{Type: a.Type, Float: -a.Float}, nil
	case KindNumeric:
		d := normDec(toDec(a))
		if d.Form != apd.NaN && decSign(d) != 0 {
			d.Negative = !d.Negative
		}
		return Value{Type: Numeric, Dec: d}, nil
	case KindUnknown:
		v, err := ParseText(Numeric, []byte(a.Str))
		if err != nil {
			return Value{}, err
		}
		return Neg(v)
	}
	return Value{}, errUnaryOperator("-", a)
}

// Concat implements ||: bytea || bytea is bytea, jsonb || jsonb merges
// objects or concatenates arrays, and when either operand is text (or an
// untyped literal) both are converted to text and joined (char(n) loses its
// trailing blanks). A NULL operand gives NULL.
func Concat(a, b Value) (Value, error) {
	ka, kb := a.Type.Kind, b.Type.Kind
	switch {
	case ka == KindBytes && kb == KindBytes || ka == KindBytes && kb == KindUnknown || ka == KindUnknown && kb == KindBytes:
		if a.Null || b.Null {
			return NullOf(Bytea), nil
		}
		var err error
		if a, b, err = resolveUnknown(a, b); err != nil {
			return Value{}, err
		}
		out := make([]byte, 0, len(a.Bytes)+len(b.Bytes))
		return NewBytes(append(append(out, a.Bytes...), b.Bytes...)), nil
	case ka == KindJSON && (kb == KindJSON || kb == KindUnknown) || ka == KindUnknown && kb == KindJSON:
		if a.Null || b.Null {
			return NullOf(JSONB), nil
		}
		var err error
		if a, b, err = resolveUnknown(a, b); err != nil {
			return Value{}, err
		}
		ja, err := parseJSON([]byte(a.Str))
		if err != nil {
			return Value{}, err
		}
		jb, err := parseJSON([]byte(b.Str))
		if err != nil {
			return Value{}, err
		}
		return Value{Type: JSONB, Str: string(appendJSON(nil, jsonConcat(ja, jb)))}, nil
	case ka == KindText || kb == KindText || ka == KindUnknown || kb == KindUnknown:
		if a.Null || b.Null {
			return NullOf(Text), nil
		}
		return NewText(concatText(a) + concatText(b)), nil
	}
	return Value{}, errOperator("||", a, b)
}

// concatText is v::text, as PostgreSQL's anytextcat converts a non-text
// operand (boolean gives true/false, char(n) loses its trailing blanks).
func concatText(v Value) string {
	switch v.Type.Kind {
	case KindText:
		return textKey(v)
	case KindUnknown:
		return v.Str
	case KindBool:
		if v.Bool {
			return "true"
		}
		return "false"
	}
	return string(AppendText(nil, v))
}
