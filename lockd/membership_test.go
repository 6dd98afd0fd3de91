package lockd_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"cairn.dev/cairn/lockd/lockdtest"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
)

// lockd serves the shared membership service of every Raft daemon.
func TestLockdServesMembership(t *testing.T) {
	c := lockdtest.New(t, 3, nil)
	leader := c.WaitLeader()
	conn, err := grpc.NewClient(c.Endpoints()[0], grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	list, err := clusterv1.NewMembershipServiceClient(conn).MemberList(ctx, &clusterv1.MemberListRequest{})
	require.NoError(t, err)
	require.Len(t, list.GetMembers(), 3)
	require.Equal(t, leader, list.GetLeaderId())
}
