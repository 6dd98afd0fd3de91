package index

import (
	"encoding/binary"
	"strings"

	"cairn.dev/cairn/searchd/mapping"
)

// fieldKind is how a field is stored.
type fieldKind uint8

const (
	kindText    fieldKind = iota // tokens with positions and norms
	kindKeyword                  // one term per value, ordinals doc values
	kindInt                      // EncodeInt terms, int64 doc values
	kindFloat                    // EncodeFloat terms, float64 doc values
)

func kindOf(t mapping.Type) fieldKind {
	switch t {
	case mapping.Text:
		return kindText
	case mapping.Keyword:
		return kindKeyword
	case mapping.Double, mapping.Float:
		return kindFloat
	default:
		return kindInt
	}
}

// buffer holds documents indexed since the last flush, inverted in memory.
// ids, sources, idMap, del, ndel, bytes and the flags are guarded by the
// Writer's mu. The inverted fields belong to the one IndexBatch that has
// the buffer checked out (busy), or, once the buffer is handed to a flush,
// to the flush.
type buffer struct {
	ids     []string
	sources [][]byte
	idMap   map[string]uint32
	del     []uint64 // deleted buffer docs
	ndel    uint32
	bytes   int64
	busy    bool // checked out by an IndexBatch
	sealing bool // a Refresh waits for it: to flushing when returned

	fields map[string]*bufField
	order  []*bufField // fields in first-seen order
}

// bufField is one field's buffered data.
type bufField struct {
	name  string
	kind  fieldKind
	terms map[string]int32 // term → index in tlist
	tlist []bufTerm
	norms []byte // text: per doc

	curDoc uint32 // doc whose length is being summed
	curLen uint32

	dvDocs []uint32
	dvInts []int64 // int values, or SortableFloat of floats
	dvKeys []string
}

// bufTerm accumulates one term's postings: docs holds uvarint (doc delta,
// freq) pairs of closed documents, pos the positions of every document as
// uvarint deltas; the current document is open until another arrives.
type bufTerm struct {
	docs    []byte
	pos     []byte
	cur     uint32
	freq    uint32
	lastPos uint32
	lastDoc uint32
	df      uint32
}

func newBuffer() *buffer {
	return &buffer{idMap: make(map[string]uint32)}
}

func (b *buffer) maxDoc() uint32 { return uint32(len(b.ids)) }

func (b *buffer) live(doc uint32) bool {
	w := doc >> 6
	return int(w) >= len(b.del) || b.del[w]&(1<<(doc&63)) == 0
}

func (b *buffer) delete(doc uint32) {
	w := int(doc >> 6)
	for len(b.del) <= w {
		b.del = append(b.del, 0)
	}
	if b.del[w]&(1<<(doc&63)) == 0 {
		b.del[w] |= 1 << (doc & 63)
		b.ndel++
	}
}

func (b *buffer) field(name string, kind fieldKind) *bufField {
	f := b.fields[name]
	if f == nil {
		if b.fields == nil {
			b.fields = make(map[string]*bufField)
		}
		f = &bufField{name: name, kind: kind, terms: make(map[string]int32), curDoc: ^uint32(0)}
		b.fields[name] = f
		b.order = append(b.order, f)
	}
	return f
}

// reserve registers doc as the next buffer document and returns its
// number; invert must follow, in reserve order. The caller holds the
// Writer's mu.
func (b *buffer) reserve(doc *mapping.Document) uint32 {
	d := uint32(len(b.ids))
	b.ids = append(b.ids, doc.ID)
	b.sources = append(b.sources, doc.Source)
	b.idMap[doc.ID] = d
	b.bytes += int64(len(doc.ID)+len(doc.Source)) + 64
	return d
}

// invert adds doc's fields as buffer document d and returns the bytes the
// buffer grew by. Only the buffer's owner calls it, without the mu.
func (b *buffer) invert(doc *mapping.Document, d uint32) int64 {
	var grew int64

	// Field lengths first: a term's postings record the field length of
	// its documents, and a field's values may be spread over the list.
	for i := range doc.Fields {
		fv := &doc.Fields[i]
		if fv.Type != mapping.Text || !fv.Indexed || len(fv.Tokens) == 0 {
			continue
		}
		f := b.field(fv.Path, kindText)
		if f.curDoc != d {
			f.curDoc, f.curLen = d, 0
		}
		f.curLen += uint32(len(fv.Tokens))
	}
	var key [8]byte
	for i := range doc.Fields {
		fv := &doc.Fields[i]
		kind := kindOf(fv.Type)
		if kind == kindText {
			if !fv.Indexed || len(fv.Tokens) == 0 {
				continue
			}
			f := b.field(fv.Path, kindText)
			if f.kind != kindText {
				continue
			}
			if int(d) >= len(f.norms) {
				f.setNorm(d, EncodeNorm(f.curLen))
			}
			for _, tok := range fv.Tokens {
				ti, ok := f.terms[tok.Term]
				if !ok {
					ti = f.newTerm(strings.Clone(tok.Term))
					grew += int64(len(tok.Term)) + 96
				}
				grew += f.tlist[ti].add(d, uint32(max(tok.Position, 0)), true)
			}
			continue
		}
		f := b.field(fv.Path, kind)
		if f.kind != kind {
			continue // a field keeps its first kind within a segment
		}
		if fv.Indexed {
			var ti int32
			var ok bool
			switch kind {
			case kindKeyword:
				ti, ok = f.terms[fv.Keyword]
				if !ok {
					ti = f.newTerm(strings.Clone(fv.Keyword))
					grew += int64(len(fv.Keyword)) + 96
				}
			default:
				if kind == kindInt {
					putInt(key[:], fv.Int)
				} else {
					putFloat(key[:], fv.Float)
				}
				ti, ok = f.terms[string(key[:])]
				if !ok {
					ti = f.newTerm(string(key[:]))
					grew += 8 + 96
				}
			}
			grew += f.tlist[ti].add(d, 0, false)
		}
		if fv.DocValues {
			f.dvDocs = append(f.dvDocs, d)
			switch kind {
			case kindKeyword:
				f.dvKeys = append(f.dvKeys, fv.Keyword)
				grew += int64(len(fv.Keyword)) + 20
			case kindInt:
				f.dvInts = append(f.dvInts, fv.Int)
				grew += 12
			case kindFloat:
				f.dvInts = append(f.dvInts, SortableFloat(fv.Float))
				grew += 12
			}
		}
	}
	return grew
}

// newTerm adds a term (owned by the field) and returns its index.
func (f *bufField) newTerm(term string) int32 {
	i := int32(len(f.tlist))
	f.tlist = append(f.tlist, bufTerm{})
	f.terms[term] = i
	return i
}

func (f *bufField) setNorm(d uint32, n byte) {
	for uint32(len(f.norms)) < d {
		f.norms = append(f.norms, 0)
	}
	f.norms = append(f.norms, n)
}

// add records one occurrence of the term in doc at pos and returns the
// bytes it grew by.
func (t *bufTerm) add(doc, pos uint32, withPos bool) int64 {
	grew := 0
	if t.freq == 0 || t.cur != doc {
		if t.freq > 0 {
			grew += t.closeDoc()
		}
		t.cur, t.freq, t.lastPos = doc, 0, 0
	}
	t.freq++
	if withPos {
		if pos < t.lastPos {
			pos = t.lastPos
		}
		n := len(t.pos)
		t.pos = binary.AppendUvarint(t.pos, uint64(pos-t.lastPos))
		t.lastPos = pos
		grew += len(t.pos) - n
	}
	return int64(grew)
}

func (t *bufTerm) closeDoc() int {
	n := len(t.docs)
	t.docs = binary.AppendUvarint(t.docs, uint64(t.cur-t.lastDoc))
	t.docs = binary.AppendUvarint(t.docs, uint64(t.freq))
	t.lastDoc = t.cur
	t.df++
	t.freq = 0
	return len(t.docs) - n
}

// seal closes every term's open document; the buffer is then read-only
// but for deletes.
func (b *buffer) seal() {
	for _, f := range b.order {
		for i := range f.tlist {
			if t := &f.tlist[i]; t.freq > 0 {
				t.closeDoc()
			}
		}
	}
}
