package kvtxn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/raftkvtest"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// testDB starts a one-node raftkv and returns a DB on it, its client and the
// node.
func testDB(t *testing.T, opts Options) (*DB, *client.Client, *raftkvtest.Node) {
	t.Helper()
	n := raftkvtest.StartNode(t)
	kv, err := client.New(client.Config{Endpoints: []string{n.Addr()}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = kv.Close() })
	return New(kv, opts), kv, n
}

func put(t *testing.T, kv *client.Client, k, v string) {
	t.Helper()
	_, err := kv.Put(t.Context(), k, v)
	require.NoError(t, err)
}

func get(t *testing.T, tx *Txn, k string) (string, bool) {
	t.Helper()
	v, ok, err := tx.Get(t.Context(), []byte(k))
	require.NoError(t, err)
	return string(v), ok
}

func scanAll(t *testing.T, tx *Txn, start, end string, limit int) []string {
	t.Helper()
	var out []string
	require.NoError(t, tx.Scan(t.Context(), []byte(start), []byte(end), limit, func(kv KV) (bool, error) {
		out = append(out, string(kv.Key)+"="+string(kv.Value))
		return true, nil
	}))
	return out
}

// countSends counts the txns db sends.
func countSends(db *DB) *atomic.Int64 {
	var n atomic.Int64
	send := db.send
	db.send = func(ctx context.Context, cmps []client.Cmp, then, els []client.Op) (*raftkvv1.TxnResponse, error) {
		n.Add(1)
		return send(ctx, cmps, then, els)
	}
	return &n
}

func requireConflict(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, ErrConflict)
	require.Equal(t, sqlerr.SerializationFailure, sqlerr.Code(err))
}

func TestSnapshotReadsStable(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{PageSize: 2})
	for _, k := range []string{"a", "b", "c", "d", "e"} {
		put(t, kv, k, "1")
	}
	tx := db.Begin(Serializable)
	v, _ := get(t, tx, "a")
	require.Equal(t, "1", v)
	r := tx.ReadRevision()
	require.NotZero(t, r)

	put(t, kv, "a", "2")
	put(t, kv, "c", "2")
	put(t, kv, "bb", "2")
	_, err := kv.Delete(t.Context(), "e")
	require.NoError(t, err)

	v, _ = get(t, tx, "a")
	require.Equal(t, "1", v, "the snapshot does not move")
	require.Equal(t, []string{"a=1", "b=1", "c=1", "d=1", "e=1"}, scanAll(t, tx, "a", "", 0), "pages of 2 at the snapshot")
	require.Equal(t, r, tx.ReadRevision())
	require.NoError(t, tx.Commit(t.Context()), "read-only: nothing to validate")

	fresh := db.Begin(Serializable)
	require.Equal(t, []string{"a=2", "b=1", "bb=2", "c=2", "d=1"}, scanAll(t, fresh, "a", "", 0))
}

func TestWriteSkewPrevented(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{})
	put(t, kv, "x", "1")
	put(t, kv, "y", "1")
	// Each transaction checks x+y >= 1 and sets one of them to 0.
	t1, t2 := db.Begin(Serializable), db.Begin(Serializable)
	for _, tx := range []*Txn{t1, t2} {
		get(t, tx, "x")
		get(t, tx, "y")
	}
	require.NoError(t, t1.Put([]byte("x"), []byte("0")))
	require.NoError(t, t2.Put([]byte("y"), []byte("0")))
	require.NoError(t, t1.Commit(t.Context()))
	requireConflict(t, t2.Commit(t.Context()))

	after := db.Begin(Serializable)
	x, _ := get(t, after, "x")
	y, _ := get(t, after, "y")
	require.Equal(t, []string{"0", "1"}, []string{x, y})
}

func TestScanConflicts(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{})
	del := func(t *testing.T, kv *client.Client, k string) {
		_, err := kv.Delete(t.Context(), k)
		require.NoError(t, err)
	}
	// Each case works in its own prefix p: the scanned range is [p+"r/", p+"r0").
	for i, tc := range []struct {
		name     string
		limit    int
		other    func(t *testing.T, kv *client.Client, p string)
		conflict bool
	}{
		{"delete inside scanned range", 0, func(t *testing.T, kv *client.Client, p string) { del(t, kv, p+"r/b") }, true},
		{"phantom insert inside scanned range", 0, func(t *testing.T, kv *client.Client, p string) { put(t, kv, p+"r/bb", "x") }, true},
		{"update inside scanned range", 0, func(t *testing.T, kv *client.Client, p string) { put(t, kv, p+"r/c", "x") }, true},
		{"insert outside the range", 0, func(t *testing.T, kv *client.Client, p string) { put(t, kv, p+"s/a", "x") }, false},
		{"insert past where a limited scan stopped", 2, func(t *testing.T, kv *client.Client, p string) { put(t, kv, p+"r/d", "x") }, false},
		{"insert before where a limited scan stopped", 2, func(t *testing.T, kv *client.Client, p string) { put(t, kv, p+"r/aa", "x") }, true},
		{"delete of the last key a limited scan saw", 2, func(t *testing.T, kv *client.Client, p string) { del(t, kv, p+"r/b") }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := fmt.Sprintf("case%d/", i)
			for _, k := range []string{"r/a", "r/b", "r/c"} {
				put(t, kv, p+k, "1")
			}
			tx := db.Begin(Serializable)
			got := scanAll(t, tx, p+"r/", p+"r0", tc.limit)
			if tc.limit > 0 {
				require.Len(t, got, tc.limit)
			}
			tc.other(t, kv, p)
			require.NoError(t, tx.Put([]byte(p+"out"), []byte("1")))
			err := tx.Commit(t.Context())
			if tc.conflict {
				requireConflict(t, err)
				resp, err := kv.Get(t.Context(), p+"out")
				require.NoError(t, err)
				require.Empty(t, resp.Kvs, "a failed commit writes nothing")
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func TestReadYourWrites(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{PageSize: 2})
	for _, k := range []string{"a", "c", "e", "f", "g", "h"} {
		put(t, kv, k, "old")
	}
	tx := db.Begin(Serializable)
	require.NoError(t, tx.Put([]byte("b"), []byte("new")))
	require.NoError(t, tx.Delete([]byte("c")))
	require.NoError(t, tx.Put([]byte("e"), []byte("new")))
	require.NoError(t, tx.DeleteRange([]byte("f"), []byte("h")))
	require.NoError(t, tx.Put([]byte("g"), []byte("again")))
	require.NoError(t, tx.Put([]byte("zz"), []byte("new")))

	for _, tc := range []struct {
		key, want string
		found     bool
	}{{"a", "old", true}, {"b", "new", true}, {"c", "", false}, {"e", "new", true}, {"f", "", false}, {"g", "again", true}, {"h", "old", true}, {"zz", "new", true}} {
		v, ok := get(t, tx, tc.key)
		require.Equal(t, tc.found, ok, tc.key)
		require.Equal(t, tc.want, v, tc.key)
	}
	want := []string{"a=old", "b=new", "e=new", "g=again", "h=old", "zz=new"}
	require.Equal(t, want, scanAll(t, tx, "", "", 0))
	require.Equal(t, want[:3], scanAll(t, tx, "", "", 3))
	require.Equal(t, []string{"e=new", "g=again"}, scanAll(t, tx, "d", "h", 0))

	// A scan sees the buffer as of its start, not fn's own writes.
	var seen []string
	require.NoError(t, tx.Scan(t.Context(), nil, nil, 0, func(kv KV) (bool, error) {
		seen = append(seen, string(kv.Key))
		return true, tx.Put(append([]byte("b"), kv.Key...), []byte("x"))
	}))
	require.Equal(t, []string{"a", "b", "e", "g", "h", "zz"}, seen)

	require.NoError(t, tx.Commit(t.Context()))
	after := db.Begin(Serializable)
	require.Equal(t, []string{"a=old", "b=new", "ba=x", "bb=x", "be=x", "bg=x", "bh=x", "bzz=x", "e=new", "g=again", "h=old", "zz=new"}, scanAll(t, after, "a", "", 0))
}

func TestReadOnlyCommitSendsNothing(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{})
	put(t, kv, "a", "1")
	sends := countSends(db)
	for _, iso := range []Isolation{Serializable, ReadCommitted} {
		tx := db.Begin(iso)
		get(t, tx, "a")
		scanAll(t, tx, "", "", 0)
		tx.LockForUpdate([]byte("a"))
		require.NoError(t, tx.Commit(t.Context()))
	}
	require.Zero(t, sends.Load())
	db.mu.Lock()
	require.Zero(t, db.lease, "no marker lease either")
	db.mu.Unlock()

	tx := db.Begin(Serializable)
	require.NoError(t, tx.Put([]byte("b"), []byte("1")))
	require.NoError(t, tx.Commit(t.Context()))
	require.Equal(t, int64(1), sends.Load(), "a commit is one txn")
}

func TestReadCommitted(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{})
	put(t, kv, "a", "1")
	put(t, kv, "b", "1")

	tx := db.Begin(ReadCommitted)
	v, _ := get(t, tx, "a")
	require.Equal(t, "1", v)
	put(t, kv, "a", "2")
	v, _ = get(t, tx, "a")
	require.Equal(t, "1", v, "one statement reads one revision")
	tx.StartStatement()
	v, _ = get(t, tx, "a")
	require.Equal(t, "2", v, "the next statement sees the new value")

	// Unlocked reads are not validated.
	put(t, kv, "b", "2")
	require.NoError(t, tx.Put([]byte("c"), []byte("1")))
	require.NoError(t, tx.Commit(t.Context()))

	// Locked keys are.
	tx = db.Begin(ReadCommitted)
	get(t, tx, "a")
	tx.LockForUpdate([]byte("a"))
	tx.StartStatement()
	get(t, tx, "b")
	put(t, kv, "a", "3")
	require.NoError(t, tx.Put([]byte("a"), []byte("4")))
	requireConflict(t, tx.Commit(t.Context()))

	// A lock taken before the statement's read gets that read's revision.
	tx = db.Begin(ReadCommitted)
	tx.LockForUpdate([]byte("b"))
	get(t, tx, "b")
	require.NoError(t, tx.Put([]byte("b"), []byte("5")))
	require.NoError(t, tx.Commit(t.Context()))
	tx = db.Begin(ReadCommitted)
	tx.LockForUpdate([]byte("b"))
	get(t, tx, "b")
	_, err := kv.Delete(t.Context(), "b")
	require.NoError(t, err)
	require.NoError(t, tx.Put([]byte("b"), []byte("6")))
	requireConflict(t, tx.Commit(t.Context()))
}

func TestLockForUpdateSerializable(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{})
	put(t, kv, "a", "1")
	tx := db.Begin(Serializable)
	tx.LockForUpdate([]byte("a")) // before any read: takes the first read's revision
	get(t, tx, "other")
	put(t, kv, "a", "2")
	require.NoError(t, tx.Put([]byte("x"), []byte("1")))
	requireConflict(t, tx.Commit(t.Context()))
}

func TestCompactedSnapshotConflicts(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{})
	put(t, kv, "a", "1")
	tx := db.Begin(Serializable)
	get(t, tx, "a")
	put(t, kv, "a", "2")
	resp, err := kv.Get(t.Context(), "a")
	require.NoError(t, err)
	_, err = kv.Compact(t.Context(), resp.Header.Revision)
	require.NoError(t, err)
	_, _, err = tx.Get(t.Context(), []byte("b"))
	requireConflict(t, err)
	require.Contains(t, err.(*sqlerr.Error).Detail, "compacted")
}

func TestLimits(t *testing.T) {
	t.Parallel()
	db, _, _ := testDB(t, Options{MaxWrites: 3, MaxWriteBytes: 40})
	tx := db.Begin(Serializable)
	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, tx.Put([]byte(k), []byte("1")))
	}
	require.NoError(t, tx.Put([]byte("a"), []byte("2")), "rewriting a buffered key adds no write")
	err := tx.Put([]byte("d"), []byte("1"))
	require.ErrorIs(t, err, ErrTooLarge)
	require.Equal(t, sqlerr.ProgramLimitExceeded, sqlerr.Code(err))
	require.Contains(t, err.Error(), "MaxWrites")
	require.Contains(t, err.Error(), "4")
	require.ErrorIs(t, tx.Delete([]byte("d")), ErrTooLarge)
	require.NoError(t, tx.Delete([]byte("a")), "a buffered key can still change")
	err = tx.Put([]byte("b"), []byte(strings.Repeat("v", 40)))
	require.ErrorIs(t, err, ErrTooLarge)
	require.Contains(t, err.Error(), "MaxWriteBytes")
	require.NoError(t, tx.DeleteRange([]byte("a"), []byte("z")), "a range replacing the keys it covers")
	require.NoError(t, tx.Put([]byte("m"), []byte("1")), "a put inside a deleted range counts twice")
	require.ErrorIs(t, tx.Put([]byte("n"), []byte("1")), ErrTooLarge)
	require.NoError(t, tx.Commit(t.Context()))
}

func TestReservedAndEmptyKeys(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{})
	tx := db.Begin(Serializable)
	require.ErrorIs(t, tx.Put([]byte(markerPrefix+"x"), nil), ErrReservedKey)
	require.ErrorIs(t, tx.Delete([]byte(markerPrefix+"x")), ErrReservedKey)
	require.Error(t, tx.Put(nil, []byte("v")))
	require.NoError(t, tx.Put([]byte("k"), []byte("v")))
	require.NoError(t, tx.Commit(t.Context()))
	markers, err := kv.Get(t.Context(), markerPrefix, client.WithPrefix())
	require.NoError(t, err)
	require.Len(t, markers.Kvs, 1)

	// Deleting everything keeps the markers.
	tx = db.Begin(Serializable)
	require.NoError(t, tx.DeleteRange(nil, nil))
	require.NoError(t, tx.Put([]byte("kept"), []byte("1")))
	require.NoError(t, tx.Commit(t.Context()))
	all, err := kv.Get(t.Context(), "\x00", client.WithFromKey())
	require.NoError(t, err)
	var keys []string
	for _, kv := range all.Kvs {
		if !strings.HasPrefix(string(kv.Key), markerPrefix) {
			keys = append(keys, string(kv.Key))
		}
	}
	require.Equal(t, []string{"kept"}, keys)
	markers, err = kv.Get(t.Context(), markerPrefix, client.WithPrefix())
	require.NoError(t, err)
	require.Len(t, markers.Kvs, 2)

	for _, op := range []func() error{
		func() error { return tx.Put([]byte("a"), nil) },
		func() error { return tx.Commit(t.Context()) },
		func() error { _, _, err := tx.Get(t.Context(), []byte("a")); return err },
	} {
		require.ErrorIs(t, op(), ErrTxnDone)
	}
}

func TestMarkersOnRotatingLeases(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{})
	commit := func(k string) {
		tx := db.Begin(Serializable)
		require.NoError(t, tx.Put([]byte(k), []byte("1")))
		require.NoError(t, tx.Commit(t.Context()))
	}
	commit("a")
	commit("b")
	db.mu.Lock()
	first := db.lease
	db.leaseRotate = 0 // the next commit takes a new lease
	db.mu.Unlock()
	ttl, err := kv.TimeToLive(t.Context(), first, true)
	require.NoError(t, err)
	require.Equal(t, int64(markerLeaseTTL.Seconds()), ttl.GrantedTtl)
	require.Len(t, ttl.Keys, 2, "both markers ride on the lease")
	commit("c")
	db.mu.Lock()
	second := db.lease
	db.mu.Unlock()
	require.NotEqual(t, first, second)

	// A revoked lease (as after expiry) deletes its markers; the next commit
	// notices the lease is gone and takes a new one.
	_, err = kv.Revoke(t.Context(), second)
	require.NoError(t, err)
	db.mu.Lock()
	db.leaseRotate = markerLeaseRotate
	db.mu.Unlock()
	commit("d")
	db.mu.Lock()
	require.NotEqual(t, second, db.lease)
	db.mu.Unlock()
	markers, err := kv.Get(t.Context(), markerPrefix, client.WithPrefix())
	require.NoError(t, err)
	require.Len(t, markers.Kvs, 3, "a, b and d; c's went with its lease")
}

func TestErrorsNameTheirLimit(t *testing.T) {
	err := tooLargeError("it would write %d keys or ranges, the limit (MaxWrites) is %d", 11, 10)
	require.Equal(t, "transaction too large: it would write 11 keys or ranges, the limit (MaxWrites) is 10 (SQLSTATE 54000)", err.Error())
	require.True(t, errors.Is(err, ErrTooLarge))
	require.Equal(t, fmt.Sprint(sqlerr.StatementCompletionUnknown), sqlerr.Code(ambiguousError(errors.New("x"))))
}

// TestServerLimitIsTooLarge: a commit raftkv refuses for its size is
// ErrTooLarge naming raftkv's limit, and writes nothing.
func TestServerLimitIsTooLarge(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{MaxWriteBytes: 8 << 20})
	tx := db.Begin(Serializable)
	require.NoError(t, tx.Put([]byte("big"), make([]byte, 2<<20)))
	err := tx.Commit(t.Context())
	require.ErrorIs(t, err, ErrTooLarge)
	require.Equal(t, sqlerr.ProgramLimitExceeded, sqlerr.Code(err))
	require.Contains(t, err.Error(), "max_request_bytes")
	require.False(t, keyExists(t, kv, "big"))
}

// TestReadSpansCollapse: past MaxReadSpans the read set gets coarser — a
// change between two keys read then conflicts — but never misses a key read.
func TestReadSpansCollapse(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{MaxReadSpans: 2})
	run := func(change string) error {
		tx := db.Begin(Serializable)
		for _, k := range []string{"a/1", "a/3", "a/5", "b/1"} {
			get(t, tx, k)
		}
		require.LessOrEqual(t, len(tx.spans.spans), 2)
		put(t, kv, change, "x")
		require.NoError(t, tx.Put([]byte("w"), []byte("1")))
		return tx.Commit(t.Context())
	}
	requireConflict(t, run("a/5"))  // read
	requireConflict(t, run("b/1"))  // read
	requireConflict(t, run("a/4"))  // not read, inside a collapsed span
	require.NoError(t, run("a/0"))  // before every span
	require.NoError(t, run("a/99")) // between the spans a/… and b/1
}

// TestScanSkipsOwnDeletedRanges: a Scan inside a range the transaction
// deleted reads nothing from raftkv (here: takes no snapshot at all) and
// returns only the transaction's own puts.
func TestScanSkipsOwnDeletedRanges(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{PageSize: 2})
	for _, k := range []string{"t/a", "t/b", "t/c", "t/d", "u/a"} {
		put(t, kv, k, "old")
	}
	tx := db.Begin(Serializable)
	require.NoError(t, tx.DeleteRange([]byte("t/"), []byte("t0")))
	require.NoError(t, tx.Put([]byte("t/c"), []byte("new")))
	require.Equal(t, []string{"t/c=new"}, scanAll(t, tx, "t/", "t0", 0))
	require.Zero(t, tx.ReadRevision(), "no read reached raftkv")
	require.Equal(t, []string{"t/c=new", "u/a=old"}, scanAll(t, tx, "t/", "", 0))
	require.NotZero(t, tx.ReadRevision())
	require.NoError(t, tx.Commit(t.Context()))
	after := db.Begin(Serializable)
	require.Equal(t, []string{"t/c=new", "u/a=old"}, scanAll(t, after, "t/", "", 0))
}
