package value

import (
	"math/big"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Numeric values are kept as apd decimals normalised the way PostgreSQL
// keeps them: finite values have Exponent <= 0 (the display scale is
// -Exponent, so 25.00 is 2500e-2), zero is never negative, and the special
// values are NaN, Infinity and -Infinity (apd's NaN and Infinite forms).

// PostgreSQL's numeric constants (numeric.c).
const (
	numericMinSigDigits    = 16   // NUMERIC_MIN_SIG_DIGITS
	numericMaxDisplayScale = 1000 // NUMERIC_MAX_DISPLAY_SCALE
	numericMaxResultScale  = 2000 // NUMERIC_MAX_RESULT_SCALE
	numericMaxScale        = 16383
	// numericMaxWeightDigits is the most digits before the point a
	// numeric can hold (PostgreSQL: 131072).
	numericMaxWeightDigits = 131072
	decDigits              = 4 // DEC_DIGITS: decimal digits per base-10000 digit
)

var (
	bigOne = big.NewInt(1)
	bigTen = big.NewInt(10)
)

// pow10 returns 10^n as a new big.Int.
func pow10(n int64) *big.Int {
	return new(big.Int).Exp(bigTen, big.NewInt(n), nil)
}

// normDec returns a normalised copy of d (see above).
func normDec(d *apd.Decimal) *apd.Decimal {
	out := new(apd.Decimal)
	if d == nil {
		return out
	}
	out.Set(d)
	switch out.Form {
	case apd.NaN, apd.NaNSignaling:
		out.Form, out.Negative = apd.NaN, false
		out.Coeff.SetInt64(0)
		out.Exponent = 0
		return out
	case apd.Infinite:
		out.Coeff.SetInt64(0)
		out.Exponent = 0
		return out
	}
	if out.Exponent > 0 {
		c := out.Coeff.MathBigInt()
		c.Mul(c, pow10(int64(out.Exponent)))
		out.Coeff.SetMathBigInt(c)
		out.Exponent = 0
	}
	if out.Coeff.Sign() == 0 {
		out.Negative = false
	}
	return out
}

// decScale returns the display scale of a normalised finite decimal.
func decScale(d *apd.Decimal) int32 {
	if d.Form != apd.Finite || d.Exponent > 0 {
		return 0
	}
	return -d.Exponent
}

func isFiniteDec(d *apd.Decimal) bool { return d.Form == apd.Finite }

// decFromBig returns neg?-c:c × 10^exp, normalised.
func decFromBig(c *big.Int, exp int32) *apd.Decimal {
	d := new(apd.Decimal)
	neg := c.Sign() < 0
	abs := new(big.Int).Abs(c)
	d.Coeff.SetMathBigInt(abs)
	d.Exponent = exp
	d.Negative = neg
	return normDec(d)
}

// signedCoeff returns the signed coefficient of a finite decimal.
func signedCoeff(d *apd.Decimal) *big.Int {
	c := d.Coeff.MathBigInt()
	if d.Negative {
		c.Neg(c)
	}
	return c
}

// roundHalfAway returns round(num/den) with halves away from zero (den > 0).
func roundHalfAway(num, den *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	r.Abs(r)
	r.Lsh(r, 1)
	if r.Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, bigOne)
		} else {
			q.Add(q, bigOne)
		}
	}
	return q
}

// roundDec rounds a finite decimal half away from zero to scale digits after
// the point (a negative scale rounds to tens, hundreds, …) and pads it to
// exactly that scale (scale >= 0), as PostgreSQL's round(x, s) and
// NUMERIC(p,s) do. Non-finite values are returned unchanged.
func roundDec(d *apd.Decimal, scale int32) *apd.Decimal {
	if !isFiniteDec(d) {
		return normDec(d)
	}
	c := signedCoeff(d)
	exp := d.Exponent
	want := -scale
	switch {
	case exp > want:
		c.Mul(c, pow10(int64(exp-want)))
	case exp < want:
		c = roundHalfAway(c, pow10(int64(want-exp)))
	}
	return decFromBig(c, want)
}

// truncDec truncates a finite decimal toward zero to scale digits.
func truncDec(d *apd.Decimal, scale int32) *apd.Decimal {
	if !isFiniteDec(d) || d.Exponent >= -scale {
		return normDec(d)
	}
	c := signedCoeff(d)
	c.Quo(c, pow10(int64(-scale-d.Exponent)))
	return decFromBig(c, -scale)
}

// intDigits returns the number of decimal digits before the point of a
// finite decimal's absolute value (0 for |d| < 1).
func intDigits(d *apd.Decimal) int64 {
	if d.Coeff.Sign() == 0 {
		return 0
	}
	n := int64(len(d.Coeff.String())) + int64(d.Exponent)
	if n < 0 {
		return 0
	}
	return n
}

// applyNumericTypmod rounds d to NUMERIC(p,s) and checks its precision
// (22003 numeric field overflow with PostgreSQL's detail).
func applyNumericTypmod(d *apd.Decimal, t Type) (*apd.Decimal, error) {
	if t.Precision <= 0 {
		return normDec(d), nil
	}
	if !isFiniteDec(d) {
		if d.Form == apd.NaN {
			return normDec(d), nil
		}
		e := sqlerr.New(sqlerr.NumericValueOutOfRange, "numeric field overflow")
		e.Detail = "A field with precision " + strconv.Itoa(int(t.Precision)) + ", scale " + strconv.Itoa(int(t.Scale)) + " cannot hold an infinite value."
		return nil, e
	}
	r := roundDec(d, t.Scale)
	maxDigits := int64(t.Precision - t.Scale)
	if r.Coeff.Sign() != 0 && intDigits(r) > maxDigits {
		e := sqlerr.New(sqlerr.NumericValueOutOfRange, "numeric field overflow")
		lim := "1"
		if maxDigits > 0 {
			lim = "10^" + strconv.FormatInt(maxDigits, 10)
		}
		e.Detail = "A field with precision " + strconv.Itoa(int(t.Precision)) + ", scale " + strconv.Itoa(int(t.Scale)) + " must round to an absolute value less than " + lim + "."
		return nil, e
	}
	return r, nil
}

// parseNumeric parses PostgreSQL numeric input: optional blanks, sign,
// digits with an optional point, an optional exponent, or NaN / Infinity.
func parseNumeric(s string) (*apd.Decimal, error) {
	t := strings.TrimSpace(s)
	bad := func() error { return errSyntax(Numeric, s) }
	switch strings.ToLower(t) {
	case "nan":
		return &apd.Decimal{Form: apd.NaN}, nil
	case "infinity", "+infinity", "inf", "+inf":
		return &apd.Decimal{Form: apd.Infinite}, nil
	case "-infinity", "-inf":
		return &apd.Decimal{Form: apd.Infinite, Negative: true}, nil
	}
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	digits := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
		digits++
	}
	if i < len(t) && t[i] == '.' {
		i++
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return nil, bad()
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		ed := 0
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
			ed++
		}
		if ed == 0 {
			return nil, bad()
		}
	}
	if i != len(t) {
		return nil, bad()
	}
	d, _, err := apd.NewFromString(t)
	if err != nil || d.NumDigits()+int64(d.Exponent) > numericMaxWeightDigits {
		return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	d = normDec(d)
	if decScale(d) > numericMaxScale {
		return nil, sqlerr.New(sqlerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	return d, nil
}

// appendNumeric appends d as PostgreSQL prints a numeric.
func appendNumeric(dst []byte, d *apd.Decimal) []byte {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return append(dst, "NaN"...)
	case apd.Infinite:
		if d.Negative {
			return append(dst, "-Infinity"...)
		}
		return append(dst, "Infinity"...)
	}
	n := normDec(d)
	if n.Negative {
		dst = append(dst, '-')
	}
	digits := n.Coeff.String()
	scale := int(decScale(n))
	if scale == 0 {
		return append(dst, digits...)
	}
	if len(digits) <= scale {
		dst = append(dst, '0', '.')
		for i := len(digits); i < scale; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-scale:]...)
}

// numericString returns d as PostgreSQL prints it.
func numericString(d *apd.Decimal) string { return string(appendNumeric(nil, d)) }

// base10000 is a finite decimal in PostgreSQL's NumericVar layout.
type base10000 struct {
	weight int // weight of digits[0] (value = Σ digits[i]·10000^(weight-i))
	digits []int16
	dscale int
	neg    bool
}

// toBase10000 converts a normalised finite decimal, stripping leading and
// trailing zero digits like PostgreSQL's make_result (zero: no digits,
// weight 0).
func toBase10000(d *apd.Decimal) base10000 {
	n := normDec(d)
	out := base10000{dscale: int(decScale(n)), neg: n.Negative}
	if n.Coeff.Sign() == 0 {
		return out
	}
	s := n.Coeff.String()
	scale := out.dscale
	// Pad the fraction to a multiple of 4 digits and the integer part to a
	// multiple of 4 digits.
	intLen := len(s) - scale
	if intLen < 0 {
		s = strings.Repeat("0", -intLen) + s
		intLen = 0
	}
	fracPad := (decDigits - scale%decDigits) % decDigits
	s += strings.Repeat("0", fracPad)
	intPad := (decDigits - intLen%decDigits) % decDigits
	s = strings.Repeat("0", intPad) + s
	intGroups := (intLen + intPad) / decDigits
	groups := make([]int16, 0, len(s)/decDigits)
	for i := 0; i < len(s); i += decDigits {
		v, _ := strconv.Atoi(s[i : i+decDigits])
		groups = append(groups, int16(v))
	}
	weight := intGroups - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	out.weight = weight
	out.digits = groups
	return out
}

// fromBase10000 converts PostgreSQL's layout back to a decimal with
// display scale dscale (digits past dscale are truncated, as numeric_recv
// does).
func fromBase10000(v base10000) *apd.Decimal {
	c := new(big.Int)
	tenK := big.NewInt(10000)
	for _, g := range v.digits {
		c.Mul(c, tenK)
		c.Add(c, big.NewInt(int64(g)))
	}
	if v.neg {
		c.Neg(c)
	}
	exp := int32((v.weight - (len(v.digits) - 1)) * decDigits)
	d := decFromBig(c, exp)
	if len(v.digits) == 0 {
		d = decFromBig(c, 0)
	}
	if int(decScale(d)) > v.dscale {
		return truncDec(d, int32(v.dscale))
	}
	return roundDec(d, int32(v.dscale))
}

// selectDivScale is PostgreSQL's select_div_scale: enough digits for at
// least 16 significant digits of the quotient, and no fewer than either
// input's display scale.
func selectDivScale(a, b *apd.Decimal) int32 {
	v1, v2 := toBase10000(a), toBase10000(b)
	w1, f1 := 0, int16(0)
	if len(v1.digits) > 0 {
		w1, f1 = v1.weight, v1.digits[0]
	}
	w2, f2 := 0, int16(0)
	if len(v2.digits) > 0 {
		w2, f2 = v2.weight, v2.digits[0]
	}
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := numericMinSigDigits - qweight*decDigits
	rscale = max(rscale, v1.dscale, v2.dscale, 0)
	rscale = min(rscale, numericMaxDisplayScale)
	return int32(rscale)
}

// divDec returns a/b rounded half away from zero to rscale digits (finite
// operands, b != 0).
func divDec(a, b *apd.Decimal, rscale int32) *apd.Decimal {
	ca, cb := signedCoeff(a), signedCoeff(b)
	// a/b·10^rscale = ca/cb · 10^(ea-eb+rscale)
	k := int64(a.Exponent) - int64(b.Exponent) + int64(rscale)
	num, den := ca, cb
	if k >= 0 {
		num = new(big.Int).Mul(ca, pow10(k))
	} else {
		den = new(big.Int).Mul(cb, pow10(-k))
	}
	if den.Sign() < 0 {
		num.Neg(num)
		den = new(big.Int).Neg(den)
	}
	return decFromBig(roundHalfAway(num, den), -rscale)
}

// modDec returns a - trunc(a/b)·b with the scale of the wider operand
// (finite operands, b != 0).
func modDec(a, b *apd.Decimal) *apd.Decimal {
	e := min(a.Exponent, b.Exponent)
	ca, cb := signedCoeff(a), signedCoeff(b)
	ca.Mul(ca, pow10(int64(a.Exponent-e)))
	cb.Mul(cb, pow10(int64(b.Exponent-e)))
	return decFromBig(new(big.Int).Rem(ca, cb), e)
}

// cmpDec compares two normalised decimals with PostgreSQL's order: -Infinity
// < finite < Infinity < NaN, and NaN = NaN.
func cmpDec(a, b *apd.Decimal) int {
	ra, rb := decRank(a), decRank(b)
	if ra != rb {
		if ra < rb {
			return -1
		}
		return 1
	}
	if ra != 1 {
		return 0
	}
	return a.Cmp(b)
}

func decRank(d *apd.Decimal) int {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return 3
	case apd.Infinite:
		if d.Negative {
			return 0
		}
		return 2
	}
	return 1
}

// decFromInt returns i as a decimal with scale 0.
func decFromInt(i int64) *apd.Decimal { return apd.New(i, 0) }

// decToFloat converts d to the nearest float64 (NaN and infinities kept).
func decToFloat(d *apd.Decimal) float64 {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return nan()
	case apd.Infinite:
		if d.Negative {
			return negInf()
		}
		return posInf()
	}
	f, err := strconv.ParseFloat(numericString(d), 64)
	if err != nil {
		// Out of float range: ParseFloat returns ±Inf with the error.
		return f
	}
	return f
}

// big10 divides big integers by ten.
type big10 struct{ ten, m *big.Int }

func (b *big10) init() *big10 { b.ten, b.m = big.NewInt(10), new(big.Int); return b }

// quoRem10 returns c/10 and c%10 (c is not modified).
func (b *big10) quoRem10(c *big.Int) (*big.Int, int64) {
	q, m := new(big.Int).QuoRem(c, b.ten, b.m)
	return q, m.Int64()
}
