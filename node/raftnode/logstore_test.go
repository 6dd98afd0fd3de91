package raftnode

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/raftnode/wal"
)

func boltWithLog(t *testing.T, dir string, first, last uint64) *raftboltdb.BoltStore {
	t.Helper()
	bolt, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db"), NoSync: true})
	require.NoError(t, err)
	t.Cleanup(func() { bolt.Close() })
	var logs []*raft.Log
	for i := first; i <= last; i++ {
		logs = append(logs, &raft.Log{Index: i, Term: 2, Type: raft.LogCommand, Data: fmt.Appendf(nil, "e%d", i)})
	}
	require.NoError(t, bolt.StoreLogs(logs))
	return bolt
}

func requireEntries(t *testing.T, s raft.LogStore, first, last uint64) {
	t.Helper()
	f, err := s.FirstIndex()
	require.NoError(t, err)
	l, err := s.LastIndex()
	require.NoError(t, err)
	require.Equal(t, [2]uint64{first, last}, [2]uint64{f, l})
	for i := first; i <= last && last > 0; i++ {
		var e raft.Log
		require.NoError(t, s.GetLog(i, &e))
		require.Equal(t, fmt.Sprintf("e%d", i), string(e.Data))
	}
}

func TestOpenLogStoreMovesABoltLogToTheWAL(t *testing.T) {
	dir := t.TempDir()
	bolt := boltWithLog(t, dir, 5, 2500) // more than one migration batch
	cfg := Config{DataDir: dir, LogStore: LogStoreWAL, NoSync: true}
	log, closeLog, err := openLogStore(cfg, bolt, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	requireEntries(t, log, 5, 2500)
	requireEntries(t, bolt, 0, 0)
	require.NoError(t, closeLog())

	// Reopened: the WAL keeps the log, nothing is moved twice.
	log, closeLog, err = openLogStore(cfg, bolt, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	requireEntries(t, log, 5, 2500)
	require.NoError(t, closeLog())

	// Going back to raft-boltdb would lose the log: refused.
	_, _, err = openLogStore(Config{DataDir: dir, LogStore: LogStoreBoltDB}, bolt, slog.New(slog.DiscardHandler))
	require.ErrorContains(t, err, `start with log store "wal"`)
}

func TestOpenLogStoreAfterACrashMidMigrationKeepsTheWAL(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{DataDir: dir, LogStore: LogStoreWAL, NoSync: true}
	bolt := boltWithLog(t, dir, 1, 10)
	log, closeLog, err := openLogStore(cfg, bolt, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.NoError(t, closeLog())
	// As if the process died after copying but before deleting from bolt.
	require.NoError(t, bolt.StoreLogs([]*raft.Log{{Index: 1, Term: 9, Data: []byte("stale")}}))

	log, closeLog, err = openLogStore(cfg, bolt, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer closeLog()
	requireEntries(t, log, 1, 10)
	requireEntries(t, bolt, 0, 0)
}

func TestOpenLogStoreBoltDB(t *testing.T) {
	dir := t.TempDir()
	bolt := boltWithLog(t, dir, 1, 3)
	log, closeLog, err := openLogStore(Config{DataDir: dir, LogStore: LogStoreBoltDB}, bolt, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Same(t, bolt, log)
	require.NoError(t, closeLog())
	requireEntries(t, bolt, 1, 3)
}

func TestValidateLogStore(t *testing.T) {
	cfg := DefaultConfig()
	cfg.LogStore = "rocksdb"
	require.ErrorContains(t, cfg.Validate(), `log_store "rocksdb" must be "wal" or "boltdb"`)
}

// TestGapResetLogForgetsCachedEntries: an append past the end empties the log,
// and the cache in front of it too (raft.LogCache alone would still answer
// for the old indexes).
func TestGapResetLogForgetsCachedEntries(t *testing.T) {
	w, err := wal.Open(wal.Options{Dir: t.TempDir(), NoSync: true})
	require.NoError(t, err)
	defer w.Close()
	cache, err := raft.NewLogCache(64, w)
	require.NoError(t, err)
	logs := gapResetLog{LogCache: cache}
	var entries []*raft.Log
	for i := uint64(1); i <= 10; i++ {
		entries = append(entries, &raft.Log{Index: i, Term: 1, Data: fmt.Appendf(nil, "e%d", i)})
	}
	require.NoError(t, logs.StoreLogs(entries))
	require.NoError(t, logs.StoreLog(&raft.Log{Index: 100, Term: 2, Data: []byte("e100")}))
	var e raft.Log
	require.ErrorIs(t, logs.GetLog(5, &e), raft.ErrLogNotFound)
	requireEntries(t, logs, 100, 100)
	require.NoError(t, logs.StoreLog(&raft.Log{Index: 101, Term: 2, Data: []byte("e101")}))
	requireEntries(t, logs, 100, 101)
}
