package value

import (
	"math/big"
	"strconv"
	"sync"
)

// PostgreSQL 12+ prints floats with Ryu built without STRICTLY_SHORTEST:
// the shortest decimal inside the rounding interval of the value, the
// interval's end points excluded. Go's strconv includes them when the
// mantissa is even, so a handful of values (an exact half-way decimal is
// the shortest) print one digit longer in PostgreSQL, e.g.
// 401572645024839168 as 4.0157264502483917e+17 where Go says
// 4.015726450248392e+17. pgShortest reproduces PostgreSQL's choice: the
// same interval walk as Ryu, with the interval end points computed exactly
// (math/big) instead of from Ryu's tables.

// pow10Table caches 10^n for the exponents floats reach.
var pow10Table = sync.OnceValue(func() []*big.Int {
	t := make([]*big.Int, 400)
	t[0] = big.NewInt(1)
	for i := 1; i < len(t); i++ {
		t[i] = new(big.Int).Mul(t[i-1], bigTen)
	}
	return t
})

// pow10Small returns 10^n from the cache (n < 400); do not modify it.
func pow10Small(n int) *big.Int {
	if n < len(pow10Table()) {
		return pow10Table()[n]
	}
	return pow10(int64(n))
}

// floatFormat describes an IEEE binary format.
type floatFormat struct {
	mantBits uint
	expBits  uint
	bias     int
	double   bool // float8 (d2s.c) rather than float4 (f2s.c) rules
}

var (
	float64Format = floatFormat{mantBits: 52, expBits: 11, bias: 1023, double: true}
	float32Format = floatFormat{mantBits: 23, expBits: 8, bias: 127}
)

// log10Pow2 is floor(e·log10(2)) and log10Pow5 floor(e·log10(5)), for the
// exponent ranges of IEEE doubles (Ryu's approximations).
func log10Pow2(e int) int { return (e * 78913) >> 18 }
func log10Pow5(e int) int { return (e * 732923) >> 20 }

// scaledFloor returns floor(x · 2^e2 / 10^e10) exactly.
func scaledFloor(x uint64, e2, e10 int) uint64 {
	num := new(big.Int).SetUint64(x)
	den := big.NewInt(1)
	if e2 >= 0 {
		num.Lsh(num, uint(e2))
	} else {
		den.Lsh(den, uint(-e2))
	}
	if e10 >= 0 {
		den.Mul(den, pow10Small(e10))
	} else {
		num.Mul(num, pow10Small(-e10))
	}
	return num.Quo(num, den).Uint64()
}

func multipleOfPow5(v uint64, p int) bool {
	for ; p > 0; p-- {
		if v%5 != 0 {
			return false
		}
		v /= 5
	}
	return true
}

func multipleOfPow2(v uint64, p int) bool { return v&(1<<uint(p)-1) == 0 }

// pgShortest returns the decimal m·10^e PostgreSQL prints for the finite,
// non-zero float with the given IEEE mantissa and biased exponent fields.
func pgShortest(mant uint64, ieeeExp int, ff floatFormat) (uint64, int) {
	// Integers below 2^(mantBits+1) print exactly.
	if e2 := ieeeExp - ff.bias - int(ff.mantBits); e2 >= -int(ff.mantBits) && e2 <= 0 && mant&(1<<uint(-e2)-1) == 0 {
		return (1<<ff.mantBits | mant) >> uint(-e2), 0
	}
	var e2 int
	var m2 uint64
	if ieeeExp == 0 {
		e2 = 1 - ff.bias - int(ff.mantBits) - 2
		m2 = mant
	} else {
		e2 = ieeeExp - ff.bias - int(ff.mantBits) - 2
		m2 = 1<<ff.mantBits | mant
	}
	mv := 4 * m2
	mmShift := uint64(0)
	if mant != 0 || ieeeExp <= 1 {
		mmShift = 1
	}
	mp, mm := mv+2, mv-1-mmShift
	var q, e10 int
	if e2 >= 0 {
		q = log10Pow2(e2)
		if ff.double && e2 > 3 {
			q--
		}
		e10 = q
	} else {
		q = log10Pow5(-e2)
		if ff.double && -e2 > 1 {
			q--
		}
		e10 = q + e2
	}
	vr, vp, vm := scaledFloor(mv, e2, e10), scaledFloor(mp, e2, e10), scaledFloor(mm, e2, e10)
	vrTrailingZeros := false
	var lastRemoved uint64
	if !ff.double && q != 0 && (vp-1)/10 <= vm/10 {
		// float4 computes the digit removed just before this point.
		lastRemoved = scaledFloor(mv, e2, e10-1) % 10
	}
	if e2 >= 0 {
		limit := 21
		if !ff.double {
			limit = 9
		}
		if q <= limit {
			if mv%5 == 0 {
				vrTrailingZeros = multipleOfPow5(mv, q)
			} else if multipleOfPow5(mp, q) {
				vp--
			}
		}
	} else {
		limit := 63
		if !ff.double {
			limit = 31
		}
		switch {
		case q <= 1:
			vrTrailingZeros = true
			vp--
		case q < limit:
			vrTrailingZeros = multipleOfPow2(mv, q-1)
		}
	}
	removed := 0
	if vrTrailingZeros {
		for vp/10 > vm/10 {
			vrTrailingZeros = vrTrailingZeros && lastRemoved == 0
			lastRemoved = vr % 10
			vr, vp, vm = vr/10, vp/10, vm/10
			removed++
		}
		if vrTrailingZeros && lastRemoved == 5 && vr%2 == 0 {
			lastRemoved = 4 // round half to even when the exact value is …50…0
		}
	} else {
		if ff.double {
			lastRemoved = 0
		}
		for vp/10 > vm/10 {
			lastRemoved = vr % 10
			vr, vp, vm = vr/10, vp/10, vm/10
			removed++
		}
	}
	if vr == vm || lastRemoved >= 5 {
		vr++
	}
	return vr, e10 + removed
}

// appendPGFloat appends the finite non-zero f (float8, or float4 when
// width is 4) as PostgreSQL's float8out/float4out print it.
func appendPGFloat(dst []byte, f float64, width uint8) []byte {
	var m uint64
	var e int
	var neg bool
	limit := 15
	if width == 4 {
		bits := uint64(float32bits(f))
		neg = bits>>31 != 0
		m, e = shortestDecimal(bits&(1<<23-1), int(bits>>23)&0xff, float32Format, f)
		limit = 6
	} else {
		bits := float64bits(f)
		neg = bits>>63 != 0
		m, e = shortestDecimal(bits&(1<<52-1), int(bits>>52)&0x7ff, float64Format, f)
	}
	if neg {
		dst = append(dst, '-')
	}
	digits := strconv.AppendUint(nil, m, 10)
	exp := e + len(digits) - 1
	if exp >= -4 && exp < limit {
		switch nexp := e + len(digits); {
		case e >= 0:
			dst = append(dst, digits...)
			for range e {
				dst = append(dst, '0')
			}
		case nexp > 0:
			dst = append(dst, digits[:nexp]...)
			dst = append(dst, '.')
			dst = append(dst, digits[nexp:]...)
		default:
			dst = append(dst, '0', '.')
			for range -nexp {
				dst = append(dst, '0')
			}
			dst = append(dst, digits...)
		}
		return dst
	}
	if e == 0 {
		for len(digits) > 1 && digits[len(digits)-1] == '0' {
			digits = digits[:len(digits)-1]
		}
	}
	dst = append(dst, digits[0])
	if len(digits) > 1 {
		dst = append(dst, '.')
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'e')
	if exp < 0 {
		dst = append(dst, '-')
		exp = -exp
	} else {
		dst = append(dst, '+')
	}
	if exp < 10 {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, int64(exp), 10)
}

// shortestDecimal is pgShortest with a fast path: when the binary
// mantissa is odd, strconv also leaves the interval end points out, and
// its shortest, correctly rounded digits are PostgreSQL's (a property the
// tests check against pgShortest).
func shortestDecimal(mant uint64, ieeeExp int, ff floatFormat, f float64) (uint64, int) {
	m2 := mant
	if ieeeExp != 0 {
		m2 |= 1 << ff.mantBits
	}
	if m2&1 == 0 {
		return pgShortest(mant, ieeeExp, ff)
	}
	return strconvShortest(f, ff)
}

// strconvShortest returns strconv's shortest decimal for |f| as m·10^e.
func strconvShortest(f float64, ff floatFormat) (uint64, int) {
	bitSize := 64
	if !ff.double {
		bitSize = 32
	}
	if f < 0 {
		f = -f
	}
	var buf [32]byte
	s := strconv.AppendFloat(buf[:0], f, 'e', -1, bitSize)
	var m uint64
	i := 0
	for ; i < len(s) && s[i] != 'e'; i++ {
		if s[i] != '.' {
			m = m*10 + uint64(s[i]-'0')
		}
	}
	digits := i
	if digits > 1 {
		digits-- // the point
	}
	exp, _ := strconv.Atoi(string(s[i+1:]))
	return m, exp - (digits - 1)
}
