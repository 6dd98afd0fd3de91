package index

import (
	"bytes"
	"cmp"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/blevesearch/vellum"
)

var errMergeAborted = errors.New("index: merge aborted")

// Merge policy (tiered): a segment's size is its file size scaled by its
// live ratio, and its tier is floor(log_MergeFactor(size / mergeFloor)).
// When a tier holds MergeFactor segments, its smallest MergeFactor are
// merged into one (staying under MaxMergedSegmentBytes; segments above
// half of it are left alone). A segment more than half deleted is merged
// on its own to reclaim the space.
const mergeFloor = 2 << 20

// mergeLoop runs merges while the Writer is open.
func (w *Writer) mergeLoop() {
	defer w.wg.Done()
	for {
		select {
		case <-w.stop:
			return
		case <-w.mergeKick:
		}
		for {
			w.mu.Lock()
			var srcs []*segState
			if !w.opts.DisableMerges && !w.closed {
				srcs = w.pickMergeLocked()
			}
			w.mu.Unlock()
			if srcs == nil {
				break
			}
			if err := w.merge(srcs); err != nil {
				if !errors.Is(err, errMergeAborted) {
					// The segments stay as they were; the next flush retries.
					w.opts.Logger.Error("searchd index: merge failed", "dir", w.opts.Dir, "err", err)
				}
				break
			}
		}
	}
}

func (w *Writer) kickMerge() {
	select {
	case w.mergeKick <- struct{}{}:
	default:
	}
}

func mergeSize(st *segState) float64 {
	md := st.seg.meta.MaxDoc
	if md == 0 {
		return 0
	}
	return float64(st.seg.size()) * float64(md-st.del.count()) / float64(md)
}

// pickMergeLocked chooses segments to merge (marking them), or nil.
func (w *Writer) pickMergeLocked() []*segState {
	maxSize := float64(w.opts.MaxMergedSegmentBytes)
	tiers := map[int][]*segState{}
	for _, st := range w.segs {
		if st.merging {
			continue
		}
		md := st.seg.meta.MaxDoc
		if md > 0 && st.del.count()*2 > md {
			w.markMergingLocked([]*segState{st})
			return []*segState{st}
		}
		sz := mergeSize(st)
		if sz > maxSize/2 {
			continue
		}
		tier := int(math.Log(max(sz, mergeFloor)/mergeFloor) / math.Log(float64(w.opts.MergeFactor)))
		tiers[tier] = append(tiers[tier], st)
	}
	for tier := 0; tier < 64; tier++ {
		c := tiers[tier]
		if len(c) < w.opts.MergeFactor {
			continue
		}
		slices.SortStableFunc(c, bySize)
		var pick []*segState
		total := 0.0
		for _, st := range c {
			if len(pick) == w.opts.MergeFactor || total+mergeSize(st) > maxSize {
				break
			}
			pick = append(pick, st)
			total += mergeSize(st)
		}
		if len(pick) >= 2 {
			w.markMergingLocked(pick)
			return pick
		}
	}
	return nil
}

func (w *Writer) markMergingLocked(srcs []*segState) {
	for _, st := range srcs {
		st.merging = true
	}
}

// ForceMerge merges until at most maxSegments segments remain (deleted
// documents dropped; with maxSegments 1, a lone segment with deletes is
// rewritten), then refreshes. It waits for background merges first.
func (w *Writer) ForceMerge(maxSegments int) error {
	maxSegments = max(maxSegments, 1)
	if err := w.Refresh(); err != nil {
		return err
	}
	for {
		w.mu.Lock()
		for !w.closed && slices.ContainsFunc(w.segs, func(st *segState) bool { return st.merging }) {
			w.mergeCond.Wait()
		}
		if w.closed {
			w.mu.Unlock()
			return ErrClosed
		}
		srcs := slices.Clone(w.segs)
		n := len(srcs)
		if n <= maxSegments && !(maxSegments == 1 && n == 1 && srcs[0].del.count() > 0) {
			w.mu.Unlock()
			return w.Refresh()
		}
		if n > maxSegments {
			slices.SortStableFunc(srcs, bySize)
			srcs = srcs[:min(n, n-maxSegments+1)]
		}
		w.markMergingLocked(srcs)
		w.mu.Unlock()
		if err := w.merge(srcs); err != nil {
			return err
		}
	}
}

func bySize(a, b *segState) int { return cmp.Compare(mergeSize(a), mergeSize(b)) }

// merge merges srcs (marked merging) into one segment replacing them.
func (w *Writer) merge(srcs []*segState) error {
	w.mu.Lock()
	segs := make([]*segment, len(srcs))
	dels := make([]*delSet, len(srcs))
	for i, st := range srcs {
		st.shared = true
		segs[i], dels[i] = st.seg, st.del
		st.seg.incRef()
	}
	num := w.nextSeg
	w.nextSeg++
	w.mu.Unlock()
	unmark := func() {
		w.mu.Lock()
		for _, st := range srcs {
			st.merging = false
		}
		w.mergeCond.Broadcast()
		w.mu.Unlock()
		for _, s := range segs {
			s.decRef()
		}
	}

	name := segFileName(num)
	path := filepath.Join(w.opts.Dir, name)
	docMaps, maxDoc, err := mergeSegments(path, segs, dels, w.stop)
	if err != nil {
		unmark()
		return err
	}
	var seg *segment
	if maxDoc > 0 {
		seg, err = openSegment(w.opts.Dir, name, num, false)
		if err != nil {
			os.Remove(path)
			unmark()
			return err
		}
		w.trackSegment(seg)
	} else {
		os.Remove(path)
	}

	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		if seg != nil {
			seg.decRef()
		}
		unmark()
		return errMergeAborted
	}
	var nst *segState
	if seg != nil {
		nst = &segState{seg: seg}
		// Deletes that arrived during the merge move to the new segment.
		for i, st := range srcs {
			if st.del == dels[i] || st.del == nil {
				continue
			}
			for d := uint32(0); d < st.seg.meta.MaxDoc; d++ {
				if st.del.has(d) && (dels[i] == nil || !dels[i].has(d)) && docMaps[i][d] >= 0 {
					nst.deleteDoc(uint32(docMaps[i][d]))
				}
			}
		}
	}
	out := w.segs[:0:0]
	placed := false
	for _, st := range w.segs {
		if slices.Contains(srcs, st) {
			if !placed && nst != nil {
				out = append(out, nst)
			}
			placed = true
			continue
		}
		out = append(out, st)
	}
	w.segs = out
	w.mergeCond.Broadcast()
	w.mu.Unlock()
	for _, st := range srcs {
		st.seg.decRef() // the Writer's reference
	}
	for _, s := range segs {
		s.decRef() // the merge's reference
	}
	w.kickMerge()
	return nil
}

// mergeSegments writes the live documents of segs (dels: their deletes) as
// one segment at path. docMaps[i][doc] is the doc's new number, -1 when
// dropped. stop aborts it.
func mergeSegments(path string, segs []*segment, dels []*delSet, stop <-chan struct{}) (docMaps [][]int32, maxDoc uint32, err error) {
	docMaps = make([][]int32, len(segs))
	for i, s := range segs {
		m := make([]int32, s.meta.MaxDoc)
		for d := range m {
			if dels[i] != nil && dels[i].has(uint32(d)) {
				m[d] = -1
				continue
			}
			m[d] = int32(maxDoc)
			maxDoc++
		}
		docMaps[i] = m
	}
	if maxDoc == 0 {
		return docMaps, 0, nil
	}
	sw, err := createSegment(path, maxDoc)
	if err != nil {
		return nil, 0, err
	}
	aborted := func() bool {
		select {
		case <-stop:
			return true
		default:
			return false
		}
	}
	for i, s := range segs {
		for d, nd := range docMaps[i] {
			if nd < 0 {
				continue
			}
			src, err := s.source(uint32(d))
			if err != nil {
				return nil, 0, sw.fail(err)
			}
			sw.addStored(s.id(uint32(d)), src)
		}
		if aborted() {
			return nil, 0, sw.fail(errMergeAborted)
		}
	}

	// Fields: the union, each with its first segment's kind.
	kinds := map[string]fieldKind{}
	var names []string
	for _, s := range segs {
		for i := range s.meta.Fields {
			fm := &s.meta.Fields[i]
			if _, ok := kinds[fm.Name]; !ok {
				kinds[fm.Name] = fm.Kind
				names = append(names, fm.Name)
			}
		}
	}
	slices.Sort(names)
	for _, name := range names {
		kind := kinds[name]
		var norms []byte
		if kind == kindText {
			for i, s := range segs {
				f := s.fields[name]
				if f == nil || f.norms == nil || f.meta.Kind != kind {
					continue
				}
				if norms == nil {
					norms = make([]byte, maxDoc)
				}
				for d, nd := range docMaps[i] {
					if nd >= 0 {
						norms[nd] = f.norms[d]
					}
				}
			}
			if norms != nil {
				sw.writeNorms(name, norms)
			}
		}
		mergeDocValues(sw, name, kind, segs, docMaps, maxDoc)
		if err := mergePostings(sw, name, kind, segs, docMaps, norms, aborted); err != nil {
			return nil, 0, sw.fail(err)
		}
	}
	if err := sw.finish(); err != nil {
		return nil, 0, err
	}
	return docMaps, maxDoc, nil
}

func mergeDocValues(sw *segWriter, name string, kind fieldKind, segs []*segment, docMaps [][]int32, maxDoc uint32) {
	var docs []uint32
	var ints []int64
	var keys []string
	var buf []int64
	var obuf []uint32
	for i, s := range segs {
		f := s.fields[name]
		if f == nil || f.meta.Kind != kind {
			continue
		}
		for d, nd := range docMaps[i] {
			if nd < 0 {
				continue
			}
			switch {
			case f.ints != nil:
				buf = f.ints.values(uint32(d), buf[:0])
				for _, v := range buf {
					docs = append(docs, uint32(nd))
					ints = append(ints, v)
				}
			case f.kws != nil:
				obuf = f.kws.Ords(uint32(d), obuf[:0])
				for _, o := range obuf {
					docs = append(docs, uint32(nd))
					keys = append(keys, string(f.kws.Lookup(o)))
				}
			}
		}
	}
	if len(docs) == 0 {
		return
	}
	if kind == kindKeyword {
		sw.writeDocValues(name, kind, appendKeywordColumn(nil, maxDoc, docs, keys))
	} else {
		sw.writeDocValues(name, kind, appendNumericColumn(nil, maxDoc, docs, ints))
	}
}

// mergePostings merges a field's term dictionaries and postings.
func mergePostings(sw *segWriter, name string, kind fieldKind, segs []*segment, docMaps [][]int32, norms []byte, aborted func() bool) error {
	type src struct {
		i  int
		f  *segField
		it *vellum.FSTIterator
	}
	var srcs []*src
	for i, s := range segs {
		f := s.fields[name]
		if f == nil || f.fst == nil || f.meta.Kind != kind {
			continue
		}
		it, err := f.fst.Iterator(nil, nil)
		if err != nil {
			if errors.Is(err, vellum.ErrIteratorDone) {
				continue
			}
			return err
		}
		srcs = append(srcs, &src{i: i, f: f, it: it})
	}
	if len(srcs) == 0 {
		return nil
	}
	sw.beginField(name, kind)
	var term []byte
	var p postings
	hasPos := kind == kindText
	n := 0
	for len(srcs) > 0 {
		// The smallest current term, and the sources at it (in segment order).
		term = term[:0]
		for k, s := range srcs {
			t, _ := s.it.Current()
			if k == 0 || bytes.Compare(t, term) < 0 {
				term = append(term[:0], t...)
			}
		}
		sw.startTerm()
		for _, s := range srcs {
			t, ref := s.it.Current()
			if !bytes.Equal(t, term) {
				continue
			}
			seg := segs[s.i]
			ti, _, _ := termHeader(seg.data, ref)
			p.init(seg.data, ti, hasPos, hasPos)
			dm := docMaps[s.i]
			for d := p.Next(); d != NoMoreDocs; d = p.Next() {
				nd := dm[d]
				if nd < 0 {
					continue
				}
				var fl uint32
				if norms != nil {
					fl = normTable[norms[nd]]
				}
				sw.addPosting(uint32(nd), p.Freq(), fl, p.rawPositions())
			}
		}
		sw.finishTerm(term)
		live := srcs[:0]
		for _, s := range srcs {
			t, _ := s.it.Current()
			if bytes.Equal(t, term) {
				if err := s.it.Next(); err != nil {
					if errors.Is(err, vellum.ErrIteratorDone) {
						continue
					}
					return err
				}
			}
			live = append(live, s)
		}
		srcs = live
		if n++; n%4096 == 0 && aborted() {
			return errMergeAborted
		}
	}
	sw.endField()
	return sw.err
}
