package client

import (
	"context"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/clusterconn"
	"cairn.dev/cairn/node/rpcerr"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// Session is a lockd session kept alive by the client: it renews the session
// every third of its TTL, reconnecting its keep-alive stream to any ready node
// when it breaks. Locks, permits and leaderships belong to a session and are
// released when it ends.
//
// Done is closed when the session is lost: the server reports it gone (closed or
// expired) or no renewal succeeded within its TTL, measured from the start of the
// last successful renewal (so the client gives up no later than the server would
// expire it). After Done, Err returns ErrSessionLost (wrapping the cause) or
// ErrClosed after Close. A Session is safe for concurrent use.
type Session struct {
	c   *Client
	id  uint64
	ttl time.Duration

	done   chan struct{}
	cancel context.CancelFunc // stops the keep-alive

	mu  sync.Mutex // protects err
	err error
}

// NewSession creates a session with the given TTL (whole milliseconds; the
// server's default bounds are [1s, 1h]) and starts keeping it alive. Creating is
// a write: it is not retried, and an unknown outcome may leave a session behind
// that expires after its TTL.
func (c *Client) NewSession(ctx context.Context, ttl time.Duration) (*Session, error) {
	req := &lockdv1.CreateSessionRequest{Ttl: durationpb.New(ttl)}
	resp, err := call(ctx, c, "create-session", kindWrite, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.CreateSessionResponse, error) {
		return c.sessions.CreateSession(ctx, req, co...)
	})
	if err != nil {
		return nil, err
	}
	return c.keepSession(resp.GetSessionId(), resp.GetTtl().AsDuration(), time.Now())
}

// keepSession starts the keep-alive of an existing session, renewed last at renewed.
func (c *Client) keepSession(id uint64, ttl time.Duration, renewed time.Time) (*Session, error) {
	kctx, cancel := context.WithCancel(c.conn.Context())
	s := &Session{c: c, id: id, ttl: ttl, done: make(chan struct{}), cancel: cancel}
	if !c.conn.Go(func() {
		defer close(s.done)
		s.keepAlive(kctx, renewed)
	}) {
		cancel()
		return nil, errs.Local("create-session", ErrClosed)
	}
	return s, nil
}

// ID is the session id (the Raft index of the entry that created it).
func (s *Session) ID() uint64 { return s.id }

// TTL is the session's time to live.
func (s *Session) TTL() time.Duration { return s.ttl }

// Done is closed when the session is lost or closed.
func (s *Session) Done() <-chan struct{} { return s.done }

// Err reports why Done was closed; nil while the session is alive.
func (s *Session) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *Session) setErr(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// Close stops the keep-alive and closes the session on the server, releasing
// everything it holds (without lock delay). It waits for the keep-alive to stop.
func (s *Session) Close(ctx context.Context) error {
	s.setErr(ErrClosed)
	s.cancel()
	<-s.done
	req := &lockdv1.CloseSessionRequest{SessionId: s.id}
	_, err := call(ctx, s.c, "close-session", kindWrite, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.CloseSessionResponse, error) {
		return s.c.sessions.CloseSession(ctx, req, co...)
	})
	return err
}

// Describe reports the session's TTL, remaining time (as the leader sees it), and
// what it holds and waits for.
func (s *Session) Describe(ctx context.Context) (*lockdv1.SessionInfo, error) {
	req := &lockdv1.DescribeSessionRequest{SessionId: s.id}
	resp, err := call(ctx, s.c, "describe-session", kindRead, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.DescribeSessionResponse, error) {
		return s.c.sessions.DescribeSession(ctx, req, co...)
	})
	return resp.GetSession(), err
}

func (s *Session) interval() time.Duration {
	return max(s.ttl/3, 10*time.Millisecond)
}

// maxRenewRetry caps the wait between failed renewals. A renewal fails while the
// group elects a new leader; the session survives only if a renewal lands before
// its TTL runs out, so retries stay frequent rather than backing off to a third
// of the TTL (which made sessions with TTL close to the failover time expire on
// every leader change: docs/chaos.md, bug 2).
const maxRenewRetry = 100 * time.Millisecond

// keepAlive renews the session until ctx ends or the session is lost.
func (s *Session) keepAlive(ctx context.Context, renewed time.Time) {
	var (
		b      clusterconn.Backoff
		st     grpc.BidiStreamingClient[lockdv1.SessionKeepAliveRequest, lockdv1.SessionKeepAliveResponse]
		cancel context.CancelFunc = func() {}
	)
	defer func() { cancel() }()
	wait := s.interval()
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.setErr(ErrClosed)
			return
		case <-t.C:
		}
		if time.Since(renewed) >= s.ttl {
			s.setErr(errs.Local("keep-alive", sessionLost{}))
			return
		}
		if st == nil {
			var sctx context.Context
			sctx, cancel = context.WithCancel(ctx)
			var err error
			st, err = s.c.sessions.SessionKeepAlive(sctx, grpc.WaitForReady(true))
			if err != nil {
				cancel()
				st = nil
				wait = min(b.Delay(), s.interval(), maxRenewRetry)
				continue
			}
		}
		start := time.Now()
		_, err := s.round(st, cancel)
		if err == nil {
			renewed = start
			b.Reset()
			wait = s.interval()
			continue
		}
		if rpcerr.ReasonOf(err) == rpcerr.SessionNotFound {
			s.setErr(errs.Local("keep-alive", sessionLost{}))
			return
		}
		cancel()
		st = nil
		wait = min(b.Delay(), s.interval(), maxRenewRetry)
	}
}

// round sends one renewal and waits at most one interval for its answer.
func (s *Session) round(st grpc.BidiStreamingClient[lockdv1.SessionKeepAliveRequest, lockdv1.SessionKeepAliveResponse], cancel context.CancelFunc) (*lockdv1.SessionKeepAliveResponse, error) {
	t := time.AfterFunc(s.interval(), cancel)
	defer t.Stop()
	if err := st.Send(&lockdv1.SessionKeepAliveRequest{SessionId: s.id}); err != nil {
		_, err = st.Recv()
		return nil, err
	}
	return st.Recv()
}
