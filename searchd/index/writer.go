package index

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"cairn.dev/cairn/searchd/mapping"
	"golang.org/x/sys/unix"
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
	lock  *os.File // Dir/write.lock, flocked while open

	refreshMu sync.Mutex // serializes flushes, refreshes and commits

	mu       sync.Mutex // protects the following fields
	closed   bool
	bufs     []*buffer   // active buffers (busy or idle)
	idle     []*buffer   // active buffers not checked out
	flushing []*buffer   // buffers handed to a flush, oldest first
	segs     []*segState // segments, oldest first
	nextSeg  uint64
	commit   *commitPoint // last commit (nil: none)
	// mergeCond is signalled (with mu) when a merge ends or the Writer closes.
	mergeCond *sync.Cond
	// bufCond is signalled (with mu) when a buffer is returned.
	bufCond *sync.Cond

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
	lock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	w, err := open(opts, lock)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return w, nil
}

func open(opts Options, lock *os.File) (*Writer, error) {
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
		lock:      lock,
		mergeKick: make(chan struct{}, 1),
		stop:      make(chan struct{}),
	}
	w.mergeCond = sync.NewCond(&w.mu)
	w.bufCond = sync.NewCond(&w.mu)
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
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	b := w.takeBufferLocked()
	w.tombstoneLocked(doc.ID)
	slot := b.reserve(doc)
	w.mu.Unlock()
	grew := b.invert(doc, slot)
	return w.returnBuffers([]*buffer{b}, []int64{grew})
}

// minParallelDocs is the smallest share of a batch inverted by its own
// goroutine.
const minParallelDocs = 64

// IndexBatch indexes docs in order, as Index each would. Concurrent calls
// invert into separate buffers in parallel, and a large batch is split
// over GOMAXPROCS buffers, so bulk indexing uses every core.
func (w *Writer) IndexBatch(docs []*mapping.Document) error {
	if len(docs) == 0 {
		return nil
	}
	parts := 1
	if len(docs) >= 2*minParallelDocs {
		parts = max(1, min(runtime.GOMAXPROCS(0), len(docs)/minParallelDocs))
	}
	chunk := (len(docs) + parts - 1) / parts
	slots := make([]uint32, len(docs))
	bufs := make([]*buffer, 0, parts)

	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	for range parts {
		bufs = append(bufs, w.takeBufferLocked())
	}
	for i, doc := range docs {
		w.tombstoneLocked(doc.ID)
		slots[i] = bufs[i/chunk].reserve(doc)
	}
	w.mu.Unlock()

	grew := make([]int64, len(bufs))
	invert := func(k int) {
		b := bufs[k]
		for i := k * chunk; i < min(len(docs), (k+1)*chunk); i++ {
			grew[k] += b.invert(docs[i], slots[i])
		}
	}
	if len(bufs) == 1 {
		invert(0)
	} else {
		var wg sync.WaitGroup
		for k := range bufs {
			wg.Go(func() { invert(k) })
		}
		wg.Wait()
	}

	return w.returnBuffers(bufs, grew)
}

// returnBuffers ends the checkout of bufs (grown by grew bytes) and
// flushes if the buffers are full.
func (w *Writer) returnBuffers(bufs []*buffer, grew []int64) error {
	w.mu.Lock()
	for k, b := range bufs {
		b.bytes += grew[k]
		w.returnBufferLocked(b)
	}
	full := w.rotateFullLocked()
	w.mu.Unlock()
	if full {
		w.refreshMu.Lock()
		defer w.refreshMu.Unlock()
		return w.flushPending()
	}
	return nil
}

// takeBufferLocked checks out an idle buffer, or a new one.
func (w *Writer) takeBufferLocked() *buffer {
	var b *buffer
	if n := len(w.idle); n > 0 {
		b = w.idle[n-1]
		w.idle = w.idle[:n-1]
	} else {
		b = newBuffer()
		w.bufs = append(w.bufs, b)
	}
	b.busy = true
	return b
}

// returnBufferLocked ends a checkout.
func (w *Writer) returnBufferLocked(b *buffer) {
	b.busy = false
	if b.sealing {
		w.bufs = slices.DeleteFunc(w.bufs, func(x *buffer) bool { return x == b })
		if b.maxDoc() > 0 {
			w.flushing = append(w.flushing, b)
		}
		w.bufCond.Broadcast()
		return
	}
	w.idle = append(w.idle, b)
}

// rotateFullLocked hands the largest idle buffers to a flush while the
// active buffers hold more than RAMBufferBytes; it reports whether it did.
func (w *Writer) rotateFullLocked() bool {
	rotated := false
	for {
		var total int64
		for _, b := range w.bufs {
			total += b.bytes
		}
		if total < w.opts.RAMBufferBytes || len(w.idle) == 0 {
			return rotated
		}
		big := 0
		for i, b := range w.idle {
			if b.bytes > w.idle[big].bytes {
				big = i
			}
		}
		b := w.idle[big]
		w.idle = slices.Delete(w.idle, big, big+1)
		w.bufs = slices.DeleteFunc(w.bufs, func(x *buffer) bool { return x == b })
		w.flushing = append(w.flushing, b)
		rotated = true
	}
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
	for _, b := range w.bufs {
		if d, ok := b.idMap[id]; ok && b.live(d) {
			b.delete(d)
			return true
		}
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
	h := idHash(id)
	for i := len(w.segs) - 1; i >= 0; i-- {
		st := w.segs[i]
		if d, ok := st.seg.lookupID(id, h); ok && (st.del == nil || !st.del.has(d)) {
			st.deleteDoc(d)
			return true
		}
	}
	return false
}

// Get returns the source of the live document with id, including
// documents not yet refreshed (realtime get). The slice must not be
// modified (for a buffered document it is the one passed to Index).
func (w *Writer) Get(id string) (source []byte, found bool, err error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, false, ErrClosed
	}
	for _, b := range slices.Concat(w.bufs, w.flushing) {
		if d, ok := b.idMap[id]; ok && b.live(d) {
			src := b.sources[d]
			w.mu.Unlock()
			return src, true, nil
		}
	}
	h := idHash(id)
	for i := len(w.segs) - 1; i >= 0; i-- {
		st := w.segs[i]
		if d, ok := st.seg.lookupID(id, h); ok && (st.del == nil || !st.del.has(d)) {
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

// rotateAllLocked hands every active buffer to a flush, waiting for the
// checked-out ones to be returned. The caller holds mu (released while
// waiting).
func (w *Writer) rotateAllLocked() {
	for _, b := range w.bufs {
		if b.busy {
			b.sealing = true
		} else if b.maxDoc() > 0 {
			w.flushing = append(w.flushing, b)
		}
	}
	w.bufs = slices.DeleteFunc(w.bufs, func(b *buffer) bool { return !b.busy })
	w.idle = w.idle[:0]
	for slices.ContainsFunc(w.bufs, func(b *buffer) bool { return b.sealing }) {
		w.bufCond.Wait()
	}
}

// flushPending writes every buffer handed to a flush as a segment. The
// caller holds refreshMu.
func (w *Writer) flushPending() error {
	for {
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return nil
		}
		w.flushing = slices.DeleteFunc(w.flushing, func(b *buffer) bool { return b.ndel == b.maxDoc() })
		batch := slices.Clone(w.flushing)
		nums := make([]uint64, len(batch))
		for i := range nums {
			nums[i] = w.nextSeg
			w.nextSeg++
		}
		w.mu.Unlock()
		if len(batch) == 0 {
			return nil
		}

		// Write the buffers' segments in parallel, GOMAXPROCS at a time.
		segs := make([]*segment, len(batch))
		errs := make([]error, len(batch))
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		var wg sync.WaitGroup
		for i, b := range batch {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				segs[i], errs[i] = w.writeSegment(b, nums[i])
			})
		}
		wg.Wait()

		w.mu.Lock()
		for i, b := range batch {
			if errs[i] != nil {
				continue
			}
			st := &segState{seg: segs[i]}
			if b.ndel > 0 {
				st.del = &delSet{bits: slices.Clone(b.del), n: b.ndel}
				st.delVer = 1
			}
			w.segs = append(w.segs, st)
			w.flushing = slices.DeleteFunc(w.flushing, func(x *buffer) bool { return x == b })
		}
		w.mu.Unlock()
		w.kickMerge()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
}

// writeSegment writes buffer b as segment num and opens it.
func (w *Writer) writeSegment(b *buffer, num uint64) (*segment, error) {
	b.seal()
	name := segFileName(num)
	if err := writeBuffer(filepath.Join(w.opts.Dir, name), b); err != nil {
		return nil, err
	}
	seg, err := openSegment(w.opts.Dir, name, num, false)
	if err != nil {
		os.Remove(filepath.Join(w.opts.Dir, name))
		return nil, err
	}
	w.trackSegment(seg)
	return seg, nil
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
	w.rotateAllLocked()
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
	for _, b := range append(slices.Clone(w.flushing), w.bufs...) {
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
	w.segs, w.flushing, w.bufs, w.idle = nil, nil, nil, nil
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
	return w.lock.Close()
}

// lockDir takes Dir's write lock (an flock on write.lock, a file left in
// place): one Writer per directory, across processes (the lock goes with
// the process).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "write.lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %v", ErrLocked, dir, err)
	}
	return f, nil
}
