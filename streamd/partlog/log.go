package partlog

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/node/boltfile"
	"cairn.dev/cairn/streamd/record"
)

// Log is one partition replica's log. One writer at a time (appends,
// truncation, retention and compaction are serialised inside); Read,
// OffsetForTime and the offset and epoch accessors may run concurrently with
// it and each other; Sync may run concurrently with appends.
//
// Lock order: syncMu, then wmu, then mu.
type Log struct {
	opts     Options
	dir      string
	logger   *slog.Logger
	interval int64

	// syncMu serialises Sync with everything that closes or removes files
	// (truncation, retention, compaction, Close).
	syncMu sync.Mutex

	// wmu serialises writers. It protects the following fields.
	wmu       sync.Mutex
	producers producers
	scratch   []byte

	// mu protects the following fields. Readers hold it (read) across their
	// preads, so a segment's file stays open while they read it.
	mu          sync.RWMutex
	segs        []*segment // ascending base; the last is the active one
	start, end  int64
	epochs      epochCache
	epochsDirty bool
	dirDirty    bool
	rolled      bool       // a segment was rolled since the last Sync
	pending     []*os.File // sealed index files and snapshots to fsync and close at Sync
	closed      bool
	failed      error

	durable atomic.Int64

	// Stats of the recovery done by Open.
	recoveredTruncated int64
}

// Open opens (creating if needed) the log in opts.Dir and recovers it.
//
// Segments from the one holding the recovery point (the durable end as of
// the last Sync that followed a roll, or of Close) onward are scanned: the
// first batch that is short, fails its CRC or does not follow its
// predecessor truncates the log there (logged), along with every later
// segment; their indexes are rebuilt. Earlier segments' indexes are loaded
// and checked, and rebuilt when missing or inconsistent. The leader-epoch
// cache is brought in line with the recovered log, and the producer state is
// the latest snapshot at or below the end plus a scan of the batches after
// it. What was recovered is fsynced before Open returns, so DurableOffset is
// EndOffset.
func Open(opts Options) (*Log, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	l := &Log{
		opts: opts, dir: opts.Dir, logger: opts.Logger.With("dir", opts.Dir),
		interval: int64(opts.IndexIntervalBytes), producers: producers{},
	}
	if err := l.recover(); err != nil {
		for _, s := range l.segs {
			s.closeFiles()
		}
		return nil, err
	}
	return l, nil
}

func (l *Log) recover() error {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return err
	}
	var bases, snaps []int64
	for _, e := range ents {
		name := e.Name()
		if b, ok := parseOffsetName(name, logSuffix); ok {
			bases = append(bases, b)
		} else if o, ok := parseOffsetName(name, snapshotSuffix); ok {
			snaps = append(snaps, o)
		} else if hasAnySuffix(name, tmpSuffix, cleanedSuffix) {
			if err := os.Remove(offsetNameRaw(l.dir, name)); err != nil {
				return err
			}
		}
	}
	slices.Sort(bases)
	slices.Sort(snaps)
	logStart, _ := readOffsetFile(offsetNameRaw(l.dir, logStartFile))
	logStart = max(logStart, 0)
	if len(bases) == 0 {
		f, err := createSegmentFile(l.dir, logStart)
		if err != nil {
			return err
		}
		l.segs = []*segment{newSegment(logStart, f)}
	}
	for _, b := range bases {
		f, err := os.OpenFile(offsetName(l.dir, b, logSuffix), os.O_RDWR, 0)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, newSegment(b, f))
	}
	rp, ok := readOffsetFile(offsetNameRaw(l.dir, recoveryFile))
	first := 0 // first segment to scan
	if ok {
		for i, s := range l.segs {
			if s.base <= rp {
				first = i
			}
		}
	}
	for _, s := range l.segs[:first] {
		if err := l.loadSealed(s, l.segs); err != nil {
			return err
		}
	}
	if l.epochs, err = loadEpochCache(offsetNameRaw(l.dir, epochFile)); err != nil {
		l.logger.Warn("partlog: leader epoch checkpoint unreadable; rebuilding from the scanned segments", "err", err)
		l.epochs = epochCache{}
	}
	l.epochs.truncateFrom(l.segs[first].base)
	for i := first; i < len(l.segs); i++ {
		s := l.segs[i]
		cut, err := s.recover(l.dir, l.interval, func(b record.Batch) { l.epochs.assign(b.LeaderEpoch(), b.BaseOffset()) })
		if err != nil {
			return err
		}
		drop := cut > 0
		if cut > 0 {
			l.recoveredTruncated += cut
			l.logger.Warn("partlog: truncated a torn or corrupt tail", "segment", s.base, "bytes", cut, "end", s.next)
		}
		if i+1 < len(l.segs) && l.segs[i+1].base != s.next {
			l.logger.Warn("partlog: segment does not follow its predecessor; dropping it and the rest", "segment", l.segs[i+1].base, "want", s.next)
			drop = true
		}
		if drop {
			for _, t := range l.segs[i+1:] {
				fi, _ := t.log.Stat()
				if fi != nil {
					l.recoveredTruncated += fi.Size()
				}
				if err := t.removeFiles(l.dir); err != nil {
					return err
				}
			}
			l.segs = l.segs[:i+1]
		}
		if err := fdatasync(s.log); err != nil {
			return err
		}
	}
	active := l.segs[len(l.segs)-1]
	l.end = active.next
	l.start = l.segs[0].base
	if logStart > l.start && logStart <= l.end {
		l.start = logStart
	}
	l.epochs.truncateFrom(l.end)
	l.epochs.truncateBefore(l.start)
	if err := writeFileAtomic(offsetNameRaw(l.dir, epochFile), l.epochs.encode()); err != nil {
		return err
	}
	if err := l.rebuildProducers(snaps); err != nil {
		return err
	}
	if err := active.openIndexesForAppend(l.dir); err != nil {
		return err
	}
	if active.size > 0 {
		hdr := make([]byte, record.HeaderSize)
		if _, err := active.log.ReadAt(hdr, 0); err != nil {
			return err
		}
		active.firstAppend = time.UnixMilli(record.Batch(hdr).MaxTimestamp())
	}
	if err := boltfile.SyncDir(l.dir); err != nil {
		return err
	}
	if err := writeOffsetFile(offsetNameRaw(l.dir, recoveryFile), active.base); err != nil {
		return err
	}
	l.durable.Store(l.end)
	return nil
}

// loadSealed loads sealed segment s's indexes, rebuilding them when they
// are missing or inconsistent.
func (l *Log) loadSealed(s *segment, segs []*segment) error {
	fi, err := s.log.Stat()
	if err != nil {
		return err
	}
	s.size = fi.Size()
	i := slices.Index(segs, s)
	s.next = segs[i+1].base
	if err := s.loadIndexes(l.dir); err != nil {
		l.logger.Info("partlog: rebuilding segment indexes", "segment", s.base, "reason", err)
		cut, err := s.recover(l.dir, l.interval, nil)
		if err != nil {
			return err
		}
		if cut > 0 || s.next != segs[i+1].base {
			return fmt.Errorf("partlog: segment %d below the recovery point is damaged (ends at offset %d, next segment %d)", s.base, s.next, segs[i+1].base)
		}
		l.pendingIndexSync(s)
	}
	return nil
}

// pendingIndexSync queues s's index files for the next Sync.
func (l *Log) pendingIndexSync(s *segment) {
	for _, suf := range []string{indexSuffix, timeIndexSuffix} {
		if f, err := os.Open(offsetName(l.dir, s.base, suf)); err == nil {
			l.pending = append(l.pending, f)
		}
	}
}

// rebuildProducers loads the latest producer snapshot at or below the end
// (removing those above it) and replays the batches after it.
func (l *Log) rebuildProducers(snaps []int64) error {
	from := l.start
	l.producers = producers{}
	for i := len(snaps) - 1; i >= 0; i-- {
		o := snaps[i]
		path := offsetName(l.dir, o, snapshotSuffix)
		if o > l.end {
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				return err
			}
			continue
		}
		p, err := loadSnapshot(path)
		if err != nil {
			l.logger.Warn("partlog: producer snapshot unreadable", "snapshot", o, "err", err)
			continue
		}
		l.producers = p
		from = max(o, l.start)
		break
	}
	return l.scanFrom(from, func(b record.Batch) { l.producers.update(b) })
}

// scanFrom calls fn for every batch from the one holding offset to the end.
// The caller holds wmu or mu.
func (l *Log) scanFrom(offset int64, fn func(record.Batch)) error {
	for _, s := range l.segs {
		if s.next <= offset {
			continue
		}
		from := int64(0)
		if offset > s.base {
			from = s.lookup(offset)
		}
		_, err := scanBatches(s.log, from, s.size, false, func(b record.Batch, _ int64) bool {
			if b.NextOffset() > offset {
				fn(b)
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func hasAnySuffix(name string, sufs ...string) bool {
	for _, s := range sufs {
		if len(name) > len(s) && name[len(name)-len(s):] == s {
			return true
		}
	}
	return false
}

func offsetNameRaw(dir, name string) string { return dir + string(os.PathSeparator) + name }

func createSegmentFile(dir string, base int64) (*os.File, error) {
	for _, suf := range []string{indexSuffix, timeIndexSuffix} {
		if err := os.WriteFile(offsetName(dir, base, suf), nil, 0o644); err != nil {
			return nil, err
		}
	}
	return os.OpenFile(offsetName(dir, base, logSuffix), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
}

// usable returns the error that stops every operation, if any. The caller
// holds wmu or mu.
func (l *Log) usable() error {
	if l.closed {
		return ErrClosed
	}
	if l.failed != nil {
		return fmt.Errorf("%w: %w", ErrFailed, l.failed)
	}
	return nil
}

// fail marks the log failed with err and returns the error to report.
func (l *Log) fail(err error) error {
	l.mu.Lock()
	if l.failed == nil {
		l.failed = err
		l.logger.Error("partlog: log failed", "err", err)
	}
	l.mu.Unlock()
	return fmt.Errorf("%w: %w", ErrFailed, err)
}

// Append is the leader's append: it validates b (record.ErrCorrupt,
// ErrBatchTooLarge; a produced batch must hold at least one record with
// consecutive offsets), sets its base offset to EndOffset and its leader
// epoch to epoch in place (so b is modified; nothing else is copied) and
// writes it, recording epoch's start in the epoch cache when it is new.
// epoch below LastEpoch is refused with ErrStaleEpoch. For an idempotent
// batch (producer id >= 0) it refuses ErrProducerFenced (an older producer
// epoch) and ErrOutOfOrderSequence (not the next sequence), and returns
// ErrDuplicate with the original base and last offsets, writing nothing, for
// a batch matching one of the producer's last 5. It rolls the segment first
// when b would take it past SegmentBytes or it is older than SegmentAge. It
// does not fsync (see Sync). It returns the first and last offsets given to b.
func (l *Log) Append(b record.Batch, epoch int32, now time.Time) (base, last int64, err error) {
	return l.appendLeader(b, epoch, -1, false, now)
}

// AppendExpect is Append when EndOffset is expected; otherwise it writes
// nothing and returns a *MismatchError (errors.Is ErrOffsetMismatch).
func (l *Log) AppendExpect(b record.Batch, epoch int32, expected int64, now time.Time) (base, last int64, err error) {
	return l.appendLeader(b, epoch, expected, true, now)
}

func (l *Log) appendLeader(b record.Batch, epoch int32, expected int64, checkExpected bool, now time.Time) (int64, int64, error) {
	if err := b.Validate(); err != nil {
		return 0, 0, err
	}
	if b.Count() < 1 || int64(b.LastOffsetDelta()) != int64(b.Count())-1 {
		return 0, 0, fmt.Errorf("%w: a produced batch needs records with consecutive offsets (count %d, lastOffsetDelta %d)", record.ErrCorrupt, b.Count(), b.LastOffsetDelta())
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.usable(); err != nil {
		return 0, 0, err
	}
	// Options change under wmu (SetOptions): read them under it.
	if len(b) > l.opts.MaxBatchBytes {
		return 0, 0, fmt.Errorf("%w: %d bytes, the limit (max_batch_bytes) is %d", ErrBatchTooLarge, len(b), l.opts.MaxBatchBytes)
	}
	end := l.end
	if checkExpected && expected != end {
		return 0, 0, &MismatchError{Expected: expected, End: end}
	}
	if last := l.epochs.last(); epoch < last {
		return 0, 0, fmt.Errorf("%w: %d, the log's is %d", ErrStaleEpoch, epoch, last)
	}
	if b.ProducerID() >= 0 {
		dup, err := l.producers.check(b)
		if err != nil {
			return 0, 0, err
		}
		if dup != nil {
			return dup.Base, dup.Last, ErrDuplicate
		}
	}
	b.SetBaseOffset(end)
	b.SetLeaderEpoch(epoch)
	if err := l.appendRun(b, now); err != nil {
		return 0, 0, err
	}
	return end, b.LastOffset(), nil
}

// AppendReplica is the follower's append: batches holds whole batches as the
// leader stored them (offsets and epochs set), checked with ValidateHeader
// (record.ErrCorrupt), the first starting at EndOffset and each following its
// predecessor (ErrNotContiguous otherwise); nothing is written unless all
// pass. The epoch cache and producer state follow the batches. It does not
// fsync. It returns the new EndOffset.
func (l *Log) AppendReplica(batches []byte) (end int64, err error) {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.usable(); err != nil {
		return 0, err
	}
	next := l.end
	lastEpoch := l.epochs.last()
	for rest := batches; len(rest) > 0; {
		b, r, err := record.Next(rest)
		if err != nil {
			if !errors.Is(err, record.ErrCorrupt) {
				err = fmt.Errorf("%w: %w", record.ErrCorrupt, err)
			}
			return l.end, err
		}
		if err := b.ValidateHeader(); err != nil {
			return l.end, err
		}
		if b.BaseOffset() != next {
			return l.end, fmt.Errorf("%w: batch base offset %d, want %d", ErrNotContiguous, b.BaseOffset(), next)
		}
		if b.LeaderEpoch() < lastEpoch {
			return l.end, fmt.Errorf("%w: batch at %d has epoch %d after epoch %d", ErrNotContiguous, next, b.LeaderEpoch(), lastEpoch)
		}
		lastEpoch = b.LeaderEpoch()
		next = b.NextOffset()
		rest = r
	}
	if err := l.appendRun(batches, l.opts.Now()); err != nil {
		return l.end, err
	}
	return l.end, nil
}

// needsRoll reports whether batch b may not go into segment s holding extra
// unwritten bytes besides its size.
func (l *Log) needsRoll(s *segment, extra int64, b record.Batch, now time.Time) bool {
	size := s.size + extra
	if size == 0 {
		return false
	}
	return size+int64(len(b)) > l.opts.SegmentBytes ||
		(l.opts.SegmentAge > 0 && now.Sub(s.firstAppend) >= l.opts.SegmentAge) ||
		b.LastOffset()-s.base > math.MaxUint32
}

// appendRun writes checked batches, contiguous from EndOffset with offsets
// set, rolling segments as needed, and publishes them. The caller holds wmu.
func (l *Log) appendRun(buf []byte, now time.Time) error {
	for len(buf) > 0 {
		s := l.segs[len(l.segs)-1]
		n := int64(0)
		for rest := buf; len(rest) > 0; {
			b, r, _ := record.Next(rest)
			if l.needsRoll(s, n, b, now) {
				break
			}
			n += int64(len(b))
			rest = r
		}
		if n == 0 {
			if err := l.roll(now); err != nil {
				return l.fail(err)
			}
			continue
		}
		run := buf[:n]
		buf = buf[n:]
		pos := s.size
		if _, err := s.log.WriteAt(run, pos); err != nil {
			return l.fail(err)
		}
		if pos == 0 {
			s.firstAppend = now
		}
		ni, nt := len(s.index), len(s.times)
		l.mu.Lock()
		for rest := run; len(rest) > 0; {
			b, r, _ := record.Next(rest)
			s.track(b, pos, l.interval)
			if l.epochs.assign(b.LeaderEpoch(), b.BaseOffset()) {
				l.epochsDirty = true
			}
			pos += int64(len(b))
			rest = r
		}
		l.end = s.next
		s.dirty = true
		l.mu.Unlock()
		for rest := run; len(rest) > 0; {
			b, r, _ := record.Next(rest)
			l.producers.update(b)
			rest = r
		}
		if err := l.writeIndexTail(s, ni, nt); err != nil {
			return l.fail(err)
		}
	}
	return nil
}

// writeIndexTail appends s's index entries from ni and time entries from nt
// to its index files. The caller holds wmu.
func (l *Log) writeIndexTail(s *segment, ni, nt int) error {
	if len(s.index) > ni {
		l.scratch = appendIndexEntries(l.scratch[:0], s.index[ni:])
		if _, err := s.idx.Write(l.scratch); err != nil {
			return err
		}
	}
	if len(s.times) > nt {
		l.scratch = appendTimeEntries(l.scratch[:0], s.times[nt:])
		if _, err := s.tidx.Write(l.scratch); err != nil {
			return err
		}
	}
	return nil
}

// roll seals the active segment and starts a new one at EndOffset, taking a
// producer-state snapshot there. Nothing is fsynced: the sealed segment's
// files, the snapshot and the directory are, at the next Sync. The caller
// holds wmu.
func (l *Log) roll(now time.Time) error {
	old := l.segs[len(l.segs)-1]
	base := l.end
	snap, err := os.Create(offsetName(l.dir, base, snapshotSuffix))
	if err != nil {
		return err
	}
	if _, err := snap.Write(l.producers.encodeSnapshot()); err != nil {
		snap.Close()
		return err
	}
	f, err := createSegmentFile(l.dir, base)
	if err != nil {
		snap.Close()
		return err
	}
	s := newSegment(base, f)
	if err := s.openIndexesForAppend(l.dir); err != nil {
		snap.Close()
		f.Close()
		return err
	}
	s.sinceIndex, s.sinceTime = l.interval, l.interval
	nt := len(old.times)
	l.mu.Lock()
	old.seal()
	l.mu.Unlock()
	if err := l.writeIndexTail(old, len(old.index), nt); err != nil {
		snap.Close()
		s.closeFiles()
		return err
	}
	l.mu.Lock()
	l.pending = append(l.pending, old.idx, old.tidx, snap)
	old.idx, old.tidx = nil, nil
	l.segs = append(l.segs, s)
	l.dirDirty = true
	l.rolled = true
	l.mu.Unlock()
	l.logger.Debug("partlog: rolled segment", "base", base, "previous", old.base, "bytes", old.size)
	return nil
}

// Sync makes everything appended before it durable: it fsyncs the segment
// files written since the last Sync (a rolled one too) and the index files of
// segments sealed since, the directory when files were created or removed,
// the leader-epoch checkpoint when it changed, and after a roll the recovery
// point. It may run concurrently with appends (which it does not block while
// it fsyncs) and returns the durable end offset. A failed fsync fails the log.
func (l *Log) Sync() (durable int64, err error) {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	return l.syncLocked()
}

func (l *Log) syncLocked() (int64, error) {
	l.mu.Lock()
	if err := l.usable(); err != nil {
		l.mu.Unlock()
		return l.durable.Load(), err
	}
	end := l.end
	var logs []*os.File
	for _, s := range l.segs {
		if s.dirty {
			logs = append(logs, s.log)
			s.dirty = false
		}
	}
	pending := l.pending
	l.pending = nil
	dirDirty, rolled, epochsDirty := l.dirDirty, l.rolled, l.epochsDirty
	l.dirDirty, l.rolled, l.epochsDirty = false, false, false
	var epochs []byte
	if epochsDirty {
		epochs = l.epochs.encode()
	}
	activeBase := l.segs[len(l.segs)-1].base
	l.mu.Unlock()

	for _, f := range logs {
		if err := fdatasync(f); err != nil {
			return l.durable.Load(), l.fail(err)
		}
	}
	for _, f := range pending {
		err := f.Sync()
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return l.durable.Load(), l.fail(err)
		}
	}
	if dirDirty {
		if err := boltfile.SyncDir(l.dir); err != nil {
			return l.durable.Load(), l.fail(err)
		}
	}
	if epochsDirty {
		if err := writeFileAtomic(offsetNameRaw(l.dir, epochFile), epochs); err != nil {
			return l.durable.Load(), l.fail(err)
		}
	}
	if rolled {
		if err := writeOffsetFile(offsetNameRaw(l.dir, recoveryFile), activeBase); err != nil {
			return l.durable.Load(), l.fail(err)
		}
	}
	if end > l.durable.Load() {
		l.durable.Store(end)
	}
	return end, nil
}

// EndOffset is the log end offset: the offset the next appended record gets.
func (l *Log) EndOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.end
}

// DurableOffset is the end offset as of the last Sync (or Open): records
// below it survive a crash.
func (l *Log) DurableOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return min(l.durable.Load(), l.end)
}

// StartOffset is the first offset the log holds (after retention or
// TruncateFullyAndStartAt).
func (l *Log) StartOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.start
}

// LastEpoch is the latest leader epoch in the log's epoch cache, -1 when
// none.
func (l *Log) LastEpoch() int32 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.last()
}

// EndOffsetForEpoch answers a follower's OffsetsForLeaderEpoch: the largest
// epoch <= epoch the log has, and the start offset of the epoch after it
// (EndOffset when it is the latest); (-1, -1) when the log has none.
func (l *Log) EndOffsetForEpoch(epoch int32) (foundEpoch int32, end int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.endFor(epoch, l.end)
}

// Size is the bytes of all segments.
func (l *Log) Size() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.segs {
		n += s.size
	}
	return n
}

// Segments is the number of segment files.
func (l *Log) Segments() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.segs)
}

// RecoveredTruncatedBytes is how many bytes Open cut from torn or corrupt
// tails.
func (l *Log) RecoveredTruncatedBytes() int64 { return l.recoveredTruncated }

// Dir is the log's directory.
func (l *Log) Dir() string { return l.dir }

// Close syncs the log, snapshots the producer state at the end (so the next
// Open replays nothing) and closes every file. Calls after the first return
// ErrClosed.
func (l *Log) Close() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.closed {
		return ErrClosed
	}
	_, err := l.syncLocked()
	if err == nil {
		err = writeFileAtomic(offsetName(l.dir, l.end, snapshotSuffix), l.producers.encodeSnapshot())
	}
	if err == nil {
		err = writeOffsetFile(offsetNameRaw(l.dir, recoveryFile), l.segs[len(l.segs)-1].base)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for _, s := range l.segs {
		if cerr := s.closeFiles(); err == nil {
			err = cerr
		}
	}
	for _, f := range l.pending {
		f.Close()
	}
	l.pending = nil
	return err
}

// Remove closes the log and deletes its directory.
func (l *Log) Remove() error {
	if err := l.Close(); err != nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrFailed) {
		return err
	}
	return os.RemoveAll(l.dir)
}
