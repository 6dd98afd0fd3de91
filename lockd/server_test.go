package lockd

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/rpcerr"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
	lockdpeerv1 "cairn.dev/cairn/proto/cairn/lockd/peer/v1"
	lockdraftv1 "cairn.dev/cairn/proto/cairn/lockd/raft/v1"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

func durpb(d time.Duration) *durationpb.Duration { return durationpb.New(d) }

// A waiter blocked on a follower is granted when the holder, on another node,
// releases; its token is larger.
func TestClusterBlockingAcquireAcrossNodes(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.Member(c.WaitLeader())
	f := c.Follower()
	a := newSession(t, leader, 30*time.Second)
	b := newSession(t, f, 30*time.Second)
	first := acquire(t, leader, a, "stock/last-item", true)
	require.True(t, first.GetAcquired())
	require.Equal(t, first.GetHeader().GetRaftIndex(), first.GetHolder().GetToken())

	got := acquireAsync(f, b, "stock/last-item", 10*time.Second)
	waitWaiters(t, leader, "stock/last-item", 1)
	select {
	case r := <-got:
		t.Fatalf("acquire returned while the lock was held: %+v %v", r.resp, r.err)
	default:
	}
	// Release through the other follower, not through either party's node.
	var other *testMember
	for _, m := range c.Live() {
		if m != leader && m != f {
			other = m
		}
	}
	_, err := locks(other).Release(ctxT(t), &lockdv1.ReleaseRequest{SessionId: a, Name: "stock/last-item"})
	require.NoError(t, err)
	r := <-got
	require.NoError(t, r.err)
	require.True(t, r.resp.GetAcquired())
	require.Equal(t, b, r.resp.GetHolder().GetSessionId())
	require.Greater(t, r.resp.GetHolder().GetToken(), first.GetHolder().GetToken())

	// Release by a non-holder is refused; releasing a free lock is a precondition failure.
	_, err = locks(f).Release(ctxT(t), &lockdv1.ReleaseRequest{SessionId: a, Name: "stock/last-item"})
	require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	_, err = locks(f).Release(ctxT(t), &lockdv1.ReleaseRequest{SessionId: b, Name: "stock/last-item"})
	require.NoError(t, err)
	_, err = locks(f).Release(ctxT(t), &lockdv1.ReleaseRequest{SessionId: b, Name: "stock/last-item"})
	require.Equal(t, codes.FailedPrecondition, status.Code(err), "%v", err)
	_, err = locks(f).Acquire(ctxT(t), &lockdv1.AcquireRequest{SessionId: 999999, Name: "x"})
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
}

// A follower asks the leader when a wait queued through it ends; asking has no
// effect on the wait, so a follower that stops leaves the wait queued and a
// retry through another member resumes it.
func TestClusterFollowerWaitAsksTheLeaderAndKeepsItsPlace(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.Member(c.WaitLeader())
	f := c.Follower()
	a := newSession(t, leader, 30*time.Second)
	b := newSession(t, leader, 30*time.Second)
	first := acquire(t, leader, a, "x", true)
	require.True(t, first.GetAcquired())

	queued := acquire(t, leader, b, "x", false)
	require.False(t, queued.GetAcquired())
	peer := func(m *testMember) lockdpeerv1.LockPeerServiceClient {
		return lockdpeerv1.NewLockPeerServiceClient(m.Conn)
	}
	_, err := peer(f).AwaitGrant(ctxT(t), &lockdpeerv1.AwaitGrantRequest{Kind: kLock, Name: "x", SessionId: b, WaitId: 1})
	require.Equal(t, codes.Unavailable, status.Code(err), "only the leader answers: %v", err)
	require.Equal(t, rpcerr.NotLeader, rpcerr.ReasonOf(err), "%v", err)

	// b waits through f; f stops; the wait is still queued on the leader.
	got := acquireAsync(f, b, "x", 60*time.Second)
	waitWaiters(t, leader, "x", 1)
	waitID := describe(t, leader, "x").GetWaiters()[0].GetWaitId()
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = peer(leader).AwaitGrant(short, &lockdpeerv1.AwaitGrantRequest{Kind: kLock, Name: "x", SessionId: b, WaitId: waitID})
	cancel()
	require.Equal(t, codes.DeadlineExceeded, status.Code(err), "%v", err)
	c.Stop(f.ID)
	r := <-got
	require.Equal(t, codes.Unavailable, status.Code(r.err), "%v", r.err)
	require.Len(t, describe(t, leader, "x").GetWaiters(), 1, "the wait keeps its place")
	require.Equal(t, waitID, describe(t, leader, "x").GetWaiters()[0].GetWaitId())

	// Asking the leader directly sees the grant the release makes.
	asked := make(chan *lockdpeerv1.AwaitGrantResponse, 1)
	go func() {
		resp, _ := peer(leader).AwaitGrant(ctxT(t), &lockdpeerv1.AwaitGrantRequest{Kind: kLock, Name: "x", SessionId: b, WaitId: waitID})
		asked <- resp
	}()
	again := acquireAsync(c.Follower(), b, "x", 10*time.Second)
	_, err = locks(leader).Release(ctxT(t), &lockdv1.ReleaseRequest{SessionId: a, Name: "x"})
	require.NoError(t, err)
	r = <-again
	require.NoError(t, r.err)
	require.Equal(t, b, r.resp.GetHolder().GetSessionId())
	resp := <-asked
	require.Equal(t, lockdpeerv1.WaitOutcome_WAIT_OUTCOME_GRANTED, resp.GetOutcome())
	require.Equal(t, r.resp.GetHolder().GetToken(), resp.GetHolder().GetToken())
}

// A blocked acquire whose deadline passes gets DEADLINE_EXCEEDED and leaves
// the queue; the next release is not wasted on it.
func TestClusterAcquireDeadlineCancelsWait(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.Member(c.WaitLeader())
	f := c.Follower()
	a := newSession(t, leader, 30*time.Second)
	b := newSession(t, f, 30*time.Second)
	d := newSession(t, f, 30*time.Second)
	acquire(t, leader, a, "x", true)
	r := <-acquireAsync(f, b, "x", 700*time.Millisecond)
	require.Equal(t, codes.DeadlineExceeded, status.Code(r.err), "%v", r.err)
	waitWaiters(t, leader, "x", 0)
	got := acquireAsync(f, d, "x", 10*time.Second)
	waitWaiters(t, leader, "x", 1)
	_, err := locks(leader).Release(ctxT(t), &lockdv1.ReleaseRequest{SessionId: a, Name: "x"})
	require.NoError(t, err)
	res := <-got
	require.NoError(t, res.err)
	require.Equal(t, d, res.resp.GetHolder().GetSessionId())
}

// A session that is not kept alive expires by a leader-proposed entry: its lock
// goes to the next waiter, after the lock delay the holder asked for.
//
// Timing: the test must see the lock in its delay, a state that lasts only as
// long as the delay, so the delay (3s) is long enough for a poll on a loaded
// machine to land in it.
func TestClusterSessionExpiryGrantsNext(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.Member(c.WaitLeader())
	f := c.Follower()
	a := newSession(t, leader, 300*time.Millisecond)
	b := newSession(t, f, 30*time.Second)
	resp, err := locks(leader).Acquire(ctxT(t), &lockdv1.AcquireRequest{SessionId: a, Name: "x", LockDelay: durpb(3 * time.Second)})
	require.NoError(t, err)
	require.True(t, resp.GetAcquired())
	got := acquireAsync(f, b, "x", 30*time.Second)
	// The holder expires; the lock stays in lock delay, with the waiter queued.
	var delayed *lockdv1.LockInfo
	nodetest.WaitFor(t, 10*time.Second, "the lock delay", func() bool {
		info := describe(t, f, "x")
		if info.GetDelayUntil() != nil {
			delayed = info
		}
		return delayed != nil
	})
	require.Empty(t, delayed.GetHolders())
	r := <-got
	require.NoError(t, r.err)
	require.Equal(t, b, r.resp.GetHolder().GetSessionId())
	require.Greater(t, r.resp.GetHolder().GetToken(), resp.GetHolder().GetToken())
	// The grant came no earlier than the end of the delay (both times are the
	// leader's clock, recorded in the log).
	require.False(t, r.resp.GetHolder().GetSince().AsTime().Before(delayed.GetDelayUntil().AsTime()))
	_, err = sessions(f).DescribeSession(ctxT(t), &lockdv1.DescribeSessionRequest{SessionId: a})
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
	// Every replica agrees.
	nodetest.WaitFor(t, 20*time.Second, "replicas to agree", func() bool {
		var want string
		for _, m := range c.Live() {
			var got string
			m.Server.m.view(func(st *state) {
				b, _ := st.encode()
				got = string(b)
			})
			if want == "" {
				want = got
			} else if got != want {
				return false
			}
		}
		return true
	})
}

// Locks, sessions and token order survive a leader failover.
func TestClusterFailoverKeepsLocksAndTokens(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	old := c.WaitLeader()
	var f *testMember
	for _, m := range c.Live() {
		if m.ID != old {
			f = m
			break
		}
	}
	a := newSession(t, f, 5*time.Second)
	b := newSession(t, f, 5*time.Second)
	keepAlive(t, f, a, 300*time.Millisecond)
	keepAlive(t, f, b, 300*time.Millisecond)
	first := acquire(t, f, a, "x", true)
	got := acquireAsync(f, b, "x", 20*time.Second)
	waitWaiters(t, f, "x", 1)

	c.Stop(old)
	newLeader := c.WaitLeader(old)
	t.Logf("leader %s -> %s", old, newLeader)
	info := describe(t, f, "x")
	require.Len(t, info.GetHolders(), 1)
	require.Equal(t, a, info.GetHolders()[0].GetSessionId())
	require.Equal(t, first.GetHolder().GetToken(), info.GetHolders()[0].GetToken())
	require.Len(t, info.GetWaiters(), 1)

	_, err := locks(f).Release(ctxT(t), &lockdv1.ReleaseRequest{SessionId: a, Name: "x"})
	require.NoError(t, err)
	r := <-got
	require.NoError(t, r.err)
	require.Greater(t, r.resp.GetHolder().GetToken(), first.GetHolder().GetToken())
	require.Greater(t, r.resp.GetHeader().GetRaftTerm(), first.GetHeader().GetRaftTerm())

	// The stopped member comes back and catches up.
	m := c.Restart(old)
	nodetest.WaitFor(t, 10*time.Second, "the restarted member to see the new holder", func() bool {
		var h uint64
		m.Server.m.view(func(st *state) {
			if r := st.Resources[resKey{kLock, "x"}]; r != nil && len(r.Holders) == 1 {
				h = r.Holders[0].Session
			}
		})
		return h == b
	})
}

// A leader change gives every session a full TTL from the moment the new leader
// takes over: it can extend a session, never shorten it.
//
// Timing: the session must outlive the transfer on the old leader, so the
// transfer starts half a TTL after creation, leaving half a TTL (1.5s) for it
// on a loaded machine. The takeover happens after the transfer request is
// sent, so bounds on the new deadline are taken from that moment
// (transferStart), never from when the test saw the new leader, which may be
// late.
func TestClusterLeaderChangeResetsTTL(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.Member(c.WaitLeader())
	f := c.Follower()
	const ttl = 3 * time.Second
	created := time.Now()
	id := newSession(t, f, ttl)
	// Half the TTL passes without keep-alives; then leadership moves.
	nodetest.WaitFor(t, 10*time.Second, "half the TTL to pass", func() bool { return time.Since(created) > ttl/2 })
	transferStart := time.Now()
	_, err := clusterv1.NewMembershipServiceClient(leader.Conn).TransferLeadership(ctxT(t), &clusterv1.TransferLeadershipRequest{TargetId: f.ID})
	require.NoError(t, err)
	c.WaitLeader(leader.ID)
	t.Logf("leadership moved %v after the session was created (transfer began after %v)", time.Since(created), transferStart.Sub(created))
	// Past the original deadline, the session is alive: the new leader gave it a
	// full TTL, so it lives until transferStart+ttl at least.
	nodetest.WaitFor(t, 2*ttl, "the original deadline to pass", func() bool { return time.Since(created) > ttl+200*time.Millisecond })
	if time.Since(transferStart) < ttl-100*time.Millisecond {
		resp, err := sessions(f).DescribeSession(ctxT(t), &lockdv1.DescribeSessionRequest{SessionId: id})
		require.NoError(t, err, "the session must outlive its original deadline after a leader change")
		require.Greater(t, resp.GetSession().GetRemaining().AsDuration(), time.Duration(0))
	} else {
		t.Logf("too slow to check the session past its original deadline: %v since the transfer began", time.Since(transferStart))
	}
	// And it still expires, a TTL after the takeover at the earliest.
	nodetest.WaitFor(t, 30*time.Second, "the session to expire", func() bool {
		_, err := sessions(f).DescribeSession(ctxT(t), &lockdv1.DescribeSessionRequest{SessionId: id})
		return status.Code(err) == codes.NotFound
	})
	require.GreaterOrEqual(t, time.Since(transferStart), ttl-50*time.Millisecond)
}

func TestClusterElection(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.Member(c.WaitLeader())
	f := c.Follower()
	a := newSession(t, leader, 30*time.Second)
	b := newSession(t, f, 30*time.Second)

	octx, cancel := context.WithCancel(context.Background())
	defer cancel()
	obs, err := elections(f).Observe(octx, &lockdv1.ObserveRequest{Election: "svc"})
	require.NoError(t, err)
	first, err := obs.Recv()
	require.NoError(t, err)
	require.Nil(t, first.GetLeader(), "no leader yet")

	ca, err := elections(leader).Campaign(ctxT(t), &lockdv1.CampaignRequest{SessionId: a, Election: "svc", Value: []byte("a:1")})
	require.NoError(t, err)
	require.Equal(t, a, ca.GetLeader().GetSessionId())

	type campaign struct {
		resp *lockdv1.CampaignResponse
		err  error
	}
	cb := make(chan campaign, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := elections(f).Campaign(ctx, &lockdv1.CampaignRequest{SessionId: b, Election: "svc", Value: []byte("b:1")})
		cb <- campaign{resp, err}
	}()
	_, err = elections(f).Proclaim(ctxT(t), &lockdv1.ProclaimRequest{SessionId: b, Election: "svc", Value: []byte("b:2")})
	require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	_, err = elections(f).Proclaim(ctxT(t), &lockdv1.ProclaimRequest{SessionId: a, Election: "svc", Value: []byte("a:2")})
	require.NoError(t, err)
	lr, err := elections(f).Leader(ctxT(t), &lockdv1.LeaderRequest{Election: "svc"})
	require.NoError(t, err)
	require.Equal(t, "a:2", string(lr.GetLeader().GetValue()))
	require.Equal(t, ca.GetLeader().GetToken(), lr.GetLeader().GetToken(), "proclaim keeps the token")

	_, err = elections(leader).Resign(ctxT(t), &lockdv1.ResignRequest{SessionId: a, Election: "svc"})
	require.NoError(t, err)
	r := <-cb
	require.NoError(t, r.err)
	require.Equal(t, b, r.resp.GetLeader().GetSessionId())
	require.Greater(t, r.resp.GetLeader().GetToken(), ca.GetLeader().GetToken())

	// The observer saw every change, in order.
	var seen []string
	for len(seen) < 3 {
		ev, err := obs.Recv()
		require.NoError(t, err)
		seen = append(seen, string(ev.GetLeader().GetValue()))
	}
	require.Equal(t, []string{"a:1", "a:2", "b:1"}, seen)

	// A new observer starts with the current leader.
	obs2, err := elections(leader).Observe(octx, &lockdv1.ObserveRequest{Election: "svc"})
	require.NoError(t, err)
	ev, err := obs2.Recv()
	require.NoError(t, err)
	require.Equal(t, b, ev.GetLeader().GetSessionId())

	// Closing the leader's session ends its leadership; observers see "no leader".
	_, err = sessions(f).CloseSession(ctxT(t), &lockdv1.CloseSessionRequest{SessionId: b})
	require.NoError(t, err)
	ev, err = obs.Recv()
	require.NoError(t, err)
	require.Nil(t, ev.GetLeader())
}

// A member restarted after a snapshot recovers its state from the snapshot plus
// the log after it (the state machine is in memory).
func TestClusterMemberRestartRecovers(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) {
		cfg.SnapshotThreshold = 16
		cfg.TrailingLogs = 8
	})
	leader := c.Member(c.WaitLeader())
	f := c.Follower()
	var ids []uint64
	for i := range 6 {
		id := newSession(t, leader, 30*time.Second)
		ids = append(ids, id)
		acquire(t, leader, id, "l"+string(rune('a'+i)), true)
	}
	require.NoError(t, f.Server.Node().Snapshot())
	c.Stop(f.ID)
	// More history while it is down, including a waiter and a release.
	got := acquireAsync(leader, ids[1], "la", 10*time.Second)
	waitWaiters(t, leader, "la", 1)
	_, err := locks(leader).Release(ctxT(t), &lockdv1.ReleaseRequest{SessionId: ids[0], Name: "la"})
	require.NoError(t, err)
	require.NoError(t, (<-got).err)
	sem, err := lockdv1.NewSemaphoreServiceClient(leader.Conn).SemaphoreAcquire(ctxT(t), &lockdv1.SemaphoreAcquireRequest{SessionId: ids[2], Name: "pool", Permits: 3})
	require.NoError(t, err)
	require.True(t, sem.GetAcquired())

	m := c.Restart(f.ID)
	nodetest.WaitFor(t, 10*time.Second, "the restarted member to match the leader", func() bool {
		var want, got string
		leader.Server.m.view(func(st *state) { b, _ := st.encode(); want = string(b) })
		m.Server.m.view(func(st *state) { b, _ := st.encode(); got = string(b) })
		return want == got
	})
	info := describe(t, m, "la")
	require.Len(t, info.GetHolders(), 1)
	require.Equal(t, ids[1], info.GetHolders()[0].GetSessionId())
}

func TestServerStatusAndHeaders(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	m := c.Member(c.WaitLeader())
	st, err := lockdv1.NewClusterServiceClient(m.Conn).Status(ctxT(t), &lockdv1.StatusRequest{})
	require.NoError(t, err)
	require.Equal(t, "leader", st.GetState())
	require.Equal(t, m.ID, st.GetLeaderId())
	require.Equal(t, "lockd", st.GetHeader().GetClusterId())
	require.Equal(t, m.ID, st.GetHeader().GetMemberId())
	require.NotZero(t, st.GetHeader().GetRaftTerm())

	_, err = sessions(m).CreateSession(ctxT(t), &lockdv1.CreateSessionRequest{Ttl: durpb(2 * time.Hour)})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.Contains(t, err.Error(), "max_session_ttl")
	id := newSession(t, m, 30*time.Second)
	_, err = locks(m).Acquire(ctxT(t), &lockdv1.AcquireRequest{SessionId: id, Name: string(make([]byte, 300))})
	require.Equal(t, codes.ResourceExhausted, status.Code(err))

	// Keep-alive reports the TTL; an unknown session ends the stream with NotFound.
	ka, err := sessions(m).SessionKeepAlive(ctxT(t))
	require.NoError(t, err)
	require.NoError(t, ka.Send(&lockdv1.SessionKeepAliveRequest{SessionId: id}))
	resp, err := ka.Recv()
	require.NoError(t, err)
	require.Equal(t, 30*time.Second, resp.GetTtl().AsDuration())
	require.NoError(t, ka.Send(&lockdv1.SessionKeepAliveRequest{SessionId: 424242}))
	_, err = ka.Recv()
	require.Equal(t, codes.NotFound, status.Code(err))

	ds, err := sessions(m).DescribeSession(ctxT(t), &lockdv1.DescribeSessionRequest{SessionId: id})
	require.NoError(t, err)
	require.Equal(t, id, ds.GetSession().GetSessionId())

	// List pages in name order.
	for _, n := range []string{"b/2", "a/1", "b/1", "b/3"} {
		acquire(t, m, id, n, false)
	}
	lr, err := locks(m).List(ctxT(t), &lockdv1.ListRequest{Prefix: "b/", Limit: 2})
	require.NoError(t, err)
	require.True(t, lr.GetMore())
	require.Equal(t, []string{"b/1", "b/2"}, []string{lr.GetLocks()[0].GetName(), lr.GetLocks()[1].GetName()})
	lr, err = locks(m).List(ctxT(t), &lockdv1.ListRequest{Prefix: "b/", StartAfter: "b/2"})
	require.NoError(t, err)
	require.False(t, lr.GetMore())
	require.Len(t, lr.GetLocks(), 1)
}

// An acquire that will queue is held back until the leader proposes something
// else and then goes ahead of it: a release takes the parked wait with it, the
// wait is queued first and the release grants it, in consecutive entries.
// Alone, a parked wait is proposed after maxParkDelay.
func TestClusterParkedWaitGoesAheadOfTheRelease(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.Member(c.WaitLeader())
	a := newSession(t, leader, 30*time.Second)
	b := newSession(t, leader, 30*time.Second)
	require.True(t, acquire(t, leader, a, "parked", true).GetAcquired())

	// Alone: proposed by the timer, so the wait shows up.
	got := acquireAsync(leader, b, "parked", 10*time.Second)
	waitWaiters(t, leader, "parked", 1)
	_, err := locks(leader).Release(ctxT(t), &lockdv1.ReleaseRequest{SessionId: a, Name: "parked"})
	require.NoError(t, err)
	r := <-got
	require.NoError(t, r.err)
	require.True(t, r.resp.GetAcquired())
	require.True(t, acquire(t, leader, b, "parked", true).GetAcquired())

	// Held back until the release, which it precedes.
	park := leader.Server.park
	park.mu.Lock()
	park.delay = time.Hour
	park.mu.Unlock()
	got = acquireAsync(leader, a, "parked", 10*time.Second)
	nodetest.WaitFor(t, 10*time.Second, "the wait parked", func() bool { return park.len() == 1 })
	before := describe(t, leader, "parked")
	require.Empty(t, before.GetWaiters(), "a parked wait is not in the log yet")
	rel, err := locks(leader).Release(ctxT(t), &lockdv1.ReleaseRequest{SessionId: b, Name: "parked"})
	require.NoError(t, err)
	r = <-got
	require.NoError(t, r.err)
	require.True(t, r.resp.GetAcquired())
	require.Equal(t, a, r.resp.GetHolder().GetSessionId())
	releaseIndex := rel.GetHeader().GetRaftIndex()
	require.Equal(t, releaseIndex, r.resp.GetHolder().GetToken(), "the release granted the wait, so the wait was queued before it")
}

// raftnode.Node.ApplyAll commits its commands in order: on the leader as
// consecutive entries, on a follower each forwarded in turn.
func TestClusterApplyAllKeepsOrder(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.Member(c.WaitLeader())
	createSession := func() []byte {
		b, err := proto.Marshal(&lockdraftv1.Command{UnixNanos: time.Now().UnixNano(), Op: &lockdraftv1.Command_CreateSession{CreateSession: &lockdraftv1.CreateSessionOp{TtlMs: 10000}}})
		require.NoError(t, err)
		return b
	}
	for _, m := range []*testMember{leader, c.Follower()} {
		res, errs := m.Server.node.ApplyAll(ctxT(t), [][]byte{createSession(), createSession(), createSession()})
		var ids []uint64
		for i := range res {
			require.NoError(t, errs[i])
			r := &lockdraftv1.CommandResult{}
			require.NoError(t, proto.Unmarshal(res[i], r))
			ids = append(ids, r.GetSessionId())
		}
		require.Len(t, ids, 3)
		require.Less(t, ids[0], ids[1], "%s: in order", m.ID)
		require.Less(t, ids[1], ids[2], "%s: in order", m.ID)
		if m == leader {
			require.Equal(t, []uint64{ids[0], ids[0] + 1, ids[0] + 2}, ids, "consecutive entries on the leader")
		}
	}
}

// Regression (issue 12, bug 1): on a fresh group nothing has been applied yet
// (Applied == 0), and the read handlers built their response header inside
// machine.view, where header(0) re-took machine.mu: the first List or Describe
// froze the member for good. Every read RPC, as the very first call on every
// member, must answer within its deadline and leave the member usable.
func TestClusterFirstReadOnFreshGroupAnswers(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	c.WaitLeader()
	call := func(m *testMember, what string, f func(ctx context.Context) error) {
		t.Helper()
		// The frozen member never answered; the deadline is a bound for a
		// loaded machine, not for how fast a read is.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		require.NoError(t, f(ctx), "%s on %s (fresh group, nothing applied)", what, m.ID)
	}
	for _, m := range c.Live() {
		call(m, "List", func(ctx context.Context) error {
			_, err := locks(m).List(ctx, &lockdv1.ListRequest{})
			return err
		})
		call(m, "Describe", func(ctx context.Context) error {
			_, err := locks(m).Describe(ctx, &lockdv1.DescribeRequest{Name: "L"})
			return err
		})
		call(m, "SemaphoreList", func(ctx context.Context) error {
			_, err := lockdv1.NewSemaphoreServiceClient(m.Conn).SemaphoreList(ctx, &lockdv1.SemaphoreListRequest{})
			return err
		})
		call(m, "SemaphoreDescribe", func(ctx context.Context) error {
			_, err := lockdv1.NewSemaphoreServiceClient(m.Conn).SemaphoreDescribe(ctx, &lockdv1.SemaphoreDescribeRequest{Name: "S"})
			return err
		})
		call(m, "Leader", func(ctx context.Context) error {
			_, err := elections(m).Leader(ctx, &lockdv1.LeaderRequest{Election: "e"})
			return err
		})
	}
	// The members still apply commands after those reads.
	id := newSession(t, c.Member(c.WaitLeader()), 30*time.Second)
	require.True(t, acquire(t, c.Live()[0], id, "L", false).GetAcquired())
}

// machine.view callbacks may read the applied index: AppliedIndex does not take
// machine.mu.
func TestMachineAppliedIndexInsideView(t *testing.T) {
	m := newMachine(nil)
	done := make(chan uint64, 1)
	go m.view(func(*state) { done <- m.AppliedIndex() })
	select {
	case got := <-done:
		require.Zero(t, got)
	case <-time.After(5 * time.Second):
		t.Fatal("AppliedIndex inside view did not return: it re-took machine.mu")
	}
}

// Regression (issue 12, bug 6): SessionKeepAlive blocked in stream.Recv, so a
// graceful stop waited for the client's next keep-alive (or the shutdown
// timeout). Open keep-alive streams on the stopping leader, directly and
// relayed through a follower, must not hold the stop up, and clients are
// told to go elsewhere.
func TestGracefulStopDoesNotWaitForKeepAliveStreams(t *testing.T) {
	// A stop held up by the streams would take the whole ShutdownTimeout: make
	// it far longer than a loaded machine takes to stop a leader gracefully.
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.Server.ShutdownTimeout = 30 * time.Second })
	leader := c.Member(c.WaitLeader())
	follower := c.Follower()
	id := newSession(t, leader, 30*time.Second)
	open := func(m *testMember) lockdv1.SessionService_SessionKeepAliveClient {
		ka, err := sessions(m).SessionKeepAlive(ctxT(t))
		require.NoError(t, err)
		require.NoError(t, ka.Send(&lockdv1.SessionKeepAliveRequest{SessionId: id}))
		_, err = ka.Recv()
		require.NoError(t, err)
		return ka
	}
	direct, relayed := open(leader), open(follower)

	start := time.Now()
	c.Stop(leader.ID)
	// Well under the shutdown timeout the old handler waited out.
	require.Less(t, time.Since(start), leader.Config.Server.ShutdownTimeout/2, "open keep-alive streams must not hold up a graceful stop")
	_, err := direct.Recv()
	require.Equal(t, codes.Unavailable, status.Code(err), "clients are told to go elsewhere: %v", err)

	// The follower's relay re-dials the new leader, which keeps the session.
	c.WaitLeader(leader.ID)
	nodetest.WaitFor(t, 10*time.Second, "a keep-alive through the follower to reach the new leader", func() bool {
		if relayed == nil {
			var err error
			if relayed, err = sessions(follower).SessionKeepAlive(ctxT(t)); err != nil {
				relayed = nil
				return false
			}
		}
		if err := relayed.Send(&lockdv1.SessionKeepAliveRequest{SessionId: id}); err == nil {
			if _, err = relayed.Recv(); err == nil {
				return true
			}
		}
		relayed = nil // it ended when the relay lost the old leader: open another
		return false
	})
}
