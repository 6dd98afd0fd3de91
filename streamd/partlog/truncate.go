package partlog

import (
	"fmt"
	"os"
	"slices"

	"cairn.dev/cairn/node/boltfile"
	"cairn.dev/cairn/streamd/record"
)

// TruncateTo removes offset and everything after it: later segments are
// deleted and the one holding offset is cut at the start of the batch that
// holds it (so when offset is inside a batch, the new EndOffset is that
// batch's base). The epoch cache and producer state follow (the state is
// rebuilt from the latest snapshot at or below the new end); the result is
// durable when TruncateTo returns. offset >= EndOffset changes nothing;
// offset < StartOffset is ErrOffsetOutOfRange.
func (l *Log) TruncateTo(offset int64) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.usable(); err != nil {
		return err
	}
	if offset >= l.end {
		return nil
	}
	if offset < l.start {
		return fmt.Errorf("%w: truncate to %d below the start offset %d", ErrOffsetOutOfRange, offset, l.start)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.truncateLocked(offset); err != nil {
		l.failed = err
		return fmt.Errorf("%w: %w", ErrFailed, err)
	}
	return nil
}

func (l *Log) truncateLocked(offset int64) error {
	i := l.segmentFor(offset)
	s := l.segs[i]
	cut := int64(-1)
	if _, err := scanBatches(s.log, s.lookup(offset), s.size, false, func(b record.Batch, pos int64) bool {
		if b.NextOffset() > offset {
			cut = pos
			return false
		}
		return true
	}); err != nil {
		return err
	}
	if cut < 0 {
		cut = s.size
	}
	for _, t := range l.segs[i+1:] {
		if err := t.removeFiles(l.dir); err != nil {
			return err
		}
	}
	l.segs = l.segs[:i+1]
	if s.idx != nil {
		s.idx.Close()
		s.tidx.Close()
		s.idx, s.tidx = nil, nil
	}
	if err := s.log.Truncate(cut); err != nil {
		return err
	}
	if err := fdatasync(s.log); err != nil {
		return err
	}
	if _, err := s.recover(l.dir, l.interval, nil); err != nil {
		return err
	}
	if err := s.openIndexesForAppend(l.dir); err != nil {
		return err
	}
	s.dirty = false
	l.end = s.next
	if l.durable.Load() > l.end {
		l.durable.Store(l.end)
	}
	l.epochs.truncateFrom(l.end)
	if err := writeFileAtomic(offsetNameRaw(l.dir, epochFile), l.epochs.encode()); err != nil {
		return err
	}
	l.epochsDirty = false
	if err := writeOffsetFile(offsetNameRaw(l.dir, recoveryFile), s.base); err != nil {
		return err
	}
	snaps, err := l.snapshotOffsets()
	if err != nil {
		return err
	}
	if err := l.rebuildProducers(snaps); err != nil {
		return err
	}
	return boltfile.SyncDir(l.dir)
}

// snapshotOffsets lists the producer snapshots in the directory, ascending.
func (l *Log) snapshotOffsets() ([]int64, error) {
	ents, err := os.ReadDir(l.dir)
	if err != nil {
		return nil, err
	}
	var snaps []int64
	for _, e := range ents {
		if o, ok := parseOffsetName(e.Name(), snapshotSuffix); ok {
			snaps = append(snaps, o)
		}
	}
	slices.Sort(snaps)
	return snaps, nil
}

// TruncateFullyAndStartAt empties the log and restarts it at offset, as a
// follower does when the leader's log starts past its end: every segment,
// snapshot, epoch and producer is removed, and StartOffset and EndOffset
// become offset. The result is durable when it returns.
func (l *Log) TruncateFullyAndStartAt(offset int64) error {
	if offset < 0 {
		return fmt.Errorf("%w: start offset %d", ErrOffsetOutOfRange, offset)
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.usable(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err := func() error {
		// The start offset first: a crash after the segments are gone
		// restarts the empty log there.
		if err := writeOffsetFile(offsetNameRaw(l.dir, logStartFile), offset); err != nil {
			return err
		}
		for _, s := range l.segs {
			if err := s.removeFiles(l.dir); err != nil {
				return err
			}
		}
		l.segs = nil
		snaps, err := l.snapshotOffsets()
		if err != nil {
			return err
		}
		for _, o := range snaps {
			if err := os.Remove(offsetName(l.dir, o, snapshotSuffix)); err != nil {
				return err
			}
		}
		f, err := createSegmentFile(l.dir, offset)
		if err != nil {
			return err
		}
		s := newSegment(offset, f)
		l.segs = []*segment{s}
		if err := s.openIndexesForAppend(l.dir); err != nil {
			return err
		}
		s.sinceIndex, s.sinceTime = l.interval, l.interval
		l.start, l.end = offset, offset
		l.durable.Store(offset)
		l.epochs = epochCache{}
		l.epochsDirty = false
		l.producers = producers{}
		if err := writeFileAtomic(offsetNameRaw(l.dir, epochFile), l.epochs.encode()); err != nil {
			return err
		}
		if err := writeOffsetFile(offsetNameRaw(l.dir, recoveryFile), offset); err != nil {
			return err
		}
		return boltfile.SyncDir(l.dir)
	}()
	if err != nil {
		l.failed = err
		return fmt.Errorf("%w: %w", ErrFailed, err)
	}
	return nil
}

// EnforceRetention deletes the oldest closed segments (never the active
// one) whose largest record timestamp is older than RetentionAge, and then
// those the log can lose and stay at least RetentionBytes; StartOffset moves
// to the first remaining segment, the epoch cache is trimmed to it and
// producer snapshots below it are dropped but the latest. Deletions are made
// durable by the next Sync. Only segments whose records all lie below limit
// go (the server passes the high watermark, so nothing a follower or
// consumer may still need to copy is deleted). It returns how many segments
// went.
func (l *Log) EnforceRetention(limit int64) (deletedSegments int, err error) {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if err := l.usable(); err != nil {
		return 0, err
	}
	l.mu.RLock()
	segs := slices.Clone(l.segs)
	l.mu.RUnlock()
	var total int64
	for _, s := range segs {
		total += s.size
	}
	n := 0
	if l.opts.RetentionAge > 0 {
		cutoff := l.opts.Now().Add(-l.opts.RetentionAge).UnixMilli()
		for n < len(segs)-1 && segs[n+1].base <= limit && segs[n].maxTS < cutoff {
			total -= segs[n].size
			n++
		}
	}
	if l.opts.RetentionBytes > 0 {
		for n < len(segs)-1 && segs[n+1].base <= limit && total-segs[n].size >= l.opts.RetentionBytes {
			total -= segs[n].size
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	l.mu.Lock()
	l.segs = l.segs[n:]
	l.start = max(l.start, l.segs[0].base)
	if l.epochs.truncateBefore(l.start) {
		l.epochsDirty = true
	}
	l.dirDirty = true
	start := l.start
	l.mu.Unlock()
	for _, s := range segs[:n] {
		l.logger.Info("partlog: retention deleted segment", "base", s.base, "bytes", s.size, "max_timestamp", s.maxTS)
		if err := s.removeFiles(l.dir); err != nil {
			return n, l.fail(err)
		}
	}
	snaps, err := l.snapshotOffsets()
	if err != nil {
		return n, l.fail(err)
	}
	for i, o := range snaps {
		if o < start && i+1 < len(snaps) && snaps[i+1] <= start {
			if err := os.Remove(offsetName(l.dir, o, snapshotSuffix)); err != nil {
				return n, l.fail(err)
			}
		}
	}
	return n, nil
}
