package index

import (
	"encoding/binary"
	"slices"
)

// Doc values columns. A numeric column (int64 values; floats stored as
// SortableFloat; keyword ordinals) is:
//
//	byte mode (1: at most one value per doc, 2: several)
//	varint min, uvarint gcd, byte width: value = min + gcd*packed
//	mode 1: byte hasBitmap, [bitmap of docs with a value, maxDoc bits as
//	  little-endian uint64 words], packed values of every doc
//	mode 2: byte offsetWidth, packed offsets (maxDoc+1), packed values
//
// A keyword column is uvarint count, byte offsetWidth, packed offsets
// (count+1) of the sorted unique values, uvarint bytes length, the bytes,
// then the numeric column of ordinals.

// appendNumericColumn encodes (docs[i], vals[i]) pairs, docs
// nondecreasing, sorting each doc's values.
func appendNumericColumn(dst []byte, maxDoc uint32, docs []uint32, vals []int64) []byte {
	multi := false
	for i := 1; i < len(docs); i++ {
		if docs[i] == docs[i-1] {
			multi = true
			break
		}
	}
	if multi {
		for i := 0; i < len(docs); {
			j := i + 1
			for j < len(docs) && docs[j] == docs[i] {
				j++
			}
			if j-i > 1 {
				slices.Sort(vals[i:j])
			}
			i = j
		}
	}
	minV := int64(0)
	if len(vals) > 0 {
		minV = slices.Min(vals)
	}
	var g uint64
	for _, v := range vals {
		g = gcd(g, uint64(v)-uint64(minV))
	}
	if g == 0 {
		g = 1
	}
	var maxQ uint64
	for _, v := range vals {
		maxQ = max(maxQ, (uint64(v)-uint64(minV))/g)
	}
	w := packWidth(maxQ)
	if !multi {
		dst = append(dst, 1)
	} else {
		dst = append(dst, 2)
	}
	dst = binary.AppendVarint(dst, minV)
	dst = binary.AppendUvarint(dst, g)
	dst = append(dst, w)
	if !multi {
		all := uint32(len(docs)) == maxDoc
		q := make([]uint64, maxDoc)
		var bm []uint64
		if !all {
			bm = make([]uint64, (maxDoc+63)/64)
		}
		for i, d := range docs {
			q[d] = (uint64(vals[i]) - uint64(minV)) / g
			if bm != nil {
				bm[d>>6] |= 1 << (d & 63)
			}
		}
		if all {
			dst = append(dst, 0)
		} else {
			dst = append(dst, 1)
			for _, x := range bm {
				dst = binary.LittleEndian.AppendUint64(dst, x)
			}
		}
		return appendPacked(dst, q, w)
	}
	offs := make([]uint64, maxDoc+1)
	for _, d := range docs {
		offs[d+1]++
	}
	for i := 1; i < len(offs); i++ {
		offs[i] += offs[i-1]
	}
	ow := packWidth(uint64(len(docs)))
	dst = append(dst, ow)
	dst = appendPacked(dst, offs, ow)
	q := make([]uint64, len(vals))
	for i, v := range vals {
		q[i] = (uint64(v) - uint64(minV)) / g
	}
	return appendPacked(dst, q, w)
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// appendKeywordColumn encodes (docs[i], keys[i]) pairs, docs nondecreasing;
// a doc's duplicate values are kept once.
func appendKeywordColumn(dst []byte, maxDoc uint32, docs []uint32, keys []string) []byte {
	uniq := slices.Clone(keys)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	offs := make([]uint64, len(uniq)+1)
	total := 0
	for i, k := range uniq {
		total += len(k)
		offs[i+1] = uint64(total)
	}
	dst = binary.AppendUvarint(dst, uint64(len(uniq)))
	ow := packWidth(uint64(total))
	dst = append(dst, ow)
	dst = appendPacked(dst, offs, ow)
	dst = binary.AppendUvarint(dst, uint64(total))
	for _, k := range uniq {
		dst = append(dst, k...)
	}
	odocs := make([]uint32, 0, len(docs))
	ords := make([]int64, 0, len(docs))
	for i := 0; i < len(docs); {
		j := i + 1
		for j < len(docs) && docs[j] == docs[i] {
			j++
		}
		start := len(ords)
		for _, k := range keys[i:j] {
			o, _ := slices.BinarySearch(uniq, k)
			ords = append(ords, int64(o))
		}
		if j-i > 1 {
			slices.Sort(ords[start:])
			ords = append(ords[:start], slices.Compact(ords[start:])...)
		}
		for range ords[start:] {
			odocs = append(odocs, docs[i])
		}
		i = j
	}
	return appendNumericColumn(dst, maxDoc, odocs, ords)
}

// numericColumn reads a numeric column.
type numericColumn struct {
	multi  bool
	min    int64
	gcd    uint64
	w, ow  uint8
	bitmap []byte // nil: every doc has a value
	offs   []byte
	vals   []byte
}

func openNumericColumn(b []byte, maxDoc uint32) *numericColumn {
	c := &numericColumn{multi: b[0] == 2}
	p := 1
	v, n := binary.Varint(b[p:])
	c.min = v
	p += n
	c.gcd, p = uvarint(b, p)
	c.w = b[p]
	p++
	if !c.multi {
		if b[p] == 1 {
			c.bitmap = b[p+1:]
			p += 1 + int((maxDoc+63)/64)*8
		} else {
			p++
		}
		c.vals = b[p:]
		return c
	}
	c.ow = b[p]
	p++
	c.offs = b[p:]
	p += packedLen(int(maxDoc)+1, c.ow)
	c.vals = b[p:]
	return c
}

func (c *numericColumn) values(doc uint32, dst []int64) []int64 {
	if !c.multi {
		if c.bitmap != nil && binary.LittleEndian.Uint64(c.bitmap[(doc>>6)*8:])&(1<<(doc&63)) == 0 {
			return dst
		}
		return append(dst, c.min+int64(c.gcd*packedGet(c.vals, c.w, int(doc))))
	}
	s, e := packedGet(c.offs, c.ow, int(doc)), packedGet(c.offs, c.ow, int(doc)+1)
	for i := s; i < e; i++ {
		dst = append(dst, c.min+int64(c.gcd*packedGet(c.vals, c.w, int(i))))
	}
	return dst
}

// Values implements NumericValues.
func (c *numericColumn) Values(doc uint32, dst []int64) []int64 { return c.values(doc, dst) }

// floatColumn reads a float column (SortableFloat values).
type floatColumn struct{ c *numericColumn }

// Values implements FloatValues.
func (f floatColumn) Values(doc uint32, dst []float64) []float64 {
	var buf [8]int64
	for _, v := range f.c.values(doc, buf[:0]) {
		dst = append(dst, FloatFromSortable(v))
	}
	return dst
}

// keywordColumn reads a keyword column.
type keywordColumn struct {
	count uint32
	ow    uint8
	offs  []byte
	bytes []byte
	ords  *numericColumn
}

func openKeywordColumn(b []byte, maxDoc uint32) *keywordColumn {
	c := &keywordColumn{}
	cnt, p := uvarint(b, 0)
	c.count = uint32(cnt)
	c.ow = b[p]
	p++
	c.offs = b[p:]
	p += packedLen(int(cnt)+1, c.ow)
	total, p := uvarint(b, p)
	c.bytes = b[p : p+int(total)]
	p += int(total)
	c.ords = openNumericColumn(b[p:], maxDoc)
	return c
}

// Ords implements KeywordValues.
func (c *keywordColumn) Ords(doc uint32, dst []uint32) []uint32 {
	var buf [8]int64
	for _, v := range c.ords.values(doc, buf[:0]) {
		dst = append(dst, uint32(v))
	}
	return dst
}

// Lookup implements KeywordValues.
func (c *keywordColumn) Lookup(ord uint32) []byte {
	s, e := packedGet(c.offs, c.ow, int(ord)), packedGet(c.offs, c.ow, int(ord)+1)
	return c.bytes[s:e:e]
}

// Count implements KeywordValues.
func (c *keywordColumn) Count() uint32 { return c.count }
