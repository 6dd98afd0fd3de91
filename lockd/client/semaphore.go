package client

import (
	"context"

	"google.golang.org/grpc"

	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// SemaphoreAcquire takes one permit of semaphore name, of size permits, waiting
// in FIFO order until one is free or ctx ends. The size is fixed by the first
// user while the semaphore is in use; another size fails with ErrNotHeld
// (FAILED_PRECONDITION). A session holds at most one permit of a semaphore:
// acquiring again returns the same grant.
func (s *Session) SemaphoreAcquire(ctx context.Context, name string, permits uint32, owner []byte) (*Lock, error) {
	return s.semAcquire(ctx, "semaphore-acquire", name, permits, owner, true)
}

// TrySemaphoreAcquire takes a permit if one is free now; otherwise ErrLocked.
func (s *Session) TrySemaphoreAcquire(ctx context.Context, name string, permits uint32, owner []byte) (*Lock, error) {
	return s.semAcquire(ctx, "semaphore-try-acquire", name, permits, owner, false)
}

func (s *Session) semAcquire(ctx context.Context, op, name string, permits uint32, owner []byte, wait bool) (*Lock, error) {
	req := &lockdv1.SemaphoreAcquireRequest{SessionId: s.id, Name: name, Permits: permits, Owner: owner, Wait: wait}
	if err := validateRequest(op, req); err != nil {
		return nil, err
	}
	resp, err := call(ctx, s.c, op, kindIdempotent, wait, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.SemaphoreAcquireResponse, error) {
		return s.c.sems.SemaphoreAcquire(ctx, req, co...)
	})
	if err != nil {
		return nil, err
	}
	if !resp.GetAcquired() {
		return nil, errs.Local(op, ErrLocked)
	}
	return lockFrom(name, resp.GetHolder()), nil
}

// SemaphoreRelease returns the session's permit of semaphore name. It is not retried.
func (s *Session) SemaphoreRelease(ctx context.Context, name string) error {
	return s.c.SemaphoreReleaseFor(ctx, s.id, name)
}

// SemaphoreReleaseFor returns the permit of semaphore name held by the session
// with id session, which need not be one this client created. It is not retried.
func (c *Client) SemaphoreReleaseFor(ctx context.Context, session uint64, name string) error {
	req := &lockdv1.SemaphoreReleaseRequest{SessionId: session, Name: name}
	if err := validateRequest("semaphore-release", req); err != nil {
		return err
	}
	_, err := call(ctx, c, "semaphore-release", kindWrite, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.SemaphoreReleaseResponse, error) {
		return c.sems.SemaphoreRelease(ctx, req, co...)
	})
	return err
}

// SemaphoreDescribe reports semaphore name's size, holders and waiters.
func (c *Client) SemaphoreDescribe(ctx context.Context, name string) (*lockdv1.SemaphoreInfo, error) {
	req := &lockdv1.SemaphoreDescribeRequest{Name: name}
	if err := validateRequest("semaphore-describe", req); err != nil {
		return nil, err
	}
	resp, err := call(ctx, c, "semaphore-describe", kindRead, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.SemaphoreDescribeResponse, error) {
		return c.sems.SemaphoreDescribe(ctx, req, co...)
	})
	return resp.GetSemaphore(), err
}

// SemaphoreList pages through the semaphores in use, like List.
func (c *Client) SemaphoreList(ctx context.Context, prefix, startAfter string, limit int64) ([]*lockdv1.SemaphoreInfo, bool, error) {
	req := &lockdv1.SemaphoreListRequest{Prefix: prefix, StartAfter: startAfter, Limit: limit}
	if err := validateRequest("semaphore-list", req); err != nil {
		return nil, false, err
	}
	resp, err := call(ctx, c, "semaphore-list", kindRead, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.SemaphoreListResponse, error) {
		return c.sems.SemaphoreList(ctx, req, co...)
	})
	return resp.GetSemaphores(), resp.GetMore(), err
}
