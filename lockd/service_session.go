package lockd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/raftnode"
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
	res, err := s.propose(ctx, &lockdv1.Command{Op: &lockdv1.Command_CreateSession{CreateSession: &lockdv1.CreateSessionOp{TtlMs: ttl.Milliseconds()}}})
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
	res, err := s.propose(ctx, &lockdv1.Command{Op: &lockdv1.Command_CloseSession{CloseSession: &lockdv1.CloseSessionOp{SessionId: req.GetSessionId()}}})
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
func (h *sessionService) SessionKeepAlive(stream lockdv1.SessionService_SessionKeepAliveServer) error {
	s := h.s
	var upstream lockdv1.SessionService_SessionKeepAliveClient
	var cancelUp context.CancelFunc
	defer func() {
		if cancelUp != nil {
			cancelUp()
		}
	}()
	for {
		req, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := sessionID(req.GetSessionId()); err != nil {
			return toStatus(err)
		}
		ttl, isLeader, err := s.renew(stream.Context(), req.GetSessionId())
		if isLeader {
			if err != nil {
				return toStatus(err)
			}
			if err := stream.Send(&lockdv1.SessionKeepAliveResponse{Header: s.header(0), SessionId: req.GetSessionId(), Ttl: durationpb.New(ttl)}); err != nil {
				return err
			}
			continue
		}
		resp, err := func() (*lockdv1.SessionKeepAliveResponse, error) {
			if upstream == nil {
				conn, err := s.node.LeaderConn()
				if err != nil {
					return nil, err
				}
				var uctx context.Context
				uctx, cancelUp = context.WithCancel(stream.Context())
				upstream, err = lockdv1.NewSessionServiceClient(conn).SessionKeepAlive(uctx)
				if err != nil {
					return nil, err
				}
			}
			if err := upstream.Send(req); err != nil {
				return nil, err
			}
			return upstream.Recv()
		}()
		if err != nil {
			if cancelUp != nil {
				cancelUp()
				cancelUp, upstream = nil, nil
			}
			if st, ok := status.FromError(err); ok && (st.Code() == codes.NotFound || st.Code() == codes.InvalidArgument) {
				return err
			}
			if errors.Is(err, raftnode.ErrNoLeader) || errors.Is(err, raftnode.ErrNotLeader) {
				return toStatus(err)
			}
			return toStatus(fmt.Errorf("%w: lockd: relaying keep-alive to the leader: %v", raftnode.ErrNoLeader, err))
		}
		resp.Header = s.header(0)
		if err := stream.Send(resp); err != nil {
			return err
		}
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
