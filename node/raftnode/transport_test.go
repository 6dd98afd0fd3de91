package raftnode

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"cairn.dev/cairn/node/nodetest"
)

// transportTestPeer is one Transport served by its own gRPC server on 127.0.0.1.
type transportTestPeer struct {
	tr   *Transport
	srv  *grpc.Server
	addr raft.ServerAddress
	done chan struct{} // closed when Serve returned
}

// newTransportTestPeer starts a Transport on a fresh gRPC server. listenAddr "" picks a
// free port. The peer is stopped on cleanup.
func newTransportTestPeer(t testing.TB, listenAddr string, cfg TransportConfig) *transportTestPeer {
	t.Helper()
	if listenAddr == "" {
		listenAddr = "127.0.0.1:0"
	}
	lis, err := net.Listen("tcp", listenAddr)
	require.NoError(t, err)
	cfg.LocalAddr = raft.ServerAddress(lis.Addr().String())
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(transportTestLogWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	tr, err := NewTransport(cfg)
	require.NoError(t, err)
	p := &transportTestPeer{tr: tr, srv: grpc.NewServer(), addr: cfg.LocalAddr, done: make(chan struct{})}
	tr.Register(p.srv)
	go func() {
		defer close(p.done)
		_ = p.srv.Serve(lis)
	}()
	t.Cleanup(p.stop)
	return p
}

// stop closes the transport and the server and waits for Serve to return. Idempotent.
func (p *transportTestPeer) stop() {
	_ = p.tr.Close()
	p.srv.Stop()
	<-p.done
}

// serve answers every RPC on the peer's Consumer with handle until cleanup.
func (p *transportTestPeer) serve(t testing.TB, handle func(rpc raft.RPC)) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case rpc := <-p.tr.Consumer():
				handle(rpc)
			case <-stop:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
}

// transportTestLogWriter routes logs to t.Log until the test's cleanup ends, and drops
// them afterwards (raft and gRPC may still log while they wind down).
func transportTestLogWriter(t testing.TB) io.Writer {
	w := &testLogWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return w
}

type testLogWriter struct {
	t    testing.TB
	mu   sync.Mutex // protects done
	done bool
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

// waitGoroutines polls until the goroutine count is back to at most base.
func waitGoroutines(t testing.TB, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("goroutines leaked: %d > %d\n%s", runtime.NumGoroutine(), base, buf[:n])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func transportTestPair(t *testing.T, cfg TransportConfig) (client, server *transportTestPeer) {
	return newTransportTestPeer(t, "", cfg), newTransportTestPeer(t, "", cfg)
}

func TestTransportAppendEntries(t *testing.T) {
	client, server := transportTestPair(t, TransportConfig{})
	req := &raft.AppendEntriesRequest{
		RPCHeader:         raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("client"), Addr: []byte(client.addr)},
		Term:              10,
		PrevLogEntry:      100,
		PrevLogTerm:       9,
		LeaderCommitIndex: 99,
		Entries: []*raft.Log{
			{Index: 101, Term: 10, Type: raft.LogCommand, Data: []byte("first"), Extensions: []byte("ext"), AppendedAt: time.Now()},
			{Index: 102, Term: 10, Type: raft.LogNoop},
		},
	}
	want := &raft.AppendEntriesResponse{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("server"), Addr: []byte(server.addr)},
		Term:      10, LastLog: 102, Success: true, NoRetryBackoff: true,
	}
	server.serve(t, func(rpc raft.RPC) {
		got, ok := rpc.Command.(*raft.AppendEntriesRequest)
		if !ok {
			rpc.Respond(nil, fmt.Errorf("unexpected %T", rpc.Command))
			return
		}
		wantReq := *req
		wantReq.Leader = wantReq.Addr
		requireSameAppendEntries(t, &wantReq, got)
		rpc.Respond(want, nil)
	})

	var resp raft.AppendEntriesResponse
	require.NoError(t, client.tr.AppendEntries("server", server.addr, req, &resp))
	requireSameHeader(t, want.RPCHeader, resp.RPCHeader)
	require.Equal(t, want.Term, resp.Term)
	require.Equal(t, want.LastLog, resp.LastLog)
	require.True(t, resp.Success)
	require.True(t, resp.NoRetryBackoff)

	t.Run("raft error", func(t *testing.T) {
		other := newTransportTestPeer(t, "", TransportConfig{})
		other.serve(t, func(rpc raft.RPC) { rpc.Respond(nil, errors.New("log store is on fire")) })
		err := client.tr.AppendEntries("other", other.addr, req, &resp)
		require.ErrorContains(t, err, "log store is on fire")
	})
}

func TestTransportVotesAndTimeoutNow(t *testing.T) {
	client, server := transportTestPair(t, TransportConfig{})
	hdr := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("client"), Addr: []byte(client.addr)}
	srvHdr := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("server"), Addr: []byte(server.addr)}
	server.serve(t, func(rpc raft.RPC) {
		switch c := rpc.Command.(type) {
		case *raft.RequestVoteRequest:
			if string(c.Candidate) != string(hdr.Addr) || c.Term != 5 || c.LastLogIndex != 50 || c.LastLogTerm != 4 || !c.LeadershipTransfer {
				rpc.Respond(nil, fmt.Errorf("bad vote request %+v", c))
				return
			}
			rpc.Respond(&raft.RequestVoteResponse{RPCHeader: srvHdr, Term: 5, Granted: true}, nil)
		case *raft.RequestPreVoteRequest:
			if string(c.ID) != "client" || c.Term != 6 || c.LastLogIndex != 60 || c.LastLogTerm != 5 {
				rpc.Respond(nil, fmt.Errorf("bad pre-vote request %+v", c))
				return
			}
			rpc.Respond(&raft.RequestPreVoteResponse{RPCHeader: srvHdr, Term: 6, Granted: true}, nil)
		case *raft.TimeoutNowRequest:
			if string(c.ID) != "client" || string(c.Addr) != string(hdr.Addr) {
				rpc.Respond(nil, fmt.Errorf("bad timeout now request %+v", c))
				return
			}
			rpc.Respond(&raft.TimeoutNowResponse{RPCHeader: srvHdr}, nil)
		default:
			rpc.Respond(nil, fmt.Errorf("unexpected %T", rpc.Command))
		}
	})

	t.Run("request vote", func(t *testing.T) {
		var resp raft.RequestVoteResponse
		require.NoError(t, client.tr.RequestVote("server", server.addr, &raft.RequestVoteRequest{
			RPCHeader: hdr, Term: 5, LastLogIndex: 50, LastLogTerm: 4, LeadershipTransfer: true,
		}, &resp))
		requireSameHeader(t, srvHdr, resp.RPCHeader)
		require.Equal(t, uint64(5), resp.Term)
		require.True(t, resp.Granted)
	})
	t.Run("request pre-vote", func(t *testing.T) {
		var resp raft.RequestPreVoteResponse
		require.NoError(t, client.tr.RequestPreVote("server", server.addr, &raft.RequestPreVoteRequest{
			RPCHeader: hdr, Term: 6, LastLogIndex: 60, LastLogTerm: 5,
		}, &resp))
		requireSameHeader(t, srvHdr, resp.RPCHeader)
		require.Equal(t, uint64(6), resp.Term)
		require.True(t, resp.Granted)
	})
	t.Run("timeout now", func(t *testing.T) {
		var resp raft.TimeoutNowResponse
		require.NoError(t, client.tr.TimeoutNow("server", server.addr, &raft.TimeoutNowRequest{RPCHeader: hdr}, &resp))
		requireSameHeader(t, srvHdr, resp.RPCHeader)
	})
}

func TestTransportInstallSnapshot(t *testing.T) {
	client, server := transportTestPair(t, TransportConfig{})
	data := make([]byte, 5<<20+12345) // several chunks and a partial one
	_, _ = rand.Read(data)
	wantSum := sha256.Sum256(data)
	conf := raft.EncodeConfiguration(raft.Configuration{Servers: []raft.Server{
		{Suffrage: raft.Voter, ID: "client", Address: client.addr},
		{Suffrage: raft.Voter, ID: "server", Address: server.addr},
	}})
	req := &raft.InstallSnapshotRequest{
		RPCHeader:          raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("client"), Addr: []byte(client.addr)},
		SnapshotVersion:    raft.SnapshotVersionMax,
		Term:               3,
		LastLogIndex:       1234,
		LastLogTerm:        2,
		Configuration:      conf,
		ConfigurationIndex: 1200,
		Size:               int64(len(data)),
	}

	gotSum := make(chan [sha256.Size]byte, 1)
	server.serve(t, func(rpc raft.RPC) {
		c, ok := rpc.Command.(*raft.InstallSnapshotRequest)
		if !ok || rpc.Reader == nil {
			rpc.Respond(nil, fmt.Errorf("unexpected %T", rpc.Command))
			return
		}
		if c.LastLogIndex != 1234 || c.ConfigurationIndex != 1200 ||
			!bytes.Equal(c.Configuration, conf) || string(c.Leader) != string(client.addr) {
			rpc.Respond(nil, fmt.Errorf("bad metadata %+v", c))
			return
		}
		h := sha256.New()
		n, err := io.Copy(h, rpc.Reader)
		if err != nil || n != c.Size {
			rpc.Respond(nil, fmt.Errorf("read %d of %d bytes: %v", n, c.Size, err))
			return
		}
		var sum [sha256.Size]byte
		copy(sum[:], h.Sum(nil))
		gotSum <- sum
		rpc.Respond(&raft.InstallSnapshotResponse{Term: 3, Success: true}, nil)
	})

	var resp raft.InstallSnapshotResponse
	require.NoError(t, client.tr.InstallSnapshot("server", server.addr, req, &resp, bytes.NewReader(data)))
	require.True(t, resp.Success)
	require.Equal(t, uint64(3), resp.Term)
	require.Equal(t, wantSum, <-gotSum)

	t.Run("short data", func(t *testing.T) {
		// The receiver expects Size bytes and gets fewer: it must see an error, not hang.
		short := *req
		short.Size = int64(len(data)) + 1
		err := client.tr.InstallSnapshot("server", server.addr, &short, &resp, bytes.NewReader(data))
		require.ErrorContains(t, err, "unexpected EOF")
	})
}

func TestTransportPipeline(t *testing.T) {
	const n = 2000
	client, server := transportTestPair(t, TransportConfig{MaxPipelineInflight: 16})
	server.serve(t, func(rpc raft.RPC) {
		req := rpc.Command.(*raft.AppendEntriesRequest)
		rpc.Respond(&raft.AppendEntriesResponse{Term: req.Term, LastLog: req.PrevLogEntry + uint64(len(req.Entries)), Success: true}, nil)
	})

	// Connect first: the connection's goroutines outlive the pipeline.
	var warm raft.AppendEntriesResponse
	require.NoError(t, client.tr.AppendEntries("server", server.addr, &raft.AppendEntriesRequest{Term: 1, PrevLogEntry: 1}, &warm))
	base := runtime.NumGoroutine()
	pipe, err := client.tr.AppendEntriesPipeline("server", server.addr)
	require.NoError(t, err)

	consumed := make(chan error, 1)
	go func() {
		defer close(consumed)
		for i := range n {
			f := <-pipe.Consumer()
			if err := f.Error(); err != nil {
				consumed <- fmt.Errorf("future %d: %w", i, err)
				return
			}
			if got, want := f.Request().PrevLogEntry, uint64(i); got != want {
				consumed <- fmt.Errorf("future %d out of order: prev log %d", i, got)
				return
			}
			if f.Response().LastLog != uint64(i+1) || !f.Response().Success {
				consumed <- fmt.Errorf("future %d: bad response %+v", i, f.Response())
				return
			}
			if f.Start().IsZero() {
				consumed <- fmt.Errorf("future %d: zero start", i)
				return
			}
		}
	}()
	for i := range n {
		req := &raft.AppendEntriesRequest{
			RPCHeader:    raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("client"), Addr: []byte(client.addr)},
			Term:         1,
			PrevLogEntry: uint64(i),
			PrevLogTerm:  1,
			Entries:      []*raft.Log{{Index: uint64(i + 1), Term: 1, Type: raft.LogCommand, Data: []byte("x")}},
		}
		_, err := pipe.AppendEntries(req, new(raft.AppendEntriesResponse))
		require.NoError(t, err)
	}
	require.NoError(t, <-consumed)

	require.NoError(t, pipe.Close())
	_, err = pipe.AppendEntries(&raft.AppendEntriesRequest{}, new(raft.AppendEntriesResponse))
	require.ErrorIs(t, err, raft.ErrPipelineShutdown)
	waitGoroutines(t, base)
}

func TestTransportPipelineBackPressure(t *testing.T) {
	const inflight = 4
	client, server := transportTestPair(t, TransportConfig{MaxPipelineInflight: inflight})
	release := make(chan struct{})
	server.serve(t, func(rpc raft.RPC) {
		<-release
		rpc.Respond(&raft.AppendEntriesResponse{Success: true}, nil)
	})
	pipe, err := client.tr.AppendEntriesPipeline("server", server.addr)
	require.NoError(t, err)
	defer pipe.Close()

	req := &raft.AppendEntriesRequest{Term: 1, PrevLogEntry: 1, Entries: []*raft.Log{{Index: 2}}}
	for range inflight {
		_, err := pipe.AppendEntries(req, new(raft.AppendEntriesResponse))
		require.NoError(t, err)
	}
	blocked := make(chan error, 1)
	go func() {
		_, err := pipe.AppendEntries(req, new(raft.AppendEntriesResponse))
		blocked <- err
	}()
	select {
	case err := <-blocked:
		t.Fatalf("AppendEntries beyond MaxPipelineInflight returned %v; want it to block", err)
	case <-time.After(100 * time.Millisecond): // asserting absence: it must still be blocked
	}
	close(release)
	require.NoError(t, <-blocked)
	for range inflight + 1 {
		require.NoError(t, (<-pipe.Consumer()).Error())
	}
}

func TestTransportHeartbeatFastPath(t *testing.T) {
	client, server := transportTestPair(t, TransportConfig{})
	var beats atomic.Int64
	server.tr.SetHeartbeatHandler(func(rpc raft.RPC) {
		beats.Add(1)
		rpc.Respond(&raft.AppendEntriesResponse{Term: rpc.Command.(*raft.AppendEntriesRequest).Term, Success: true}, nil)
	})
	var consumed atomic.Int64
	server.serve(t, func(rpc raft.RPC) {
		consumed.Add(1)
		rpc.Respond(&raft.AppendEntriesResponse{Success: false}, nil)
	})

	hdr := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("client"), Addr: []byte(client.addr)}
	var resp raft.AppendEntriesResponse
	require.NoError(t, client.tr.AppendEntries("server", server.addr, &raft.AppendEntriesRequest{RPCHeader: hdr, Term: 4}, &resp))
	require.True(t, resp.Success)
	require.Equal(t, uint64(4), resp.Term)
	require.Equal(t, int64(1), beats.Load())
	require.Equal(t, int64(0), consumed.Load())

	// Carrying a commit index disqualifies the fast path.
	require.NoError(t, client.tr.AppendEntries("server", server.addr, &raft.AppendEntriesRequest{RPCHeader: hdr, Term: 4, LeaderCommitIndex: 1}, &resp))
	require.False(t, resp.Success)
	require.Equal(t, int64(1), beats.Load())
	require.Equal(t, int64(1), consumed.Load())
}

func TestTransportCloseUnblocksPendingCalls(t *testing.T) {
	t.Run("client close", func(t *testing.T) {
		client, server := transportTestPair(t, TransportConfig{Timeout: time.Minute})
		// Nobody consumes server's RPCs: calls hang until something gives.
		received := make(chan struct{}, 8)
		server.serve(t, func(rpc raft.RPC) { received <- struct{}{} }) // never responds

		errs := make(chan error, 3)
		go func() {
			var resp raft.AppendEntriesResponse
			errs <- client.tr.AppendEntries("server", server.addr, &raft.AppendEntriesRequest{Term: 1, PrevLogEntry: 1}, &resp)
		}()
		go func() {
			var resp raft.InstallSnapshotResponse
			errs <- client.tr.InstallSnapshot("server", server.addr, &raft.InstallSnapshotRequest{Size: 1}, &resp, bytes.NewReader([]byte{1}))
		}()
		pipe, err := client.tr.AppendEntriesPipeline("server", server.addr)
		require.NoError(t, err)
		fut, err := pipe.AppendEntries(&raft.AppendEntriesRequest{Term: 1, PrevLogEntry: 1}, new(raft.AppendEntriesResponse))
		require.NoError(t, err)
		for range 3 {
			<-received
		}

		start := time.Now()
		require.NoError(t, client.tr.Close())
		for range 2 {
			require.ErrorIs(t, <-errs, raft.ErrTransportShutdown)
		}
		require.ErrorIs(t, fut.Error(), raft.ErrPipelineShutdown)
		require.Less(t, time.Since(start), 5*time.Second)

		var resp raft.AppendEntriesResponse
		require.ErrorIs(t, client.tr.AppendEntries("server", server.addr, &raft.AppendEntriesRequest{}, &resp), raft.ErrTransportShutdown)
		_, err = client.tr.AppendEntriesPipeline("server", server.addr)
		require.ErrorIs(t, err, raft.ErrTransportShutdown)
	})

	t.Run("server close", func(t *testing.T) {
		client, server := transportTestPair(t, TransportConfig{Timeout: time.Minute})
		received := make(chan struct{}, 1)
		server.serve(t, func(rpc raft.RPC) { received <- struct{}{} }) // never responds
		errc := make(chan error, 1)
		go func() {
			var resp raft.AppendEntriesResponse
			errc <- client.tr.AppendEntries("server", server.addr, &raft.AppendEntriesRequest{Term: 1, PrevLogEntry: 1}, &resp)
		}()
		<-received
		require.NoError(t, server.tr.Close())
		require.ErrorContains(t, <-errc, raft.ErrTransportShutdown.Error())
	})
}

func TestTransportErrorsArePrompt(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		dead := raft.ServerAddress(lis.Addr().String())
		require.NoError(t, lis.Close())

		client := newTransportTestPeer(t, "", TransportConfig{Timeout: 30 * time.Second})
		start := time.Now()
		var resp raft.RequestVoteResponse
		require.Error(t, client.tr.RequestVote("dead", dead, &raft.RequestVoteRequest{Term: 1}, &resp))
		_, err = client.tr.AppendEntriesPipeline("dead", dead)
		require.Error(t, err)
		require.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("timeout", func(t *testing.T) {
		client, server := transportTestPair(t, TransportConfig{Timeout: 200 * time.Millisecond})
		server.serve(t, func(rpc raft.RPC) {}) // never responds
		start := time.Now()
		var resp raft.RequestVoteResponse
		err := client.tr.RequestVote("server", server.addr, &raft.RequestVoteRequest{Term: 1}, &resp)
		require.ErrorContains(t, err, "DeadlineExceeded")
		require.Less(t, time.Since(start), 5*time.Second)
	})
	t.Run("pipeline timeout", func(t *testing.T) {
		client, server := transportTestPair(t, TransportConfig{Timeout: 200 * time.Millisecond})
		server.serve(t, func(rpc raft.RPC) {}) // never responds
		pipe, err := client.tr.AppendEntriesPipeline("server", server.addr)
		require.NoError(t, err)
		defer pipe.Close()
		_, err = pipe.AppendEntries(&raft.AppendEntriesRequest{Term: 1, PrevLogEntry: 1}, new(raft.AppendEntriesResponse))
		require.NoError(t, err)
		select {
		case f := <-pipe.Consumer():
			require.ErrorContains(t, f.Error(), "no response within")
		case <-time.After(10 * time.Second):
			t.Fatal("pipeline did not fail its stale request")
		}
	})
}

func TestTransportDisconnectRedials(t *testing.T) {
	client, server := transportTestPair(t, TransportConfig{})
	server.serve(t, func(rpc raft.RPC) { rpc.Respond(&raft.RequestVoteResponse{Granted: true}, nil) })
	var resp raft.RequestVoteResponse
	require.NoError(t, client.tr.RequestVote("server", server.addr, &raft.RequestVoteRequest{}, &resp))
	client.tr.Disconnect(server.addr)
	require.NoError(t, client.tr.RequestVote("server", server.addr, &raft.RequestVoteRequest{}, &resp))
	client.tr.DisconnectAll()
	require.NoError(t, client.tr.RequestVote("server", server.addr, &raft.RequestVoteRequest{}, &resp))
	require.True(t, resp.Granted)
}

// TestTransportNoGoroutineLeak exercises every RPC, then closes everything and expects
// the goroutine count to come back.
func TestTransportNoGoroutineLeak(t *testing.T) {
	run := func(t *testing.T) {
		client := newTransportTestPeer(t, "", TransportConfig{})
		server := newTransportTestPeer(t, "", TransportConfig{})
		server.serve(t, func(rpc raft.RPC) {
			switch c := rpc.Command.(type) {
			case *raft.AppendEntriesRequest:
				rpc.Respond(&raft.AppendEntriesResponse{Success: true}, nil)
			case *raft.RequestVoteRequest:
				rpc.Respond(&raft.RequestVoteResponse{}, nil)
			case *raft.InstallSnapshotRequest:
				_, err := io.Copy(io.Discard, rpc.Reader)
				rpc.Respond(&raft.InstallSnapshotResponse{Success: err == nil}, nil)
			default:
				rpc.Respond(nil, fmt.Errorf("unexpected %T", c))
			}
		})
		var ae raft.AppendEntriesResponse
		require.NoError(t, client.tr.AppendEntries("s", server.addr, &raft.AppendEntriesRequest{Term: 1, PrevLogEntry: 1}, &ae))
		var rv raft.RequestVoteResponse
		require.NoError(t, client.tr.RequestVote("s", server.addr, &raft.RequestVoteRequest{}, &rv))
		var is raft.InstallSnapshotResponse
		require.NoError(t, client.tr.InstallSnapshot("s", server.addr, &raft.InstallSnapshotRequest{Size: 1 << 20}, &is, bytes.NewReader(make([]byte, 1<<20))))
		pipe, err := client.tr.AppendEntriesPipeline("s", server.addr)
		require.NoError(t, err)
		for range 10 {
			_, err := pipe.AppendEntries(&raft.AppendEntriesRequest{Term: 1, PrevLogEntry: 1}, new(raft.AppendEntriesResponse))
			require.NoError(t, err)
		}
		require.NoError(t, (<-pipe.Consumer()).Error())
		// The pipeline is left open on purpose: the transport's Close must stop it.
	}
	t.Run("warm up", run) // starts gRPC's process-wide goroutines, if any
	base := runtime.NumGoroutine()
	t.Run("run", run)
	waitGoroutines(t, base)
}

// TestTransportHeartbeatsHaveTheirOwnConnection: a heartbeat is answered while
// the main connection to the same peer is stuck (here: dialed to a listener
// that accepts and never speaks), so appends cannot hold heartbeats up.
func TestTransportHeartbeatsHaveTheirOwnConnection(t *testing.T) {
	hole, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var held sync.WaitGroup
	t.Cleanup(func() {
		hole.Close()
		held.Wait()
	})
	held.Go(func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := hole.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	})
	var dials atomic.Int64
	dial := func(target string) (*grpc.ClientConn, error) {
		if dials.Add(1) == 1 {
			target = hole.Addr().String() // the first connection: the main one, below
		}
		return grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	// The timeout fails the stuck append, and a heartbeat that took its
	// connection.
	client := newTransportTestPeer(t, "", TransportConfig{Dial: dial, Timeout: 2 * time.Second})
	server := newTransportTestPeer(t, "", TransportConfig{})
	server.tr.SetHeartbeatHandler(func(rpc raft.RPC) {
		rpc.Respond(&raft.AppendEntriesResponse{Term: rpc.Command.(*raft.AppendEntriesRequest).Term, Success: true}, nil)
	})
	hdr := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("client"), Addr: []byte(client.addr)}

	appendDone := make(chan error, 1)
	go func() {
		var resp raft.AppendEntriesResponse
		appendDone <- client.tr.AppendEntries("server", server.addr, &raft.AppendEntriesRequest{
			RPCHeader: hdr, Term: 4, PrevLogEntry: 1, PrevLogTerm: 1,
			Entries: []*raft.Log{{Index: 2, Term: 4, Type: raft.LogCommand, Data: []byte("x")}},
		}, &resp)
	}()
	nodetest.WaitFor(t, 5*time.Second, "the append to dial", func() bool { return dials.Load() == 1 })

	var resp raft.AppendEntriesResponse
	require.NoError(t, client.tr.AppendEntries("server", server.addr, &raft.AppendEntriesRequest{RPCHeader: hdr, Term: 4}, &resp))
	require.True(t, resp.Success)
	require.Equal(t, int64(2), dials.Load())
	require.Error(t, <-appendDone, "the append on the stuck connection")
}
