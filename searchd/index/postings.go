package index

// termHeader decodes the header of the postings at ref.
func termHeader(b []byte, ref uint64) (ti TermInfo, docBytes uint64, next int) {
	p := int(ref)
	var v uint64
	v, p = uvarint(b, p)
	ti.DocFreq = uint32(v)
	v, p = uvarint(b, p)
	ti.TotalTermFreq = v + uint64(ti.DocFreq)
	v, p = uvarint(b, p)
	ti.MaxFreq = uint32(v)
	v, p = uvarint(b, p)
	ti.MinFieldLength = uint32(v)
	docBytes, p = uvarint(b, p)
	ti.Ref = ref
	return ti, docBytes, p
}

// postings iterates one term's postings in a segment file.
type postings struct {
	b       []byte
	hasPos  bool
	wantPos bool
	df      uint32
	maxFreq uint32 // the term's, for BlockMax without a skip table
	minLen  uint32
	bMax    uint32 // the current block's largest freq
	bMin    uint32 // and smallest field length

	left  uint32 // documents in blocks not yet loaded
	multi bool   // has a skip table
	skipP int    // next skip entry
	docP  int    // next block
	posP  int    // next block's positions

	prevLast uint32 // last doc of the block before the current one
	docs     [blockSize]uint32
	freqs    [blockSize]uint32
	n, i     int
	doc      uint32
	started  bool // Next or Advance was called

	posDoc   int // index in the block of the next doc whose positions start at posCur
	posCur   int
	posStart int // start of the current doc's positions (when posDoc == i+1)
}

func newPostings(b []byte, ti TermInfo, hasPos, wantPos bool) *postings {
	p := &postings{}
	p.init(b, ti, hasPos, wantPos)
	return p
}

func (p *postings) init(b []byte, ti TermInfo, hasPos, wantPos bool) {
	h, docBytes, off := termHeader(b, ti.Ref)
	*p = postings{b: b, hasPos: hasPos, wantPos: wantPos && hasPos, df: ti.DocFreq, left: ti.DocFreq,
		maxFreq: h.MaxFreq, minLen: h.MinFieldLength, bMax: h.MaxFreq, bMin: h.MinFieldLength}
	p.i, p.n = -1, 0
	if ti.DocFreq > blockSize {
		var sl uint64
		sl, off = uvarint(b, off)
		p.multi = true
		p.skipP = off
		off += int(sl)
	}
	p.docP = off
	p.posP = off + int(docBytes)
}

// loadBlock decodes the next block; false at the end.
func (p *postings) loadBlock() bool {
	if p.left == 0 {
		p.n, p.i = 0, 0
		p.doc = NoMoreDocs
		return false
	}
	blockStart, posStart := p.docP, p.posP
	var last uint32
	if p.multi {
		var d, bl, pl uint64
		d, p.skipP = uvarint(p.b, p.skipP)
		bl, p.skipP = uvarint(p.b, p.skipP)
		pl, p.skipP = uvarint(p.b, p.skipP)
		var mf, ml uint64
		mf, p.skipP = uvarint(p.b, p.skipP)
		ml, p.skipP = uvarint(p.b, p.skipP)
		p.bMax, p.bMin = uint32(mf), uint32(ml)
		last = p.prevLast + uint32(d)
		p.docP += int(bl)
		p.posP += int(pl)
	}
	cnt := int(min(p.left, blockSize))
	b := p.b
	q := blockStart
	prev := p.prevLast
	if cnt == blockSize {
		dw, fw := b[q], b[q+1]
		q += 2
		unpack32(b[q:], dw, p.docs[:])
		q += (blockSize*int(dw) + 7) / 8
		unpack32(b[q:], fw, p.freqs[:])
		for k := 0; k < blockSize; k++ {
			prev += p.docs[k]
			p.docs[k] = prev
			p.freqs[k]++
		}
	} else {
		for k := 0; k < cnt; k++ {
			var v uint64
			v, q = uvarint(b, q)
			prev += uint32(v >> 1)
			p.docs[k] = prev
			if v&1 != 0 {
				p.freqs[k] = 1
			} else {
				v, q = uvarint(b, q)
				p.freqs[k] = uint32(v)
			}
		}
	}
	if !p.multi {
		last = prev
	}
	p.prevLast = last
	p.left -= uint32(cnt)
	p.n, p.i = cnt, -1
	p.posDoc, p.posCur = 0, posStart
	return true
}

// Next implements Postings.
func (p *postings) Next() uint32 {
	if p.doc == NoMoreDocs {
		return NoMoreDocs
	}
	p.started = true
	p.i++
	if p.i >= p.n {
		if !p.loadBlock() {
			return NoMoreDocs
		}
		p.i = 0
	}
	p.doc = p.docs[p.i]
	return p.doc
}

// Advance implements Postings.
func (p *postings) Advance(target uint32) uint32 {
	if p.started && p.doc >= target {
		return p.doc
	}
	p.started = true
	if p.n == 0 || p.docs[p.n-1] < target {
		// Skip whole blocks whose last document is below target.
		for p.multi && p.left > 0 {
			d, q := uvarint(p.b, p.skipP)
			last := p.prevLast + uint32(d)
			if last >= target {
				break
			}
			bl, q := uvarint(p.b, q)
			pl, q := uvarint(p.b, q)
			p.skipP = skipUvarints(p.b, q, 2)
			p.docP += int(bl)
			p.posP += int(pl)
			p.prevLast = last
			p.left -= min(p.left, blockSize)
		}
		if !p.loadBlock() {
			return NoMoreDocs
		}
	}
	for {
		p.i++
		if p.i >= p.n {
			if !p.loadBlock() {
				return NoMoreDocs
			}
			p.i = 0
		}
		if p.docs[p.i] >= target {
			p.doc = p.docs[p.i]
			return p.doc
		}
	}
}

// Doc implements Postings.
func (p *postings) Doc() uint32 { return p.doc }

// Freq implements Postings.
func (p *postings) Freq() uint32 {
	if p.i < 0 || p.i >= p.n {
		return 0
	}
	return p.freqs[p.i]
}

// Cost implements Postings.
func (p *postings) Cost() int64 { return int64(p.df) }

// rawPositions returns the current document's positions as encoded
// (uvarint deltas); nil without positions.
func (p *postings) rawPositions() []byte {
	if !p.hasPos || p.i < 0 || p.i >= p.n {
		return nil
	}
	if p.posDoc == p.i+1 {
		return p.b[p.posStart:p.posCur]
	}
	skip := 0
	for k := p.posDoc; k < p.i; k++ {
		skip += int(p.freqs[k])
	}
	start := skipUvarints(p.b, p.posCur, skip)
	end := skipUvarints(p.b, start, int(p.freqs[p.i]))
	p.posStart, p.posCur, p.posDoc = start, end, p.i+1
	return p.b[start:end]
}

// Positions implements Postings.
func (p *postings) Positions(dst []uint32) []uint32 {
	if !p.wantPos {
		return dst
	}
	raw := p.rawPositions()
	var pos uint32
	for q := 0; q < len(raw); {
		var v uint64
		v, q = uvarint(raw, q)
		pos += uint32(v)
		dst = append(dst, pos)
	}
	return dst
}

// BlockMaxPostings is implemented by the Postings of a Reader's segments:
// score upper bounds per block of up to 128 documents, for block-max WAND.
type BlockMaxPostings interface {
	// BlockMax describes the block holding the first document >= target
	// (at or after the current one), without moving the iterator: every
	// document in [target, lastDoc] has a frequency <= maxFreq and a field
	// length >= minFieldLength. lastDoc is NoMoreDocs when no document is
	// left, NoMoreDocs-1 when the bounds hold to the end (documents may or
	// may not be left).
	BlockMax(target uint32) (lastDoc, maxFreq, minFieldLength uint32)
}

var _ BlockMaxPostings = (*postings)(nil)

// BlockMax implements BlockMaxPostings.
func (p *postings) BlockMax(target uint32) (lastDoc, maxFreq, minFieldLength uint32) {
	if p.doc == NoMoreDocs && p.started {
		return NoMoreDocs, 0, 0
	}
	if p.n > 0 && p.docs[p.n-1] >= target {
		return p.docs[p.n-1], p.bMax, p.bMin
	}
	if !p.multi {
		if p.df == 0 || p.n > 0 {
			return NoMoreDocs, 0, 0
		}
		return NoMoreDocs - 1, p.maxFreq, p.minLen
	}
	q, base, left := p.skipP, p.prevLast, p.left
	for left > 0 {
		var d, mf, ml uint64
		d, q = uvarint(p.b, q)
		q = skipUvarints(p.b, q, 2)
		mf, q = uvarint(p.b, q)
		ml, q = uvarint(p.b, q)
		last := base + uint32(d)
		if last >= target {
			return last, uint32(mf), uint32(ml)
		}
		base = last
		left -= min(left, blockSize)
	}
	return NoMoreDocs, 0, 0
}
