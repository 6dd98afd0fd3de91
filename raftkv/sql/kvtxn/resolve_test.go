package kvtxn

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// errLost stands for an RPC error after which the write may have applied.
var errLost = fmt.Errorf("test: connection lost: %w", client.ErrUnknownOutcome)

type sendFunc = func(ctx context.Context, cmps []client.Cmp, then, els []client.Op) (*raftkvv1.TxnResponse, error)

// failFirstSend makes db's first send run first (the fault) instead.
func failFirstSend(db *DB, first func(real sendFunc, cmps []client.Cmp, then, els []client.Op) (*raftkvv1.TxnResponse, error)) {
	real := db.send
	calls := 0
	db.send = func(ctx context.Context, cmps []client.Cmp, then, els []client.Op) (*raftkvv1.TxnResponse, error) {
		calls++
		if calls == 1 {
			return first(real, cmps, then, els)
		}
		return real(ctx, cmps, then, els)
	}
}

func markerValues(t *testing.T, kv *client.Client) []string {
	t.Helper()
	resp, err := kv.Get(t.Context(), markerPrefix, client.WithPrefix())
	require.NoError(t, err)
	var out []string
	for _, m := range resp.Kvs {
		out = append(out, string(m.Value))
	}
	return out
}

func keyExists(t *testing.T, kv *client.Client, k string) bool {
	t.Helper()
	resp, err := kv.Get(t.Context(), k)
	require.NoError(t, err)
	return len(resp.Kvs) == 1
}

func TestAmbiguousCommitResolved(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		fault     func(real sendFunc, cmps []client.Cmp, then, els []client.Op) (*raftkvv1.TxnResponse, error)
		committed bool
		marker    string
	}{
		{"answer lost: the commit applied", func(real sendFunc, cmps []client.Cmp, then, els []client.Op) (*raftkvv1.TxnResponse, error) {
			_, err := real(context.Background(), cmps, then, els)
			if err != nil {
				return nil, err
			}
			return nil, errLost
		}, true, markerCommitted},
		{"request lost: the commit did not apply", func(real sendFunc, cmps []client.Cmp, then, els []client.Op) (*raftkvv1.TxnResponse, error) {
			return nil, errLost
		}, false, markerAborted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, kv, _ := testDB(t, Options{})
			put(t, kv, "a", "1")
			tx := db.Begin(Serializable)
			get(t, tx, "a")
			require.NoError(t, tx.Put([]byte("b"), []byte("1")))
			var late func() *raftkvv1.TxnResponse
			failFirstSend(db, func(real sendFunc, cmps []client.Cmp, then, els []client.Op) (*raftkvv1.TxnResponse, error) {
				late = func() *raftkvv1.TxnResponse {
					resp, err := real(context.Background(), cmps, then, els)
					require.NoError(t, err)
					return resp
				}
				return tc.fault(real, cmps, then, els)
			})
			err := tx.Commit(t.Context())
			if tc.committed {
				require.NoError(t, err)
			} else {
				requireConflict(t, err)
				require.Contains(t, err.(*sqlerr.Error).Detail, "found not applied")
			}
			require.Equal(t, tc.committed, keyExists(t, kv, "b"))
			require.Equal(t, []string{tc.marker}, markerValues(t, kv))

			// The same commit arriving late never applies a second time nor
			// after it was declared not committed.
			_, err = kv.Delete(t.Context(), "b")
			require.NoError(t, err)
			require.False(t, late().GetSucceeded())
			require.False(t, keyExists(t, kv, "b"))
		})
	}
}

func TestAmbiguousCommitAcrossRestart(t *testing.T) {
	t.Parallel()
	db, kv, n := testDB(t, Options{})
	tx := db.Begin(Serializable)
	require.NoError(t, tx.Put([]byte("k"), []byte("v")))
	failFirstSend(db, func(real sendFunc, cmps []client.Cmp, then, els []client.Op) (*raftkvv1.TxnResponse, error) {
		if _, err := real(context.Background(), cmps, then, els); err != nil {
			return nil, err
		}
		n.Stop() // the answer is lost with the node
		n.Start()
		return nil, errLost
	})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	require.NoError(t, tx.Commit(ctx))
	require.True(t, keyExists(t, kv, "k"))
}

func TestAmbiguousWhenClusterUnreachable(t *testing.T) {
	t.Parallel()
	db, kv, n := testDB(t, Options{})
	tx := db.Begin(Serializable)
	require.NoError(t, tx.Put([]byte("k"), []byte("v")))
	failFirstSend(db, func(real sendFunc, cmps []client.Cmp, then, els []client.Op) (*raftkvv1.TxnResponse, error) {
		n.Stop()
		return nil, errLost
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	err := tx.Commit(ctx)
	require.ErrorIs(t, err, ErrAmbiguous)
	require.Equal(t, sqlerr.StatementCompletionUnknown, sqlerr.Code(err))

	n.Start()
	require.False(t, keyExists(t, kv, "k"))
}

// TestResolver drives resolve directly on each state a marker can be in.
func TestResolver(t *testing.T) {
	t.Parallel()
	db, kv, _ := testDB(t, Options{})
	lease, err := db.markerLease(t.Context())
	require.NoError(t, err)
	for _, tc := range []struct {
		name      string
		marker    string // value before resolving, "" for none
		lease     int64
		want      error // nil: committed
		wantAfter string
	}{
		{"marker committed", markerCommitted, lease, nil, markerCommitted},
		{"marker absent", "", lease, ErrConflict, markerAborted},
		{"already poisoned", markerAborted, lease, ErrConflict, markerAborted},
		{"lease gone", "", 987654321, ErrAmbiguous, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newMarkerKey()
			if tc.marker != "" {
				_, err := kv.Put(t.Context(), m, tc.marker, client.WithLease(lease))
				require.NoError(t, err)
			}
			err := db.resolve(t.Context(), m, tc.lease, errLost)
			if tc.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tc.want)
			}
			resp, err := kv.Get(t.Context(), m)
			require.NoError(t, err)
			if tc.wantAfter == "" {
				require.Empty(t, resp.Kvs)
			} else {
				require.Len(t, resp.Kvs, 1)
				require.Equal(t, tc.wantAfter, string(resp.Kvs[0].Value))
				require.Equal(t, lease, resp.Kvs[0].Lease, "markers ride on the lease")
			}
		})
	}
}
