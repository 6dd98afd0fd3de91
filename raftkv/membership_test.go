package raftkv

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/nodetest"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
)

func TestMembershipService(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.WaitLeader()
	var follower *testMember
	for _, m := range c.Live() {
		if m.ID != leader {
			follower = m
		}
	}
	ms := clusterv1.NewMembershipServiceClient(follower.Conn)

	list, err := ms.MemberList(ctxT(t), &clusterv1.MemberListRequest{})
	require.NoError(t, err)
	require.Len(t, list.GetMembers(), 3)
	require.Equal(t, leader, list.GetLeaderId())

	st, err := ms.RaftStatus(ctxT(t), &clusterv1.RaftStatusRequest{})
	require.NoError(t, err)
	require.Equal(t, follower.ID, st.GetId())
	require.Equal(t, "follower", st.GetState())
	require.Equal(t, leader, st.GetLeaderId())
	require.Len(t, st.GetMembers(), 3)
	require.NotZero(t, st.GetTerm())

	_, err = ms.MemberAdd(ctxT(t), &clusterv1.MemberAddRequest{Address: "127.0.0.1:1"})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message(), "id must not be empty")
	_, err = ms.MemberAdd(ctxT(t), &clusterv1.MemberAddRequest{Id: "kv-9"})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.Contains(t, status.Convert(err).Message(), "address must not be empty")
	_, err = ms.MemberRemove(ctxT(t), &clusterv1.MemberRemoveRequest{Id: "no-such-member"})
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)

	// A change sent to a follower is forwarded to the leader.
	_, err = ms.TransferLeadership(ctxT(t), &clusterv1.TransferLeadershipRequest{TargetId: follower.ID})
	require.NoError(t, err)
	nodetest.WaitFor(t, 15*time.Second, follower.ID+" to lead", func() bool { return follower.Server.Node().IsLeader() })
	require.Equal(t, follower.ID, c.WaitLeader())
}
