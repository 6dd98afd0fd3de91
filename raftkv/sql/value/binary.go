package value

import (
	"encoding/binary"
	"math"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// PostgreSQL's numeric sign words (binary format).
const (
	numericPos    = 0x0000
	numericNeg    = 0x4000
	numericNaN    = 0xC000
	numericPInf   = 0xD000
	numericNInf   = 0xF000
	jsonbVersion1 = 1
)

// AppendBinary appends v in PostgreSQL's binary send format: integers and
// floats big-endian, bool one byte, text and bytea raw, numeric as
// ndigits/weight/sign/dscale and base-10000 digits, timestamp and
// timestamptz as int64 microseconds since 2000-01-01 UTC, date as int32
// days since 2000-01-01, jsonb as version byte 1 then its text. The result
// is never nil for a non-NULL value. A NULL
// appends nothing (sent out of band). The error is 22008 for a date
// outside int32 days.
func AppendBinary(dst []byte, v Value) ([]byte, error) {
	if v.Null {
		return dst, nil
	}
	if dst == nil {
		// Never nil for a non-NULL value: callers read nil as NULL.
		dst = make([]byte, 0, 16)
	}
	switch v.Type.Kind {
	case KindBool:
		if v.Bool {
			return append(dst, 1), nil
		}
		return append(dst, 0), nil
	case KindInt:
		switch v.Type.Width {
		case 2:
			return binary.BigEndian.AppendUint16(dst, uint16(int16(v.Int))), nil
		case 4:
			return binary.BigEndian.AppendUint32(dst, uint32(int32(v.Int))), nil
		}
		return binary.BigEndian.AppendUint64(dst, uint64(v.Int)), nil
	case KindFloat:
		if v.Type.Width == 4 {
			bits := math.Float32bits(float32(v.Float))
			if v.Float != v.Float {
				bits = 0x7fc00000 // PostgreSQL's NaN
			}
			return binary.BigEndian.AppendUint32(dst, bits), nil
		}
		bits := math.Float64bits(v.Float)
		if v.Float != v.Float {
			bits = 0x7ff8000000000000 // PostgreSQL's NaN
		}
		return binary.BigEndian.AppendUint64(dst, bits), nil
	case KindNumeric:
		return appendNumericBinary(dst, toDec(v)), nil
	case KindText:
		return AppendText(dst, v), nil
	case KindBytes:
		return append(dst, v.Bytes...), nil
	case KindTimestamp, KindTimestampTZ:
		return binary.BigEndian.AppendUint64(dst, uint64(toMicros(v.Time))), nil
	case KindDate:
		d := toDays(v.Time)
		if d < math.MinInt32+1 || d > math.MaxInt32-1 {
			return nil, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range")
		}
		return binary.BigEndian.AppendUint32(dst, uint32(int32(d))), nil
	case KindJSON:
		return append(append(dst, jsonbVersion1), v.Str...), nil
	}
	return append(dst, v.Str...), nil
}

func appendNumericBinary(dst []byte, d *apd.Decimal) []byte {
	put := func(ndigits, weight int, sign uint16, dscale int) {
		dst = binary.BigEndian.AppendUint16(dst, uint16(ndigits))
		dst = binary.BigEndian.AppendUint16(dst, uint16(int16(weight)))
		dst = binary.BigEndian.AppendUint16(dst, sign)
		dst = binary.BigEndian.AppendUint16(dst, uint16(dscale))
	}
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		put(0, 0, numericNaN, 0)
		return dst
	case apd.Infinite:
		// PostgreSQL's numeric_send reports dscale 32 for the infinities
		// (bits of its packed header); pgx and PostgreSQL ignore it.
		if d.Negative {
			put(0, 0, numericNInf, 32)
		} else {
			put(0, 0, numericPInf, 32)
		}
		return dst
	}
	v := toBase10000(d)
	sign := uint16(numericPos)
	if v.neg {
		sign = numericNeg
	}
	put(len(v.digits), v.weight, sign, v.dscale)
	for _, g := range v.digits {
		dst = binary.BigEndian.AppendUint16(dst, uint16(g))
	}
	return dst
}

// ParseBinary reads b in PostgreSQL's binary receive format for type t (see
// AppendBinary), applying t's modifiers as the receive functions do.
// Errors: 22P03 for a wrong length or malformed data, 22021 for text that
// is not UTF-8, and the modifier errors of ParseText.
func ParseBinary(t Type, b []byte) (Value, error) {
	need := func(n int) error {
		if len(b) != n {
			return errBinary(t, "expected %d bytes, got %d", n, len(b))
		}
		return nil
	}
	switch t.Kind {
	case KindBool:
		if err := need(1); err != nil {
			return Value{}, err
		}
		return NewBool(b[0] != 0), nil
	case KindInt:
		rt := Type{Kind: KindInt, Width: t.Width}
		switch t.Width {
		case 2:
			if err := need(2); err != nil {
				return Value{}, err
			}
			return Value{Type: rt, Int: int64(int16(binary.BigEndian.Uint16(b)))}, nil
		case 4:
			if err := need(4); err != nil {
				return Value{}, err
			}
			return Value{Type: rt, Int: int64(int32(binary.BigEndian.Uint32(b)))}, nil
		}
		if err := need(8); err != nil {
			return Value{}, err
		}
		return Value{Type: Int8, Int: int64(binary.BigEndian.Uint64(b))}, nil
	case KindFloat:
		if t.Width == 4 {
			if err := need(4); err != nil {
				return Value{}, err
			}
			return Value{Type: Float4, Float: float64(math.Float32frombits(binary.BigEndian.Uint32(b)))}, nil
		}
		if err := need(8); err != nil {
			return Value{}, err
		}
		return Value{Type: Float8, Float: math.Float64frombits(binary.BigEndian.Uint64(b))}, nil
	case KindNumeric:
		d, err := parseNumericBinary(t, b)
		if err != nil {
			return Value{}, err
		}
		d, err = applyNumericTypmod(d, t)
		if err != nil {
			return Value{}, err
		}
		return Value{Type: t, Dec: d}, nil
	case KindText, KindUnknown:
		if !utf8.Valid(b) {
			return Value{}, errUTF8(b)
		}
		if t.Kind == KindUnknown {
			return NewUnknown(string(b)), nil
		}
		return fitText(string(b), t, false)
	case KindBytes:
		return NewBytes(append([]byte(nil), b...)), nil
	case KindTimestamp, KindTimestampTZ:
		if err := need(8); err != nil {
			return Value{}, err
		}
		us := int64(binary.BigEndian.Uint64(b))
		if us == math.MaxInt64 || us == math.MinInt64 || !microsInRange(us) {
			return Value{}, sqlerr.New(sqlerr.DatetimeFieldOverflow, "timestamp out of range")
		}
		return Value{Type: t, Time: fromMicros(us)}, nil
	case KindDate:
		if err := need(4); err != nil {
			return Value{}, err
		}
		d := int64(int32(binary.BigEndian.Uint32(b)))
		if d == math.MaxInt32 || d == math.MinInt32 || !daysInRange(d) {
			return Value{}, sqlerr.New(sqlerr.DatetimeFieldOverflow, "date out of range")
		}
		return Value{Type: Date, Time: fromDays(d)}, nil
	case KindJSON:
		if len(b) > 0 && isJSONStart(b[0]) {
			// json (OID 114) sends bare text; jsonb's version byte 1 can
			// never start JSON text, so both are accepted.
			return NewJSON(b)
		}
		if len(b) == 0 || b[0] != jsonbVersion1 {
			v := -1
			if len(b) > 0 {
				v = int(b[0])
			}
			return Value{}, sqlerr.New(codeBinaryFormat, "unsupported jsonb version number %d", v)
		}
		return NewJSON(b[1:])
	}
	return Value{}, sqlerr.New(sqlerr.FeatureNotSupported, "binary format for type %s is not supported", t.String())
}

func parseNumericBinary(t Type, b []byte) (*apd.Decimal, error) {
	if len(b) < 8 {
		return nil, errBinary(t, "%d bytes is too short for a numeric", len(b))
	}
	ndigits := int(binary.BigEndian.Uint16(b[0:]))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*ndigits {
		return nil, errBinary(t, "numeric with %d digits has %d bytes", ndigits, len(b))
	}
	switch sign {
	case numericNaN:
		return &apd.Decimal{Form: apd.NaN}, nil
	case numericPInf:
		return &apd.Decimal{Form: apd.Infinite}, nil
	case numericNInf:
		return &apd.Decimal{Form: apd.Infinite, Negative: true}, nil
	case numericPos, numericNeg:
	default:
		return nil, sqlerr.New(codeBinaryFormat, "invalid sign in external \"numeric\" value")
	}
	if dscale > numericMaxScale {
		return nil, sqlerr.New(codeBinaryFormat, "invalid scale in external \"numeric\" value")
	}
	v := base10000{weight: weight, dscale: dscale, neg: sign == numericNeg, digits: make([]int16, ndigits)}
	for i := range ndigits {
		g := binary.BigEndian.Uint16(b[8+2*i:])
		if g >= 10000 {
			return nil, sqlerr.New(codeBinaryFormat, "invalid digit in external \"numeric\" value")
		}
		v.digits[i] = int16(g)
	}
	return fromBase10000(v), nil
}

// isJSONStart reports whether c can begin JSON text.
func isJSONStart(c byte) bool {
	switch c {
	case '{', '[', '"', '-', 't', 'f', 'n', ' ', '\t', '\n', '\r':
		return true
	}
	return c >= '0' && c <= '9'
}
