package client

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/node/nodetest"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// fakeCluster is a set of in-process fake cached nodes: each is a gRPC server
// over a map of its own. Fake nodes never forward or replicate, so a test
// sees exactly which node a call reached.
type fakeCluster struct {
	t *testing.T

	mu       sync.Mutex // protects the fields below
	nodes    []*fakeNode
	members  []string // IDs in the ring
	epoch    uint64
	replicas int32
	vnodes   int32

	subMu sync.Mutex // protects subs; taken after a node's mu
	subs  map[*fakeSub]bool
}

// fakeNode is one fake cached node.
type fakeNode struct {
	cachedv1.UnimplementedCacheServiceServer
	cachedv1.UnimplementedRingServiceServer

	cl   *fakeCluster
	id   string
	addr string
	srv  *grpc.Server

	calls atomic.Int64 // CacheService calls served

	stopped atomic.Bool

	mu    sync.Mutex // protects items and ver
	items map[string]fakeItem
	ver   uint64
}

// stop stops the node's server.
func (n *fakeNode) stop() {
	n.stopped.Store(true)
	n.srv.Stop()
}

type fakeItem struct {
	val []byte
	ver uint64
	ttl time.Duration
}

type fakeSub struct {
	prefixes [][]byte
	ch       chan *cachedv1.SubscribeResponse
}

// newFakeCluster starts n nodes, all members of the ring.
func newFakeCluster(t *testing.T, n int, replicas int) *fakeCluster {
	t.Helper()
	cl := &fakeCluster{t: t, epoch: 1, replicas: int32(replicas), vnodes: 64, subs: map[*fakeSub]bool{}}
	for range n {
		nd := cl.startNode()
		cl.members = append(cl.members, nd.id)
	}
	return cl
}

// startNode starts a node that is not a member of the ring yet.
func (cl *fakeCluster) startNode() *fakeNode {
	cl.t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cl.t.Fatal(err)
	}
	cl.mu.Lock()
	nd := &fakeNode{cl: cl, id: fmt.Sprintf("cached-%d", len(cl.nodes)+1), addr: lis.Addr().String(),
		srv: grpc.NewServer(), items: map[string]fakeItem{}}
	cl.nodes = append(cl.nodes, nd)
	cl.mu.Unlock()
	cachedv1.RegisterCacheServiceServer(nd.srv, nd)
	cachedv1.RegisterRingServiceServer(nd.srv, nd)
	go func() { _ = nd.srv.Serve(lis) }()
	cl.t.Cleanup(nd.srv.Stop)
	return nd
}

// setMembers changes the ring to the nodes with these IDs and bumps the epoch.
func (cl *fakeCluster) setMembers(ids ...string) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cl.members = ids
	cl.epoch++
}

func (cl *fakeCluster) node(id string) *fakeNode {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for _, nd := range cl.nodes {
		if nd.id == id {
			return nd
		}
	}
	cl.t.Fatalf("no node %s", id)
	return nil
}

func (cl *fakeCluster) endpoints() []string {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	var eps []string
	for _, nd := range cl.nodes {
		eps = append(eps, nd.addr)
	}
	return eps
}

// ring is the ring the cluster reports, as the client must build it.
func (cl *fakeCluster) ring() *ring.Ring {
	resp, _ := cl.nodes[0].Ring(context.Background(), nil)
	var ms []ring.Member
	for _, m := range resp.GetMembers() {
		ms = append(ms, ring.Member{ID: m.GetId(), Addr: m.GetAddr(), RESPAddr: m.GetRespAddr()})
	}
	return ring.New(ms, int(resp.GetVnodes()))
}

// owner returns the node that owns key.
func (cl *fakeCluster) owner(key string) *fakeNode {
	m, _ := cl.ring().Owner(key)
	return cl.node(m.ID)
}

// newClient returns a client of cl, closed by the test's cleanup.
func (cl *fakeCluster) newClient(tune func(*Config)) *Client {
	cl.t.Helper()
	cfg := Config{Endpoints: cl.endpoints()[:1], Logger: nodetest.Logger(cl.t)}
	if tune != nil {
		tune(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		cl.t.Fatal(err)
	}
	cl.t.Cleanup(func() { c.Close() })
	return c
}

func (n *fakeNode) put(key string, val []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ver++
	n.items[key] = fakeItem{val: val, ver: n.ver}
	n.publishLocked(cachedv1.SubscribeResponse_INVALIDATION_KIND_SET, key)
}

func (n *fakeNode) get(key string) ([]byte, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	it, ok := n.items[key]
	return it.val, ok
}

// publishLocked sends an invalidation to every subscriber, whichever node it
// subscribed to: like cached, a node merges the changes of every member.
func (n *fakeNode) publishLocked(kind cachedv1.SubscribeResponse_InvalidationKind, key string) {
	n.cl.subMu.Lock()
	defer n.cl.subMu.Unlock()
	for s := range n.cl.subs {
		for _, p := range s.prefixes {
			if bytes.HasPrefix([]byte(key), p) {
				s.ch <- &cachedv1.SubscribeResponse{Kind: kind, Key: []byte(key), NodeId: n.id}
				break
			}
		}
	}
}

// reset sends INVALIDATION_KIND_RESET to every subscriber.
func (n *fakeNode) reset() {
	n.cl.subMu.Lock()
	defer n.cl.subMu.Unlock()
	for s := range n.cl.subs {
		s.ch <- &cachedv1.SubscribeResponse{Kind: cachedv1.SubscribeResponse_INVALIDATION_KIND_RESET, NodeId: n.id}
	}
}

func (n *fakeNode) response(key string, it fakeItem, ok bool) *cachedv1.GetResponse {
	if !ok {
		return &cachedv1.GetResponse{ServedBy: n.id}
	}
	r := &cachedv1.GetResponse{Found: true, ServedBy: n.id, Item: &cachedv1.Item{Key: []byte(key), Value: it.val, Version: it.ver}}
	if it.ttl > 0 {
		r.Item.Ttl = durationpb.New(it.ttl)
	}
	return r
}

func (n *fakeNode) Get(_ context.Context, req *cachedv1.GetRequest) (*cachedv1.GetResponse, error) {
	n.calls.Add(1)
	if len(req.GetKey()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "empty key")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	it, ok := n.items[string(req.GetKey())]
	return n.response(string(req.GetKey()), it, ok), nil
}

func (n *fakeNode) MGet(_ context.Context, req *cachedv1.MGetRequest) (*cachedv1.MGetResponse, error) {
	n.calls.Add(1)
	n.mu.Lock()
	defer n.mu.Unlock()
	resp := &cachedv1.MGetResponse{}
	for _, k := range req.GetKeys() {
		it, ok := n.items[string(k)]
		resp.Items = append(resp.Items, n.response(string(k), it, ok))
	}
	return resp, nil
}

func (n *fakeNode) Set(_ context.Context, req *cachedv1.SetRequest) (*cachedv1.SetResponse, error) {
	n.calls.Add(1)
	n.mu.Lock()
	defer n.mu.Unlock()
	key := string(req.GetKey())
	old, exists := n.items[key]
	switch {
	case req.GetMode() == cachedv1.SetMode_SET_MODE_IF_ABSENT && exists,
		req.GetMode() == cachedv1.SetMode_SET_MODE_IF_PRESENT && !exists,
		req.GetIfVersion() != 0 && old.ver != req.GetIfVersion():
		return &cachedv1.SetResponse{}, nil
	}
	n.ver++
	it := fakeItem{val: req.GetValue(), ver: n.ver}
	switch {
	case req.GetKeepTtl():
		it.ttl = old.ttl
	case req.GetTtl() != nil:
		it.ttl = req.GetTtl().AsDuration()
	}
	n.items[key] = it
	n.publishLocked(cachedv1.SubscribeResponse_INVALIDATION_KIND_SET, key)
	return &cachedv1.SetResponse{Stored: true, Version: it.ver}, nil
}

func (n *fakeNode) Delete(_ context.Context, req *cachedv1.DeleteRequest) (*cachedv1.DeleteResponse, error) {
	n.calls.Add(1)
	n.mu.Lock()
	defer n.mu.Unlock()
	var d int64
	for _, k := range req.GetKeys() {
		if _, ok := n.items[string(k)]; ok {
			delete(n.items, string(k))
			d++
			n.publishLocked(cachedv1.SubscribeResponse_INVALIDATION_KIND_DELETE, string(k))
		}
	}
	return &cachedv1.DeleteResponse{Deleted: d}, nil
}

func (n *fakeNode) Touch(_ context.Context, req *cachedv1.TouchRequest) (*cachedv1.TouchResponse, error) {
	n.calls.Add(1)
	n.mu.Lock()
	defer n.mu.Unlock()
	it, ok := n.items[string(req.GetKey())]
	if !ok {
		return &cachedv1.TouchResponse{}, nil
	}
	it.ttl = req.GetTtl().AsDuration()
	n.items[string(req.GetKey())] = it
	return &cachedv1.TouchResponse{Found: true}, nil
}

func (n *fakeNode) IncrBy(_ context.Context, req *cachedv1.IncrByRequest) (*cachedv1.IncrByResponse, error) {
	n.calls.Add(1)
	n.mu.Lock()
	defer n.mu.Unlock()
	key := string(req.GetKey())
	var v int64
	if it, ok := n.items[key]; ok {
		var err error
		if v, err = strconv.ParseInt(string(it.val), 10, 64); err != nil {
			return nil, status.Error(codes.FailedPrecondition, "value is not an integer")
		}
	}
	v += req.GetDelta()
	n.ver++
	n.items[key] = fakeItem{val: []byte(strconv.FormatInt(v, 10)), ver: n.ver}
	return &cachedv1.IncrByResponse{Value: v}, nil
}

func (n *fakeNode) Stats(context.Context, *cachedv1.StatsRequest) (*cachedv1.StatsResponse, error) {
	n.calls.Add(1)
	n.mu.Lock()
	defer n.mu.Unlock()
	return &cachedv1.StatsResponse{NodeId: n.id, Items: int64(len(n.items)), Hits: 3, Misses: 1, MaxBytes: 1 << 20}, nil
}

// Subscribe registers the subscription, then sends headers naming the nodes
// that are up, as cached does.
func (n *fakeNode) Subscribe(req *cachedv1.SubscribeRequest, st cachedv1.CacheService_SubscribeServer) error {
	s := &fakeSub{prefixes: req.GetPrefixes(), ch: make(chan *cachedv1.SubscribeResponse, 1024)}
	cl := n.cl
	cl.subMu.Lock()
	cl.subs[s] = true
	cl.subMu.Unlock()
	defer func() {
		cl.subMu.Lock()
		delete(cl.subs, s)
		cl.subMu.Unlock()
	}()
	var up []string
	cl.mu.Lock()
	for _, nd := range cl.nodes {
		if !nd.stopped.Load() {
			up = append(up, nd.id)
		}
	}
	cl.mu.Unlock()
	if err := st.SendHeader(metadata.Pairs(subscribedHeader, strings.Join(up, ","))); err != nil {
		return err
	}
	for {
		select {
		case <-st.Context().Done():
			return st.Context().Err()
		case m := <-s.ch:
			if err := st.Send(m); err != nil {
				return err
			}
		}
	}
}

func (n *fakeNode) Ring(context.Context, *cachedv1.RingRequest) (*cachedv1.RingResponse, error) {
	cl := n.cl
	cl.mu.Lock()
	defer cl.mu.Unlock()
	resp := &cachedv1.RingResponse{Vnodes: cl.vnodes, Replicas: cl.replicas, Epoch: cl.epoch}
	for _, id := range cl.members {
		for _, nd := range cl.nodes {
			if nd.id == id {
				resp.Members = append(resp.Members, &cachedv1.Member{Id: id, Addr: nd.addr, RespAddr: "resp-" + nd.addr})
			}
		}
	}
	return resp, nil
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
