package partlog

import (
	"errors"
	"os"

	"cairn.dev/cairn/node/boltfile"
	"cairn.dev/cairn/streamd/record"
)

// ErrNotCompacted: Compact on a log opened without Options.Compact.
var ErrNotCompacted = errors.New("partlog: compaction not enabled")

// Compact rewrites the closed segments keeping, for each key, only its latest
// record in the whole log; records with a nil key stay, and a tombstone (nil
// value) stays until its timestamp is DeleteRetention old. Offsets do not
// change: a batch keeps its base and last offset, epoch and producer even
// when it loses records (down to an empty batch), so the log stays
// contiguous batch by batch and readers, followers and the producer state
// see no gaps between batches. Each segment is replaced atomically (a
// .cleaned file fsynced, its indexes removed, renamed over, rebuilt); a crash
// leaves the old or the new segment. The active segment is never touched.
func (l *Log) Compact() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if !l.opts.Compact {
		return ErrNotCompacted
	}
	if err := l.usable(); err != nil {
		return err
	}
	latest := map[string]int64{}
	if err := l.scanFrom(l.start, func(b record.Batch) {
		b.Records(func(r record.Record) bool {
			if r.Key != nil {
				latest[string(r.Key)] = r.Offset
			}
			return true
		})
	}); err != nil {
		return err
	}
	tombstoneCutoff := l.opts.Now().Add(-l.opts.DeleteRetention).UnixMilli()
	l.mu.RLock()
	sealed := l.segs[:len(l.segs)-1]
	l.mu.RUnlock()
	for _, s := range sealed {
		if err := l.compactSegment(s, latest, tombstoneCutoff); err != nil {
			return l.fail(err)
		}
	}
	return nil
}

func (l *Log) compactSegment(s *segment, latest map[string]int64, tombstoneCutoff int64) error {
	var out []byte
	var recs []record.Record
	changed := false
	if _, err := scanBatches(s.log, 0, s.size, false, func(b record.Batch, _ int64) bool {
		recs = recs[:0]
		b.Records(func(r record.Record) bool {
			keep := r.Key == nil || latest[string(r.Key)] == r.Offset
			if keep && r.Value == nil && r.Timestamp < tombstoneCutoff {
				keep = false
			}
			if keep {
				recs = append(recs, r)
			}
			return true
		})
		if len(recs) == b.Count() {
			out = append(out, b...)
			return true
		}
		changed = true
		out = record.AppendBatchWith(out, record.BatchHeader{
			BaseOffset: b.BaseOffset(), LeaderEpoch: b.LeaderEpoch(), Attributes: b.Attributes(),
			LastOffsetDelta: b.LastOffsetDelta(), Producer: b.Producer(),
		}, recs)
		return true
	}); err != nil {
		return err
	}
	if !changed {
		return nil
	}
	cleaned := offsetName(l.dir, s.base, logSuffix+cleanedSuffix)
	f, err := os.Create(cleaned)
	if err != nil {
		return err
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	// Indexes first: a crash after the rename rebuilds them from the new log.
	for _, suf := range []string{indexSuffix, timeIndexSuffix} {
		if err := os.Remove(offsetName(l.dir, s.base, suf)); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	if err := boltfile.SyncDir(l.dir); err != nil {
		return err
	}
	if err := os.Rename(cleaned, offsetName(l.dir, s.base, logSuffix)); err != nil {
		return err
	}
	if err := boltfile.SyncDir(l.dir); err != nil {
		return err
	}
	nf, err := os.OpenFile(offsetName(l.dir, s.base, logSuffix), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	s.log.Close()
	s.log = nf
	next := s.next
	if _, err := s.recover(l.dir, l.interval, nil); err != nil {
		return err
	}
	if s.next != next {
		return errors.New("partlog: compacted segment ends at another offset")
	}
	l.pendingIndexSync(s)
	l.dirDirty = true
	return nil
}
