package store

import (
	"bytes"
	"math/big"
)

// Redis's INCRBYFLOAT computes in C's long double, on amd64 the x87 80-bit
// extended format: a 64-bit significand and a 15-bit exponent. big.Float
// with 64 bits of precision and round-to-nearest-even rounds every parse and
// sum as that format does; the exponent range is checked by hand (finite
// values below 2^16384, at least the smallest subnormal, 2^-16445).
// Results print as Redis's ld2string(LD_STR_HUMAN) prints them: "%.17Lf"
// with the trailing zeros (and a trailing '.') removed, "-0" as "0".
const (
	ldPrec     = 64
	ldMaxExp   = 16384  // |x| < 2^ldMaxExp
	ldMinExp   = -16444 // MantExp of the smallest subnormal (2^-16445 = 0.5 * 2^-16444)
	ldMaxChars = 5 * 1024
)

// ParseLongDouble parses b as Redis's string2ld does with strtold: decimal
// or 0x hexadecimal, optional sign and exponent, "inf" and "infinity"; no
// leading blank, nothing after the number, no NaN, nothing that overflows
// or underflows to zero.
func ParseLongDouble(b []byte) (*big.Float, bool) {
	if len(b) == 0 || len(b) >= ldMaxChars {
		return nil, false
	}
	body := b
	if body[0] == '+' || body[0] == '-' {
		body = body[1:]
	}
	lower := bytes.ToLower(body)
	if bytes.Equal(lower, []byte("inf")) || bytes.Equal(lower, []byte("infinity")) {
		return new(big.Float).SetInf(b[0] == '-'), true
	}
	hex := len(lower) > 2 && lower[0] == '0' && lower[1] == 'x'
	digits := 0
	for i, c := range lower {
		switch {
		case '0' <= c && c <= '9':
			digits++
		case c == '.':
		case hex && i > 1 && ('a' <= c && c <= 'f'):
			if c != 'e' || hex {
				digits++
			}
		case hex && i == 1 && c == 'x':
		case !hex && c == 'e', hex && c == 'p':
		case (c == '+' || c == '-') && i > 0 && (lower[i-1] == 'e' && !hex || lower[i-1] == 'p' && hex):
		default:
			return nil, false
		}
	}
	if digits == 0 {
		return nil, false
	}
	base := 10
	if hex {
		base = 0
	}
	f, _, err := new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven).Parse(string(b), base)
	if err != nil {
		return nil, false
	}
	if f.Sign() != 0 {
		if e := f.MantExp(nil); e > ldMaxExp || e < ldMinExp {
			return nil, false // strtold's ERANGE: overflow, or underflow to 0
		}
	}
	return f, true
}

// addFloat returns the text of cur (0 when !exists) plus incr, as Redis's
// INCRBYFLOAT: ErrNotFloat if either does not parse, ErrNaNOrInf if the sum
// is not finite.
func addFloat(cur []byte, exists bool, incr []byte) ([]byte, error) {
	v := new(big.Float).SetPrec(ldPrec)
	if exists {
		var ok bool
		if v, ok = ParseLongDouble(cur); !ok {
			return nil, ErrNotFloat
		}
	}
	d, ok := ParseLongDouble(incr)
	if !ok {
		return nil, ErrNotFloat
	}
	if v.IsInf() || d.IsInf() {
		return nil, ErrNaNOrInf
	}
	sum, ok := AddLongDouble(v, d)
	if !ok {
		return nil, ErrNaNOrInf
	}
	return FormatLongDouble(sum), nil
}

// AddLongDouble returns a+b rounded as a long double, and false when the sum
// is beyond the largest finite long double (Redis's NaN-or-Infinity error).
func AddLongDouble(a, b *big.Float) (*big.Float, bool) {
	sum := new(big.Float).SetPrec(ldPrec).SetMode(big.ToNearestEven).Add(a, b)
	return sum, sum.Sign() == 0 || sum.MantExp(nil) <= ldMaxExp
}

// FormatLongDouble prints f as Redis's ld2string(LD_STR_HUMAN) does.
func FormatLongDouble(f *big.Float) []byte {
	out := f.Append(make([]byte, 0, 32), 'f', 17)
	if bytes.IndexByte(out, '.') >= 0 {
		out = bytes.TrimRight(out, "0")
		out = bytes.TrimSuffix(out, []byte("."))
	}
	if string(out) == "-0" {
		out = out[1:]
	}
	return out
}
