package raftnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// Defaults for TransportConfig.
const (
	defaultTransportTimeout     = 10 * time.Second
	defaultMaxPipelineInflight  = 128
	snapshotChunkSize           = 256 << 10
	snapshotTimeoutScaleBytes   = 256 << 10 // InstallSnapshot gets Timeout per this many bytes
	transportConsumerBufferSize = 0         // like NetworkTransport: raft picks RPCs up one at a time
)

// TransportConfig configures a Transport.
type TransportConfig struct {
	// LocalAddr is the advertised gRPC address of this node (required). Peers dial it.
	LocalAddr raft.ServerAddress
	// Dial opens a client connection to a peer's gRPC address. The transport caches one
	// conn per target and closes them on Close or Disconnect. The default dials without
	// TLS, which is only suitable for tests and loopback.
	Dial func(target string) (*grpc.ClientConn, error)
	// Timeout bounds every non-streaming RPC (default 10s). InstallSnapshot gets Timeout
	// per 256 KiB of snapshot (at least Timeout); a pipeline fails when its oldest
	// request has waited longer than Timeout for its response.
	Timeout time.Duration
	// MaxPipelineInflight bounds the AppendEntries requests a pipeline has sent without
	// a response (default 128). AppendPipeline.AppendEntries blocks beyond it.
	MaxPipelineInflight int
	// Logger receives transport logs (default: discard).
	Logger *slog.Logger
}

// Transport is a raft.Transport that carries Raft RPCs over gRPC, so that a node serves
// Raft on the same port as its client API. The server half is registered on a
// grpc.Server with Register; the client half dials peers through TransportConfig.Dial.
//
// *Transport implements raft.Transport, raft.WithClose, raft.WithPreVote and
// raft.WithPeers. All methods are safe for concurrent use. raft.Raft closes the
// transport when it shuts down; after Close every RPC, in either direction, fails with
// raft.ErrTransportShutdown (the gRPC server itself stays up: its owner stops it).
type Transport struct {
	cfg       TransportConfig
	logger    *slog.Logger
	consumeCh chan raft.RPC

	// ctx is the parent of every outgoing call; cancelled by Close.
	ctx        context.Context
	cancel     context.CancelFunc
	shutdownCh chan struct{} // closed by Close

	hbMu        sync.Mutex // protects heartbeatFn
	heartbeatFn func(raft.RPC)

	// onPreVote, if set, is called when raft has refused a pre-vote request,
	// after the refusal was produced. Set before the transport serves;
	// read-only after.
	onPreVote func()

	// contact maps a peer address to the time (unix nanoseconds, *atomic.Int64)
	// an answer to an AppendEntries last came back from it; see LastContact.
	contact sync.Map

	mu        sync.Mutex // protects the fields below; taken before grpcPipeline.mu
	closed    bool
	conns     map[connKey]*transportConn
	pipelines map[*grpcPipeline]struct{}
}

// connKey names one of the (up to two) cached connections to a peer.
// Heartbeats (and the other small control RPCs: votes, pre-votes, TimeoutNow)
// have a connection of their own, so that they never wait behind
// appends on a busy one: a heartbeat is a few dozen bytes that tell a
// follower its leader is alive, and if it queues behind megabytes of entries
// (HTTP/2 flow control, one TCP stream, one reader goroutine per connection)
// the follower may start an election against a healthy leader, and the leader
// may count a quorum as silent and step down. hashicorp/raft sends heartbeats
// from their own goroutine for the same reason; this keeps them apart on the
// wire too. Appends, pipelines and snapshots share the main connection.
type connKey struct {
	target  raft.ServerAddress
	control bool
}

// transportConn is a cached client connection to one peer.
type transportConn struct {
	cc     *grpc.ClientConn
	client raftv1.RaftTransportServiceClient
}

var (
	_ raft.Transport   = (*Transport)(nil)
	_ raft.WithClose   = (*Transport)(nil)
	_ raft.WithPreVote = (*Transport)(nil)
	_ raft.WithPeers   = (*Transport)(nil)
)

// NewTransport returns a Transport for cfg. Register it on the node's gRPC server before
// the server starts serving.
func NewTransport(cfg TransportConfig) (*Transport, error) {
	if cfg.LocalAddr == "" {
		return nil, errors.New("raftnode: TransportConfig.LocalAddr is required")
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("raftnode: TransportConfig.Timeout must not be negative, got %s", cfg.Timeout)
	}
	if cfg.MaxPipelineInflight < 0 {
		return nil, fmt.Errorf("raftnode: TransportConfig.MaxPipelineInflight must not be negative, got %d", cfg.MaxPipelineInflight)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTransportTimeout
	}
	if cfg.MaxPipelineInflight == 0 {
		cfg.MaxPipelineInflight = defaultMaxPipelineInflight
	}
	if cfg.Dial == nil {
		cfg.Dial = func(target string) (*grpc.ClientConn, error) {
			return grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
		}
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Transport{
		cfg:        cfg,
		logger:     logger.With("component", "raft-transport"),
		consumeCh:  make(chan raft.RPC, transportConsumerBufferSize),
		ctx:        ctx,
		cancel:     cancel,
		shutdownCh: make(chan struct{}),
		conns:      make(map[connKey]*transportConn),
		pipelines:  make(map[*grpcPipeline]struct{}),
	}, nil
}

// Register registers the RaftTransportService on s. Call it once, before s serves.
func (t *Transport) Register(s grpc.ServiceRegistrar) {
	raftv1.RegisterRaftTransportServiceServer(s, &transportServer{t: t})
}

// Consumer implements raft.Transport.
func (t *Transport) Consumer() <-chan raft.RPC { return t.consumeCh }

// LocalAddr implements raft.Transport.
func (t *Transport) LocalAddr() raft.ServerAddress { return t.cfg.LocalAddr }

// EncodePeer implements raft.Transport.
func (t *Transport) EncodePeer(_ raft.ServerID, addr raft.ServerAddress) []byte {
	return []byte(addr)
}

// DecodePeer implements raft.Transport.
func (t *Transport) DecodePeer(buf []byte) raft.ServerAddress { return raft.ServerAddress(buf) }

// SetHeartbeatHandler implements raft.Transport. Heartbeats (AppendEntries with no
// entries, no previous log and no commit index) are handed to cb on the gRPC handler's
// goroutine instead of the Consumer channel, so they are not stuck behind disk IO.
func (t *Transport) SetHeartbeatHandler(cb func(rpc raft.RPC)) {
	t.hbMu.Lock()
	t.heartbeatFn = cb
	t.hbMu.Unlock()
}

func (t *Transport) heartbeatHandler() func(raft.RPC) {
	t.hbMu.Lock()
	defer t.hbMu.Unlock()
	return t.heartbeatFn
}

// Close implements raft.WithClose. It fails pending and future RPCs in both directions,
// closes every pipeline (waiting for their goroutines) and every cached connection.
// It is idempotent.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	conns := t.conns
	pipelines := t.pipelines
	t.conns = make(map[connKey]*transportConn)
	t.pipelines = make(map[*grpcPipeline]struct{})
	t.mu.Unlock()

	close(t.shutdownCh)
	t.cancel()
	for p := range pipelines {
		p.close(raft.ErrPipelineShutdown)
	}
	var errs []error
	for _, c := range conns {
		errs = append(errs, c.cc.Close())
	}
	return errors.Join(errs...)
}

// Connect implements raft.WithPeers. Connections are dialed lazily, so it does nothing.
func (t *Transport) Connect(raft.ServerAddress, raft.Transport) {}

// Disconnect implements raft.WithPeers: it closes the cached connection to peer, if any,
// and the pipelines using it. The next RPC to peer dials again.
func (t *Transport) Disconnect(peer raft.ServerAddress) {
	t.mu.Lock()
	var cs []*transportConn
	for _, control := range []bool{false, true} {
		k := connKey{target: peer, control: control}
		if c := t.conns[k]; c != nil {
			cs = append(cs, c)
		}
		delete(t.conns, k)
	}
	var ps []*grpcPipeline
	for p := range t.pipelines {
		if p.target == peer {
			ps = append(ps, p)
		}
	}
	t.mu.Unlock()
	for _, p := range ps {
		p.close(raft.ErrPipelineShutdown)
	}
	for _, c := range cs {
		_ = c.cc.Close()
	}
}

// DisconnectAll implements raft.WithPeers.
func (t *Transport) DisconnectAll() {
	t.mu.Lock()
	conns := t.conns
	t.conns = make(map[connKey]*transportConn)
	ps := make([]*grpcPipeline, 0, len(t.pipelines))
	for p := range t.pipelines {
		ps = append(ps, p)
	}
	t.mu.Unlock()
	for _, p := range ps {
		p.close(raft.ErrPipelineShutdown)
	}
	for _, c := range conns {
		_ = c.cc.Close()
	}
}

// conn returns the cached main connection to target, dialing it if needed.
func (t *Transport) conn(target raft.ServerAddress) (*transportConn, error) {
	return t.connFor(connKey{target: target})
}

// connFor returns the cached connection k, dialing it if needed.
func (t *Transport) connFor(k connKey) (*transportConn, error) {
	target := k.target
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, raft.ErrTransportShutdown
	}
	if c, ok := t.conns[k]; ok {
		return c, nil
	}
	// Dial only builds the ClientConn (grpc.NewClient connects lazily), so holding mu
	// here is cheap.
	cc, err := t.cfg.Dial(string(target))
	if err != nil {
		return nil, fmt.Errorf("raftnode: dial %s: %w", target, err)
	}
	c := &transportConn{cc: cc, client: raftv1.NewRaftTransportServiceClient(cc)}
	t.conns[k] = c
	return c, nil
}

// callError wraps an outgoing RPC's error for raft. On Unavailable it resets the
// connection's reconnect backoff, so that raft's own retry schedule, not gRPC's
// (which grows to minutes), decides when a restarted peer is tried again.
func (t *Transport) callError(c *transportConn, rpc string, target raft.ServerAddress, err error) error {
	select {
	case <-t.shutdownCh:
		return raft.ErrTransportShutdown
	default:
	}
	if status.Code(err) == codes.Unavailable {
		c.cc.ResetConnectBackoff()
	}
	return fmt.Errorf("raftnode: %s to %s: %w", rpc, target, err)
}

// unary runs one non-streaming call with the transport's timeout, on the
// control connection to target when control is set (see connKey).
func unaryCall[Req, Resp any](t *Transport, rpc string, target raft.ServerAddress, control bool, req Req,
	call func(raftv1.RaftTransportServiceClient, context.Context, Req, ...grpc.CallOption) (Resp, error),
) (Resp, error) {
	var zero Resp
	c, err := t.connFor(connKey{target: target, control: control})
	if err != nil {
		return zero, err
	}
	ctx, cancel := context.WithTimeout(t.ctx, t.cfg.Timeout)
	defer cancel()
	resp, err := call(c.client, ctx, req)
	if err != nil {
		return zero, t.callError(c, rpc, target, err)
	}
	return resp, nil
}

// AppendEntries implements raft.Transport.
func (t *Transport) AppendEntries(_ raft.ServerID, target raft.ServerAddress, args *raft.AppendEntriesRequest, resp *raft.AppendEntriesResponse) error {
	m, err := unaryCall(t, "append entries", target, isHeartbeat(args), appendEntriesRequestToProto(args),
		raftv1.RaftTransportServiceClient.AppendEntries)
	if err != nil {
		return err
	}
	t.noteContact(target)
	appendEntriesResponseFromProto(m, resp)
	return nil
}

// noteContact records that target just answered an AppendEntries.
func (t *Transport) noteContact(target raft.ServerAddress) {
	now := time.Now().UnixNano()
	if v, ok := t.contact.Load(target); ok {
		v.(*atomic.Int64).Store(now)
		return
	}
	v := new(atomic.Int64)
	v.Store(now)
	if old, loaded := t.contact.LoadOrStore(target, v); loaded {
		old.(*atomic.Int64).Store(now)
	}
}

// LastContact returns when target last answered an AppendEntries (a heartbeat,
// a replication or a pipelined append) sent through t, or the zero time if it
// never did or if the main connection to it is not ready now: a peer that
// closed its connection (it stopped or crashed) counts as silent at once,
// however recently it answered. It is safe for concurrent use.
func (t *Transport) LastContact(target raft.ServerAddress) time.Time {
	v, ok := t.contact.Load(target)
	if !ok || !t.connReady(target) {
		return time.Time{}
	}
	return time.Unix(0, v.(*atomic.Int64).Load())
}

// connReady reports whether the main connection to target exists and is ready.
func (t *Transport) connReady(target raft.ServerAddress) bool {
	t.mu.Lock()
	c := t.conns[connKey{target: target}]
	t.mu.Unlock()
	return c != nil && c.cc.GetState() == connectivity.Ready
}

// RequestVote implements raft.Transport.
func (t *Transport) RequestVote(_ raft.ServerID, target raft.ServerAddress, args *raft.RequestVoteRequest, resp *raft.RequestVoteResponse) error {
	m, err := unaryCall(t, "request vote", target, true, requestVoteRequestToProto(args),
		raftv1.RaftTransportServiceClient.RequestVote)
	if err != nil {
		return err
	}
	requestVoteResponseFromProto(m, resp)
	return nil
}

// RequestPreVote implements raft.WithPreVote.
func (t *Transport) RequestPreVote(_ raft.ServerID, target raft.ServerAddress, args *raft.RequestPreVoteRequest, resp *raft.RequestPreVoteResponse) error {
	m, err := unaryCall(t, "request pre-vote", target, true, requestPreVoteRequestToProto(args),
		raftv1.RaftTransportServiceClient.RequestPreVote)
	if err != nil {
		return err
	}
	requestPreVoteResponseFromProto(m, resp)
	return nil
}

// TimeoutNow implements raft.Transport.
func (t *Transport) TimeoutNow(_ raft.ServerID, target raft.ServerAddress, args *raft.TimeoutNowRequest, resp *raft.TimeoutNowResponse) error {
	m, err := unaryCall(t, "timeout now", target, true, timeoutNowRequestToProto(args),
		raftv1.RaftTransportServiceClient.TimeoutNow)
	if err != nil {
		return err
	}
	timeoutNowResponseFromProto(m, resp)
	return nil
}

// snapshotTimeout is Timeout per snapshotTimeoutScaleBytes of snapshot, at least Timeout.
func (t *Transport) snapshotTimeout(size int64) time.Duration {
	scale := size / snapshotTimeoutScaleBytes
	if scale < 1 {
		scale = 1
	}
	return t.cfg.Timeout * time.Duration(scale)
}

// InstallSnapshot implements raft.Transport. It sends the metadata, then data in
// 256 KiB chunks until data returns io.EOF, and waits for the receiver's answer.
func (t *Transport) InstallSnapshot(_ raft.ServerID, target raft.ServerAddress, args *raft.InstallSnapshotRequest, resp *raft.InstallSnapshotResponse, data io.Reader) error {
	c, err := t.conn(target)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(t.ctx, t.snapshotTimeout(args.Size))
	defer cancel()
	stream, err := c.client.InstallSnapshot(ctx)
	if err != nil {
		return t.callError(c, "install snapshot", target, err)
	}
	err = stream.Send(&raftv1.InstallSnapshotRequest{
		Message: &raftv1.InstallSnapshotRequest_Metadata{Metadata: installSnapshotRequestToProto(args)},
	})
	for err == nil {
		// A fresh buffer per chunk: gRPC may still hold the previous message.
		buf := make([]byte, snapshotChunkSize)
		n, rerr := io.ReadFull(data, buf)
		if n > 0 {
			err = stream.Send(&raftv1.InstallSnapshotRequest{
				Message: &raftv1.InstallSnapshotRequest_Chunk{Chunk: buf[:n]},
			})
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return fmt.Errorf("raftnode: install snapshot to %s: read snapshot: %w", target, rerr)
		}
	}
	// io.EOF from Send means the server ended the stream; its status comes from
	// CloseAndRecv.
	if err != nil && err != io.EOF {
		return t.callError(c, "install snapshot", target, err)
	}
	m, err := stream.CloseAndRecv()
	if err != nil {
		return t.callError(c, "install snapshot", target, err)
	}
	installSnapshotResponseFromProto(m, resp)
	return nil
}

// AppendEntriesPipeline implements raft.Transport. The pipeline owns one
// AppendEntriesPipeline stream to target and two goroutines; Close (of the pipeline or
// of the transport) stops them.
func (t *Transport) AppendEntriesPipeline(_ raft.ServerID, target raft.ServerAddress) (raft.AppendPipeline, error) {
	c, err := t.conn(target)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(t.ctx)
	// Opening the stream waits for the connection; bound that by Timeout.
	timer := time.AfterFunc(t.cfg.Timeout, cancel)
	stream, err := c.client.AppendEntriesPipeline(ctx)
	if !timer.Stop() && err == nil {
		err = context.DeadlineExceeded
	}
	if err != nil {
		cancel()
		return nil, t.callError(c, "open append entries pipeline", target, err)
	}
	p := newGRPCPipeline(t, target, stream, cancel)

	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		p.close(raft.ErrTransportShutdown)
		return nil, raft.ErrTransportShutdown
	}
	t.pipelines[p] = struct{}{}
	t.mu.Unlock()
	p.start()
	return p, nil
}

// forgetPipeline drops p from the set Close closes.
func (t *Transport) forgetPipeline(p *grpcPipeline) {
	t.mu.Lock()
	delete(t.pipelines, p)
	t.mu.Unlock()
}
