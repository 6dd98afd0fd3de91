package raftkv

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/rpcerr"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Regression (issue 12, bug 3): a member cut off from the rest of its group
// for longer than an election takes answers a write with a definite
// Unavailable (NO_LEADER or NO_QUORUM: not applied, try another member) at
// once, instead of holding the client for the whole leader wait. The leader
// wait and apply timeout here are far longer than the call's deadline, so only
// that rule can end the call before the deadline.
func TestCutOffMemberFailsFastWithADefiniteError(t *testing.T) {
	for _, lonely := range []string{"leader", "follower"} {
		t.Run(lonely, func(t *testing.T) {
			c := newTestCluster(t, 3, func(cfg *Config) {
				cfg.LeaderWait, cfg.ApplyTimeout = time.Hour, time.Hour
			})
			leader := c.WaitLeader()
			keep := leader
			if lonely == "follower" {
				for _, m := range c.Live() {
					if m.ID != leader {
						keep = m.ID
					}
				}
			}
			for _, m := range c.Live() {
				if m.ID != keep {
					c.Stop(m.ID)
				}
			}
			const deadline = 30 * time.Second
			// A leader proposes what arrives within its quorum lease (20 ms)
			// after the cut without asking again (its outcome is then unknown);
			// the promise is about every command after that.
			nodetest.WaitFor(t, deadline, "the lease of the cut-off member ends", func() bool {
				return !c.Member(keep).Server.Node().InQuorumLease()
			})
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			_, err := kv(c.Member(keep)).Put(ctx, &raftkvv1.PutRequest{Key: []byte("k"), Value: []byte("v")})
			require.Equal(t, codes.Unavailable, status.Code(err), "%v", err)
			require.True(t, rpcerr.TryOther(err), "a definite 'not applied': %v", err)
			// Without the rule the call waits out the deadline; with it, about
			// an election timeout. Half the deadline leaves a loaded machine
			// lots of room.
			require.Less(t, time.Since(start), deadline/2, "answered long before the deadline: %v", err)
		})
	}
}
