package raftnode

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/prometheus/client_golang/prometheus"

	"cairn.dev/cairn/node/raftnode/wal"
)

// walDir is the log's directory under the data dir when LogStore is LogStoreWAL.
const walDir = "wal"

// migrateBatch is how many entries one append moves from raft-boltdb to the WAL.
const migrateBatch = 1024

// openLogStore returns the Raft log for cfg. bolt is the stable store, which
// also holds the log for LogStoreBoltDB. With LogStoreWAL a log still in bolt
// (a data dir from before the WAL, or one run with boltdb) is copied into the
// WAL and then deleted from bolt; a crash in between leaves both, and the next
// open uses the WAL's copy. The returned close func releases the log (a no-op
// for bolt, which the caller closes).
func openLogStore(cfg Config, bolt *raftboltdb.BoltStore, logger *slog.Logger) (raft.LogStore, func() error, error) {
	dir := filepath.Join(cfg.DataDir, walDir)
	if cfg.LogStore == LogStoreBoltDB {
		if segs, _ := filepath.Glob(filepath.Join(dir, "*.wal")); len(segs) > 0 {
			return nil, nil, fmt.Errorf("raftnode: the Raft log in %s is a WAL; start with log store %q", dir, LogStoreWAL)
		}
		return bolt, func() error { return nil }, nil
	}
	w, err := wal.Open(wal.Options{Dir: dir, NoSync: cfg.NoSync, Logger: logger})
	if err != nil {
		return nil, nil, fmt.Errorf("raftnode: open log: %w", err)
	}
	if err := migrateBoltLog(bolt, w, logger); err != nil {
		w.Close()
		return nil, nil, err
	}
	return w, w.Close, nil
}

// migrateBoltLog moves the entries bolt holds into an empty w, or drops them
// from bolt when w already has a log.
func migrateBoltLog(bolt *raftboltdb.BoltStore, w *wal.Log, logger *slog.Logger) error {
	first, err := bolt.FirstIndex()
	if err != nil {
		return fmt.Errorf("raftnode: read raft-boltdb log: %w", err)
	}
	last, err := bolt.LastIndex()
	if err != nil {
		return fmt.Errorf("raftnode: read raft-boltdb log: %w", err)
	}
	if last == 0 {
		return nil
	}
	if wlast, err := w.LastIndex(); err != nil {
		return err
	} else if wlast == 0 {
		logger.Info("moving the Raft log from raft-boltdb to the WAL", "first", first, "last", last)
		batch := make([]*raft.Log, 0, migrateBatch)
		for i := first; i <= last; i++ {
			e := new(raft.Log)
			if err := bolt.GetLog(i, e); err != nil {
				return fmt.Errorf("raftnode: read raft-boltdb log entry %d: %w", i, err)
			}
			if batch = append(batch, e); len(batch) == migrateBatch || i == last {
				if err := w.StoreLogs(batch); err != nil {
					return fmt.Errorf("raftnode: move Raft log to the WAL: %w", err)
				}
				batch = batch[:0]
			}
		}
	}
	if err := bolt.DeleteRange(first, last); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("raftnode: drop raft-boltdb log after moving it: %w", err)
	}
	return nil
}

// gapResetLog is the log Raft uses: a cache of recent entries over the store.
// An append that starts past the end (Raft makes one only after installing a
// snapshot that covers the gap) first deletes the whole log through the cache,
// so that neither the store nor the cache keeps entries from before the gap;
// raft.LogCache forgets entries only on DeleteRange.
type gapResetLog struct {
	*raft.LogCache
	// appendDuration, when set, times each append (fsync included).
	appendDuration prometheus.Histogram
}

// StoreLogs appends logs, emptying the log first when they start past its end.
func (g gapResetLog) StoreLogs(logs []*raft.Log) error {
	if g.appendDuration != nil {
		defer observe(g.appendDuration, time.Now())
	}
	if len(logs) > 0 {
		last, err := g.LastIndex()
		if err != nil {
			return err
		}
		if last != 0 && logs[0].Index > last+1 {
			first, err := g.FirstIndex()
			if err != nil {
				return err
			}
			if err := g.DeleteRange(first, last); err != nil {
				return err
			}
		}
	}
	return g.LogCache.StoreLogs(logs)
}

// StoreLog appends one entry; see StoreLogs.
func (g gapResetLog) StoreLog(l *raft.Log) error { return g.StoreLogs([]*raft.Log{l}) }
