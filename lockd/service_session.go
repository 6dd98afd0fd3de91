package lockd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/raftnode"
	lockdraftv1 "cairn.dev/cairn/proto/cairn/lockd/raft/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// sessionService handlers validate, call the domain, and translate the error.
type sessionService struct {
	lockdv1.UnimplementedSessionServiceServer
	s *Server
}

func (h *sessionService) CreateSession(ctx context.Context, req *lockdv1.CreateSessionRequest) (*lockdv1.CreateSessionResponse, error) {
	s := h.s
	ttl, err := s.limits.validateCreateSession(req)
	if err != nil {
		return nil, toStatus(err)
	}
	var n int
	s.m.view(func(st *state) { n = len(st.Sessions) })
	if n >= s.cfg.MaxSessions {
		return nil, toStatus(fmt.Errorf("%w: %d live sessions, the limit (max_sessions) is %d", ErrTooMany, n, s.cfg.MaxSessions))
	}
	res, err := s.propose(ctx, &lockdraftv1.Command{Op: &lockdraftv1.Command_CreateSession{CreateSession: &lockdraftv1.CreateSessionOp{TtlMs: ttl.Milliseconds()}}})
	if err != nil {
		return nil, toStatus(err)
	}
	return &lockdv1.CreateSessionResponse{Header: s.header(res.GetIndex()), SessionId: res.GetSessionId(), Ttl: durationpb.New(ttl)}, nil
}

func (h *sessionService) CloseSession(ctx context.Context, req *lockdv1.CloseSessionRequest) (*lockdv1.CloseSessionResponse, error) {
	s := h.s
	if err := sessionID(req.GetSessionId()); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &lockdraftv1.Command{Op: &lockdraftv1.Command_CloseSession{CloseSession: &lockdraftv1.CloseSessionOp{SessionId: req.GetSessionId()}}})
	if err != nil {
		return nil, toStatus(err)
	}
	return &lockdv1.CloseSessionResponse{Header: s.header(res.GetIndex())}, nil
}

// renew renews a session on the leader. A session this leader has not applied
// yet (it just took over) is looked for again after a read barrier.
func (s *Server) renew(ctx context.Context, id uint64) (time.Duration, bool, error) {
	ttl, isLeader, err := s.tracker.renew(id)
	if isLeader && errors.Is(err, ErrSessionNotFound) {
		if berr := s.barrier(ctx); berr == nil {
			ttl, isLeader, err = s.tracker.renew(id)
		}
	}
	if err != nil {
		err = fmt.Errorf("%w: %s", err, sessionMsg(id))
	}
	return ttl, isLeader, err
}

// SessionKeepAlive renews sessions on the leader. On a follower the stream is
// relayed to the leader, request by request, re-dialling when leadership moves.
// A graceful stop ends the stream at once with Unavailable (see
// raftnode.KeepAliveRelay).
func (h *sessionService) SessionKeepAlive(stream lockdv1.SessionService_SessionKeepAliveServer) error {
	return h.s.keepAlive.Serve(stream)
}

// newKeepAliveRelay returns the relay that serves SessionKeepAlive streams.
func (s *Server) newKeepAliveRelay() *raftnode.KeepAliveRelay[lockdv1.SessionKeepAliveRequest, lockdv1.SessionKeepAliveResponse] {
	return &raftnode.KeepAliveRelay[lockdv1.SessionKeepAliveRequest, lockdv1.SessionKeepAliveResponse]{
		Name:    "lockd",
		Node:    s.node,
		Stop:    s.stopping(),
		StopErr: toStatus(ErrShuttingDown),
		Renew: func(ctx context.Context, req *lockdv1.SessionKeepAliveRequest) (*lockdv1.SessionKeepAliveResponse, bool, error) {
			if err := sessionID(req.GetSessionId()); err != nil {
				return nil, false, toStatus(err)
			}
			ttl, isLeader, err := s.renew(ctx, req.GetSessionId())
			if !isLeader {
				return nil, true, nil
			}
			if err != nil {
				return nil, false, toStatus(err)
			}
			return &lockdv1.SessionKeepAliveResponse{Header: s.header(0), SessionId: req.GetSessionId(), Ttl: durationpb.New(ttl)}, false, nil
		},
		Open: func(ctx context.Context, conn *grpc.ClientConn) (lockdv1.SessionService_SessionKeepAliveClient, error) {
			return lockdv1.NewSessionServiceClient(conn).SessionKeepAlive(ctx)
		},
		Relayed:  func(resp *lockdv1.SessionKeepAliveResponse) { resp.Header = s.header(0) },
		ToStatus: toStatus,
	}
}

// DescribeSession is answered by the leader, which alone knows deadlines; a
// follower forwards the call.
func (h *sessionService) DescribeSession(ctx context.Context, req *lockdv1.DescribeSessionRequest) (*lockdv1.DescribeSessionResponse, error) {
	s := h.s
	if err := sessionID(req.GetSessionId()); err != nil {
		return nil, toStatus(err)
	}
	if !s.tracker.isLeader() {
		conn, err := s.node.LeaderConn()
		if err == nil {
			return lockdv1.NewSessionServiceClient(conn).DescribeSession(ctx, req)
		}
		if !errors.Is(err, raftnode.ErrNotLeader) {
			return nil, toStatus(err)
		}
		// Raft already names this node leader; the tracker is about to know.
	}
	if err := s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	left, ttl, _, err := s.tracker.remaining(req.GetSessionId())
	if err != nil {
		return nil, toStatus(fmt.Errorf("%w: %s", err, sessionMsg(req.GetSessionId())))
	}
	var info *lockdv1.SessionInfo
	s.m.view(func(st *state) {
		ss := st.Sessions[req.GetSessionId()]
		if ss == nil {
			return
		}
		info = &lockdv1.SessionInfo{SessionId: ss.ID, Ttl: durationpb.New(ttl), Remaining: durationpb.New(left), Created: tsProto(ss.Created)}
		info.Held = refs(ss.held)
		info.Waiting = refs(ss.waiting)
	})
	if info == nil {
		return nil, toStatus(fmt.Errorf("%w: %s", ErrSessionNotFound, sessionMsg(req.GetSessionId())))
	}
	return &lockdv1.DescribeSessionResponse{Header: s.header(0), Session: info}, nil
}

func refs(m map[resKey]struct{}) []*lockdv1.ResourceRef {
	keys := sortedKeys(m)
	sort.Slice(keys, func(i, j int) bool { return keyLess(keys[i], keys[j]) })
	out := make([]*lockdv1.ResourceRef, 0, len(keys))
	for _, k := range keys {
		out = append(out, &lockdv1.ResourceRef{Kind: k.Kind, Name: k.Name})
	}
	return out
}
