package index

import "encoding/binary"

// Postings layout of one term (at TermInfo.Ref, an offset in the segment
// file):
//
//	uvarint docFreq, uvarint totalTermFreq-docFreq, uvarint maxFreq,
//	uvarint minFieldLength, uvarint docBytes
//	skip table (only when docFreq > blockSize): uvarint its byte length,
//	  then per block uvarint (lastDoc - previous block's lastDoc), uvarint
//	  block bytes, uvarint block position bytes, uvarint the block's
//	  largest freq, uvarint its smallest field length (block-max bounds)
//	doc blocks (docBytes in all)
//	positions (text fields): per document, freq uvarint deltas
//
// A full block (blockSize documents) is: byte docWidth, byte freqWidth,
// doc deltas bit-packed at docWidth, freq-1 bit-packed at freqWidth. The
// last, partial block is uvarints: delta<<1|1 when freq is 1, else delta<<1
// then freq. Deltas are from the previous document (the previous block's
// last for a block's first; 0 before the term's first).
const blockSize = 128

// postingsWriter encodes one term's postings at a time.
type postingsWriter struct {
	hasPos bool

	docs, freqs [blockSize]uint32
	n           int
	bMaxFreq    uint32 // of the current block
	bMinLen     uint32
	blockPos    int // start of the current block's positions in pos

	prevLast uint32 // last doc of the previous block
	lastDoc  uint32
	df       uint32
	ttf      uint64
	maxFreq  uint32
	minLen   uint32

	skips  []byte
	blocks []byte
	pos    []byte
	head   []byte
}

func (pw *postingsWriter) reset() {
	pw.n, pw.blockPos, pw.prevLast, pw.lastDoc = 0, 0, 0, 0
	pw.bMaxFreq, pw.bMinLen = 0, ^uint32(0)
	pw.df, pw.ttf, pw.maxFreq, pw.minLen = 0, 0, 0, ^uint32(0)
	pw.skips, pw.blocks, pw.pos = pw.skips[:0], pw.blocks[:0], pw.pos[:0]
}

// add appends a document (greater than the previous one) with its
// frequency, its field length (for MinFieldLength; 0 when the field has no
// norms) and its positions already encoded as uvarint deltas.
func (pw *postingsWriter) add(doc, freq, fieldLen uint32, pos []byte) {
	pw.docs[pw.n], pw.freqs[pw.n] = doc, freq
	pw.n++
	pw.df++
	pw.ttf += uint64(freq)
	pw.maxFreq = max(pw.maxFreq, freq)
	pw.bMaxFreq = max(pw.bMaxFreq, freq)
	if fieldLen > 0 {
		pw.minLen = min(pw.minLen, fieldLen)
		pw.bMinLen = min(pw.bMinLen, fieldLen)
	}
	if pw.hasPos {
		pw.pos = append(pw.pos, pos...)
	}
	pw.lastDoc = doc
	if pw.n == blockSize {
		pw.flushBlock()
	}
}

func (pw *postingsWriter) flushBlock() {
	start := len(pw.blocks)
	prev := pw.prevLast
	if pw.n == blockSize {
		var maxD, maxF uint32
		var deltas [blockSize]uint32
		for i := 0; i < blockSize; i++ {
			deltas[i] = pw.docs[i] - prev
			prev = pw.docs[i]
			maxD |= deltas[i]
			pw.freqs[i]--
			maxF |= pw.freqs[i]
		}
		dw, fw := packWidth(uint64(maxD)), packWidth(uint64(maxF))
		pw.blocks = append(pw.blocks, dw, fw)
		pw.blocks = appendPackedTight(pw.blocks, deltas[:], dw)
		pw.blocks = appendPackedTight(pw.blocks, pw.freqs[:], fw)
	} else {
		for i := 0; i < pw.n; i++ {
			d := pw.docs[i] - prev
			prev = pw.docs[i]
			if pw.freqs[i] == 1 {
				pw.blocks = binary.AppendUvarint(pw.blocks, uint64(d)<<1|1)
			} else {
				pw.blocks = binary.AppendUvarint(pw.blocks, uint64(d)<<1)
				pw.blocks = binary.AppendUvarint(pw.blocks, uint64(pw.freqs[i]))
			}
		}
	}
	pw.skips = binary.AppendUvarint(pw.skips, uint64(pw.lastDoc-pw.prevLast))
	pw.skips = binary.AppendUvarint(pw.skips, uint64(len(pw.blocks)-start))
	pw.skips = binary.AppendUvarint(pw.skips, uint64(len(pw.pos)-pw.blockPos))
	if pw.bMinLen == ^uint32(0) {
		pw.bMinLen = 0
	}
	pw.skips = binary.AppendUvarint(pw.skips, uint64(pw.bMaxFreq))
	pw.skips = binary.AppendUvarint(pw.skips, uint64(pw.bMinLen))
	pw.bMaxFreq, pw.bMinLen = 0, ^uint32(0)
	pw.blockPos = len(pw.pos)
	pw.prevLast = pw.lastDoc
	pw.n = 0
}

// finish closes the term and appends its encoding to dst.
func (pw *postingsWriter) finish(dst []byte) []byte {
	if pw.n > 0 {
		pw.flushBlock()
	}
	if pw.minLen == ^uint32(0) {
		pw.minLen = 0
	}
	dst = binary.AppendUvarint(dst, uint64(pw.df))
	dst = binary.AppendUvarint(dst, pw.ttf-uint64(pw.df))
	dst = binary.AppendUvarint(dst, uint64(pw.maxFreq))
	dst = binary.AppendUvarint(dst, uint64(pw.minLen))
	dst = binary.AppendUvarint(dst, uint64(len(pw.blocks)))
	if pw.df > blockSize {
		dst = binary.AppendUvarint(dst, uint64(len(pw.skips)))
		dst = append(dst, pw.skips...)
	}
	dst = append(dst, pw.blocks...)
	if pw.hasPos {
		dst = append(dst, pw.pos...)
	}
	return dst
}

// appendPackedTight packs vals at width w without the trailing padding:
// readers rely on the segment file's trailer to read past a block.
func appendPackedTight(dst []byte, vals []uint32, w uint8) []byte {
	start := len(dst)
	dst = appendPacked32(dst, vals, w)
	return dst[:start+(len(vals)*int(w)+7)/8]
}
