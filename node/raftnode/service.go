package raftnode

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// nodeService serves RaftNodeService: the leader side of forwarding.
type nodeService struct {
	raftv1.UnimplementedRaftNodeServiceServer
	n *Node
}

func (s *nodeService) Apply(ctx context.Context, req *raftv1.ApplyRequest) (*raftv1.ApplyResponse, error) {
	if !s.n.IsLeader() {
		return nil, statusFromError(ErrNotLeader)
	}
	res, err := s.n.applyLocal(ctx, req.GetCommand())
	if err != nil {
		return nil, statusFromError(err)
	}
	return &raftv1.ApplyResponse{Result: res}, nil
}

func (s *nodeService) ApplyBatch(ctx context.Context, req *raftv1.ApplyBatchRequest) (*raftv1.ApplyBatchResponse, error) {
	if !s.n.IsLeader() {
		return nil, statusFromError(ErrNotLeader)
	}
	return &raftv1.ApplyBatchResponse{Results: s.n.applyBatchLocal(ctx, req.GetCommands())}, nil
}

func (s *nodeService) ReadIndex(ctx context.Context, _ *raftv1.ReadIndexRequest) (*raftv1.ReadIndexResponse, error) {
	idx, err := s.n.ReadIndex(ctx)
	if err != nil {
		return nil, statusFromError(err)
	}
	return &raftv1.ReadIndexResponse{Index: idx}, nil
}

func (s *nodeService) ChangeMembership(ctx context.Context, req *raftv1.ChangeMembershipRequest) (*raftv1.ChangeMembershipResponse, error) {
	if !s.n.IsLeader() {
		return nil, statusFromError(ErrNotLeader)
	}
	if err := s.n.changeMembershipLocal(ctx, req.GetOp(), req.GetId(), req.GetAddress()); err != nil {
		return nil, statusFromError(err)
	}
	return &raftv1.ChangeMembershipResponse{}, nil
}

// statusFromError is the one place node-service errors become gRPC status codes.
func statusFromError(err error) error {
	switch {
	case errors.Is(err, ErrNotLeader):
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.Is(err, ErrNoLeader):
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, ErrUnknownOutcome):
		return status.Error(codes.Aborted, err.Error())
	case errors.Is(err, ErrShutdown):
		return status.Error(codes.Unavailable, err.Error())
	case errors.Is(err, ErrUnknownMember):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	default:
		return status.Error(codes.Internal, err.Error())
	}
}

// errorFromStatus turns a forwarded call's error back into a sentinel. For a
// proposal (write), any failure after the request may have reached the leader is
// an unknown outcome; for a read it just means "try again".
func errorFromStatus(err error, write bool) error {
	st, _ := status.FromError(err)
	msg := st.Message()
	switch st.Code() {
	case codes.FailedPrecondition:
		return fmt.Errorf("%w (forwarded): %s", ErrNotLeader, msg)
	case codes.NotFound:
		return fmt.Errorf("%w: %s", ErrUnknownMember, strings.TrimPrefix(msg, ErrUnknownMember.Error()+": "))
	case codes.Unavailable:
		if strings.Contains(msg, ErrNoLeader.Error()) {
			return fmt.Errorf("%w (forwarded): %s", ErrNoLeader, msg)
		}
	case codes.Internal:
		return errors.New(msg)
	}
	if write {
		return fmt.Errorf("%w: forwarding to leader: %s", ErrUnknownOutcome, msg)
	}
	return fmt.Errorf("%w: forwarding to leader: %s", ErrNoLeader, msg)
}

func isNotLeader(err error) bool {
	return errors.Is(err, ErrNotLeader) || errors.Is(err, ErrNoLeader)
}

// connCache keeps one client connection per peer address.
type connCache struct {
	dial func(string) (*grpc.ClientConn, error)

	mu    sync.Mutex // protects conns
	conns map[string]*grpc.ClientConn
}

func newConnCache(dial func(string) (*grpc.ClientConn, error)) *connCache {
	return &connCache{dial: dial, conns: map[string]*grpc.ClientConn{}}
}

func (c *connCache) get(addr string) (*grpc.ClientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if conn, ok := c.conns[addr]; ok {
		return conn, nil
	}
	if c.conns == nil {
		return nil, ErrShutdown
	}
	conn, err := c.dial(addr)
	if err != nil {
		return nil, err
	}
	c.conns[addr] = conn
	return conn, nil
}

func (c *connCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}
