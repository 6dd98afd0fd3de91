package value

import (
	"encoding/binary"
	"math"
	"math/big"

	"github.com/cockroachdb/apd/v3"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Row encoding: a version byte, then for each column its id (uvarint), a
// tag byte naming the encoding, and the payload:
//
//	rowNull                          (explicit NULL)
//	rowFalse, rowTrue
//	rowInt       zig-zag varint
//	rowFloat8    8 bytes IEEE, rowFloat4 4 bytes
//	rowBytes     uvarint length + bytes (text, bytea, jsonb)
//	rowDecPos/rowDecNeg  uvarint scale, uvarint length + big-endian coefficient
//	rowDecNaN, rowDecPInf, rowDecNInf
//	rowTime      zig-zag varint microseconds since 2000-01-01
//	rowDate      zig-zag varint days since 2000-01-01
//
// The tags make every column skippable without knowing its type, so a row
// written before DROP COLUMN still decodes.
const (
	rowVersion1 = 1

	rowNull    = 0
	rowFalse   = 1
	rowTrue    = 2
	rowInt     = 3
	rowFloat8  = 4
	rowFloat4  = 5
	rowBytes   = 6
	rowDecPos  = 7
	rowDecNeg  = 8
	rowDecNaN  = 9
	rowDecPInf = 10
	rowDecNInf = 11
	rowTime    = 12
	rowDate    = 13
)

var errCorruptRow = sqlerr.New(sqlerr.Internal, "corrupt row value")

// EncodeRow appends the row encoding of vals, column i tagged with ids[i],
// to dst. NULLs are written explicitly (a column absent from the encoding,
// e.g. added after the row was written, reads as NULL in DecodeRow but is
// told apart by DecodeRowPresent). len(ids) must equal len(vals). Numerics
// keep their scale; char(n) keeps its padding.
func EncodeRow(dst []byte, ids []uint32, vals []Value) []byte {
	dst = append(dst, rowVersion1)
	for i, v := range vals {
		dst = binary.AppendUvarint(dst, uint64(ids[i]))
		dst = appendRowValue(dst, v)
	}
	return dst
}

func appendRowValue(dst []byte, v Value) []byte {
	if v.Null {
		return append(dst, rowNull)
	}
	switch v.Type.Kind {
	case KindBool:
		if v.Bool {
			return append(dst, rowTrue)
		}
		return append(dst, rowFalse)
	case KindInt:
		return binary.AppendVarint(append(dst, rowInt), v.Int)
	case KindFloat:
		if v.Type.Width == 4 {
			return binary.BigEndian.AppendUint32(append(dst, rowFloat4), math.Float32bits(float32(v.Float)))
		}
		return binary.BigEndian.AppendUint64(append(dst, rowFloat8), math.Float64bits(v.Float))
	case KindNumeric:
		d := toDec(v)
		switch d.Form {
		case apd.NaN, apd.NaNSignaling:
			return append(dst, rowDecNaN)
		case apd.Infinite:
			if d.Negative {
				return append(dst, rowDecNInf)
			}
			return append(dst, rowDecPInf)
		}
		d = normDec(d)
		tag := byte(rowDecPos)
		if d.Negative {
			tag = rowDecNeg
		}
		dst = binary.AppendUvarint(append(dst, tag), uint64(decScale(d)))
		c := d.Coeff.MathBigInt().Bytes()
		dst = binary.AppendUvarint(dst, uint64(len(c)))
		return append(dst, c...)
	case KindBytes:
		dst = binary.AppendUvarint(append(dst, rowBytes), uint64(len(v.Bytes)))
		return append(dst, v.Bytes...)
	case KindTimestamp, KindTimestampTZ:
		return binary.AppendVarint(append(dst, rowTime), toMicros(v.Time))
	case KindDate:
		return binary.AppendVarint(append(dst, rowDate), toDays(v.Time))
	}
	dst = binary.AppendUvarint(append(dst, rowBytes), uint64(len(v.Str)))
	return append(dst, v.Str...)
}

// DecodeRow decodes a row written by EncodeRow, returning a value for every
// id in want (of want's type): NULL for ids the row does not hold. Columns
// not in want are skipped. A malformed row is an XX000 error.
func DecodeRow(b []byte, want map[uint32]Type) (map[uint32]Value, error) {
	out, err := DecodeRowPresent(b, want)
	if err != nil {
		return nil, err
	}
	for id, t := range want {
		if _, ok := out[id]; !ok {
			out[id] = NullOf(t)
		}
	}
	return out, nil
}

// DecodeRowPresent is DecodeRow without the filling: the map holds only
// the wanted ids the row actually contains (an explicit NULL included), so
// a caller can give a column added later its default-at-add value.
func DecodeRowPresent(b []byte, want map[uint32]Type) (map[uint32]Value, error) {
	if len(b) == 0 || b[0] != rowVersion1 {
		return nil, errCorruptRow
	}
	out := make(map[uint32]Value, len(want))
	i := 1
	for i < len(b) {
		id, n := binary.Uvarint(b[i:])
		if n <= 0 || id > math.MaxUint32 {
			return nil, errCorruptRow
		}
		i += n
		t, ok := want[uint32(id)]
		v, next, err := decodeRowValue(b, i, t, ok)
		if err != nil {
			return nil, err
		}
		if ok {
			out[uint32(id)] = v
		}
		i = next
	}
	return out, nil
}

// decodeRowValue reads one tagged value at b[i:]; with keep false it only
// skips it.
func decodeRowValue(b []byte, i int, t Type, keep bool) (Value, int, error) {
	if i >= len(b) {
		return Value{}, 0, errCorruptRow
	}
	tag := b[i]
	i++
	varint := func() (int64, error) {
		x, n := binary.Varint(b[i:])
		if n <= 0 {
			return 0, errCorruptRow
		}
		i += n
		return x, nil
	}
	uvarint := func() (uint64, error) {
		x, n := binary.Uvarint(b[i:])
		if n <= 0 {
			return 0, errCorruptRow
		}
		i += n
		return x, nil
	}
	fixed := func(n int) ([]byte, error) {
		if n < 0 || i+n > len(b) || i+n < i {
			return nil, errCorruptRow
		}
		p := b[i : i+n]
		i += n
		return p, nil
	}
	var v Value
	switch tag {
	case rowNull:
		v = NullOf(t)
	case rowFalse, rowTrue:
		v = NewBool(tag == rowTrue)
	case rowInt:
		x, err := varint()
		if err != nil {
			return Value{}, 0, err
		}
		v = Value{Type: t, Int: x}
	case rowFloat8:
		p, err := fixed(8)
		if err != nil {
			return Value{}, 0, err
		}
		v = Value{Type: t, Float: math.Float64frombits(binary.BigEndian.Uint64(p))}
	case rowFloat4:
		p, err := fixed(4)
		if err != nil {
			return Value{}, 0, err
		}
		v = Value{Type: t, Float: float64(math.Float32frombits(binary.BigEndian.Uint32(p)))}
	case rowBytes:
		n, err := uvarint()
		if err != nil || n > uint64(len(b)) {
			return Value{}, 0, errCorruptRow
		}
		p, err := fixed(int(n))
		if err != nil {
			return Value{}, 0, err
		}
		if keep {
			if t.Kind == KindBytes {
				v = NewBytes(append([]byte(nil), p...))
			} else {
				v = Value{Type: t, Str: string(p)}
			}
		}
	case rowDecPos, rowDecNeg:
		scale, err := uvarint()
		if err != nil || scale > math.MaxInt32 {
			return Value{}, 0, errCorruptRow
		}
		n, err := uvarint()
		if err != nil || n > uint64(len(b)) {
			return Value{}, 0, errCorruptRow
		}
		p, err := fixed(int(n))
		if err != nil {
			return Value{}, 0, err
		}
		if keep {
			c := new(big.Int).SetBytes(p)
			if tag == rowDecNeg {
				c.Neg(c)
			}
			v = Value{Type: t, Dec: decFromBig(c, -int32(scale))}
		}
	case rowDecNaN:
		v = Value{Type: t, Dec: &apd.Decimal{Form: apd.NaN}}
	case rowDecPInf:
		v = Value{Type: t, Dec: &apd.Decimal{Form: apd.Infinite}}
	case rowDecNInf:
		v = Value{Type: t, Dec: &apd.Decimal{Form: apd.Infinite, Negative: true}}
	case rowTime:
		x, err := varint()
		if err != nil {
			return Value{}, 0, err
		}
		if !microsInRange(x) {
			return Value{}, 0, errCorruptRow
		}
		v = Value{Type: t, Time: fromMicros(x)}
	case rowDate:
		x, err := varint()
		if err != nil {
			return Value{}, 0, err
		}
		if !daysInRange(x) {
			return Value{}, 0, errCorruptRow
		}
		v = Value{Type: t, Time: fromDays(x)}
	default:
		return Value{}, 0, errCorruptRow
	}
	if keep && !v.Null && !rowTagFits(tag, t) {
		return Value{}, 0, sqlerr.New(sqlerr.Internal, "corrupt row value: encoding %d does not hold a %s", tag, t.String())
	}
	return v, i, nil
}

// rowTagFits reports whether a row tag can hold a value of type t.
func rowTagFits(tag byte, t Type) bool {
	switch t.Kind {
	case KindBool:
		return tag == rowFalse || tag == rowTrue
	case KindInt:
		return tag == rowInt
	case KindFloat:
		return tag == rowFloat8 || tag == rowFloat4
	case KindNumeric:
		return tag >= rowDecPos && tag <= rowDecNInf
	case KindText, KindBytes, KindJSON, KindUnknown:
		return tag == rowBytes
	case KindTimestamp, KindTimestampTZ:
		return tag == rowTime
	case KindDate:
		return tag == rowDate
	}
	return false
}
