package index

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"hash/crc32"
	"math/bits"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/blevesearch/vellum"
	"github.com/klauspost/compress/zstd"
)

// A segment file (seg_<n>.sdx) is a sequence of sections followed by a JSON
// segMeta naming them and a trailer:
//
//	sections ... | meta JSON | uint64 metaOffset | uint32 metaLength |
//	uint32 CRC32C of everything before it | "SDXSEG01"
//
// Sections: stored blocks (zstd; a block is per doc uvarint length and
// _source), the stored block index (per block uint32 first doc, uint64
// offset; a block ends where the next, or the index, begins), ids (packed offsets + bytes), the id
// FST (id → doc), and per field its postings, term FST, norms and doc
// values.
const (
	segMagic      = "SDXSEG01"
	trailerLen    = 24
	storedBlockSz = 32 << 10
	storedBlockN  = 512
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// section locates bytes of a segment file.
type section struct {
	Off int64 `json:"o,omitempty"`
	Len int64 `json:"l,omitempty"`
}

// segMeta describes a segment file.
type segMeta struct {
	MaxDoc      uint32      `json:"max_doc"`
	IDs         section     `json:"ids"`
	IDFST       section     `json:"id_fst"`
	IDBloom     section     `json:"id_bloom"`
	StoredIndex section     `json:"stored_index"`
	Fields      []fieldMeta `json:"fields"`
}

// fieldMeta describes one field of a segment.
type fieldMeta struct {
	Name  string     `json:"name"`
	Kind  fieldKind  `json:"kind"`
	Terms int        `json:"terms,omitempty"`
	FST   section    `json:"fst"`
	Norms section    `json:"norms"`
	DV    section    `json:"dv"`
	Stats FieldStats `json:"stats"`
}

var zstdEncoder = sync.OnceValue(func() *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
	if err != nil {
		panic(err) // options are constant
	}
	return e
})

var zstdDecoder = sync.OnceValue(func() *zstd.Decoder {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	if err != nil {
		panic(err) // options are constant
	}
	return d
})

// segWriter writes one segment file. Use: addStored for every doc in
// order, then fields (beginField, terms, endField; norms and doc values any
// time), then finish.
type segWriter struct {
	path   string
	f      *os.File
	bw     *bufio.Writer
	crc    hash.Hash32
	off    int64
	meta   segMeta
	ids    []string
	err    error
	fields map[string]*fieldMeta

	stored     []byte
	storedN    int
	storedIdx  []byte
	storedTmp  []byte
	blockFirst uint32

	cur     *fieldMeta
	pw      postingsWriter
	termBuf []byte
	fst     *vellum.Builder
	fstBuf  bytes.Buffer
	seen    []uint64
	sumDF   int64
	sumTTF  int64
}

func createSegment(path string, maxDoc uint32) (*segWriter, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("index: create segment: %w", err)
	}
	sw := &segWriter{path: path, f: f, bw: bufio.NewWriterSize(f, 256<<10), crc: crc32.New(castagnoli), fields: map[string]*fieldMeta{}}
	sw.meta.MaxDoc = maxDoc
	return sw, nil
}

func (sw *segWriter) write(p []byte) {
	if sw.err != nil {
		return
	}
	if _, err := sw.bw.Write(p); err != nil {
		sw.err = err
		return
	}
	sw.crc.Write(p)
	sw.off += int64(len(p))
}

func (sw *segWriter) field(name string, kind fieldKind) *fieldMeta {
	fm := sw.fields[name]
	if fm == nil {
		fm = &fieldMeta{Name: name, Kind: kind}
		sw.fields[name] = fm
	}
	return fm
}

// addStored appends the next document's id and source.
func (sw *segWriter) addStored(id string, src []byte) {
	if sw.storedN == 0 {
		sw.blockFirst = uint32(len(sw.ids))
	}
	sw.ids = append(sw.ids, id)
	sw.stored = binary.AppendUvarint(sw.stored, uint64(len(src)))
	sw.stored = append(sw.stored, src...)
	sw.storedN++
	if len(sw.stored) >= storedBlockSz || sw.storedN >= storedBlockN {
		sw.flushStored()
	}
}

func (sw *segWriter) flushStored() {
	if sw.storedN == 0 {
		return
	}
	sw.storedIdx = binary.LittleEndian.AppendUint32(sw.storedIdx, sw.blockFirst)
	sw.storedIdx = binary.LittleEndian.AppendUint64(sw.storedIdx, uint64(sw.off))
	sw.storedTmp = zstdEncoder().EncodeAll(sw.stored, sw.storedTmp[:0])
	sw.write(sw.storedTmp)
	sw.stored, sw.storedN = sw.stored[:0], 0
}

// beginField starts the postings of a field; terms follow in byte order.
func (sw *segWriter) beginField(name string, kind fieldKind) {
	sw.cur = sw.field(name, kind)
	sw.pw.hasPos = kind == kindText
	sw.fstBuf.Reset()
	if sw.fst == nil {
		b, err := vellum.New(&sw.fstBuf, nil)
		if err != nil {
			sw.err = err
			return
		}
		sw.fst = b
	} else if err := sw.fst.Reset(&sw.fstBuf); err != nil {
		sw.err = err
	}
	sw.seen = make([]uint64, (sw.meta.MaxDoc+63)/64)
	sw.sumDF, sw.sumTTF = 0, 0
}

// startTerm resets the postings writer for a new term.
func (sw *segWriter) startTerm() { sw.pw.reset() }

// addPosting adds a document to the current term.
func (sw *segWriter) addPosting(doc, freq, fieldLen uint32, pos []byte) {
	sw.seen[doc>>6] |= 1 << (doc & 63)
	sw.pw.add(doc, freq, fieldLen, pos)
}

// finishTerm writes the current term's postings (nothing when it has no
// documents).
func (sw *segWriter) finishTerm(term []byte) {
	if sw.pw.df == 0 || sw.err != nil {
		return
	}
	off := sw.off
	sw.termBuf = sw.pw.finish(sw.termBuf[:0])
	sw.write(sw.termBuf)
	if err := sw.fst.Insert(term, uint64(off)); err != nil && sw.err == nil {
		sw.err = err
	}
	sw.cur.Terms++
	sw.sumDF += int64(sw.pw.df)
	sw.sumTTF += int64(sw.pw.ttf)
}

// endField writes the field's term FST and statistics.
func (sw *segWriter) endField() {
	if sw.err != nil {
		return
	}
	if err := sw.fst.Close(); err != nil {
		sw.err = err
		return
	}
	fm := sw.cur
	sw.cur = nil
	if fm.Terms == 0 {
		return
	}
	fm.FST = section{sw.off, int64(sw.fstBuf.Len())}
	sw.write(sw.fstBuf.Bytes())
	var dc int64
	for _, x := range sw.seen {
		dc += int64(bits.OnesCount64(x))
	}
	fm.Stats = FieldStats{DocCount: dc, SumTotalTermFreq: sw.sumTTF, SumDocFreq: sw.sumDF}
}

// writeNorms writes a text field's norms (padded to maxDoc).
func (sw *segWriter) writeNorms(name string, norms []byte) {
	fm := sw.field(name, kindText)
	fm.Norms = section{sw.off, int64(sw.meta.MaxDoc)}
	sw.write(norms)
	if pad := int(sw.meta.MaxDoc) - len(norms); pad > 0 {
		sw.write(make([]byte, pad))
	}
}

// writeDocValues writes a field's doc values column (encoded by
// appendNumericColumn or appendKeywordColumn).
func (sw *segWriter) writeDocValues(name string, kind fieldKind, col []byte) {
	fm := sw.field(name, kind)
	fm.DV = section{sw.off, int64(len(col))}
	sw.write(col)
}

// finish writes the ids, the id FST, the meta and the trailer, and closes
// the file (not fsynced: Commit syncs).
func (sw *segWriter) finish() error {
	sw.flushStored()
	sw.meta.StoredIndex = section{sw.off, int64(len(sw.storedIdx))}
	sw.write(sw.storedIdx)

	// ids: packed offsets then bytes.
	offs := make([]uint64, len(sw.ids)+1)
	total := 0
	for i, id := range sw.ids {
		total += len(id)
		offs[i+1] = uint64(total)
	}
	w := packWidth(uint64(total))
	buf := []byte{w}
	buf = appendPacked(buf, offs, w)
	for _, id := range sw.ids {
		buf = append(buf, id...)
	}
	sw.meta.IDs = section{sw.off, int64(len(buf))}
	sw.write(buf)

	// id FST: the highest doc of each id (older duplicates are deleted).
	order := make([]uint32, len(sw.ids))
	for i := range order {
		order[i] = uint32(i)
	}
	slices.SortFunc(order, func(a, b uint32) int {
		if c := strings.Compare(sw.ids[a], sw.ids[b]); c != 0 {
			return c
		}
		return int(a) - int(b)
	})
	var fb bytes.Buffer
	b, err := vellum.New(&fb, nil)
	if err != nil {
		return sw.fail(err)
	}
	for i, d := range order {
		if i+1 < len(order) && sw.ids[order[i+1]] == sw.ids[d] {
			continue
		}
		if err := b.Insert([]byte(sw.ids[d]), uint64(d)); err != nil {
			return sw.fail(err)
		}
	}
	if err := b.Close(); err != nil {
		return sw.fail(err)
	}
	sw.meta.IDFST = section{sw.off, int64(fb.Len())}
	sw.write(fb.Bytes())
	bloom := appendBloom(nil, sw.ids)
	sw.meta.IDBloom = section{sw.off, int64(len(bloom))}
	sw.write(bloom)

	names := make([]string, 0, len(sw.fields))
	for n := range sw.fields {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		sw.meta.Fields = append(sw.meta.Fields, *sw.fields[n])
	}
	mj, err := json.Marshal(&sw.meta)
	if err != nil {
		return sw.fail(err)
	}
	metaOff := sw.off
	sw.write(mj)
	var tr [trailerLen]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(metaOff))
	binary.LittleEndian.PutUint32(tr[8:], uint32(len(mj)))
	binary.LittleEndian.PutUint32(tr[12:], sw.crc.Sum32())
	copy(tr[16:], segMagic)
	if sw.err == nil {
		if _, err := sw.bw.Write(tr[:]); err != nil {
			sw.err = err
		}
	}
	if sw.err == nil {
		sw.err = sw.bw.Flush()
	}
	if sw.err != nil {
		return sw.fail(sw.err)
	}
	if err := sw.f.Close(); err != nil {
		os.Remove(sw.path)
		return fmt.Errorf("index: write segment: %w", err)
	}
	return nil
}

// fail removes the partial file.
func (sw *segWriter) fail(err error) error {
	sw.f.Close()
	os.Remove(sw.path)
	return fmt.Errorf("index: write segment: %w", err)
}
