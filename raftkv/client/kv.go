package client

import (
	"context"

	"google.golang.org/grpc"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// Put writes val to key, creating a new revision. Options: WithLease, WithPrevKV.
// Put is a write: it is never retried (see the package documentation).
func (c *Client) Put(ctx context.Context, key, val string, opts ...OpOption) (*raftkvv1.PutResponse, error) {
	o := newOp(key, opts)
	o.val = []byte(val)
	req := o.putRequest()
	return call(ctx, c, "put", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*raftkvv1.PutResponse, error) {
		return c.kv.Put(ctx, req, co...)
	})
}

// Get reads key, or a range of keys with WithPrefix, WithRange or WithFromKey.
// Options: WithLimit, WithRev, WithKeysOnly, WithCountOnly, WithSerializable.
// A missing key is not an error: the response has no Kvs. Get is a read and is
// retried on Unavailable until the deadline.
func (c *Client) Get(ctx context.Context, key string, opts ...OpOption) (*raftkvv1.RangeResponse, error) {
	req := newOp(key, opts).rangeRequest()
	return call(ctx, c, "range", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*raftkvv1.RangeResponse, error) {
		return c.kv.Range(ctx, req, co...)
	})
}

// Delete deletes key, or a range of keys with WithPrefix, WithRange or
// WithFromKey. Option: WithPrevKV. Delete is a write: it is never retried.
func (c *Client) Delete(ctx context.Context, key string, opts ...OpOption) (*raftkvv1.DeleteRangeResponse, error) {
	req := newOp(key, opts).deleteRequest()
	return call(ctx, c, "delete-range", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*raftkvv1.DeleteRangeResponse, error) {
		return c.kv.DeleteRange(ctx, req, co...)
	})
}

// Compact discards the history older than rev. Reads and watches at older
// revisions then fail with ErrCompacted. Compact is a write: it is never retried.
func (c *Client) Compact(ctx context.Context, rev int64) (*raftkvv1.CompactResponse, error) {
	req := &raftkvv1.CompactRequest{Revision: rev}
	return call(ctx, c, "compact", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*raftkvv1.CompactResponse, error) {
		return c.kv.Compact(ctx, req, co...)
	})
}
