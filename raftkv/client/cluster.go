package client

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/clusterconn"
	clusterv1 "cairn.dev/cairn/proto/cairn/cluster/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// MemberList lists the members of the Raft group and names the leader. It is a
// read, retried on Unavailable.
func (c *Client) MemberList(ctx context.Context) (*clusterv1.MemberListResponse, error) {
	return call(ctx, c, "member-list", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*clusterv1.MemberListResponse, error) {
		return c.members.MemberList(ctx, &clusterv1.MemberListRequest{}, co...)
	})
}

// MemberAdd adds node id, reachable at addr, as a voter or, if learner, as a
// learner. It is a write: it is never retried.
func (c *Client) MemberAdd(ctx context.Context, id, addr string, learner bool) (*clusterv1.MemberAddResponse, error) {
	req := &clusterv1.MemberAddRequest{Id: id, Address: addr, IsLearner: learner}
	return call(ctx, c, "member-add", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*clusterv1.MemberAddResponse, error) {
		return c.members.MemberAdd(ctx, req, co...)
	})
}

// MemberRemove removes node id from the group. It is a write: it is never retried.
func (c *Client) MemberRemove(ctx context.Context, id string) (*clusterv1.MemberRemoveResponse, error) {
	req := &clusterv1.MemberRemoveRequest{Id: id}
	return call(ctx, c, "member-remove", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*clusterv1.MemberRemoveResponse, error) {
		return c.members.MemberRemove(ctx, req, co...)
	})
}

// MemberPromote makes learner id a voter. It is a write: it is never retried.
func (c *Client) MemberPromote(ctx context.Context, id string) (*clusterv1.MemberPromoteResponse, error) {
	req := &clusterv1.MemberPromoteRequest{Id: id}
	return call(ctx, c, "member-promote", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*clusterv1.MemberPromoteResponse, error) {
		return c.members.MemberPromote(ctx, req, co...)
	})
}

// TransferLeadership asks the leader to hand leadership to target, or to any
// voter when target is empty. It is a write: it is never retried.
func (c *Client) TransferLeadership(ctx context.Context, target string) (*clusterv1.TransferLeadershipResponse, error) {
	req := &clusterv1.TransferLeadershipRequest{TargetId: target}
	return call(ctx, c, "transfer-leadership", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*clusterv1.TransferLeadershipResponse, error) {
		return c.members.TransferLeadership(ctx, req, co...)
	})
}

// Status asks endpoint (host:port, not necessarily one of the client's) for its
// own view of the group, over a connection dialed for this call only. It makes one
// fail-fast attempt: an unreachable endpoint fails with codes.Unavailable at once
// instead of being waited for. The client's TLS and timeouts apply.
func (c *Client) Status(ctx context.Context, endpoint string) (*raftkvv1.StatusResponse, error) {
	if c.conn.Closed() {
		return nil, errs.Local("status", ErrClosed)
	}
	ec, err := c.conn.DialEndpoint(endpoint)
	if err != nil {
		return nil, errs.Local("status", fmt.Errorf("%s: %w", endpoint, err))
	}
	defer ec.Close()
	ctx, cancel := c.conn.WithTimeout(ctx)
	defer cancel()
	resp, err := raftkvv1.NewClusterServiceClient(ec).Status(ctx, &raftkvv1.StatusRequest{})
	if err != nil {
		return nil, toError("status "+endpoint, kindRead, err)
	}
	return resp, nil
}

// Snapshot streams a consistent backup of the state machine from one node into w
// and returns the number of bytes written. It applies no default timeout: cancel
// ctx to give up. Until the first byte arrives it is retried on Unavailable like a
// read; a stream that breaks after that fails, as w already holds part of a
// backup. A stream that ends before the server's announced size fails with
// io.ErrUnexpectedEOF.
func (c *Client) Snapshot(ctx context.Context, w io.Writer) (int64, error) {
	if c.conn.Closed() {
		return 0, errs.Local("snapshot", ErrClosed)
	}
	var (
		b clusterconn.Backoff
		n int64
	)
	for {
		err := c.snapshotOnce(ctx, w, &n)
		if err == nil {
			return n, nil
		}
		if n > 0 || status.Code(err) != codes.Unavailable || !b.Wait(ctx) {
			return n, toError("snapshot", kindRead, err)
		}
	}
}

func (c *Client) snapshotOnce(ctx context.Context, w io.Writer, n *int64) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := c.cluster.Snapshot(ctx, &raftkvv1.SnapshotRequest{}, grpc.WaitForReady(true))
	if err != nil {
		return err
	}
	remaining := int64(-1)
	for {
		resp, err := st.Recv()
		if errors.Is(err, io.EOF) {
			if remaining > 0 {
				return fmt.Errorf("snapshot ended with %d bytes missing: %w", remaining, io.ErrUnexpectedEOF)
			}
			return nil
		}
		if err != nil {
			return err
		}
		m, err := w.Write(resp.GetBlob())
		*n += int64(m)
		if err != nil {
			return fmt.Errorf("write snapshot: %w", err)
		}
		remaining = resp.GetRemainingBytes()
	}
}
