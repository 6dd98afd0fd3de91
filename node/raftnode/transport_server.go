package raftnode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/hashicorp/raft"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// transportServer serves RaftTransportService for a Transport: every request becomes a
// raft.RPC on the transport's Consumer channel (or goes to the heartbeat handler), and
// the handler returns raft's response. Handlers are owned by the gRPC server; they
// return when raft responds, the call's context ends or the transport closes.
type transportServer struct {
	raftv1.UnimplementedRaftTransportServiceServer
	t *Transport
}

// errUnexpectedResponse is returned when raft answers an RPC with a response of the
// wrong type, which would be a bug in raft or in this file.
var errUnexpectedResponse = errors.New("raftnode: unexpected raft response type")

// isHeartbeat reports whether r qualifies for raft's heartbeat fast path, with the same
// test as hashicorp/raft's NetworkTransport: only the header and term are set. A request
// carrying a commit index must go through the main loop, which applies commits.
func isHeartbeat(r *raft.AppendEntriesRequest) bool {
	return r.Term != 0 && len(r.Addr) > 0 &&
		r.PrevLogEntry == 0 && r.PrevLogTerm == 0 &&
		len(r.Entries) == 0 && r.LeaderCommitIndex == 0
}

// dispatch hands cmd to raft and waits for its response. A non-nil error is either
// raft's own error for the request or a transport error (status already set).
func (t *Transport) dispatch(ctx context.Context, cmd any, reader io.Reader, heartbeat bool) (any, error) {
	respCh := make(chan raft.RPCResponse, 1) // raft's Respond never blocks
	rpc := raft.RPC{Command: cmd, Reader: reader, RespChan: respCh}

	dispatched := false
	if heartbeat {
		if fn := t.heartbeatHandler(); fn != nil {
			// Check for shutdown first: raft's handler may be gone.
			select {
			case <-t.shutdownCh:
				return nil, transportServeError(raft.ErrTransportShutdown)
			default:
			}
			fn(rpc)
			dispatched = true
		}
	}
	if !dispatched {
		select {
		case t.consumeCh <- rpc:
		case <-ctx.Done():
			return nil, transportServeError(ctx.Err())
		case <-t.shutdownCh:
			return nil, transportServeError(raft.ErrTransportShutdown)
		}
	}
	select {
	case resp := <-respCh:
		return resp.Response, resp.Error
	case <-ctx.Done():
		return nil, transportServeError(ctx.Err())
	case <-t.shutdownCh:
		return nil, transportServeError(raft.ErrTransportShutdown)
	}
}

// transportServeError is the one place where errors of the transport's server side
// become gRPC statuses: context errors keep their meaning, a closed transport is
// Unavailable (the caller may retry elsewhere or later), and an error raft returned for
// the request is Unknown with raft's message.
func transportServeError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return status.FromContextError(err).Err()
	case errors.Is(err, raft.ErrTransportShutdown):
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, errUnexpectedResponse):
		return status.Error(codes.Internal, err.Error())
	default:
		if _, ok := status.FromError(err); ok {
			return err
		}
		return status.Error(codes.Unknown, err.Error())
	}
}

func serveUnary[Raft any, Resp any](t *Transport, ctx context.Context, cmd any, heartbeat bool, toProto func(*Raft) Resp) (Resp, error) {
	var zero Resp
	out, err := t.dispatch(ctx, cmd, nil, heartbeat)
	if err != nil {
		return zero, transportServeError(err)
	}
	r, ok := out.(*Raft)
	if !ok {
		return zero, transportServeError(fmt.Errorf("%w %T", errUnexpectedResponse, out))
	}
	return toProto(r), nil
}

// AppendEntries implements raftv1.RaftTransportServiceServer.
func (s *transportServer) AppendEntries(ctx context.Context, m *raftv1.AppendEntriesRequest) (*raftv1.AppendEntriesResponse, error) {
	req := appendEntriesRequestFromProto(m)
	return serveUnary(s.t, ctx, req, isHeartbeat(req), appendEntriesResponseToProto)
}

// RequestVote implements raftv1.RaftTransportServiceServer.
func (s *transportServer) RequestVote(ctx context.Context, m *raftv1.RequestVoteRequest) (*raftv1.RequestVoteResponse, error) {
	return serveUnary(s.t, ctx, requestVoteRequestFromProto(m), false, requestVoteResponseToProto)
}

// RequestPreVote implements raftv1.RaftTransportServiceServer.
func (s *transportServer) RequestPreVote(ctx context.Context, m *raftv1.RequestPreVoteRequest) (*raftv1.RequestPreVoteResponse, error) {
	resp, err := serveUnary(s.t, ctx, requestPreVoteRequestFromProto(m), false, requestPreVoteResponseToProto)
	if err == nil && !resp.GetGranted() && s.t.onPreVote != nil {
		s.t.onPreVote()
	}
	return resp, err
}

// TimeoutNow implements raftv1.RaftTransportServiceServer.
func (s *transportServer) TimeoutNow(ctx context.Context, m *raftv1.TimeoutNowRequest) (*raftv1.TimeoutNowResponse, error) {
	return serveUnary(s.t, ctx, timeoutNowRequestFromProto(m), false, timeoutNowResponseToProto)
}

// AppendEntriesPipeline implements raftv1.RaftTransportServiceServer. Requests are
// handed to raft one at a time and answered in order; an error raft returns for one
// request travels in its response's error field and the stream goes on.
func (s *transportServer) AppendEntriesPipeline(stream raftv1.RaftTransportService_AppendEntriesPipelineServer) error {
	ctx := stream.Context()
	for {
		m, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		req := appendEntriesRequestFromProto(m.GetRequest())
		out := &raftv1.AppendEntriesPipelineResponse{}
		resp, err := s.t.dispatch(ctx, req, nil, isHeartbeat(req))
		if err != nil {
			if _, ok := status.FromError(err); ok {
				return err // the stream or the transport is gone
			}
			out.Error = err.Error()
		} else if r, ok := resp.(*raft.AppendEntriesResponse); ok {
			out.Response = appendEntriesResponseToProto(r)
		} else {
			return transportServeError(fmt.Errorf("%w %T", errUnexpectedResponse, resp))
		}
		if err := stream.Send(out); err != nil {
			return err
		}
	}
}

// InstallSnapshot implements raftv1.RaftTransportServiceServer. The first message must
// carry the metadata; raft reads exactly Size bytes of chunks through rpc.Reader.
func (s *transportServer) InstallSnapshot(stream raftv1.RaftTransportService_InstallSnapshotServer) error {
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	meta := first.GetMetadata()
	if meta == nil {
		return status.Error(codes.InvalidArgument, "raftnode: install snapshot: first message must carry metadata")
	}
	if meta.GetSize() < 0 {
		return status.Errorf(codes.InvalidArgument, "raftnode: install snapshot: negative size %d", meta.GetSize())
	}
	req := installSnapshotRequestFromProto(meta)
	sr := &snapshotStreamReader{stream: stream}
	defer sr.detach()
	out, err := s.t.dispatch(stream.Context(), req, io.LimitReader(sr, req.Size), false)
	if err != nil {
		return transportServeError(err)
	}
	r, ok := out.(*raft.InstallSnapshotResponse)
	if !ok {
		return transportServeError(fmt.Errorf("%w %T", errUnexpectedResponse, out))
	}
	return stream.SendAndClose(installSnapshotResponseToProto(r))
}

// snapshotStreamReader turns the chunks of an InstallSnapshot stream into an io.Reader.
// Raft reads it on its own goroutine while the handler waits for raft's response; once
// the handler is about to return, detach makes further reads fail instead of touching
// the finished stream.
type snapshotStreamReader struct {
	stream   raftv1.RaftTransportService_InstallSnapshotServer
	buf      []byte
	err      error
	detached atomic.Bool
}

func (r *snapshotStreamReader) detach() { r.detached.Store(true) }

func (r *snapshotStreamReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		if r.detached.Load() {
			r.err = errors.New("raftnode: install snapshot: stream closed")
			return 0, r.err
		}
		m, err := r.stream.Recv()
		switch {
		case err == io.EOF:
			// Only reached while raft still expects bytes (it reads through a
			// LimitReader of Size): the sender stopped early.
			r.err = io.ErrUnexpectedEOF
		case err != nil:
			r.err = err
		case m.GetMetadata() != nil:
			r.err = errors.New("raftnode: install snapshot: metadata after the first message")
		default:
			r.buf = m.GetChunk()
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
