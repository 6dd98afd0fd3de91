package boltsm

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/boltfile"
	"cairn.dev/cairn/node/raftnode"
)

var (
	errTestClosed  = errors.New("test: closed")
	errTestCorrupt = errors.New("test: corrupt")
	errDisk        = errors.New("test: disk on fire")
	bucketKV       = []byte("kv")
)

// kvApply is a test state machine: "k=v" puts v at k and answers "ok k",
// "get k" answers the value without changing anything, "fail" is a storage
// failure.
func kvApply(tx *bbolt.Tx, e raftnode.Entry) ([]byte, bool, error) {
	cmd := string(e.Data)
	switch {
	case cmd == "fail":
		return nil, false, errDisk
	case strings.HasPrefix(cmd, "get "):
		return append([]byte(nil), tx.Bucket(bucketKV).Get([]byte(cmd[4:]))...), false, nil
	}
	k, v, _ := strings.Cut(cmd, "=")
	if err := tx.Bucket(bucketKV).Put([]byte(k), []byte(v)); err != nil {
		return nil, false, err
	}
	return []byte("ok " + k), true, nil
}

func testOptions(t testing.TB) Options {
	return Options{NoSync: true, Name: "test", ErrClosed: errTestClosed, ErrCorrupt: errTestCorrupt,
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))}
}

func openKV(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, [][]byte{bucketKV}, kvApply, testOptions(t))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func entries(first uint64, cmds ...string) []raftnode.Entry {
	out := make([]raftnode.Entry, len(cmds))
	for i, c := range cmds {
		out[i] = raftnode.Entry{Index: first + uint64(i), Term: 1, Data: []byte(c)}
	}
	return out
}

func get(t *testing.T, s *Store, k string) string {
	t.Helper()
	var v string
	require.NoError(t, s.View(func(tx *bbolt.Tx) error {
		v = string(tx.Bucket(bucketKV).Get([]byte(k)))
		return nil
	}))
	return v
}

func TestApplyBatchSkipsAppliedAndPersistsIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sm.db")
	s := openKV(t, path)
	require.Zero(t, s.AppliedIndex())

	out, err := s.ApplyBatch(entries(1, "a=1", "b=2", "get a"))
	require.NoError(t, err)
	require.Equal(t, [][]byte{[]byte("ok a"), []byte("ok b"), []byte("1")}, out)
	require.EqualValues(t, 3, s.AppliedIndex())
	require.EqualValues(t, 3, s.LastApplied())

	// A replay overlapping the applied index applies only the new entries;
	// the skipped ones answer empty, not nil.
	out, err = s.ApplyBatch(entries(2, "b=replayed", "get missing", "c=3"))
	require.NoError(t, err)
	require.Equal(t, [][]byte{{}, {}, []byte("ok c")}, out)
	require.Equal(t, "2", get(t, s, "b"))
	require.EqualValues(t, 4, s.AppliedIndex())

	// A batch wholly at or below the index, and an empty one, change nothing.
	out, err = s.ApplyBatch(entries(1, "a=x", "b=x"))
	require.NoError(t, err)
	require.Equal(t, [][]byte{{}, {}}, out)
	out, err = s.ApplyBatch(nil)
	require.NoError(t, err)
	require.Empty(t, out)

	require.NoError(t, s.Close())
	s2 := openKV(t, path)
	require.EqualValues(t, 4, s2.AppliedIndex())
	require.Equal(t, "3", get(t, s2, "c"))
}

func TestChangedOnlyAfterAChange(t *testing.T) {
	s := openKV(t, filepath.Join(t.TempDir(), "sm.db"))
	ch := s.Changed()
	_, err := s.ApplyBatch(entries(1, "get a"))
	require.NoError(t, err)
	select {
	case <-ch:
		t.Fatal("a batch that changed nothing woke Changed")
	default:
	}
	require.EqualValues(t, 1, s.AppliedIndex(), "a read-only batch still advances the index")

	_, err = s.ApplyBatch(entries(2, "get a", "a=1"))
	require.NoError(t, err)
	<-ch // closed: the test would hang otherwise
	require.NotEqual(t, ch, s.Changed(), "a new channel for the next change")
}

func TestStorageFailureRollsBackAndStops(t *testing.T) {
	s := openKV(t, filepath.Join(t.TempDir(), "sm.db"))
	_, err := s.ApplyBatch(entries(1, "a=1"))
	require.NoError(t, err)

	_, err = s.ApplyBatch(entries(2, "b=2", "fail"))
	require.ErrorIs(t, err, errDisk)
	require.EqualValues(t, 1, s.AppliedIndex())
	require.Empty(t, get(t, s, "b"), "the whole batch is rolled back")

	_, err = s.ApplyBatch(entries(2, "b=2"))
	require.ErrorIs(t, err, errDisk, "later batches are refused with the failure")
	_, err = s.Snapshot()
	require.ErrorIs(t, err, errDisk)
	require.ErrorIs(t, s.Restore(strings.NewReader("x")), errDisk)
	require.Equal(t, "1", get(t, s, "a"), "reads still see the committed state")
}

func TestSnapshotRestore(t *testing.T) {
	dir := t.TempDir()
	a := openKV(t, filepath.Join(dir, "a.db"))
	_, err := a.ApplyBatch(entries(1, "x=1", "y=2"))
	require.NoError(t, err)
	snap, err := a.Snapshot()
	require.NoError(t, err)
	// The snapshot is written from another goroutine than the apply loop
	// (a commit that grows the file waits for its release); applies go on
	// meanwhile, and it keeps its point in time.
	var buf bytes.Buffer
	written := make(chan error, 1)
	go func() {
		defer snap.Release()
		_, err := snap.WriteTo(&buf)
		written <- err
	}()
	_, err = a.ApplyBatch(entries(3, "z=3"))
	require.NoError(t, err)
	require.NoError(t, <-written)

	b := openKV(t, filepath.Join(dir, "b.db"))
	_, err = b.ApplyBatch(entries(1, "old=1"))
	require.NoError(t, err)
	ch := b.Changed()
	require.NoError(t, b.Restore(bytes.NewReader(buf.Bytes())))
	<-ch
	require.EqualValues(t, 2, b.AppliedIndex())
	require.Equal(t, "2", get(t, b, "y"))
	require.Empty(t, get(t, b, "z"))
	require.Empty(t, get(t, b, "old"))

	// The restored store goes on from the snapshot's index.
	out, err := b.ApplyBatch(entries(2, "y=replayed", "z=3"))
	require.NoError(t, err)
	require.Equal(t, [][]byte{{}, []byte("ok z")}, out)
}

func TestRestoreRefusesForeignSnapshots(t *testing.T) {
	dir := t.TempDir()
	s := openKV(t, filepath.Join(dir, "sm.db"))
	_, err := s.ApplyBatch(entries(1, "a=1"))
	require.NoError(t, err)

	err = s.Restore(strings.NewReader("not a database"))
	require.ErrorIs(t, err, errTestCorrupt)

	// A bbolt file of another state machine: no kv bucket.
	other, err := Open(filepath.Join(dir, "other.db"), [][]byte{[]byte("else")}, kvApply, testOptions(t))
	require.NoError(t, err)
	snap, err := other.Snapshot()
	require.NoError(t, err)
	var buf bytes.Buffer
	_, err = snap.WriteTo(&buf)
	require.NoError(t, err)
	snap.Release()
	require.NoError(t, other.Close())
	err = s.Restore(&buf)
	require.ErrorIs(t, err, errTestCorrupt)
	require.ErrorContains(t, err, "no kv bucket")

	require.Equal(t, "1", get(t, s, "a"), "a refused snapshot keeps the state")
	require.NoFileExists(t, boltfile.StagePath(filepath.Join(dir, "sm.db")))
	_, err = s.ApplyBatch(entries(2, "b=2"))
	require.NoError(t, err, "a refused snapshot does not stop the store")
}

func TestClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sm.db")
	s, err := Open(path, [][]byte{bucketKV}, kvApply, testOptions(t))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "Close may be called again")
	_, err = s.ApplyBatch(entries(1, "a=1"))
	require.ErrorIs(t, err, errTestClosed)
	_, err = s.Snapshot()
	require.ErrorIs(t, err, errTestClosed)
	require.ErrorIs(t, s.View(func(*bbolt.Tx) error { return nil }), errTestClosed)

	// Without the daemon's sentinels the host's own are used.
	s, err = Open(path, [][]byte{bucketKV}, kvApply, Options{NoSync: true})
	require.NoError(t, err)
	require.NoError(t, s.Close())
	_, err = s.ApplyBatch(entries(1, "a=1"))
	require.ErrorIs(t, err, ErrClosed)
}

func TestOpenRemovesStaleStageAndRefusesCorruptIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sm.db")
	require.NoError(t, os.WriteFile(boltfile.StagePath(path), []byte("half a snapshot"), 0o600))
	s, err := Open(path, [][]byte{bucketKV}, kvApply, testOptions(t))
	require.NoError(t, err)
	require.NoFileExists(t, boltfile.StagePath(path))
	require.NoError(t, s.Close())

	db, err := bbolt.Open(path, 0o600, nil)
	require.NoError(t, err)
	require.NoError(t, db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket(metaBucket).Put(appliedKey, []byte("short"))
	}))
	require.NoError(t, db.Close())
	_, err = Open(path, [][]byte{bucketKV}, kvApply, testOptions(t))
	require.ErrorIs(t, err, errTestCorrupt)
}
