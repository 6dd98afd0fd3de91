package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/rpcerr"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// fakeStore is the state shared by the fake nodes of one test "cluster": a flat
// multi-version-free map plus the event log watches read.
type fakeStore struct {
	mu        sync.Mutex // protects every field below
	rev       int64
	compacted int64
	kvs       map[string]*raftkvv1.KeyValue
	events    []*raftkvv1.Event
	changed   chan struct{} // closed and replaced by every write
	leases    map[int64]int64
	nextLease int64
}

func newFakeStore() *fakeStore {
	return &fakeStore{kvs: map[string]*raftkvv1.KeyValue{}, changed: make(chan struct{}), leases: map[int64]int64{}, nextLease: 100}
}

func inRange(key, start, end []byte) bool {
	switch {
	case len(end) == 0:
		return bytes.Equal(key, start)
	case bytes.Equal(end, []byte{0}):
		return bytes.Compare(key, start) >= 0
	default:
		return bytes.Compare(key, start) >= 0 && bytes.Compare(key, end) < 0
	}
}

// put must be called with s.mu held.
func (s *fakeStore) putLocked(key, val []byte, lease int64) (prev *raftkvv1.KeyValue) {
	s.rev++
	prev = s.kvs[string(key)]
	kv := &raftkvv1.KeyValue{Key: key, Value: val, ModRevision: s.rev, CreateRevision: s.rev, Version: 1, Lease: lease}
	if prev != nil {
		kv.CreateRevision, kv.Version = prev.CreateRevision, prev.Version+1
	}
	s.kvs[string(key)] = kv
	s.events = append(s.events, &raftkvv1.Event{Type: raftkvv1.Event_EVENT_TYPE_PUT, Kv: kv})
	close(s.changed)
	s.changed = make(chan struct{})
	return prev
}

func (s *fakeStore) put(key, val string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putLocked([]byte(key), []byte(val), 0)
}

// fakeNode is one in-process gRPC server over a fakeStore. It records requests
// and can inject failures.
type fakeNode struct {
	raftkvv1.UnimplementedKVServiceServer
	raftkvv1.UnimplementedWatchServiceServer
	raftkvv1.UnimplementedLeaseServiceServer
	raftkvv1.UnimplementedClusterServiceServer
	clusterv1.UnimplementedMembershipServiceServer

	id    string
	addr  string
	store *fakeStore
	srv   *grpc.Server

	mu         sync.Mutex // protects the fields below
	calls      map[string]int
	reqs       map[string][]proto.Message
	fail       map[string][]error // errors to return, in order, per method
	breakAfter int                // break the next watch stream after this many events (0: never)
	overlap    bool               // resumed watches resend the revision before start_revision
}

func startFakeNode(t *testing.T, id string, store *fakeStore) *fakeNode {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	n := &fakeNode{id: id, addr: lis.Addr().String(), store: store, srv: grpc.NewServer(),
		calls: map[string]int{}, reqs: map[string][]proto.Message{}, fail: map[string][]error{}}
	raftkvv1.RegisterKVServiceServer(n.srv, n)
	raftkvv1.RegisterWatchServiceServer(n.srv, n)
	raftkvv1.RegisterLeaseServiceServer(n.srv, n)
	raftkvv1.RegisterClusterServiceServer(n.srv, n)
	clusterv1.RegisterMembershipServiceServer(n.srv, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = n.srv.Serve(lis)
	}()
	t.Cleanup(func() {
		n.srv.Stop()
		<-done
	})
	return n
}

// deadAddr returns an address on which nothing listens: connections are refused.
func deadAddr(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	return addr
}

func (n *fakeNode) record(method string, req proto.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls[method]++
	n.reqs[method] = append(n.reqs[method], proto.Clone(req))
	if errs := n.fail[method]; len(errs) > 0 {
		n.fail[method] = errs[1:]
		return errs[0]
	}
	return nil
}

func (n *fakeNode) failNext(method string, errs ...error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.fail[method] = append(n.fail[method], errs...)
}

func (n *fakeNode) callCount(method string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.calls[method]
}

func (n *fakeNode) lastReq(method string) proto.Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	r := n.reqs[method]
	if len(r) == 0 {
		return nil
	}
	return r[len(r)-1]
}

func (n *fakeNode) header() *raftkvv1.ResponseHeader {
	n.store.mu.Lock()
	defer n.store.mu.Unlock()
	return &raftkvv1.ResponseHeader{MemberId: n.id, Revision: n.store.rev}
}

func (n *fakeNode) Range(_ context.Context, req *raftkvv1.RangeRequest) (*raftkvv1.RangeResponse, error) {
	if err := n.record("range", req); err != nil {
		return nil, err
	}
	s := n.store
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &raftkvv1.RangeResponse{Header: &raftkvv1.ResponseHeader{MemberId: n.id, Revision: s.rev}}
	var keys []string
	for k := range s.kvs {
		if inRange([]byte(k), req.Key, req.RangeEnd) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	resp.Count = int64(len(keys))
	if req.CountOnly {
		return resp, nil
	}
	for _, k := range keys {
		if req.Limit > 0 && int64(len(resp.Kvs)) == req.Limit {
			resp.More = true
			break
		}
		kv := proto.Clone(s.kvs[k]).(*raftkvv1.KeyValue)
		if req.KeysOnly {
			kv.Value = nil
		}
		resp.Kvs = append(resp.Kvs, kv)
	}
	return resp, nil
}

func (n *fakeNode) Put(_ context.Context, req *raftkvv1.PutRequest) (*raftkvv1.PutResponse, error) {
	if err := n.record("put", req); err != nil {
		return nil, err
	}
	s := n.store
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.putLocked(req.Key, req.Value, req.Lease)
	resp := &raftkvv1.PutResponse{Header: &raftkvv1.ResponseHeader{MemberId: n.id, Revision: s.rev}}
	if req.PrevKv {
		resp.PrevKv = prev
	}
	return resp, nil
}

func (n *fakeNode) DeleteRange(_ context.Context, req *raftkvv1.DeleteRangeRequest) (*raftkvv1.DeleteRangeResponse, error) {
	if err := n.record("delete", req); err != nil {
		return nil, err
	}
	return &raftkvv1.DeleteRangeResponse{Header: n.header()}, nil
}

func (n *fakeNode) Txn(_ context.Context, req *raftkvv1.TxnRequest) (*raftkvv1.TxnResponse, error) {
	if err := n.record("txn", req); err != nil {
		return nil, err
	}
	return &raftkvv1.TxnResponse{Header: n.header(), Succeeded: true}, nil
}

func (n *fakeNode) Compact(_ context.Context, req *raftkvv1.CompactRequest) (*raftkvv1.CompactResponse, error) {
	if err := n.record("compact", req); err != nil {
		return nil, err
	}
	n.store.mu.Lock()
	n.store.compacted = req.Revision
	n.store.mu.Unlock()
	return &raftkvv1.CompactResponse{Header: n.header()}, nil
}

func (n *fakeNode) Watch(req *raftkvv1.WatchRequest, st grpc.ServerStreamingServer[raftkvv1.WatchResponse]) error {
	if err := n.record("watch", req); err != nil {
		return err
	}
	s := n.store
	s.mu.Lock()
	if req.StartRevision > 0 && req.StartRevision <= s.compacted {
		s.mu.Unlock()
		return rpcerr.Error(rpcerr.Compacted, fmt.Sprintf("raftkv: required revision %d has been compacted", req.StartRevision), nil)
	}
	cur := s.rev
	s.mu.Unlock()
	if err := st.Send(&raftkvv1.WatchResponse{Header: &raftkvv1.ResponseHeader{MemberId: n.id, Revision: cur}, Created: true}); err != nil {
		return err
	}
	next := req.StartRevision
	if next == 0 {
		next = cur + 1
	}
	n.mu.Lock()
	if n.overlap && n.calls["watch"] > 1 && next > 1 {
		next-- // misbehave: resend an event the client already has
	}
	n.mu.Unlock()
	for {
		s.mu.Lock()
		var evs []*raftkvv1.Event
		for _, ev := range s.events {
			if ev.Kv.ModRevision >= next && inRange(ev.Kv.Key, req.Key, req.RangeEnd) {
				evs = append(evs, ev)
			}
		}
		changed := s.changed
		s.mu.Unlock()
		for _, ev := range evs {
			n.mu.Lock()
			brk := n.breakAfter == 1
			if n.breakAfter > 0 {
				n.breakAfter--
			}
			n.mu.Unlock()
			if brk {
				return status.Error(codes.Unavailable, "fake: watch stream broken")
			}
			resp := &raftkvv1.WatchResponse{Header: &raftkvv1.ResponseHeader{MemberId: n.id, Revision: ev.Kv.ModRevision}, Events: []*raftkvv1.Event{ev}}
			if err := st.Send(resp); err != nil {
				return err
			}
			next = ev.Kv.ModRevision + 1
		}
		select {
		case <-changed:
		case <-st.Context().Done():
			return st.Context().Err()
		}
	}
}

func (n *fakeNode) LeaseGrant(_ context.Context, req *raftkvv1.LeaseGrantRequest) (*raftkvv1.LeaseGrantResponse, error) {
	if err := n.record("lease-grant", req); err != nil {
		return nil, err
	}
	s := n.store
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextLease++
	s.leases[s.nextLease] = req.Ttl
	return &raftkvv1.LeaseGrantResponse{Id: s.nextLease, Ttl: req.Ttl}, nil
}

func (n *fakeNode) LeaseRevoke(_ context.Context, req *raftkvv1.LeaseRevokeRequest) (*raftkvv1.LeaseRevokeResponse, error) {
	if err := n.record("lease-revoke", req); err != nil {
		return nil, err
	}
	s := n.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.leases[req.Id]; !ok {
		return nil, rpcerr.Error(rpcerr.LeaseNotFound, fmt.Sprintf("raftkv: lease %d not found", req.Id), nil)
	}
	delete(s.leases, req.Id)
	return &raftkvv1.LeaseRevokeResponse{}, nil
}

func (n *fakeNode) LeaseKeepAlive(st grpc.BidiStreamingServer[raftkvv1.LeaseKeepAliveRequest, raftkvv1.LeaseKeepAliveResponse]) error {
	for {
		req, err := st.Recv()
		if err != nil {
			return nil
		}
		if err := n.record("lease-keepalive", req); err != nil {
			return err
		}
		n.store.mu.Lock()
		ttl := n.store.leases[req.Id] // 0 when gone
		n.store.mu.Unlock()
		if err := st.Send(&raftkvv1.LeaseKeepAliveResponse{Id: req.Id, Ttl: ttl}); err != nil {
			return err
		}
	}
}

func (n *fakeNode) MemberList(_ context.Context, req *clusterv1.MemberListRequest) (*clusterv1.MemberListResponse, error) {
	if err := n.record("member-list", req); err != nil {
		return nil, err
	}
	return &clusterv1.MemberListResponse{LeaderId: "n1", Members: []*clusterv1.Member{{Id: n.id, Address: n.addr}}}, nil
}

func (n *fakeNode) MemberAdd(_ context.Context, req *clusterv1.MemberAddRequest) (*clusterv1.MemberAddResponse, error) {
	if err := n.record("member-add", req); err != nil {
		return nil, err
	}
	return &clusterv1.MemberAddResponse{}, nil
}

func (n *fakeNode) Status(_ context.Context, req *raftkvv1.StatusRequest) (*raftkvv1.StatusResponse, error) {
	if err := n.record("status", req); err != nil {
		return nil, err
	}
	return &raftkvv1.StatusResponse{Header: n.header(), State: "follower", LeaderId: "n1"}, nil
}

func (n *fakeNode) Snapshot(req *raftkvv1.SnapshotRequest, st grpc.ServerStreamingServer[raftkvv1.SnapshotResponse]) error {
	if err := n.record("snapshot", req); err != nil {
		return err
	}
	chunks := []string{"raft", "kv-", "backup"}
	remaining := int64(len(strings.Join(chunks, "")))
	for _, c := range chunks {
		remaining -= int64(len(c))
		if err := st.Send(&raftkvv1.SnapshotResponse{Blob: []byte(c), RemainingBytes: remaining}); err != nil {
			return err
		}
	}
	return nil
}

func newTestClient(t *testing.T, endpoints ...string) *Client {
	t.Helper()
	c, err := New(Config{Endpoints: endpoints, DialTimeout: time.Second, RequestTimeout: 5 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

func TestPrefixEnd(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "\x00"},
		{"a", "b"},
		{"abc", "abd"},
		{"a\xff", "b"},
		{"a\xff\xff", "b"},
		{"\xff", "\x00"},
		{"\xff\xff\xff", "\x00"},
		{"a\xfe", "a\xff"},
		{"\x00", "\x01"},
		{"foo/", "foo0"},
	} {
		in := []byte(tc.in)
		orig := append([]byte(nil), in...)
		require.Equal(t, []byte(tc.want), PrefixEnd(in), "PrefixEnd(%q)", tc.in)
		require.True(t, bytes.Equal(orig, in), "PrefixEnd(%q) modified its argument", tc.in)
	}
}

func TestConfigValidation(t *testing.T) {
	_, err := New(Config{})
	require.ErrorIs(t, err, ErrNoEndpoints)
	_, err = New(Config{Endpoints: []string{"no-port"}})
	require.ErrorContains(t, err, "Config.Endpoints")
	_, err = New(Config{Endpoints: []string{"a:1"}, RequestTimeout: -1})
	require.ErrorContains(t, err, "Config.RequestTimeout")
}

func TestOptionsBuildRequests(t *testing.T) {
	n := startFakeNode(t, "n1", newFakeStore())
	c := newTestClient(t, n.addr)
	ctx := t.Context()

	rangeCases := []struct {
		name string
		key  string
		opts []OpOption
		want *raftkvv1.RangeRequest
	}{
		{"single", "k", nil, &raftkvv1.RangeRequest{Key: []byte("k"), Consistency: raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE}},
		{"prefix", "a/", []OpOption{WithPrefix()}, &raftkvv1.RangeRequest{Key: []byte("a/"), RangeEnd: []byte("a0"), Consistency: raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE}},
		{"empty prefix", "", []OpOption{WithPrefix()}, &raftkvv1.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Consistency: raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE}},
		{"range", "a", []OpOption{WithRange("c")}, &raftkvv1.RangeRequest{Key: []byte("a"), RangeEnd: []byte("c"), Consistency: raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE}},
		{"from key", "m", []OpOption{WithFromKey()}, &raftkvv1.RangeRequest{Key: []byte("m"), RangeEnd: []byte{0}, Consistency: raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE}},
		{"everything", "k", []OpOption{WithPrefix(), WithLimit(5), WithRev(7), WithKeysOnly(), WithCountOnly(), WithSerializable()},
			&raftkvv1.RangeRequest{Key: []byte("k"), RangeEnd: []byte("l"), Limit: 5, Revision: 7, KeysOnly: true, CountOnly: true, Consistency: raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE}},
		{"last range option wins", "a", []OpOption{WithPrefix(), WithRange("z")}, &raftkvv1.RangeRequest{Key: []byte("a"), RangeEnd: []byte("z"), Consistency: raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE}},
	}
	for _, tc := range rangeCases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Get(ctx, tc.key, tc.opts...)
			require.NoError(t, err)
			require.True(t, proto.Equal(tc.want, n.lastReq("range")), "got %v", n.lastReq("range"))
		})
	}

	_, err := c.Put(ctx, "k", "v", WithLease(42), WithPrevKV(), WithLimit(3))
	require.NoError(t, err)
	require.True(t, proto.Equal(&raftkvv1.PutRequest{Key: []byte("k"), Value: []byte("v"), Lease: 42, PrevKv: true}, n.lastReq("put")))

	_, err = c.Delete(ctx, "d/", WithPrefix(), WithPrevKV())
	require.NoError(t, err)
	require.True(t, proto.Equal(&raftkvv1.DeleteRangeRequest{Key: []byte("d/"), RangeEnd: []byte("d0"), PrevKv: true}, n.lastReq("delete")))

	_, err = c.Compact(ctx, 9)
	require.NoError(t, err)
	require.True(t, proto.Equal(&raftkvv1.CompactRequest{Revision: 9}, n.lastReq("compact")))

	wctx, cancel := context.WithCancel(ctx)
	wch := c.Watch(wctx, "w", WithPrefix(), WithRev(30), WithPrevKV(), WithFilterPut(), WithFilterDelete(), WithCreatedNotify())
	created := <-wch
	require.NoError(t, created.Err())
	require.True(t, created.Created)
	require.True(t, proto.Equal(&raftkvv1.WatchRequest{Key: []byte("w"), RangeEnd: []byte("x"), StartRevision: 30, PrevKv: true,
		Filters: []raftkvv1.WatchRequest_FilterType{raftkvv1.WatchRequest_FILTER_TYPE_NOPUT, raftkvv1.WatchRequest_FILTER_TYPE_NODELETE}}, n.lastReq("watch")))
	cancel()
	for range wch {
	}
}

func TestTxnBuildsRequest(t *testing.T) {
	n := startFakeNode(t, "n1", newFakeStore())
	c := newTestClient(t, n.addr)
	_, err := c.Txn(t.Context()).
		If(Compare(Value("k"), "=", "v"), Compare(ModRevision("k"), "<", 5), Compare(Version("p/"), ">", int64(0)).WithPrefix(),
			Compare(CreateRevision("c"), "!=", 0), Compare(LeaseValue("l"), "==", 7)).
		Then(OpPut("k", "v2", WithLease(3)), OpGet("x", WithPrefix())).
		Else(OpDelete("y", WithPrevKV())).
		Commit()
	require.NoError(t, err)
	want := &raftkvv1.TxnRequest{
		Compare: []*raftkvv1.Compare{
			{Key: []byte("k"), Target: raftkvv1.Compare_COMPARE_TARGET_VALUE, Result: raftkvv1.Compare_COMPARE_RESULT_EQUAL, TargetUnion: &raftkvv1.Compare_Value{Value: []byte("v")}},
			{Key: []byte("k"), Target: raftkvv1.Compare_COMPARE_TARGET_MOD, Result: raftkvv1.Compare_COMPARE_RESULT_LESS, TargetUnion: &raftkvv1.Compare_ModRevision{ModRevision: 5}},
			{Key: []byte("p/"), RangeEnd: []byte("p0"), Target: raftkvv1.Compare_COMPARE_TARGET_VERSION, Result: raftkvv1.Compare_COMPARE_RESULT_GREATER, TargetUnion: &raftkvv1.Compare_Version{Version: 0}},
			{Key: []byte("c"), Target: raftkvv1.Compare_COMPARE_TARGET_CREATE, Result: raftkvv1.Compare_COMPARE_RESULT_NOT_EQUAL, TargetUnion: &raftkvv1.Compare_CreateRevision{CreateRevision: 0}},
			{Key: []byte("l"), Target: raftkvv1.Compare_COMPARE_TARGET_LEASE, Result: raftkvv1.Compare_COMPARE_RESULT_EQUAL, TargetUnion: &raftkvv1.Compare_Lease{Lease: 7}},
		},
		Success: []*raftkvv1.RequestOp{
			{Request: &raftkvv1.RequestOp_RequestPut{RequestPut: &raftkvv1.PutRequest{Key: []byte("k"), Value: []byte("v2"), Lease: 3}}},
			{Request: &raftkvv1.RequestOp_RequestRange{RequestRange: &raftkvv1.RangeRequest{Key: []byte("x"), RangeEnd: []byte("y")}}},
		},
		Failure: []*raftkvv1.RequestOp{
			{Request: &raftkvv1.RequestOp_RequestDeleteRange{RequestDeleteRange: &raftkvv1.DeleteRangeRequest{Key: []byte("y"), PrevKv: true}}},
		},
	}
	require.True(t, proto.Equal(want, n.lastReq("txn")), "got %v", n.lastReq("txn"))

	for _, bad := range []Cmp{Compare(Value("k"), "=", 3), Compare(Version("k"), "~", 1), Compare(ModRevision("k"), "=", "x"), {}} {
		_, err := c.Txn(t.Context()).If(bad).Then(OpPut("k", "v")).Commit()
		require.ErrorIs(t, err, ErrInvalidCompare)
	}
	require.Equal(t, 1, n.callCount("txn"), "invalid compares must not reach the server")
}

func TestReadRetriedAcrossDeadEndpoint(t *testing.T) {
	store := newFakeStore()
	store.put("k", "v")
	n := startFakeNode(t, "n1", store)
	c := newTestClient(t, deadAddr(t), n.addr)

	// The dead endpoint is skipped by the balancer; the live one refuses three
	// times, as a node without a leader would.
	unavailable := status.Error(codes.Unavailable, "fake: no leader")
	n.failNext("range", unavailable, unavailable, unavailable)
	resp, err := c.Get(t.Context(), "k")
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	require.Equal(t, "v", string(resp.Kvs[0].Value))
	require.Equal(t, 4, n.callCount("range"))

	// Other reads follow the same policy.
	n.failNext("member-list", unavailable)
	_, err = c.MemberList(t.Context())
	require.NoError(t, err)
	require.Equal(t, 2, n.callCount("member-list"))

	// Errors other than Unavailable are not retried, and keep their status.
	n.failNext("range", status.Error(codes.InvalidArgument, "fake: bad range"))
	_, err = c.Get(t.Context(), "k")
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.False(t, IsUnknownOutcome(err))
	require.Equal(t, 5, n.callCount("range"))

	// A read that keeps failing is retried until the deadline, and fails as a
	// read: with the node's last answer when the deadline falls between two
	// attempts, or DeadlineExceeded when it cuts an attempt short, which a
	// loaded machine makes likely (an attempt may then take longer than what
	// is left after a backoff step). That the last error is passed on
	// unchanged is checked without timing by clusterconn.TestCallStopsAtDeadline.
	for range 1000 {
		n.failNext("range", unavailable)
	}
	before := n.callCount("range")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err = c.Get(ctx, "k")
	require.Contains(t, []codes.Code{codes.Unavailable, codes.DeadlineExceeded}, status.Code(err), "%v", err)
	require.False(t, IsUnknownOutcome(err), "reads never have an unknown outcome")
	require.Greater(t, n.callCount("range")-before, 1, "retried until the deadline")
}

func TestWritesNotRetried(t *testing.T) {
	n := startFakeNode(t, "n1", newFakeStore())
	c := newTestClient(t, deadAddr(t), n.addr)
	ctx := t.Context()
	unavailable := status.Error(codes.Unavailable, "fake: leader lost")

	writes := []struct {
		method string
		do     func() error
	}{
		{"put", func() error { _, err := c.Put(ctx, "k", "v"); return err }},
		{"delete", func() error { _, err := c.Delete(ctx, "k"); return err }},
		{"txn", func() error { _, err := c.Txn(ctx).Then(OpGet("k")).Commit(); return err }},
		{"compact", func() error { _, err := c.Compact(ctx, 1); return err }},
		{"lease-grant", func() error { _, err := c.Grant(ctx, 10); return err }},
		{"member-add", func() error { _, err := c.MemberAdd(ctx, "n4", "127.0.0.1:1", true); return err }},
	}
	for _, w := range writes {
		t.Run(w.method, func(t *testing.T) {
			n.failNext(w.method, unavailable)
			err := w.do()
			require.Error(t, err)
			require.True(t, IsUnknownOutcome(err), "%v", err)
			require.ErrorIs(t, err, ErrUnknownOutcome)
			require.Equal(t, codes.Unavailable, status.Code(err))
			st, ok := status.FromError(err)
			require.True(t, ok)
			require.Equal(t, "fake: leader lost", st.Message())
			require.Equal(t, 1, n.callCount(w.method), "a write must not be retried")

			n.failNext(w.method, status.Error(codes.FailedPrecondition, "fake: nope"))
			err = w.do()
			require.False(t, IsUnknownOutcome(err), "a rejected write has a known outcome")
			require.Equal(t, codes.FailedPrecondition, status.Code(err))
		})
	}
}

// Bug 4: with no endpoint accepting connections, reads and writes fail well
// before their deadline, naming every endpoint, and a write that was never
// sent is not an unknown outcome.
func TestUnreachableClusterFailsFastAndNamesEveryEndpoint(t *testing.T) {
	eps := []string{deadAddr(t), deadAddr(t)}
	c := newTestClient(t, eps...)
	const timeout = 10 * time.Second
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"put", func(ctx context.Context) error { _, err := c.Put(ctx, "k", "v"); return err }},
		{"get", func(ctx context.Context) error { _, err := c.Get(ctx, "k"); return err }},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		start := time.Now()
		err := tc.call(ctx)
		took := time.Since(start)
		cancel()
		require.Less(t, took, timeout/2, "%s: %v", tc.name, err)
		require.Equal(t, codes.Unavailable, status.Code(err), "%s: %v", tc.name, err)
		require.Equal(t, rpcerr.Unreachable, rpcerr.ReasonOf(err), "%s: %v", tc.name, err)
		require.False(t, IsUnknownOutcome(err), "%s: nothing was sent: %v", tc.name, err)
		for _, ep := range eps {
			require.Contains(t, err.Error(), ep+": connection refused", tc.name)
		}
	}
}

// collect reads n events from ch and returns their revisions.
func collect(t *testing.T, ch WatchChan, n int) []int64 {
	t.Helper()
	var revs []int64
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for len(revs) < n {
		select {
		case resp, ok := <-ch:
			require.True(t, ok, "watch channel closed after %v", revs)
			require.NoError(t, resp.Err())
			for _, ev := range resp.Events {
				revs = append(revs, ev.Kv.ModRevision)
			}
		case <-timeout.C:
			t.Fatalf("timed out waiting for %d events, got %v", n, revs)
		}
	}
	return revs
}

func watchStarts(nodes ...*fakeNode) []int64 {
	var starts []int64
	for _, n := range nodes {
		n.mu.Lock()
		for _, r := range n.reqs["watch"] {
			starts = append(starts, r.(*raftkvv1.WatchRequest).StartRevision)
		}
		n.mu.Unlock()
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	return starts
}

func TestWatchResumesWithoutLossOrDuplicates(t *testing.T) {
	store := newFakeStore()
	a, b := startFakeNode(t, "a", store), startFakeNode(t, "b", store)
	for _, n := range []*fakeNode{a, b} {
		n.breakAfter = 3 // two events go through, the third breaks the stream
		n.overlap = true // and the resumed stream resends an old event
	}
	c := newTestClient(t, a.addr, b.addr)
	for i := 1; i <= 3; i++ {
		store.put(fmt.Sprintf("k/%d", i), "v")
	}
	store.put("other", "v") // revision 4, outside the watched prefix

	ch := c.Watch(t.Context(), "k/", WithPrefix(), WithRev(1))
	require.Equal(t, []int64{1, 2, 3}, collect(t, ch, 3))
	store.put("k/5", "v")
	store.put("k/6", "v")
	require.Equal(t, []int64{5, 6}, collect(t, ch, 2))

	starts := watchStarts(a, b)
	require.GreaterOrEqual(t, len(starts), 2, "the stream must have been resumed")
	require.Equal(t, int64(1), starts[0])
	require.Equal(t, int64(3), starts[1], "resumed at the revision after the last delivered one")
}

func TestWatchResumesOnAnotherNodeAfterStop(t *testing.T) {
	store := newFakeStore()
	a, b := startFakeNode(t, "a", store), startFakeNode(t, "b", store)
	c := newTestClient(t, a.addr, b.addr)
	store.put("k", "1")

	ch := c.Watch(t.Context(), "k", WithCreatedNotify())
	created := <-ch
	require.True(t, created.Created)
	require.Equal(t, int64(1), created.Header.Revision)
	store.put("k", "2")
	require.Equal(t, []int64{2}, collect(t, ch, 1))

	first, other := a, b
	if b.callCount("watch") > 0 {
		first, other = b, a
	}
	first.srv.Stop()
	store.put("k", "3")
	store.put("k", "4")
	require.Equal(t, []int64{3, 4}, collect(t, ch, 2))
	require.Equal(t, 1, other.callCount("watch"))
	require.Equal(t, int64(3), other.lastReq("watch").(*raftkvv1.WatchRequest).StartRevision)
}

func TestWatchStartedNowResumesAfterCreatedRevision(t *testing.T) {
	store := newFakeStore()
	n := startFakeNode(t, "n", store)
	c := newTestClient(t, n.addr)
	store.put("k", "1")
	n.breakAfter = 1 // the first event breaks the stream
	ch := c.Watch(t.Context(), "k", WithCreatedNotify())
	require.True(t, (<-ch).Created)
	store.put("k", "2")
	require.Equal(t, []int64{2}, collect(t, ch, 1))
	require.Equal(t, []int64{0, 2}, watchStarts(n))
}

func TestWatchCompacted(t *testing.T) {
	store := newFakeStore()
	n := startFakeNode(t, "n", store)
	c := newTestClient(t, n.addr)
	_, err := c.Compact(t.Context(), 5)
	require.NoError(t, err)
	ch := c.Watch(t.Context(), "k", WithRev(2))
	resp, ok := <-ch
	require.True(t, ok)
	require.ErrorIs(t, resp.Err(), ErrCompacted)
	require.Equal(t, codes.OutOfRange, status.Code(resp.Err()))
	_, ok = <-ch
	require.False(t, ok, "the channel is closed after the error")
}

func TestWatchEndsOnCloseAndCancel(t *testing.T) {
	n := startFakeNode(t, "n", newFakeStore())
	c, err := New(Config{Endpoints: []string{n.addr}})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	ch1 := c.Watch(ctx, "a", WithCreatedNotify())
	ch2 := c.Watch(t.Context(), "b", WithCreatedNotify())
	require.True(t, (<-ch1).Created)
	require.True(t, (<-ch2).Created)
	cancel()
	for range ch1 {
	}
	require.NoError(t, c.Close())
	for range ch2 {
	}
	resp := <-c.Watch(t.Context(), "c")
	require.ErrorIs(t, resp.Err(), ErrClosed)
	_, err = c.Get(t.Context(), "k")
	require.ErrorIs(t, err, ErrClosed)
}

func TestLeases(t *testing.T) {
	n := startFakeNode(t, "n", newFakeStore())
	c := newTestClient(t, n.addr)
	ctx := t.Context()

	_, err := c.KeepAliveOnce(ctx, 12345)
	require.ErrorIs(t, err, ErrLeaseNotFound)
	_, err = c.Revoke(ctx, 12345)
	require.ErrorIs(t, err, ErrLeaseNotFound)
	require.Equal(t, codes.NotFound, status.Code(err))
	_, err = c.KeepAlive(ctx, 12345)
	require.ErrorIs(t, err, ErrLeaseNotFound)

	g, err := c.Grant(ctx, 1)
	require.NoError(t, err)
	ch, err := c.KeepAlive(ctx, g.Id)
	require.NoError(t, err)
	for range 3 { // the first renewal and two periodic ones (every ttl/3)
		resp, ok := <-ch
		require.True(t, ok)
		require.Equal(t, g.Id, resp.Id)
		require.Equal(t, int64(1), resp.Ttl)
	}
	_, err = c.Revoke(ctx, g.Id)
	require.NoError(t, err)
	for range ch { // closed once a renewal finds the lease gone
	}
}

func TestStatusAndSnapshot(t *testing.T) {
	n := startFakeNode(t, "n1", newFakeStore())
	c := newTestClient(t, n.addr)
	st, err := c.Status(t.Context(), n.addr)
	require.NoError(t, err)
	require.Equal(t, "n1", st.Header.MemberId)

	start := time.Now()
	_, err = c.Status(t.Context(), deadAddr(t))
	require.Equal(t, codes.Unavailable, status.Code(err))
	require.Less(t, time.Since(start), 4*time.Second, "a dead endpoint is reported, not waited for")

	var buf bytes.Buffer
	size, err := c.Snapshot(t.Context(), &buf)
	require.NoError(t, err)
	require.Equal(t, "raftkv-backup", buf.String())
	require.Equal(t, int64(buf.Len()), size)

	n.failNext("snapshot", status.Error(codes.Unavailable, "fake: busy"))
	buf.Reset()
	_, err = c.Snapshot(t.Context(), &buf)
	require.NoError(t, err)
	require.Equal(t, "raftkv-backup", buf.String())
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		op       string
		kind     callKind
		err      error
		sentinel error
		unknown  bool
	}{
		{"range", kindRead, rpcerr.Error(rpcerr.Compacted, "raftkv: required revision has been compacted", nil), ErrCompacted, false},
		{"range", kindRead, rpcerr.Error(rpcerr.FutureRevision, "raftkv: required revision is a future revision", nil), ErrFutureRevision, false},
		{"lease-revoke", kindWrite, rpcerr.Error(rpcerr.LeaseNotFound, "lease not found", nil), ErrLeaseNotFound, false},
		// The message does not matter, only the reason.
		{"range", kindRead, status.Error(codes.OutOfRange, "required revision has been compacted"), nil, false},
		{"lease-revoke", kindWrite, status.Error(codes.NotFound, "lease not found"), nil, false},
		{"range", kindRead, status.Error(codes.NotFound, "x"), nil, false},
		{"put", kindWrite, rpcerr.Error(rpcerr.NoLeader, "x", nil), nil, false},
		{"put", kindWrite, rpcerr.Error(rpcerr.NoQuorum, "x", nil), nil, false},
		{"put", kindWrite, rpcerr.Error(rpcerr.NotLeader, "x", nil), nil, false},
		{"put", kindWrite, rpcerr.Error(rpcerr.ShuttingDown, "x", nil), nil, false},
		{"put", kindWrite, rpcerr.Error(rpcerr.Unreachable, "x", nil), nil, false},
		{"put", kindWrite, rpcerr.Error(rpcerr.NotSent, "x", nil), nil, false},
		{"put", kindWrite, rpcerr.Error(rpcerr.OutcomeUnknown, "x", nil), nil, true},
		{"put", kindWrite, status.Error(codes.Unavailable, "x"), nil, true},
		{"put", kindWrite, status.Error(codes.DeadlineExceeded, "x"), nil, true},
		{"put", kindWrite, status.Error(codes.Canceled, "x"), nil, true},
		{"put", kindWrite, context.Canceled, nil, true},
		{"put", kindWrite, status.Error(codes.InvalidArgument, "x"), nil, false},
		{"range", kindRead, status.Error(codes.Unavailable, "x"), nil, false},
	} {
		err := toError(tc.op, tc.kind, tc.err)
		if tc.sentinel != nil {
			require.ErrorIs(t, err, tc.sentinel, "%v", err)
		}
		require.Equal(t, tc.unknown, IsUnknownOutcome(err), "%v", err)
		wantCode := status.Code(tc.err)
		if errors.Is(tc.err, context.Canceled) {
			wantCode = codes.Canceled
		}
		require.Equal(t, wantCode, status.Code(err))
		var ce *Error
		require.True(t, errors.As(err, &ce))
		require.Equal(t, tc.op, ce.Op)
	}
}
