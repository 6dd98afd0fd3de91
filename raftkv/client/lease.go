package client

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/clusterconn"
	"cairn.dev/cairn/node/rpcerr"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Grant creates a lease of ttlSeconds. Keys put WithLease(id) are deleted when it
// expires or is revoked. Grant is a write: it is never retried.
func (c *Client) Grant(ctx context.Context, ttlSeconds int64) (*raftkvv1.LeaseGrantResponse, error) {
	req := &raftkvv1.LeaseGrantRequest{Ttl: ttlSeconds}
	return call(ctx, c, "lease-grant", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*raftkvv1.LeaseGrantResponse, error) {
		return c.lease.LeaseGrant(ctx, req, co...)
	})
}

// Revoke ends lease id and deletes its keys. Revoke is a write: it is never
// retried. It fails with ErrLeaseNotFound for an unknown lease.
func (c *Client) Revoke(ctx context.Context, id int64) (*raftkvv1.LeaseRevokeResponse, error) {
	req := &raftkvv1.LeaseRevokeRequest{Id: id}
	return call(ctx, c, "lease-revoke", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*raftkvv1.LeaseRevokeResponse, error) {
		return c.lease.LeaseRevoke(ctx, req, co...)
	})
}

// TimeToLive reports the remaining and granted TTL of lease id, and its keys when
// withKeys. It is a read, retried on Unavailable.
func (c *Client) TimeToLive(ctx context.Context, id int64, withKeys bool) (*raftkvv1.LeaseTimeToLiveResponse, error) {
	req := &raftkvv1.LeaseTimeToLiveRequest{Id: id, Keys: withKeys}
	return call(ctx, c, "lease-ttl", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*raftkvv1.LeaseTimeToLiveResponse, error) {
		return c.lease.LeaseTimeToLive(ctx, req, co...)
	})
}

// Leases lists the live leases. It is a read, retried on Unavailable.
func (c *Client) Leases(ctx context.Context) (*raftkvv1.LeaseLeasesResponse, error) {
	return call(ctx, c, "lease-leases", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*raftkvv1.LeaseLeasesResponse, error) {
		return c.lease.LeaseLeases(ctx, &raftkvv1.LeaseLeasesRequest{}, co...)
	})
}

// KeepAliveOnce renews lease id once. Renewal is idempotent, so it is retried on
// Unavailable like a read. It fails with ErrLeaseNotFound when the lease does not
// exist or has expired.
func (c *Client) KeepAliveOnce(ctx context.Context, id int64) (*raftkvv1.LeaseKeepAliveResponse, error) {
	return call(ctx, c, "lease-keepalive", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*raftkvv1.LeaseKeepAliveResponse, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		st, err := c.lease.LeaseKeepAlive(ctx, co...)
		if err != nil {
			return nil, err
		}
		if err := st.Send(&raftkvv1.LeaseKeepAliveRequest{Id: id}); err != nil {
			_, err = st.Recv() // the real error of a failed send is on Recv
			return nil, err
		}
		resp, err := st.Recv()
		if err != nil {
			return nil, err
		}
		_ = st.CloseSend()
		if resp.GetTtl() <= 0 {
			return nil, rpcerr.Error(rpcerr.LeaseNotFound, fmt.Sprintf("lease %d not found", id), nil)
		}
		return resp, nil
	})
}

// KeepAlive renews lease id now and then every third of its TTL until ctx is done
// or the client is closed, reconnecting its stream (to any ready node) when it
// breaks. It returns an error, and no channel, if the first renewal fails.
//
// Every renewal's response is sent on the returned channel, which holds a few of
// them; when the consumer falls behind, responses are dropped, never renewals. The
// channel is closed when ctx is done, the client is closed, or the lease is gone:
// revoked, unknown to the server, or expired because no renewal succeeded within
// its TTL.
func (c *Client) KeepAlive(ctx context.Context, id int64) (<-chan *raftkvv1.LeaseKeepAliveResponse, error) {
	first, err := c.KeepAliveOnce(ctx, id)
	if err != nil {
		return nil, err
	}
	ch := make(chan *raftkvv1.LeaseKeepAliveResponse, 16)
	ch <- first
	kctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.conn.Context(), cancel)
	k := &keepAliver{c: c, id: id, ch: ch, ttl: first.GetTtl(), renewed: time.Now()}
	if !c.conn.Go(func() {
		defer close(ch)
		defer cancel()
		defer stop()
		k.run(kctx)
	}) {
		stop()
		cancel()
		return nil, errs.Local("lease-keepalive", ErrClosed)
	}
	return ch, nil
}

// keepAliver is the state of one KeepAlive, owned by its goroutine.
type keepAliver struct {
	c       *Client
	id      int64
	ch      chan *raftkvv1.LeaseKeepAliveResponse
	ttl     int64     // last granted TTL, seconds
	renewed time.Time // when the last renewal succeeded
}

// maxRenewRetry caps the wait between failed renewals, so that a lease whose TTL
// is close to the failover time still gets renewed by the new leader in time.
const maxRenewRetry = 100 * time.Millisecond

func (k *keepAliver) interval() time.Duration {
	return max(time.Duration(k.ttl)*time.Second/3, 100*time.Millisecond)
}

func (k *keepAliver) run(ctx context.Context) {
	var (
		b      clusterconn.Backoff
		st     grpc.BidiStreamingClient[raftkvv1.LeaseKeepAliveRequest, raftkvv1.LeaseKeepAliveResponse]
		cancel context.CancelFunc = func() {}
	)
	defer func() { cancel() }()
	wait := k.interval()
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if time.Since(k.renewed) > time.Duration(k.ttl)*time.Second {
			return // expired: no renewal succeeded within the TTL
		}
		if st == nil {
			var sctx context.Context
			sctx, cancel = context.WithCancel(ctx)
			var err error
			st, err = k.c.lease.LeaseKeepAlive(sctx, grpc.WaitForReady(true))
			if err != nil {
				cancel()
				st = nil
				wait = min(b.Delay(), maxRenewRetry)
				continue
			}
		}
		resp, err := k.round(st, cancel)
		if err != nil {
			cancel()
			st = nil
			if rpcerr.ReasonOf(err) == rpcerr.LeaseNotFound || ctx.Err() != nil {
				return
			}
			wait = min(b.Delay(), maxRenewRetry)
			continue
		}
		b.Reset()
		if resp.GetTtl() <= 0 {
			return // revoked or expired
		}
		k.ttl, k.renewed = resp.GetTtl(), time.Now()
		select {
		case k.ch <- resp:
		default: // the consumer is behind; renewals matter, responses do not
		}
		wait = k.interval()
	}
}

// round sends one renewal and waits for its answer, at most one interval; cancel
// ends the stream if the answer does not come in time.
func (k *keepAliver) round(st grpc.BidiStreamingClient[raftkvv1.LeaseKeepAliveRequest, raftkvv1.LeaseKeepAliveResponse], cancel context.CancelFunc) (*raftkvv1.LeaseKeepAliveResponse, error) {
	t := time.AfterFunc(k.interval(), cancel)
	defer t.Stop()
	if err := st.Send(&raftkvv1.LeaseKeepAliveRequest{Id: k.id}); err != nil {
		_, err = st.Recv()
		return nil, err
	}
	return st.Recv()
}
