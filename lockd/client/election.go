package client

import (
	"bytes"
	"context"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/clusterconn"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// Leader is the leader of an election.
type Leader struct {
	Election string
	Session  uint64
	Value    []byte
	// Token is the leadership's fencing token; Proclaim keeps it.
	Token uint64
	Since time.Time
}

func leaderFrom(li *lockdv1.LeaderInfo) *Leader {
	if li == nil {
		return nil
	}
	return &Leader{Election: li.GetElection(), Session: li.GetSessionId(), Value: li.GetValue(), Token: li.GetToken(), Since: li.GetSince().AsTime()}
}

// Campaign blocks until the session leads election (it joins a FIFO queue of
// candidates) or ctx ends; value is published as the leader's value. It is an
// idempotent per-session call: retried on Unavailable; campaigning while leading
// returns the current leadership.
func (s *Session) Campaign(ctx context.Context, election string, value []byte) (*Leader, error) {
	req := &lockdv1.CampaignRequest{SessionId: s.id, Election: election, Value: value}
	if err := validateRequest("campaign", req); err != nil {
		return nil, err
	}
	resp, err := call(ctx, s.c, "campaign", kindIdempotent, true, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.CampaignResponse, error) {
		return s.c.elections.Campaign(ctx, req, co...)
	})
	if err != nil {
		return nil, err
	}
	return leaderFrom(resp.GetLeader()), nil
}

// Proclaim replaces the leader's value; only the leading session may (else
// ErrNotHolder, or ErrNotHeld with no leader). Setting a value is idempotent, so
// Proclaim is retried on Unavailable.
func (s *Session) Proclaim(ctx context.Context, election string, value []byte) (*Leader, error) {
	req := &lockdv1.ProclaimRequest{SessionId: s.id, Election: election, Value: value}
	if err := validateRequest("proclaim", req); err != nil {
		return nil, err
	}
	resp, err := call(ctx, s.c, "proclaim", kindIdempotent, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.ProclaimResponse, error) {
		return s.c.elections.Proclaim(ctx, req, co...)
	})
	if err != nil {
		return nil, err
	}
	return leaderFrom(resp.GetLeader()), nil
}

// Resign gives leadership up; the next candidate is elected. It is not retried.
func (s *Session) Resign(ctx context.Context, election string) error {
	return s.c.ResignFor(ctx, s.id, election)
}

// ResignFor ends the leadership of election held by the session with id
// session, which need not be one this client created. It is not retried.
func (c *Client) ResignFor(ctx context.Context, session uint64, election string) error {
	req := &lockdv1.ResignRequest{SessionId: session, Election: election}
	if err := validateRequest("resign", req); err != nil {
		return err
	}
	_, err := call(ctx, c, "resign", kindWrite, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.ResignResponse, error) {
		return c.elections.Resign(ctx, req, co...)
	})
	return err
}

// Leader returns the current leader of election, nil if there is none.
func (c *Client) Leader(ctx context.Context, election string) (*Leader, error) {
	req := &lockdv1.LeaderRequest{Election: election}
	if err := validateRequest("leader", req); err != nil {
		return nil, err
	}
	resp, err := call(ctx, c, "leader", kindRead, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.LeaderResponse, error) {
		return c.elections.Leader(ctx, req, co...)
	})
	if err != nil {
		return nil, err
	}
	return leaderFrom(resp.GetLeader()), nil
}

// Observation is one state of an election: Leader is nil when it has none.
type Observation struct {
	Leader *Leader
	// Index is the Raft index the observation reflects.
	Index uint64
}

// Observe streams the leadership of election: first the current state, then
// every change, in log order. When the stream breaks (a node stops, or this
// reader fell behind) it reconnects to any ready node and resumes from the
// current state: changes in between may be skipped, but observations are never
// reordered or repeated. The channel is closed when ctx ends or the client is
// closed. An election name that is empty or not valid UTF-8 (see ValidateName)
// yields a channel that is closed at once.
func (c *Client) Observe(ctx context.Context, election string) <-chan Observation {
	ch := make(chan Observation, 16)
	if ValidateName("election", election) != nil {
		close(ch)
		return ch
	}
	octx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.conn.Context(), cancel)
	if !c.conn.Go(func() {
		defer close(ch)
		defer cancel()
		defer stop()
		c.observe(octx, election, ch)
	}) {
		stop()
		cancel()
		close(ch)
	}
	return ch
}

func (c *Client) observe(ctx context.Context, election string, ch chan<- Observation) {
	var (
		b     clusterconn.Backoff
		last  *Leader
		sent  bool
		index uint64
	)
	for ctx.Err() == nil {
		st, err := c.elections.Observe(ctx, &lockdv1.ObserveRequest{Election: election}, grpc.WaitForReady(true))
		for err == nil {
			var resp *lockdv1.ObserveResponse
			resp, err = st.Recv()
			if err != nil {
				break
			}
			b.Reset()
			l := leaderFrom(resp.GetLeader())
			if resp.GetHeader().GetRaftIndex() < index || (sent && sameLeader(last, l)) {
				continue // a reconnection's first state, already delivered
			}
			last, sent, index = l, true, resp.GetHeader().GetRaftIndex()
			select {
			case ch <- Observation{Leader: l, Index: index}:
			case <-ctx.Done():
				return
			}
		}
		if !b.Wait(ctx) {
			return
		}
	}
}

func sameLeader(a, b *Leader) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Session == b.Session && a.Token == b.Token && bytes.Equal(a.Value, b.Value)
}
