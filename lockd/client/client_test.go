package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/lockd/lockdtest"
	"cairn.dev/cairn/node/nodetest"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

func newClient(t *testing.T, c *lockdtest.Cluster) *Client {
	t.Helper()
	cli, err := New(Config{Endpoints: c.Endpoints()})
	require.NoError(t, err)
	t.Cleanup(func() { cli.Close() })
	return cli
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func session(t *testing.T, cli *Client, ttl time.Duration) *Session {
	t.Helper()
	s, err := cli.NewSession(ctxT(t, 10*time.Second), ttl)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func TestConfig(t *testing.T) {
	_, err := New(Config{})
	require.ErrorIs(t, err, ErrNoEndpoints)
	_, err = New(Config{Endpoints: []string{"nope"}})
	require.ErrorContains(t, err, "host:port")
	require.NoError(t, ValidateToken(5, 5))
	require.ErrorIs(t, ValidateToken(6, 5), ErrStaleToken)
}

func TestClientLocks(t *testing.T) {
	c := lockdtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxT(t, 30*time.Second)
	a, b := session(t, cli, 5*time.Second), session(t, cli, 5*time.Second)

	la, err := a.Acquire(ctx, "inv/1", []byte("a"))
	require.NoError(t, err)
	require.Equal(t, a.ID(), la.Session)
	again, err := a.Acquire(ctx, "inv/1", []byte("a"))
	require.NoError(t, err)
	require.Equal(t, la.Token, again.Token, "acquire is idempotent per session")

	_, err = b.TryAcquire(ctx, "inv/1", []byte("b"))
	require.ErrorIs(t, err, ErrLocked)
	require.ErrorIs(t, b.Release(ctx, "inv/1"), ErrNotHolder)
	require.Equal(t, codes.PermissionDenied, status.Code(b.Release(ctx, "inv/1")))

	got := make(chan *Lock, 1)
	go func() {
		l, err := b.Acquire(ctx, "inv/1", []byte("b"))
		if err != nil {
			t.Errorf("blocked acquire: %v", err)
		}
		got <- l
	}()
	require.Eventually(t, func() bool {
		info, err := cli.Describe(ctx, "inv/1")
		return err == nil && len(info.GetWaiters()) == 1
	}, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, a.Release(ctx, "inv/1"))
	lb := <-got
	require.Greater(t, lb.Token, la.Token)
	require.ErrorIs(t, a.Release(ctx, "inv/1"), ErrNotHolder)

	// Shared and exclusive modes.
	_, err = a.Acquire(ctx, "rw", nil, WithMode(Shared))
	require.NoError(t, err)
	_, err = b.TryAcquire(ctx, "rw", nil, WithMode(Shared))
	require.NoError(t, err)
	d := session(t, cli, 5*time.Second)
	_, err = d.TryAcquire(ctx, "rw", nil)
	require.ErrorIs(t, err, ErrLocked)

	locks, more, err := cli.List(ctx, "", "", 0)
	require.NoError(t, err)
	require.False(t, more)
	require.Len(t, locks, 2)

	// A deadline while queued: DeadlineExceeded, known outcome, wait cancelled.
	// The server cancels the wait shortly before the deadline; on a loaded
	// machine the client's own deadline may pass while the cancel is being
	// committed, so the queue is polled rather than read once.
	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	_, err = d.Acquire(short, "rw", nil)
	cancel()
	require.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)
	nodetest.WaitFor(t, 10*time.Second, "the timed-out wait to leave the queue", func() bool {
		info, err := cli.Describe(ctx, "rw")
		require.NoError(t, err)
		return len(info.GetWaiters()) == 0
	})
}

func TestClientSemaphore(t *testing.T) {
	c := lockdtest.New(t, 1, nil)
	cli := newClient(t, c)
	ctx := ctxT(t, 30*time.Second)
	s1, s2, s3 := session(t, cli, 5*time.Second), session(t, cli, 5*time.Second), session(t, cli, 5*time.Second)
	_, err := s1.SemaphoreAcquire(ctx, "pool", 2, nil)
	require.NoError(t, err)
	_, err = s2.SemaphoreAcquire(ctx, "pool", 2, nil)
	require.NoError(t, err)
	_, err = s3.TrySemaphoreAcquire(ctx, "pool", 2, nil)
	require.ErrorIs(t, err, ErrLocked)
	_, err = s3.TrySemaphoreAcquire(ctx, "pool", 3, nil)
	require.ErrorIs(t, err, ErrNotHeld, "permits mismatch is a failed precondition")
	require.NoError(t, s1.SemaphoreRelease(ctx, "pool"))
	_, err = s3.SemaphoreAcquire(ctx, "pool", 2, nil)
	require.NoError(t, err)
	info, err := cli.SemaphoreDescribe(ctx, "pool")
	require.NoError(t, err)
	require.Equal(t, uint32(2), info.GetPermits())
	require.Len(t, info.GetHolders(), 2)
}

// Sessions report loss when the server ends them.
func TestClientSessionLoss(t *testing.T) {
	c := lockdtest.New(t, 1, nil)
	cli := newClient(t, c)
	ctx := ctxT(t, 30*time.Second)
	s, err := cli.NewSession(ctx, 300*time.Millisecond)
	require.NoError(t, err)
	// Ended behind the client's back, as an expiry would.
	_, err = cli.sessions.CloseSession(ctx, &lockdv1.CloseSessionRequest{SessionId: s.ID()})
	require.NoError(t, err)
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatal("session loss not reported")
	}
	require.ErrorIs(t, s.Err(), ErrSessionLost)
	require.ErrorIs(t, s.Err(), ErrSessionNotFound)
	_, err = s.Acquire(ctx, "x", nil)
	require.ErrorIs(t, err, ErrSessionNotFound)

	// A session kept alive outlives its TTL more than twice over. The TTL
	// (2s) leaves a loaded machine room between keep-alives (every third of
	// it): with 300ms a stall of 200ms ended the session.
	const ttl = 2 * time.Second
	k, err := cli.NewSession(ctx, ttl)
	require.NoError(t, err)
	require.Never(t, func() bool {
		select {
		case <-k.Done():
			return true
		default:
			return false
		}
	}, 5*ttl/2, 20*time.Millisecond)
	info, err := k.Describe(ctx)
	require.NoError(t, err)
	require.Equal(t, k.ID(), info.GetSessionId())
	require.NoError(t, k.Close(ctx))
	require.ErrorIs(t, k.Err(), ErrClosed)
}

// WithLock gives mutual exclusion and tokens that grow from one critical
// section to the next, under contention from several goroutines.
func TestClientWithLockMutualExclusion(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	c := lockdtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxT(t, 60*time.Second)
	var inside atomic.Int32
	var fence Fence
	var mu sync.Mutex
	var tokens []uint64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for range 4 {
				err := cli.WithLock(ctx, "counter", []byte(fmt.Sprint("w", w)), 5*time.Second, func(ctx context.Context, token uint64) error {
					if inside.Add(1) != 1 {
						return errors.New("two holders at once")
					}
					defer inside.Add(-1)
					if err := fence.Check(token); err != nil {
						return err
					}
					mu.Lock()
					tokens = append(tokens, token)
					mu.Unlock()
					time.Sleep(time.Duration(rng.IntN(5)) * time.Millisecond) // work inside the lock, not synchronisation
					return nil
				})
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.Len(t, tokens, 16)
	for i := 1; i < len(tokens); i++ {
		require.Greater(t, tokens[i], tokens[i-1], "tokens strictly increase")
	}
	info, err := cli.Describe(ctx, "counter")
	require.NoError(t, err)
	require.Empty(t, info.GetHolders())
}

func TestClientElection(t *testing.T) {
	c := lockdtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxT(t, 30*time.Second)
	a, b := session(t, cli, 5*time.Second), session(t, cli, 5*time.Second)
	obs := cli.Observe(ctx, "svc")
	first := <-obs
	require.Nil(t, first.Leader)

	la, err := a.Campaign(ctx, "svc", []byte("a"))
	require.NoError(t, err)
	won := make(chan *Leader, 1)
	go func() {
		l, err := b.Campaign(ctx, "svc", []byte("b"))
		if err != nil {
			t.Errorf("campaign: %v", err)
		}
		won <- l
	}()
	_, err = b.Proclaim(ctx, "svc", []byte("b!"))
	require.ErrorIs(t, err, ErrNotHolder)
	_, err = a.Proclaim(ctx, "svc", []byte("a2"))
	require.NoError(t, err)
	cur, err := cli.Leader(ctx, "svc")
	require.NoError(t, err)
	require.Equal(t, "a2", string(cur.Value))
	require.Equal(t, la.Token, cur.Token)
	require.NoError(t, a.Resign(ctx, "svc"))
	lb := <-won
	require.Greater(t, lb.Token, la.Token)

	var values []string
	for len(values) < 3 {
		o := <-obs
		values = append(values, string(o.Leader.Value))
	}
	require.Equal(t, []string{"a", "a2", "b"}, values)
}

// A session and its lock survive the loss of the lockd leader.
func TestClientFailover(t *testing.T) {
	c := lockdtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := ctxT(t, 60*time.Second)
	// The new leader gives the session a full TTL from its takeover; the
	// client's keep-alive must find it within that TTL, which a loaded
	// machine may need seconds for (reconnecting, learning the new leader).
	const ttl = 4 * time.Second
	s := session(t, cli, ttl)
	l, err := s.Acquire(ctx, "x", []byte("me"))
	require.NoError(t, err)
	old := c.WaitLeader()
	c.Stop(old)
	c.WaitLeader(old)
	// Longer than the TTL: the keep-alive moved to the new leader.
	require.Never(t, func() bool {
		select {
		case <-s.Done():
			return true
		default:
			return false
		}
	}, ttl+time.Second, 20*time.Millisecond)
	info, err := cli.Describe(ctx, "x")
	require.NoError(t, err)
	require.Len(t, info.GetHolders(), 1)
	require.Equal(t, l.Token, info.GetHolders()[0].GetToken())
	require.NoError(t, s.Release(ctx, "x"))
	o := session(t, cli, 2*time.Second)
	l2, err := o.Acquire(ctx, "x", nil)
	require.NoError(t, err)
	require.Greater(t, l2.Token, l.Token)
}

// A client sends its calls to the leader, and follows a new one.
func TestClientFollowsTheLeader(t *testing.T) {
	c := lockdtest.New(t, 3, nil)
	cli := newClient(t, c)
	// followsLeader reports whether the client names the member that leads now
	// (on a loaded machine leadership may move on its own, so the leader is
	// looked up at every poll rather than once).
	followsLeader := func() bool {
		for _, m := range c.Live() {
			if m.Server.Node().IsLeader() {
				return cli.conn.Leader() == m.Config.Server.GRPCAddr
			}
		}
		return false
	}
	nodetest.WaitFor(t, 30*time.Second, "the client to follow the leader", followsLeader)
	old := c.WaitLeader()
	c.Stop(old)
	c.WaitLeader(old)
	nodetest.WaitFor(t, 30*time.Second, "the client to follow the new leader", followsLeader)
	s := session(t, cli, 2*time.Second)
	_, err := s.Acquire(ctxT(t, 10*time.Second), "x", nil)
	require.NoError(t, err)
}
