package raftkv

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/mvcc"
)

// A node that becomes leader gives every lease a full TTL from that moment,
// whatever of the TTL had passed under the previous leader: a leader change
// extends leases, never shortens them. Checked on a manual clock; the cluster
// test TestLeaseExpiresAcrossLeaderChange checks the expiry end to end.
func TestLessorGivesAFullTTLOnTakeover(t *testing.T) {
	store, err := mvcc.Open(filepath.Join(t.TempDir(), "kv.db"), mvcc.Options{NoSync: true, Logger: nodetest.Logger(t)})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	grant := &raftkvraftv1.Command{Op: &raftkvraftv1.Command_LeaseGrant{LeaseGrant: &raftkvv1.LeaseGrantRequest{Ttl: 10}}}
	res, _, err := store.ApplyBatch([]mvcc.Entry{{Index: 1, Cmd: grant}})
	require.NoError(t, err)
	require.Empty(t, res[0].GetError())
	id := res[0].GetLeaseGrant().GetId()

	now := time.Unix(1_000_000, 0)
	l := newLessor(store, nodetest.Logger(t))
	l.now = func() time.Time { return now }
	require.Nil(t, l.expired(10), "a follower expires nothing")

	// Leadership arrives 8s into the lease's life as the old leader saw it.
	now = now.Add(8 * time.Second)
	l.setLeader(true)
	left, granted, ok, err := l.remaining(id)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, int64(10), granted)
	require.Equal(t, int64(10), left, "a full TTL from the takeover")

	now = now.Add(10*time.Second - time.Millisecond)
	require.Empty(t, l.expired(10), "not expired before a full TTL from the takeover")
	now = now.Add(2 * time.Millisecond)
	require.Equal(t, []int64{id}, l.expired(10), "expired a full TTL after the takeover")

	// Leadership lost and regained: the clock restarts again.
	l.setLeader(false)
	require.Nil(t, l.expired(10))
	l.setLeader(true)
	require.Empty(t, l.expired(10), "a new term gives a new full TTL")
	now = now.Add(10*time.Second + time.Millisecond)
	require.Equal(t, []int64{id}, l.expired(10))
}
