package value

import (
	"math"
	"strconv"
	"strings"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

func nan() float64    { return math.NaN() }
func posInf() float64 { return math.Inf(1) }
func negInf() float64 { return math.Inf(-1) }

// appendFloat appends f as PostgreSQL 12+ prints float8 (width 8) or float4
// (width 4) with the default extra_float_digits: the shortest text that
// reads back to the same value, fixed-point when the decimal exponent is in
// [-4, 15) (float4: [-4, 6)), otherwise d.ddde±XX.
func appendFloat(dst []byte, f float64, width uint8) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "NaN"...)
	case math.IsInf(f, 1):
		return append(dst, "Infinity"...)
	case math.IsInf(f, -1):
		return append(dst, "-Infinity"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0"...)
		}
		return append(dst, '0')
	}
	return appendPGFloat(dst, f, width)
}

// parseFloat parses PostgreSQL float input (blanks trimmed; NaN, Infinity,
// inf in any case). Out-of-range values are 22003 errors as in PostgreSQL.
func parseFloat(t Type, s string) (float64, error) {
	x := strings.TrimSpace(s)
	bits := 64
	if t.Width == 4 {
		bits = 32
	}
	switch strings.ToLower(x) {
	case "nan", "-nan", "+nan":
		return math.NaN(), nil
	case "infinity", "+infinity", "inf", "+inf":
		return math.Inf(1), nil
	case "-infinity", "-inf":
		return math.Inf(-1), nil
	}
	if x == "" || strings.Contains(x, "_") {
		return 0, errSyntax(t, s)
	}
	num := x
	if h := strings.TrimLeft(x, "+-"); len(h) > 2 && h[0] == '0' && (h[1] == 'x' || h[1] == 'X') {
		// strtod reads C99 hexadecimal floats; the binary exponent is optional.
		if !strings.ContainsAny(h, "pP") {
			num += "p0"
		}
	} else if strings.ContainsAny(x, "xXpP") {
		return 0, errSyntax(t, s)
	}
	f, err := strconv.ParseFloat(num, bits)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "%s is out of range for type %s", quoteInput(x), t.String())
		}
		return 0, errSyntax(t, s)
	}
	if f == 0 && !allZeroMantissa(x) {
		return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "%s is out of range for type %s", quoteInput(x), t.String())
	}
	return f, nil
}

// allZeroMantissa reports whether the mantissa of a float literal is zero
// (so a zero result is not an underflow).
func allZeroMantissa(x string) bool {
	for _, c := range x {
		if c == 'e' || c == 'E' {
			break
		}
		if c >= '1' && c <= '9' {
			return false
		}
	}
	return true
}

// checkFloat applies PostgreSQL's float overflow/underflow checks to the
// result r of an operation on a and b: an infinite result from finite
// inputs overflows; a zero result from non-zero inputs underflows (when
// zeroOK is false).
func checkFloat(r float64, inputsFinite bool, zeroOK bool, width uint8) (float64, error) {
	if width == 4 {
		r = float64(float32(r))
	}
	if math.IsInf(r, 0) && inputsFinite {
		return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: overflow")
	}
	if r == 0 && !zeroOK {
		return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "value out of range: underflow")
	}
	return r, nil
}

// parseInt parses PostgreSQL integer input for an integer type of width
// 2, 4 or 8 (blanks trimmed, optional sign, decimal digits).
func parseInt(t Type, s string) (int64, error) {
	x := strings.TrimSpace(s)
	i := 0
	if i < len(x) && (x[i] == '+' || x[i] == '-') {
		i++
	}
	if i == len(x) {
		return 0, errSyntax(t, s)
	}
	for j := i; j < len(x); j++ {
		if x[j] < '0' || x[j] > '9' {
			return 0, errSyntax(t, s)
		}
	}
	n, err := strconv.ParseInt(x, 10, 64)
	if err != nil || !intFits(n, t.Width) {
		return 0, sqlerr.New(sqlerr.NumericValueOutOfRange, "value %s is out of range for type %s", quoteInput(x), t.String())
	}
	return n, nil
}

// intFits reports whether n fits an integer of the given byte width.
func intFits(n int64, width uint8) bool {
	switch width {
	case 2:
		return n >= math.MinInt16 && n <= math.MaxInt16
	case 4:
		return n >= math.MinInt32 && n <= math.MaxInt32
	}
	return true
}

func float64bits(f float64) uint64 { return math.Float64bits(f) }
func float32bits(f float64) uint32 { return math.Float32bits(float32(f)) }
