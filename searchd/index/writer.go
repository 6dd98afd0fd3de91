package index

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"cairn.dev/cairn/searchd/mapping"
)

// Options configure a Writer.
type Options struct {
	// Dir holds the segment files and commit points.
	Dir string
	// RAMBufferBytes flushes the in-memory buffer to a segment when it grows
	// past this (default 64 MiB), even without a refresh. A flushed segment
	// is written but, as in Lucene, becomes visible to readers only at the
	// next Refresh (Get sees it at once).
	RAMBufferBytes int64
	// MergeFactor: segments of similar size merged at a time (default 10).
	MergeFactor int
	// MaxMergedSegmentBytes caps a merged segment (default 5 GiB).
	MaxMergedSegmentBytes int64
	// DisableMerges stops background merges (ForceMerge still works); for
	// tests and bulk loads.
	DisableMerges bool
	// Logger receives merge failures (default slog.Default()).
	Logger *slog.Logger
}

func (o *Options) setDefaults() {
	if o.RAMBufferBytes <= 0 {
		o.RAMBufferBytes = 64 << 20
	}
	if o.MergeFactor < 2 {
		o.MergeFactor = 10
	}
	if o.MaxMergedSegmentBytes <= 0 {
		o.MaxMergedSegmentBytes = 5 << 30
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Writer owns one shard copy's index. Its methods are safe for concurrent
// use; Index and Delete are applied in call order.
//
// Lock order: refreshMu, then mu, then pubMu; fileRefs.mu is a leaf.
type Writer struct {
	opts  Options
	files *fileRefs

	refreshMu sync.Mutex // serializes flushes, refreshes and commits

	mu       sync.Mutex // protects the following fields
	closed   bool
	buf      *buffer     // the active buffer
	flushing []*buffer   // buffers handed to a flush, oldest first
	segs     []*segState // segments, oldest first
	nextSeg  uint64
	commit   *commitPoint // last commit (nil: none)
	mergeErr error
	// mergeCond is signalled (with mu) when a merge ends or the Writer closes.
	mergeCond *sync.Cond

	pubMu sync.Mutex // protects pub
	pub   *snapshot  // the last refresh

	mergeKick chan struct{}
	stop      chan struct{}
	wg        sync.WaitGroup
}

// segState is the Writer's view of one segment.
type segState struct {
	seg      *segment
	del      *delSet // nil: none deleted
	shared   bool    // del is in a snapshot or a running merge: copy before changing
	delVer   int64   // bumped by every delete
	delGen   int64   // the .del file generation of the last commit (0: none)
	delSaved int64   // delVer written in delGen
	synced   bool    // the segment file is fsynced
	merging  bool
}

func (st *segState) deleteDoc(doc uint32) bool {
	if st.del != nil && st.del.has(doc) {
		return false
	}
	if st.del == nil || st.shared {
		st.del = st.del.clone()
		st.shared = false
	}
	st.del.add(doc)
	st.delVer++
	return true
}

// Open opens (or creates) the index in opts.Dir at its last commit point;
// anything written after it is discarded.
func Open(opts Options) (*Writer, error) {
	opts.setDefaults()
	if opts.Dir == "" {
		return nil, errors.New("index: Options.Dir is empty")
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	ents, err := os.ReadDir(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	w := &Writer{
		opts:      opts,
		files:     newFileRefs(opts.Dir),
		buf:       newBuffer(),
		mergeKick: make(chan struct{}, 1),
		stop:      make(chan struct{}),
	}
	w.mergeCond = sync.NewCond(&w.mu)
	var loadErr error
	for _, gen := range commitGens(names) {
		c, err := readCommitPoint(opts.Dir, commitFileName(gen))
		if err != nil {
			loadErr = err
			continue
		}
		segs, err := w.loadCommit(c)
		if err != nil {
			loadErr = err
			continue
		}
		w.commit, w.segs, w.nextSeg = c, segs, c.NextSeg
		loadErr = nil
		break
	}
	if loadErr != nil {
		return nil, loadErr
	}
	keep := map[string]bool{}
	if w.commit != nil {
		for _, n := range w.commit.files() {
			keep[n] = true
		}
		w.files.incRef(w.commit.files()...)
	}
	for _, n := range names {
		if isIndexFile(n) && !keep[n] {
			os.Remove(filepath.Join(opts.Dir, n))
		}
		if num, ok := parseSegNum(n); ok && num >= w.nextSeg {
			w.nextSeg = num + 1
		}
	}
	w.publishLocked()
	w.wg.Add(1)
	go w.mergeLoop()
	return w, nil
}

// parseSegNum parses seg_<n>.sdx and seg_<n>_<gen>.del.
func parseSegNum(name string) (uint64, bool) {
	if !strings.HasPrefix(name, "seg_") {
		return 0, false
	}
	rest := name[4:]
	if i := strings.IndexAny(rest, "_."); i >= 0 {
		rest = rest[:i]
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	return n, err == nil
}

// loadCommit opens the segments of c.
func (w *Writer) loadCommit(c *commitPoint) ([]*segState, error) {
	var segs []*segState
	fail := func(err error) ([]*segState, error) {
		for _, st := range segs {
			st.seg.onFree = nil
			st.seg.decRef()
		}
		return nil, err
	}
	for _, cs := range c.Segments {
		seg, err := openSegment(w.opts.Dir, segFileName(cs.Num), cs.Num, true)
		if err != nil {
			return fail(err)
		}
		st := &segState{seg: seg, synced: true, delGen: cs.DelGen}
		segs = append(segs, st)
		if seg.meta.MaxDoc != cs.MaxDoc {
			return fail(fmt.Errorf("%w: %s has %d docs, the commit point says %d", errCorrupt, seg.name, seg.meta.MaxDoc, cs.MaxDoc))
		}
		if cs.DelGen > 0 {
			d, err := readDelFile(w.opts.Dir, delFileName(cs.Num, cs.DelGen))
			if err != nil {
				return fail(err)
			}
			st.del = d
		}
	}
	for _, st := range segs {
		w.trackSegment(st.seg)
	}
	return segs, nil
}

// trackSegment makes seg's file live while seg is open.
func (w *Writer) trackSegment(seg *segment) {
	name := seg.name
	w.files.incRef(name)
	seg.onFree = func() { w.files.decRef(name) }
}

// Index adds doc, replacing any live document with the same ID. The
// Writer keeps doc.Source and the field values' strings: the caller must
// not modify them afterwards.
func (w *Writer) Index(doc *mapping.Document) error {
	return w.IndexBatch([]*mapping.Document{doc})
}

// IndexBatch indexes docs in order, as Index each, under one lock.
func (w *Writer) IndexBatch(docs []*mapping.Document) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	for _, doc := range docs {
		w.tombstoneLocked(doc.ID)
		w.buf.add(doc)
	}
	full := w.buf.bytes >= w.opts.RAMBufferBytes
	if full {
		w.rotateLocked()
	}
	w.mu.Unlock()
	if full {
		w.refreshMu.Lock()
		defer w.refreshMu.Unlock()
		return w.flushPending()
	}
	return nil
}

// Delete tombstones the live document with id; false if there was none.
func (w *Writer) Delete(id string) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false, ErrClosed
	}
	return w.tombstoneLocked(id), nil
}

// tombstoneLocked deletes the live document with id, if any.
func (w *Writer) tombstoneLocked(id string) bool {
	if d, ok := w.buf.idMap[id]; ok && w.buf.live(d) {
		w.buf.delete(d)
		return true
	}
	for i := len(w.flushing) - 1; i >= 0; i-- {
		b := w.flushing[i]
		if d, ok := b.idMap[id]; ok && b.live(d) {
			b.delete(d)
			return true
		}
	}
	if len(w.segs) == 0 {
		return false
	}
	key := []byte(id)
	for i := len(w.segs) - 1; i >= 0; i-- {
		st := w.segs[i]
		if d, ok := st.seg.lookupID(key); ok && (st.del == nil || !st.del.has(d)) {
			st.deleteDoc(d)
			return true
		}
	}
	return false
}

// Get returns the source of the live document with id, including
// documents not yet refreshed (realtime get).
func (w *Writer) Get(id string) (source []byte, found bool, err error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, false, ErrClosed
	}
	if d, ok := w.buf.idMap[id]; ok && w.buf.live(d) {
		src := w.buf.sources[d]
		w.mu.Unlock()
		return src, true, nil
	}
	for i := len(w.flushing) - 1; i >= 0; i-- {
		b := w.flushing[i]
		if d, ok := b.idMap[id]; ok && b.live(d) {
			src := b.sources[d]
			w.mu.Unlock()
			return src, true, nil
		}
	}
	key := []byte(id)
	for i := len(w.segs) - 1; i >= 0; i-- {
		st := w.segs[i]
		if d, ok := st.seg.lookupID(key); ok && (st.del == nil || !st.del.has(d)) {
			seg := st.seg
			seg.incRef()
			w.mu.Unlock()
			defer seg.decRef()
			src, err := seg.source(d)
			return src, err == nil, err
		}
	}
	w.mu.Unlock()
	return nil, false, nil
}

// rotateLocked hands the active buffer to a flush.
func (w *Writer) rotateLocked() {
	if w.buf.maxDoc() == 0 {
		return
	}
	w.flushing = append(w.flushing, w.buf)
	w.buf = newBuffer()
}

// flushPending writes every buffer handed to a flush as a segment. The
// caller holds refreshMu.
func (w *Writer) flushPending() error {
	for {
		w.mu.Lock()
		if len(w.flushing) == 0 || w.closed {
			w.mu.Unlock()
			return nil
		}
		b := w.flushing[0]
		if b.ndel == b.maxDoc() {
			w.flushing = w.flushing[1:]
			w.mu.Unlock()
			continue
		}
		num := w.nextSeg
		w.nextSeg++
		w.mu.Unlock()

		b.seal()
		name := segFileName(num)
		if err := writeBuffer(filepath.Join(w.opts.Dir, name), b); err != nil {
			return err
		}
		seg, err := openSegment(w.opts.Dir, name, num, false)
		if err != nil {
			os.Remove(filepath.Join(w.opts.Dir, name))
			return err
		}
		w.trackSegment(seg)

		w.mu.Lock()
		st := &segState{seg: seg}
		if b.ndel > 0 {
			st.del = &delSet{bits: slices.Clone(b.del), n: b.ndel}
			st.delVer = 1
		}
		w.segs = append(w.segs, st)
		w.flushing = w.flushing[1:]
		w.mu.Unlock()
		w.kickMerge()
	}
}

// Refresh makes every Index and Delete before it visible to readers
// acquired after it.
func (w *Writer) Refresh() error {
	w.refreshMu.Lock()
	defer w.refreshMu.Unlock()
	return w.refreshLocked()
}

func (w *Writer) refreshLocked() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.rotateLocked()
	w.mu.Unlock()
	if err := w.flushPending(); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.publishLocked()
	return nil
}

// publishLocked makes the current segments and deletes the readers' view.
// The caller holds mu.
func (w *Writer) publishLocked() {
	snap := &snapshot{}
	snap.refs.Store(1)
	for _, st := range w.segs {
		st.shared = true
		st.seg.incRef()
		snap.views = append(snap.views, newView(st.seg, st.del))
	}
	w.pubMu.Lock()
	old := w.pub
	w.pub = snap
	w.pubMu.Unlock()
	if old != nil {
		old.release()
	}
}

// Acquire returns a point-in-time reader of the last refresh; the caller
// must Release it.
func (w *Writer) Acquire() *Reader {
	w.pubMu.Lock()
	snap := w.pub
	snap.refs.Add(1)
	w.pubMu.Unlock()
	r := &Reader{snap: snap, Segments: make([]Segment, len(snap.views))}
	for i, v := range snap.views {
		r.Segments[i] = v
	}
	return r
}

// Stats describes the index.
type Stats struct {
	Docs, DeletedDocs int64
	Segments          int
	SizeBytes         int64
}

// Stats returns the index's current statistics: every document indexed
// and not deleted (refreshed or not), the deleted documents still held by
// segments, the segments and their bytes.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	var s Stats
	for _, b := range append(slices.Clone(w.flushing), w.buf) {
		s.Docs += int64(b.maxDoc() - b.ndel)
	}
	for _, st := range w.segs {
		d := st.del.count()
		s.Docs += int64(st.seg.meta.MaxDoc - d)
		s.DeletedDocs += int64(d)
		s.SizeBytes += st.seg.size()
	}
	s.Segments = len(w.segs)
	return s
}

// Close stops merges and closes the files (without committing): what
// was not committed is lost. Readers acquired before stay usable until
// released.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mergeCond.Broadcast()
	w.mu.Unlock()
	close(w.stop)
	w.wg.Wait()
	w.refreshMu.Lock()
	defer w.refreshMu.Unlock()
	w.mu.Lock()
	segs := w.segs
	w.segs, w.flushing, w.buf = nil, nil, newBuffer()
	w.mu.Unlock()
	w.pubMu.Lock()
	pub := w.pub
	w.pub = &snapshot{}
	w.pub.refs.Store(1)
	w.pubMu.Unlock()
	pub.release()
	for _, st := range segs {
		st.seg.decRef()
	}
	return nil
}
