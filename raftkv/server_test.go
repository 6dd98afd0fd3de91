package raftkv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/raftnode"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

func TestClusterReadsAndWritesThroughAnyMember(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.WaitLeader()
	for _, m := range c.Live() {
		put(t, m, "k-"+m.ID, "v-"+m.ID)
	}
	for _, m := range c.Live() {
		for _, w := range c.Live() {
			v, ok := get(t, m, "k-"+w.ID, raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE)
			require.True(t, ok, "member %s reading key written via %s", m.ID, w.ID)
			require.Equal(t, "v-"+w.ID, v)
		}
	}
	// Headers name the answering member and the cluster.
	resp := put(t, c.Member(leader), "h", "1")
	require.Equal(t, leader, resp.GetHeader().GetMemberId())
	require.Equal(t, "raftkv", resp.GetHeader().GetClusterId())
	require.Positive(t, resp.GetHeader().GetRevision())
	require.Positive(t, resp.GetHeader().GetRaftTerm())
}

func TestLeaderFailover(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	old := c.WaitLeader()
	var follower *testMember
	for _, m := range c.Live() {
		if m.ID != old {
			follower = m
		}
	}
	put(t, follower, "before", "1")
	c.Stop(old)
	newLeader := c.WaitLeader(old)
	require.NotEqual(t, old, newLeader)
	put(t, follower, "after", "2")
	for _, m := range c.Live() {
		for k, want := range map[string]string{"before": "1", "after": "2"} {
			v, ok := get(t, m, k, raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE)
			require.True(t, ok)
			require.Equal(t, want, v)
		}
	}
	// The old leader rejoins and catches up from the log.
	back := c.Restart(old)
	nodetest.WaitFor(t, 15*time.Second, "restarted member to catch up", func() bool {
		v, ok := get(t, back, "after", raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE)
		return ok && v == "2"
	})
}

func TestFollowerCatchesUpFromSnapshot(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) {
		cfg.SnapshotThreshold = 64
		cfg.TrailingLogs = 16
	})
	leader := c.WaitLeader()
	var lagger string
	for _, m := range c.Live() {
		if m.ID != leader {
			lagger = m.ID
		}
	}
	c.Stop(lagger)
	lm := c.Member(leader)
	for i := 0; i < 300; i++ {
		put(t, lm, fmt.Sprintf("key-%03d", i), fmt.Sprintf("val-%d", i))
	}
	require.NoError(t, lm.Server.Node().Snapshot())
	for i := 300; i < 320; i++ {
		put(t, lm, fmt.Sprintf("key-%03d", i), fmt.Sprintf("val-%d", i))
	}
	back := c.Restart(lagger)
	nodetest.WaitFor(t, 20*time.Second, "lagging follower to catch up via snapshot", func() bool {
		v, ok := get(t, back, "key-319", raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE)
		return ok && v == "val-319"
	})
	for i := 0; i < 320; i += 37 {
		v, ok := get(t, back, fmt.Sprintf("key-%03d", i), raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE)
		require.True(t, ok)
		require.Equal(t, fmt.Sprintf("val-%d", i), v)
	}
}

func TestMembershipChange(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.Member(c.WaitLeader())
	put(t, leader, "m", "1")
	cl := clusterv1.NewMembershipServiceClient(leader.Conn)

	learner := c.Start("kv-4")
	_, err := cl.MemberAdd(ctxT(t), &clusterv1.MemberAddRequest{Id: "kv-4", Address: learner.Server.Addr(), IsLearner: true})
	require.NoError(t, err)
	nodetest.WaitFor(t, 10*time.Second, "learner to replicate", func() bool {
		v, ok := get(t, learner, "m", raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE)
		return ok && v == "1"
	})
	list, err := cl.MemberList(ctxT(t), &clusterv1.MemberListRequest{})
	require.NoError(t, err)
	require.Len(t, list.GetMembers(), 4)
	for _, m := range list.GetMembers() {
		require.Equal(t, m.GetId() == "kv-4", m.GetIsLearner(), m.GetId())
	}

	_, err = cl.MemberPromote(ctxT(t), &clusterv1.MemberPromoteRequest{Id: "kv-4"})
	require.NoError(t, err)
	_, err = cl.MemberRemove(ctxT(t), &clusterv1.MemberRemoveRequest{Id: "kv-2"})
	require.NoError(t, err)
	list, err = cl.MemberList(ctxT(t), &clusterv1.MemberListRequest{})
	require.NoError(t, err)
	ids := map[string]bool{}
	for _, m := range list.GetMembers() {
		ids[m.GetId()] = true
		require.False(t, m.GetIsLearner())
	}
	require.Equal(t, map[string]bool{"kv-1": true, "kv-3": true, "kv-4": true}, ids)

	_, err = cl.MemberRemove(ctxT(t), &clusterv1.MemberRemoveRequest{Id: "no-such"})
	require.Equal(t, codes.NotFound, status.Code(err))
}

// TestLeaseExpiresAcrossLeaderChange: after a leader change, a lease is
// expired through the log by the new leader, no earlier than a full TTL after
// the change (the rule itself is checked on a manual clock by
// TestLessorGivesAFullTTLOnTakeover).
//
// Timing: the old leader must still hold the lease when it is stopped, so the
// TTL (4s) leaves a loaded machine that long for the grant, the puts and the
// stop; and every later leader change (a loaded machine makes some) restarts
// the TTL, so the wait for the expiry is long. The takeover cannot precede the
// stop of the member that leads just before it, so the lower bound counts from
// that stop, not from when the test saw the new leader (which may be late).
func TestLeaseExpiresAcrossLeaderChange(t *testing.T) {
	const ttl = 4 * time.Second
	c := newTestCluster(t, 3, nil)
	first := c.WaitLeader()
	var f *testMember
	for _, m := range c.Live() {
		if m.ID != first {
			f = m
		}
	}
	ls := raftkvv1.NewLeaseServiceClient(f.Conn)
	granted := time.Now()
	g, err := ls.LeaseGrant(ctxT(t), &raftkvv1.LeaseGrantRequest{Ttl: int64(ttl / time.Second)})
	require.NoError(t, err)
	_, err = kv(f).Put(ctxT(t), &raftkvv1.PutRequest{Key: []byte("ephemeral"), Value: []byte("x"), Lease: g.GetId()})
	require.NoError(t, err)
	_, err = kv(f).Put(ctxT(t), &raftkvv1.PutRequest{Key: []byte("bad-lease"), Value: []byte("x"), Lease: 424242})
	require.Equal(t, codes.NotFound, status.Code(err), "put with an unknown lease")

	old := c.WaitLeader()
	stopped := time.Now()
	c.Stop(old)
	c.WaitLeader(old)
	t.Logf("leader %s stopped %v after the grant; a new leader was seen %v later", old, stopped.Sub(granted), time.Since(stopped))
	// The new leader gives the lease a full TTL, then expires it through the log.
	nodetest.WaitFor(t, 60*time.Second, "leased key to be deleted on every live member", func() bool {
		for _, m := range c.Live() {
			if _, ok := get(t, m, "ephemeral", raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE); ok {
				return false
			}
		}
		return true
	})
	require.GreaterOrEqual(t, time.Since(stopped), ttl, "a leader change must not shorten a lease (granted %v before the stop)", stopped.Sub(granted))
	_, err = ls.LeaseTimeToLive(ctxT(t), &raftkvv1.LeaseTimeToLiveRequest{Id: g.GetId()})
	require.Equal(t, codes.NotFound, status.Code(err))
}

func TestSnapshotBackupAndRestoreIntoNewGroup(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	m := c.Member(c.WaitLeader())
	for i := 0; i < 50; i++ {
		put(t, m, fmt.Sprintf("b/%02d", i), fmt.Sprint(i))
	}
	stream, err := raftkvv1.NewClusterServiceClient(c.Live()[0].Conn).Snapshot(ctxT(t), &raftkvv1.SnapshotRequest{})
	require.NoError(t, err)
	var backup []byte
	for {
		resp, err := stream.Recv()
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		backup = append(backup, resp.GetBlob()...)
		if resp.GetRemainingBytes() == 0 {
			break
		}
	}

	// A fresh one-member cluster whose member restores the backup into its
	// data dir before it first starts.
	fresh := newTestCluster(t, 1, func(cfg *Config) {
		require.NoError(t, RestoreBackup(bytes.NewReader(backup), cfg.DataDir))
		require.Error(t, RestoreBackup(bytes.NewReader(backup), cfg.DataDir), "a second restore into the same dir is refused")
	})
	nm := fresh.Member(fresh.WaitLeader())
	for i := 0; i < 50; i += 7 {
		v, ok := get(t, nm, fmt.Sprintf("b/%02d", i), raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE)
		require.True(t, ok)
		require.Equal(t, fmt.Sprint(i), v)
	}
	resp := put(t, nm, "b/new", "x")
	require.Greater(t, resp.GetHeader().GetRevision(), int64(50), "revisions continue from the backup")
}

func TestConcurrentWritesThroughFollowerAreCoalescedAndAllApplied(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.WaitLeader()
	var f *testMember
	for _, m := range c.Live() {
		if m.ID != leader {
			f = m
		}
	}
	const writers, each = 32, 20
	revs := make(chan int64, writers*each)
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		go func(w int) {
			for i := 0; i < each; i++ {
				resp, err := kv(f).Put(ctxT(t), &raftkvv1.PutRequest{Key: []byte(fmt.Sprintf("cw/%d/%d", w, i)), Value: []byte("v")})
				if err != nil {
					errs <- err
					return
				}
				revs <- resp.GetHeader().GetRevision()
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < writers; w++ {
		require.NoError(t, <-errs)
	}
	close(revs)
	seen := map[int64]bool{}
	for r := range revs {
		require.False(t, seen[r], "revision %d acknowledged twice", r)
		seen[r] = true
	}
	require.Len(t, seen, writers*each)
	resp, err := kv(c.Member(leader)).Range(ctxT(t), &raftkvv1.RangeRequest{Key: []byte("cw/"), RangeEnd: []byte("cw0"), CountOnly: true})
	require.NoError(t, err)
	require.EqualValues(t, writers*each, resp.GetCount())
}

func TestWriteWithoutQuorumFailsUnavailableBeforeDeadline(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.WaitLeader()
	var survivor *testMember
	for _, m := range c.Live() {
		if m.ID != leader && survivor == nil {
			survivor = m
			continue
		}
	}
	for _, m := range c.Live() {
		if m != survivor {
			c.Stop(m.ID)
		}
	}
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"put", func(ctx context.Context) error {
			_, err := kv(survivor).Put(ctx, &raftkvv1.PutRequest{Key: []byte("lonely"), Value: []byte("x")})
			return err
		}},
		{"linearizable get", func(ctx context.Context) error {
			_, err := kv(survivor).Range(ctx, &raftkvv1.RangeRequest{Key: []byte("lonely")})
			return err
		}},
	} {
		// The member gives up after its ApplyTimeout (8s in fastConfig), well
		// before the caller's deadline: the verdict reaches the caller even on
		// a loaded machine, where the last half second before a tight deadline
		// may not be enough for the answer to arrive.
		const deadline = 20 * time.Second
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		start := time.Now()
		err := tc.call(ctx)
		cancel()
		require.Equal(t, codes.Unavailable, status.Code(err), "%s: %v", tc.name, err)
		require.Less(t, time.Since(start), deadline, tc.name)
	}
	// A serializable read still answers from the local replica.
	_, ok := get(t, survivor, "lonely", raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE)
	require.False(t, ok)
}

func TestGracefulStopDoesNotWaitForClientStreams(t *testing.T) {
	// A stop held up by the streams would take the whole ShutdownTimeout: make
	// it far longer than a loaded machine takes to stop a leader gracefully
	// (fastConfig's 2s is not).
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.Server.ShutdownTimeout = 30 * time.Second })
	leader := c.Member(c.WaitLeader())
	ls := raftkvv1.NewLeaseServiceClient(leader.Conn)
	g, err := ls.LeaseGrant(ctxT(t), &raftkvv1.LeaseGrantRequest{Ttl: 30})
	require.NoError(t, err)
	ka, err := ls.LeaseKeepAlive(ctxT(t))
	require.NoError(t, err)
	require.NoError(t, ka.Send(&raftkvv1.LeaseKeepAliveRequest{Id: g.GetId()}))
	_, err = ka.Recv()
	require.NoError(t, err)
	w, err := raftkvv1.NewWatchServiceClient(leader.Conn).Watch(ctxT(t), &raftkvv1.WatchRequest{Key: []byte("x")})
	require.NoError(t, err)
	_, err = w.Recv()
	require.NoError(t, err)

	start := time.Now()
	c.Stop(leader.ID)
	require.Less(t, time.Since(start), leader.Config.Server.ShutdownTimeout/2, "open keep-alive and watch streams must not hold up a graceful stop")
	_, err = ka.Recv()
	require.Equal(t, codes.Unavailable, status.Code(err), "clients are told to go elsewhere: %v", err)
}

// TestMembersMoveTheirLogFromBoltDBToTheWAL restarts each member of a group
// whose Raft log is in raft-boltdb with the WAL log store, one at a time, as
// an operator upgrading a running group would.
func TestMembersMoveTheirLogFromBoltDBToTheWAL(t *testing.T) {
	c := newTestCluster(t, 3, func(cfg *Config) { cfg.LogStore = raftnode.LogStoreBoltDB })
	lm := c.Member(c.WaitLeader())
	for i := range 50 {
		put(t, lm, fmt.Sprintf("key-%02d", i), "bolt")
	}
	for _, id := range []string{"kv-1", "kv-2", "kv-3"} {
		c.Stop(id)
		c.Member(id).Config.LogStore = raftnode.LogStoreWAL
		back := c.Restart(id)
		put(t, c.Member(c.WaitLeader()), "moved-"+id, "wal")
		nodetest.WaitFor(t, 15*time.Second, id+" to catch up after moving its log", func() bool {
			v, ok := get(t, back, "moved-"+id, raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE)
			return ok && v == "wal"
		})
		segs, err := filepath.Glob(filepath.Join(back.Config.DataDir, "wal", "*.wal"))
		require.NoError(t, err)
		require.NotEmpty(t, segs, "%s has a WAL", id)
	}
	for _, m := range c.Live() {
		for i := range 50 {
			v, ok := get(t, m, fmt.Sprintf("key-%02d", i), raftkvv1.Consistency_CONSISTENCY_SERIALIZABLE)
			require.True(t, ok && v == "bolt", "%s key-%02d = %q, %v", m.ID, i, v, ok)
		}
	}
}

// TestLinearizableReadBurstAtTheStartOfATerm: the first linearizable reads of
// a new leader's term, all at once and with no write, share one barrier entry
// and all succeed. (Each used to append its own barrier; past 64 entries the
// state machine never saw, reads waited for a write that never came.)
func TestLinearizableReadBurstAtTheStartOfATerm(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	old := c.WaitLeader()
	for i := range 10 {
		put(t, c.Member(old), fmt.Sprintf("k%d", i), "v")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	require.NoError(t, c.Member(old).Server.Node().TransferLeadership(ctx, ""))
	cancel()
	leader := c.Member(c.WaitLeader(old))
	// The new leader's own first entry commits on its own schedule; count from
	// after it, so that only the reads' entries are counted.
	nodetest.WaitFor(t, 10*time.Second, "the new leader to commit what it has appended", func() bool {
		st := leader.Server.Node().Status()
		return st.CommitIndex >= st.LastIndex
	})
	before := leader.Server.Node().Status()

	members := c.Live()
	errs := make(chan error, 256)
	for i := range 256 {
		m := members[i%len(members)]
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := kv(m).Range(ctx, &raftkvv1.RangeRequest{Key: []byte(fmt.Sprintf("k%d", i%10)), Consistency: raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE})
			errs <- err
		}()
	}
	for range 256 {
		require.NoError(t, <-errs)
	}
	after := leader.Server.Node().Status()
	require.LessOrEqual(t, after.CommitIndex-before.CommitIndex, uint64(1), "one barrier for the term, not one per read")
}
