package value

import (
	"encoding/binary"
	"math"
	"math/big"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Key encoding: every value is one self-delimiting element whose bytes
// compare (bytes.Compare) the way Compare orders values of its type, so a
// composite index key is the concatenation of its columns' elements.
//
//	NULL       0x00 (sorts first ascending)
//	non-NULL   0x01 then the payload:
//	bool       one byte 0/1
//	integer    8 bytes big-endian with the sign bit flipped (any width)
//	float      8 bytes: the IEEE bits of the float64, sign bit flipped for
//	           positives and all bits flipped for negatives; -0 is 0 and
//	           every NaN is one NaN above +Infinity
//	text/bytea the bytes with 0x00 escaped as 00 FF, ended by 00 01
//	           (char(n) without its trailing blanks)
//	timestamps int64 microseconds since 2000-01-01, sign bit flipped
//	date       int64 days since 2000-01-01, sign bit flipped
//	numeric    a class byte (-Inf, negative, zero, positive, +Inf, NaN);
//	           finite non-zero values then the decimal exponent E (value =
//	           0.d1d2… × 10^E) as a sign-flipped int32 and the digits two
//	           per byte (pair+1) ended by 00; negatives have E and the
//	           digit bytes complemented. Trailing zeros are dropped, so 1.0
//	           and 1.00 encode identically (decoding gives the least scale).
//	jsonb      the top-level class (empty array, scalar, non-empty array,
//	           object), then a structural encoding in jsonb's btree order
//
// A descending element is the ascending one with every byte complemented.
const (
	keyNull    = 0x00
	keyNotNull = 0x01

	keyNumNegInf = 0x01
	keyNumNeg    = 0x02
	keyNumZero   = 0x03
	keyNumPos    = 0x04
	keyNumPosInf = 0x05
	keyNumNaN    = 0x06
)

// AppendKey appends the order-preserving encoding of v (see above) to dst;
// desc complements it so that larger values sort first. Values of one
// column must share a type: the encodings of different kinds do not
// interleave meaningfully (cast to the column type first).
func AppendKey(dst []byte, v Value, desc bool) []byte {
	start := len(dst)
	dst = appendKeyAsc(dst, v)
	if desc {
		for i := start; i < len(dst); i++ {
			dst[i] = ^dst[i]
		}
	}
	return dst
}

func appendKeyAsc(dst []byte, v Value) []byte {
	if v.Null {
		return append(dst, keyNull)
	}
	dst = append(dst, keyNotNull)
	switch v.Type.Kind {
	case KindBool:
		if v.Bool {
			return append(dst, 1)
		}
		return append(dst, 0)
	case KindInt:
		return appendKeyInt(dst, v.Int)
	case KindFloat:
		return appendKeyFloat(dst, v.Float)
	case KindNumeric:
		return appendKeyDec(dst, toDec(v))
	case KindText:
		return appendKeyBytes(dst, textKey(v))
	case KindBytes:
		return appendKeyBytes(dst, string(v.Bytes))
	case KindTimestamp, KindTimestampTZ:
		return appendKeyInt(dst, toMicros(v.Time))
	case KindDate:
		return appendKeyInt(dst, toDays(v.Time))
	case KindJSON:
		n, err := parseJSON([]byte(v.Str))
		if err != nil {
			// A jsonb value is normalised on construction; fall back to its
			// text so that the encoding stays total.
			return appendKeyBytes(append(dst, 0xFF), v.Str)
		}
		return appendKeyJSON(append(dst, byte(jsonTopRank(n))), n)
	}
	return appendKeyBytes(dst, v.Str)
}

func appendKeyInt(dst []byte, i int64) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(i)^(1<<63))
}

func appendKeyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		f = math.NaN()
	case f == 0:
		f = 0
	}
	u := math.Float64bits(f)
	if math.IsNaN(f) {
		u = 0x7FF8000000000000
	}
	if u&(1<<63) != 0 {
		u = ^u
	} else {
		u |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(dst, u)
}

func appendKeyBytes(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0x00, 0xFF)
		} else {
			dst = append(dst, s[i])
		}
	}
	return append(dst, 0x00, 0x01)
}

func appendKeyDec(dst []byte, d *apd.Decimal) []byte {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return append(dst, keyNumNaN)
	case apd.Infinite:
		if d.Negative {
			return append(dst, keyNumNegInf)
		}
		return append(dst, keyNumPosInf)
	}
	if d.Coeff.Sign() == 0 {
		return append(dst, keyNumZero)
	}
	digits := d.Coeff.String()
	exp := int64(d.Exponent)
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	digits = trimmed
	e := int64(len(digits)) + exp
	if e > math.MaxInt32 {
		e = math.MaxInt32
	} else if e < math.MinInt32 {
		e = math.MinInt32
	}
	var mask byte
	class := byte(keyNumPos)
	if d.Negative {
		mask, class = 0xFF, keyNumNeg
	}
	dst = append(dst, class)
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(int32(e))^(1<<31))
	for i := 0; i < len(digits); i += 2 {
		p := int(digits[i]-'0') * 10
		if i+1 < len(digits) {
			p += int(digits[i+1] - '0')
		}
		dst = append(dst, byte(p+1))
	}
	dst = append(dst, 0)
	if mask != 0 {
		for i := start; i < len(dst); i++ {
			dst[i] ^= mask
		}
	}
	return dst
}

func appendKeyJSON(dst []byte, n *jsonNode) []byte {
	dst = append(dst, byte(n.kind))
	switch n.kind {
	case jsonBool:
		if n.b {
			return append(dst, 1)
		}
		return append(dst, 0)
	case jsonNumber:
		return appendKeyDec(dst, n.num)
	case jsonString:
		return appendKeyBytes(dst, n.s)
	case jsonArray:
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(n.arr)))
		for _, el := range n.arr {
			dst = appendKeyJSON(dst, el)
		}
	case jsonObject:
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(n.keys)))
		for i, k := range n.keys {
			dst = appendKeyBytes(dst, k)
			dst = appendKeyJSON(dst, n.vals[i])
		}
	}
	return dst
}

// keyReader reads a key element, un-complementing descending bytes.
type keyReader struct {
	b    []byte
	i    int
	mask byte
}

var errCorruptKey = sqlerr.New(sqlerr.Internal, "corrupt index key")

func (r *keyReader) byte() (byte, error) {
	if r.i >= len(r.b) {
		return 0, errCorruptKey
	}
	c := r.b[r.i] ^ r.mask
	r.i++
	return c, nil
}

func (r *keyReader) uint64() (uint64, error) {
	if r.i+8 > len(r.b) {
		return 0, errCorruptKey
	}
	var u uint64
	for k := 0; k < 8; k++ {
		u = u<<8 | uint64(r.b[r.i+k]^r.mask)
	}
	r.i += 8
	return u, nil
}

func (r *keyReader) uint32() (uint32, error) {
	if r.i+4 > len(r.b) {
		return 0, errCorruptKey
	}
	var u uint32
	for k := 0; k < 4; k++ {
		u = u<<8 | uint32(r.b[r.i+k]^r.mask)
	}
	r.i += 4
	return u, nil
}

func (r *keyReader) int64() (int64, error) {
	u, err := r.uint64()
	return int64(u ^ (1 << 63)), err
}

// text reads an escaped element that must be UTF-8.
func (r *keyReader) text() ([]byte, error) {
	b, err := r.escaped()
	if err == nil && !utf8.Valid(b) {
		return nil, errCorruptKey
	}
	return b, err
}

func (r *keyReader) escaped() ([]byte, error) {
	var out []byte
	for {
		c, err := r.byte()
		if err != nil {
			return nil, err
		}
		if c != 0 {
			out = append(out, c)
			continue
		}
		c2, err := r.byte()
		if err != nil {
			return nil, err
		}
		switch c2 {
		case 0xFF:
			out = append(out, 0)
		case 0x01:
			if out == nil {
				out = []byte{}
			}
			return out, nil
		default:
			return nil, errCorruptKey
		}
	}
}

// DecodeKey reads one element written by AppendKey for a value of type t
// (and the same desc) from the front of b, returning the value and the
// bytes after it. A NUMERIC(p,s) comes back with scale s; an unconstrained
// numeric with the least scale that holds its value (1.50 → 1.5), since
// keys order and identify while rows keep exact values: store such a
// column in the row value too when its display scale matters. char(n)
// comes back blank-padded; -0 floats as 0. A malformed element is an
// XX000 error.
func DecodeKey(b []byte, t Type, desc bool) (Value, []byte, error) {
	r := &keyReader{b: b}
	if desc {
		r.mask = 0xFF
	}
	tag, err := r.byte()
	if err != nil {
		return Value{}, nil, err
	}
	switch tag {
	case keyNull:
		return NullOf(t), b[r.i:], nil
	case keyNotNull:
	default:
		return Value{}, nil, errCorruptKey
	}
	v, err := decodeKeyPayload(r, t)
	if err != nil {
		return Value{}, nil, err
	}
	return v, b[r.i:], nil
}

func decodeKeyPayload(r *keyReader, t Type) (Value, error) {
	switch t.Kind {
	case KindBool:
		c, err := r.byte()
		if err != nil || c > 1 {
			return Value{}, errCorruptKey
		}
		return NewBool(c == 1), nil
	case KindInt:
		i, err := r.int64()
		if err != nil {
			return Value{}, err
		}
		return Value{Type: Type{Kind: KindInt, Width: t.Width}, Int: i}, nil
	case KindFloat:
		u, err := r.uint64()
		if err != nil {
			return Value{}, err
		}
		if u&(1<<63) != 0 {
			u &^= 1 << 63
		} else {
			u = ^u
		}
		f := math.Float64frombits(u)
		if t.Width == 4 {
			f = float64(float32(f))
		}
		return Value{Type: Type{Kind: KindFloat, Width: t.Width}, Float: f}, nil
	case KindNumeric:
		d, err := decodeKeyDec(r)
		if err != nil {
			return Value{}, err
		}
		if t.Precision > 0 && t.Scale >= 0 && isFiniteDec(d) && decScale(d) <= t.Scale {
			// A NUMERIC(p,s) value always has scale s: restore it.
			d = roundDec(d, t.Scale)
		}
		return Value{Type: t, Dec: d}, nil
	case KindText, KindUnknown:
		s, err := r.text()
		if err != nil {
			return Value{}, err
		}
		v := Value{Type: t, Str: string(s)}
		if t.Fixed && t.Length > 0 {
			if fv, err := fitText(v.Str, t, true); err == nil {
				v = fv
			}
		}
		return v, nil
	case KindBytes:
		s, err := r.escaped()
		if err != nil {
			return Value{}, err
		}
		return NewBytes(s), nil
	case KindTimestamp, KindTimestampTZ:
		us, err := r.int64()
		if err != nil {
			return Value{}, err
		}
		if !microsInRange(us) {
			return Value{}, errCorruptKey
		}
		return Value{Type: t, Time: fromMicros(us)}, nil
	case KindDate:
		d, err := r.int64()
		if err != nil {
			return Value{}, err
		}
		if !daysInRange(d) {
			return Value{}, errCorruptKey
		}
		return Value{Type: Date, Time: fromDays(d)}, nil
	case KindJSON:
		rank, err := r.byte()
		if err != nil {
			return Value{}, err
		}
		n, err := decodeKeyJSON(r, 0)
		if err != nil {
			return Value{}, err
		}
		if int(rank) != jsonTopRank(n) {
			return Value{}, errCorruptKey
		}
		return Value{Type: JSONB, Str: string(appendJSON(nil, n))}, nil
	}
	return Value{}, errCorruptKey
}

func decodeKeyDec(r *keyReader) (*apd.Decimal, error) {
	class, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch class {
	case keyNumNaN:
		return &apd.Decimal{Form: apd.NaN}, nil
	case keyNumPosInf:
		return &apd.Decimal{Form: apd.Infinite}, nil
	case keyNumNegInf:
		return &apd.Decimal{Form: apd.Infinite, Negative: true}, nil
	case keyNumZero:
		return new(apd.Decimal), nil
	case keyNumPos, keyNumNeg:
	default:
		return nil, errCorruptKey
	}
	neg := class == keyNumNeg
	save := r.mask
	if neg {
		r.mask ^= 0xFF
	}
	defer func() { r.mask = save }()
	u, err := r.uint32()
	if err != nil {
		return nil, err
	}
	e := int64(int32(u ^ (1 << 31)))
	if e > numericMaxWeightDigits || e < -numericMaxScale {
		return nil, errCorruptKey
	}
	var digits []byte
	for {
		c, err := r.byte()
		if err != nil {
			return nil, err
		}
		if c == 0 {
			break
		}
		if c > 100 {
			return nil, errCorruptKey
		}
		p := c - 1
		digits = append(digits, '0'+p/10, '0'+p%10)
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		return nil, errCorruptKey
	}
	c, ok := new(big.Int).SetString(string(digits), 10)
	if !ok {
		return nil, errCorruptKey
	}
	if neg {
		c.Neg(c)
	}
	exp := e - int64(len(digits))
	if exp < math.MinInt32 || exp > math.MaxInt32 {
		return nil, errCorruptKey
	}
	return decFromBig(c, int32(exp)), nil
}

func decodeKeyJSON(r *keyReader, depth int) (*jsonNode, error) {
	if depth > maxJSONDepth {
		return nil, errCorruptKey
	}
	k, err := r.byte()
	if err != nil {
		return nil, err
	}
	n := &jsonNode{kind: jsonKind(k)}
	switch n.kind {
	case jsonNull:
	case jsonBool:
		c, err := r.byte()
		if err != nil {
			return nil, err
		}
		n.b = c == 1
	case jsonNumber:
		if n.num, err = decodeKeyDec(r); err != nil {
			return nil, err
		}
		if !isFiniteDec(n.num) {
			return nil, errCorruptKey
		}
	case jsonString:
		s, err := r.text()
		if err != nil {
			return nil, err
		}
		n.s = string(s)
	case jsonArray:
		cnt, err := r.uint32()
		if err != nil || int(cnt) > len(r.b) {
			return nil, errCorruptKey
		}
		for range cnt {
			el, err := decodeKeyJSON(r, depth+1)
			if err != nil {
				return nil, err
			}
			n.arr = append(n.arr, el)
		}
	case jsonObject:
		cnt, err := r.uint32()
		if err != nil || int(cnt) > len(r.b) {
			return nil, errCorruptKey
		}
		for range cnt {
			s, err := r.text()
			if err != nil {
				return nil, err
			}
			v, err := decodeKeyJSON(r, depth+1)
			if err != nil {
				return nil, err
			}
			if len(n.keys) > 0 && !jsonKeyLess(n.keys[len(n.keys)-1], string(s)) {
				return nil, errCorruptKey // keys are stored sorted and unique
			}
			n.keys = append(n.keys, string(s))
			n.vals = append(n.vals, v)
		}
	default:
		return nil, errCorruptKey
	}
	return n, nil
}
