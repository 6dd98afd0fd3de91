package mvcc

import (
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// testStore wraps a Store with a Raft index counter and command helpers.
type testStore struct {
	t   testing.TB
	s   *Store
	idx uint64
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func openTestStore(t testing.TB) *testStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, Options{NoSync: true, Logger: testLogger(t)})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return &testStore{t: t, s: s}
}

// apply applies cmds as one batch and returns their results and the events.
func (ts *testStore) apply(cmds ...*raftkvraftv1.Command) ([]*raftkvraftv1.CommandResult, []*raftkvv1.Event) {
	ts.t.Helper()
	entries := make([]Entry, len(cmds))
	for i, c := range cmds {
		ts.idx++
		entries[i] = Entry{Index: ts.idx, Cmd: c}
	}
	res, evs, err := ts.s.ApplyBatch(entries)
	require.NoError(ts.t, err)
	return res, evs
}

// one applies a single command and returns its result.
func (ts *testStore) one(cmd *raftkvraftv1.Command) *raftkvraftv1.CommandResult {
	ts.t.Helper()
	res, _ := ts.apply(cmd)
	return res[0]
}

// ok applies cmd and requires that it succeeded.
func (ts *testStore) ok(cmd *raftkvraftv1.Command) *raftkvraftv1.CommandResult {
	ts.t.Helper()
	r := ts.one(cmd)
	require.Empty(ts.t, r.GetError(), r.GetErrorMessage())
	return r
}

func (ts *testStore) put(k, v string) *raftkvv1.PutResponse {
	ts.t.Helper()
	return ts.ok(putCmd(k, v, 0)).GetPut()
}

func (ts *testStore) get(k string, rev int64) *raftkvv1.KeyValue {
	ts.t.Helper()
	resp, err := ts.s.Range(&raftkvv1.RangeRequest{Key: []byte(k), Revision: rev})
	require.NoError(ts.t, err)
	if len(resp.Kvs) == 0 {
		return nil
	}
	require.Len(ts.t, resp.Kvs, 1)
	return resp.Kvs[0]
}

func (ts *testStore) rangeAll(rev int64) *raftkvv1.RangeResponse {
	ts.t.Helper()
	resp, err := ts.s.Range(&raftkvv1.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev})
	require.NoError(ts.t, err)
	return resp
}

func putCmd(k, v string, lease int64) *raftkvraftv1.Command {
	return &raftkvraftv1.Command{Op: &raftkvraftv1.Command_Put{Put: &raftkvv1.PutRequest{
		Key: []byte(k), Value: []byte(v), Lease: lease, PrevKv: true}}}
}

func delCmd(k, end string) *raftkvraftv1.Command {
	var e []byte
	if end != "" {
		e = []byte(end)
	}
	return &raftkvraftv1.Command{Op: &raftkvraftv1.Command_DeleteRange{DeleteRange: &raftkvv1.DeleteRangeRequest{
		Key: []byte(k), RangeEnd: e, PrevKv: true}}}
}

func compactCmd(rev int64) *raftkvraftv1.Command {
	return &raftkvraftv1.Command{Op: &raftkvraftv1.Command_Compact{Compact: &raftkvv1.CompactRequest{Revision: rev}}}
}

func grantCmd(id, ttl int64) *raftkvraftv1.Command {
	return &raftkvraftv1.Command{Op: &raftkvraftv1.Command_LeaseGrant{LeaseGrant: &raftkvv1.LeaseGrantRequest{Id: id, Ttl: ttl}}}
}

func revokeCmd(id int64) *raftkvraftv1.Command {
	return &raftkvraftv1.Command{Op: &raftkvraftv1.Command_LeaseRevoke{LeaseRevoke: &raftkvv1.LeaseRevokeRequest{Id: id}}}
}

func expireCmd(ids ...int64) *raftkvraftv1.Command {
	return &raftkvraftv1.Command{Op: &raftkvraftv1.Command_LeaseExpire{LeaseExpire: &raftkvraftv1.LeaseExpire{Ids: ids}}}
}

func txnCmd(cmp []*raftkvv1.Compare, success, failure []*raftkvv1.RequestOp) *raftkvraftv1.Command {
	return &raftkvraftv1.Command{Op: &raftkvraftv1.Command_Txn{Txn: &raftkvv1.TxnRequest{
		Compare: cmp, Success: success, Failure: failure}}}
}

func opPut(k, v string) *raftkvv1.RequestOp {
	return &raftkvv1.RequestOp{Request: &raftkvv1.RequestOp_RequestPut{RequestPut: &raftkvv1.PutRequest{
		Key: []byte(k), Value: []byte(v), PrevKv: true}}}
}

func opPutLease(k, v string, lease int64) *raftkvv1.RequestOp {
	op := opPut(k, v)
	op.GetRequestPut().Lease = lease
	return op
}

func opDel(k, end string) *raftkvv1.RequestOp {
	var e []byte
	if end != "" {
		e = []byte(end)
	}
	return &raftkvv1.RequestOp{Request: &raftkvv1.RequestOp_RequestDeleteRange{RequestDeleteRange: &raftkvv1.DeleteRangeRequest{
		Key: []byte(k), RangeEnd: e, PrevKv: true}}}
}

func opRange(k, end string) *raftkvv1.RequestOp {
	var e []byte
	if end != "" {
		e = []byte(end)
	}
	return &raftkvv1.RequestOp{Request: &raftkvv1.RequestOp_RequestRange{RequestRange: &raftkvv1.RangeRequest{
		Key: []byte(k), RangeEnd: e}}}
}

func keysOf(kvs []*raftkvv1.KeyValue) []string {
	out := make([]string, len(kvs))
	for i, kv := range kvs {
		out[i] = string(kv.Key)
	}
	return out
}

// requireProtoEqual compares two messages (or lists of messages) with proto.Equal.
func requireProtoEqual[M proto.Message](t testing.TB, want, got []M) {
	t.Helper()
	require.Equal(t, len(want), len(got), "lengths differ")
	for i := range want {
		require.Truef(t, proto.Equal(want[i], got[i]), "item %d differs:\nwant %v\ngot  %v", i, want[i], got[i])
	}
}

// readers calls read in a loop on n goroutines until the returned stop is
// called; stop waits for them and returns the first error a read returned
// (a goroutine stops at its first error).
func readers(n int, read func() error) (stop func() error) {
	done := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := read(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	return func() error {
		close(done)
		wg.Wait()
		close(errs)
		return <-errs
	}
}
