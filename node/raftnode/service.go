package raftnode

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/rpcerr"
	raftv1 "cairn.dev/cairn/proto/cairn/raft/v1"
)

// nodeService serves RaftNodeService: the leader side of forwarding.
type nodeService struct {
	raftv1.UnimplementedRaftNodeServiceServer
	n *Node
}

func (s *nodeService) Apply(ctx context.Context, req *raftv1.ApplyRequest) (*raftv1.ApplyResponse, error) {
	if !s.n.IsLeader() {
		return nil, statusFromError(s.n.notLeader())
	}
	res, err := s.n.applyLocal(ctx, req.GetCommand())
	if err != nil {
		return nil, statusFromError(err)
	}
	return &raftv1.ApplyResponse{Result: res}, nil
}

func (s *nodeService) ApplyBatch(ctx context.Context, req *raftv1.ApplyBatchRequest) (*raftv1.ApplyBatchResponse, error) {
	if !s.n.IsLeader() {
		return nil, statusFromError(s.n.notLeader())
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
		return nil, statusFromError(s.n.notLeader())
	}
	if err := s.n.changeMembershipLocal(ctx, req.GetOp(), req.GetId(), req.GetAddress()); err != nil {
		return nil, statusFromError(err)
	}
	return &raftv1.ChangeMembershipResponse{}, nil
}

// statusFromError is the one place node-service errors become gRPC status
// codes: the reasons of StatusRules, as every daemon sends them.
func statusFromError(err error) error { return rpcerr.ToStatus(err, StatusRules) }

// errorFromStatus turns a forwarded call's error back into a sentinel, by its
// reason. For a proposal (write), any other failure after the request may have
// reached the leader is an unknown outcome; for a read it just means "try
// again".
func errorFromStatus(err error, write bool) error {
	info, _ := rpcerr.FromError(err)
	msg := info.Message
	switch info.Reason {
	case rpcerr.NotLeader:
		return fmt.Errorf("%w (forwarded): %s", ErrNotLeader, msg)
	case rpcerr.NoLeader:
		return fmt.Errorf("%w (forwarded): %s", ErrNoLeader, msg)
	case rpcerr.NoQuorum:
		return fmt.Errorf("%w (forwarded): %s", ErrNoQuorum, msg)
	case rpcerr.ShuttingDown:
		// The leader refused before proposing anything.
		return fmt.Errorf("%w (forwarded): %s", ErrNoLeader, msg)
	case rpcerr.UnknownMember:
		return fmt.Errorf("%w: %s", ErrUnknownMember, strings.TrimPrefix(msg, ErrUnknownMember.Error()+": "))
	case rpcerr.OutcomeUnknown:
		return fmt.Errorf("%w (forwarded): %s", ErrUnknownOutcome, msg)
	case rpcerr.Internal:
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
