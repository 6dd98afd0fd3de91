package index

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"sync/atomic"

	"github.com/blevesearch/vellum"
	"golang.org/x/sys/unix"
)

// segment is an open, immutable segment file, memory-mapped. It is
// reference counted: the Writer's segment list, every Reader and every
// running merge hold a reference; the last release unmaps it and calls
// onFree (which lets the file be deleted once no commit point names it).
type segment struct {
	name   string // file name in Dir
	num    uint64
	data   []byte
	meta   segMeta
	fields map[string]*segField
	names  []string // indexed fields, sorted
	idFST  *vellum.FST
	bloom  []byte
	idW    uint8
	idOffs []byte
	idData []byte
	sidx   []byte // stored block index
	nblk   int

	refs   atomic.Int32
	onFree func()

	cache atomic.Pointer[storedBlock] // the last decompressed block
}

// storedBlock is a decompressed stored block; immutable.
type storedBlock struct {
	blk int
	buf []byte
}

// segField is one field of a segment.
type segField struct {
	meta  *fieldMeta
	fst   *vellum.FST
	norms []byte
	ints  *numericColumn
	kws   *keywordColumn
}

var errCorrupt = errors.New("index: corrupt file")

// openSegment maps the segment file name in dir; verify checks its CRC.
func openSegment(dir, name string, num uint64, verify bool) (*segment, error) {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("index: open segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("index: open segment: %w", err)
	}
	if st.Size() < trailerLen {
		return nil, fmt.Errorf("%w: %s is %d bytes", errCorrupt, name, st.Size())
	}
	data, err := unix.Mmap(int(f.Fd()), 0, int(st.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("index: mmap %s: %w", name, err)
	}
	s, err := loadSegment(name, num, data, verify)
	if err != nil {
		unix.Munmap(data)
		return nil, err
	}
	return s, nil
}

func loadSegment(name string, num uint64, data []byte, verify bool) (*segment, error) {
	tr := data[len(data)-trailerLen:]
	if string(tr[16:]) != segMagic {
		return nil, fmt.Errorf("%w: %s: bad magic", errCorrupt, name)
	}
	metaOff := binary.LittleEndian.Uint64(tr[0:])
	metaLen := binary.LittleEndian.Uint32(tr[8:])
	if metaOff+uint64(metaLen) != uint64(len(data)-trailerLen) {
		return nil, fmt.Errorf("%w: %s: bad trailer", errCorrupt, name)
	}
	if verify {
		if crc32.Checksum(data[:len(data)-trailerLen], castagnoli) != binary.LittleEndian.Uint32(tr[12:]) {
			return nil, fmt.Errorf("%w: %s: checksum mismatch", errCorrupt, name)
		}
	}
	s := &segment{name: name, num: num, data: data, fields: map[string]*segField{}}
	if err := json.Unmarshal(data[metaOff:metaOff+uint64(metaLen)], &s.meta); err != nil {
		return nil, fmt.Errorf("%w: %s: meta: %v", errCorrupt, name, err)
	}
	var err error
	s.idFST, err = vellum.Load(s.sect(s.meta.IDFST))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: id fst: %v", errCorrupt, name, err)
	}
	s.bloom = s.sect(s.meta.IDBloom)
	ids := s.sect(s.meta.IDs)
	s.idW = ids[0]
	s.idOffs = ids[1:]
	s.idData = ids[1+packedLen(int(s.meta.MaxDoc)+1, s.idW):]
	s.sidx = s.sect(s.meta.StoredIndex)
	s.nblk = len(s.sidx) / 12
	for i := range s.meta.Fields {
		fm := &s.meta.Fields[i]
		sf := &segField{meta: fm}
		if fm.Terms > 0 {
			sf.fst, err = vellum.Load(s.sect(fm.FST))
			if err != nil {
				return nil, fmt.Errorf("%w: %s: field %s fst: %v", errCorrupt, name, fm.Name, err)
			}
			s.names = append(s.names, fm.Name)
		}
		if fm.Norms.Len > 0 {
			sf.norms = s.sect(fm.Norms)
		}
		if fm.DV.Len > 0 {
			if fm.Kind == kindKeyword {
				sf.kws = openKeywordColumn(s.sect(fm.DV), s.meta.MaxDoc)
			} else {
				sf.ints = openNumericColumn(s.sect(fm.DV), s.meta.MaxDoc)
			}
		}
		s.fields[fm.Name] = sf
	}
	sort.Strings(s.names)
	s.refs.Store(1)
	return s, nil
}

func (s *segment) sect(x section) []byte { return s.data[x.Off : x.Off+x.Len] }

func (s *segment) size() int64 { return int64(len(s.data)) }

func (s *segment) incRef() { s.refs.Add(1) }

func (s *segment) decRef() {
	if s.refs.Add(-1) == 0 {
		unix.Munmap(s.data)
		s.data = nil
		if s.onFree != nil {
			s.onFree()
		}
	}
}

// id returns doc's id.
func (s *segment) id(doc uint32) string {
	a, b := packedGet(s.idOffs, s.idW, int(doc)), packedGet(s.idOffs, s.idW, int(doc)+1)
	return string(s.idData[a:b])
}

// lookupID returns the newest doc with id (h: idHash(id)).
func (s *segment) lookupID(id string, h uint64) (uint32, bool) {
	if !bloomMayContain(s.bloom, h) {
		return 0, false
	}
	v, ok, err := s.idFST.Get([]byte(id))
	if err != nil || !ok {
		return 0, false
	}
	return uint32(v), true
}

// source returns doc's _source (a fresh slice).
func (s *segment) source(doc uint32) ([]byte, error) {
	if doc >= s.meta.MaxDoc {
		return nil, fmt.Errorf("index: doc %d out of range", doc)
	}
	blk := sort.Search(s.nblk, func(i int) bool {
		return binary.LittleEndian.Uint32(s.sidx[i*12:]) > doc
	}) - 1
	sb := s.cache.Load()
	if sb == nil || sb.blk != blk {
		start := binary.LittleEndian.Uint64(s.sidx[blk*12+4:])
		end := uint64(s.meta.StoredIndex.Off)
		if blk+1 < s.nblk {
			end = binary.LittleEndian.Uint64(s.sidx[(blk+1)*12+4:])
		}
		buf, err := zstdDecoder().DecodeAll(s.data[start:end], nil)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: stored block %d: %v", errCorrupt, s.name, blk, err)
		}
		sb = &storedBlock{blk: blk, buf: buf}
		s.cache.Store(sb)
	}
	b := sb.buf
	p := 0
	first := binary.LittleEndian.Uint32(s.sidx[blk*12:])
	for d := first; p < len(b); d++ {
		var n uint64
		n, p = uvarint(b, p)
		if n > uint64(len(b)-p) {
			break
		}
		if d == doc {
			return append([]byte(nil), b[p:p+int(n)]...), nil
		}
		p += int(n)
	}
	return nil, fmt.Errorf("%w: %s: stored block %d lacks doc %d", errCorrupt, s.name, blk, doc)
}

// view is a Segment: a segment with the deletes of a point in time.
type view struct {
	s    *segment
	del  *delSet // nil: none deleted
	live uint32
}

var (
	_ Segment      = (*view)(nil)
	_ NormsSegment = (*view)(nil)
)

// NormsSegment is implemented by the Segments of a Reader: Norms returns
// a text field's norm bytes, one per doc (DecodeNorm gives the field
// length; 0: absent), nil when the segment has none. It is FieldLength
// without a field lookup per document, for scorers. The slice is valid
// until the Reader is released and must not be modified.
type NormsSegment interface {
	Norms(field string) []byte
}

func newView(s *segment, del *delSet) *view {
	v := &view{s: s, del: del, live: s.meta.MaxDoc}
	if del != nil {
		v.live -= del.n
	}
	return v
}

// MaxDoc implements Segment.
func (v *view) MaxDoc() uint32 { return v.s.meta.MaxDoc }

// Live implements Segment.
func (v *view) Live(doc uint32) bool { return v.del == nil || !v.del.has(doc) }

// LiveCount implements Segment.
func (v *view) LiveCount() uint32 { return v.live }

// ID implements Segment.
func (v *view) ID(doc uint32) string { return v.s.id(doc) }

// Source implements Segment.
func (v *view) Source(doc uint32) ([]byte, error) { return v.s.source(doc) }

// Terms implements Segment.
func (v *view) Terms(field string) TermDict {
	f := v.s.fields[field]
	if f == nil || f.fst == nil {
		return nil
	}
	return &termDict{s: v.s, f: f}
}

// FieldStats implements Segment.
func (v *view) FieldStats(field string) FieldStats {
	if f := v.s.fields[field]; f != nil {
		return f.meta.Stats
	}
	return FieldStats{}
}

// FieldLength implements Segment.
func (v *view) FieldLength(field string, doc uint32) uint32 {
	f := v.s.fields[field]
	if f == nil || int(doc) >= len(f.norms) {
		return 0
	}
	return normTable[f.norms[doc]]
}

// Norms implements NormsSegment.
func (v *view) Norms(field string) []byte {
	if f := v.s.fields[field]; f != nil {
		return f.norms
	}
	return nil
}

// Ints implements Segment.
func (v *view) Ints(field string) NumericValues {
	if f := v.s.fields[field]; f != nil && f.ints != nil && f.meta.Kind == kindInt {
		return f.ints
	}
	return nil
}

// Floats implements Segment.
func (v *view) Floats(field string) FloatValues {
	if f := v.s.fields[field]; f != nil && f.ints != nil && f.meta.Kind == kindFloat {
		return floatColumn{f.ints}
	}
	return nil
}

// Keywords implements Segment.
func (v *view) Keywords(field string) KeywordValues {
	if f := v.s.fields[field]; f != nil && f.kws != nil {
		return f.kws
	}
	return nil
}

// Fields implements Segment.
func (v *view) Fields() []string { return v.s.names }

// termDict is a field's term dictionary in a segment.
type termDict struct {
	s *segment
	f *segField
}

// Get implements TermDict.
func (d *termDict) Get(term []byte) (TermInfo, bool) {
	ref, ok, err := d.f.fst.Get(term)
	if err != nil || !ok {
		return TermInfo{}, false
	}
	ti, _, _ := termHeader(d.s.data, ref)
	return ti, true
}

// Iterate implements TermDict.
func (d *termDict) Iterate(a Automaton, start, end []byte) TermIterator {
	var it *vellum.FSTIterator
	var err error
	if a == nil {
		it, err = d.f.fst.Iterator(start, end)
	} else {
		it, err = d.f.fst.Search(a, start, end)
	}
	ti := &termIter{d: d, it: it, first: true}
	if err != nil {
		ti.done = true
		if !errors.Is(err, vellum.ErrIteratorDone) {
			ti.err = err
		}
	}
	return ti
}

// Postings implements TermDict.
func (d *termDict) Postings(t TermInfo, positions bool) Postings {
	return newPostings(d.s.data, t, d.f.meta.Kind == kindText, positions)
}

// Len implements TermDict.
func (d *termDict) Len() int { return d.f.meta.Terms }

// termIter walks a vellum iterator.
type termIter struct {
	d     *termDict
	it    *vellum.FSTIterator
	first bool
	done  bool
	err   error
	term  []byte
	info  TermInfo
}

// Next implements TermIterator.
func (t *termIter) Next() bool {
	if t.done {
		return false
	}
	if !t.first {
		if err := t.it.Next(); err != nil {
			t.done = true
			if !errors.Is(err, vellum.ErrIteratorDone) {
				t.err = err
			}
			return false
		}
	}
	t.first = false
	k, ref := t.it.Current()
	t.term = k
	t.info, _, _ = termHeader(t.d.s.data, ref)
	return true
}

// Term implements TermIterator; valid until the next call to Next.
func (t *termIter) Term() []byte { return t.term }

// Info implements TermIterator.
func (t *termIter) Info() TermInfo { return t.info }

// Err implements TermIterator.
func (t *termIter) Err() error { return t.err }
