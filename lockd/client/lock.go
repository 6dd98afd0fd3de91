package client

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"

	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"
)

// Mode is how a lock is held.
type Mode = lockdv1.LockMode

// Lock modes.
const (
	// Exclusive (the default) is a write lock: one holder.
	Exclusive = lockdv1.LockMode_LOCK_MODE_WRITE
	// Shared is a read lock: many readers, no writer. A queued writer blocks new
	// readers, so writers are not starved.
	Shared = lockdv1.LockMode_LOCK_MODE_READ
)

// Lock is a granted lock, permit or leadership.
type Lock struct {
	// Name is the lock, semaphore or election name.
	Name string
	// Session holds the grant.
	Session uint64
	// Owner is the value stored with the grant.
	Owner []byte
	// Token is the fencing token: the Raft index of the entry that granted it.
	// Pass it to every resource the lock protects (see ValidateToken).
	Token uint64
	// Since is when it was granted (the proposing node's clock).
	Since time.Time
	// Mode is Exclusive or Shared (locks only).
	Mode Mode
}

func lockFrom(name string, h *lockdv1.Holder) *Lock {
	if h == nil {
		return nil
	}
	return &Lock{Name: name, Session: h.GetSessionId(), Owner: h.GetOwner(), Token: h.GetToken(), Since: h.GetSince().AsTime(), Mode: h.GetMode()}
}

// LockOption configures Acquire and TryAcquire.
type LockOption func(*lockdv1.AcquireRequest)

// WithMode acquires in mode Shared or Exclusive (default).
func WithMode(m Mode) LockOption { return func(r *lockdv1.AcquireRequest) { r.Mode = m } }

// WithLockDelay keeps the lock from being granted to anyone for d after this
// session expires while holding it (not after a release or a close), giving a
// stalled holder's in-flight writes time to drain.
func WithLockDelay(d time.Duration) LockOption {
	return func(r *lockdv1.AcquireRequest) { r.LockDelay = durationpb.New(d) }
}

// Acquire takes lock name for the session, waiting in FIFO order until it is
// granted or ctx ends (a context without deadline waits indefinitely). owner is
// stored with the grant. Acquiring a lock the session holds returns the same
// grant, so Acquire is retried on Unavailable (a node going away) and resumes
// its place in the queue.
//
// When ctx ends first the server cancels the wait; the call fails with
// codes.DeadlineExceeded. In rare races (the grant lands as the caller's
// deadline passes and the response is lost) the session may hold the lock
// without knowing: Release it or Close the session after a failed Acquire whose
// outcome is unknown (IsUnknownOutcome).
func (s *Session) Acquire(ctx context.Context, name string, owner []byte, opts ...LockOption) (*Lock, error) {
	return s.acquire(ctx, "acquire", name, owner, true, opts)
}

// TryAcquire takes lock name if it is free now; otherwise it fails with ErrLocked
// at once and does not queue.
func (s *Session) TryAcquire(ctx context.Context, name string, owner []byte, opts ...LockOption) (*Lock, error) {
	return s.acquire(ctx, "try-acquire", name, owner, false, opts)
}

func (s *Session) acquire(ctx context.Context, op, name string, owner []byte, wait bool, opts []LockOption) (*Lock, error) {
	req := &lockdv1.AcquireRequest{SessionId: s.id, Name: name, Owner: owner, Wait: wait}
	if err := validateRequest(op, req); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := call(ctx, s.c, op, kindIdempotent, wait, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.AcquireResponse, error) {
		return s.c.locks.Acquire(ctx, req, co...)
	})
	if err != nil {
		return nil, err
	}
	if !resp.GetAcquired() {
		return nil, errs.Local(op, ErrLocked)
	}
	return lockFrom(name, resp.GetHolder()), nil
}

// Release gives lock name up; the next waiter is granted. It fails with
// ErrNotHolder when another session holds it and ErrNotHeld when nobody does.
// Release is a write: it is not retried.
func (s *Session) Release(ctx context.Context, name string) error {
	return s.c.ReleaseFor(ctx, s.id, name)
}

// ReleaseFor releases lock name held by the session with id session, which need
// not be one this client created (an operator releasing a lock whose holder
// lives elsewhere). Errors and retries are as for Session.Release.
func (c *Client) ReleaseFor(ctx context.Context, session uint64, name string) error {
	req := &lockdv1.ReleaseRequest{SessionId: session, Name: name}
	if err := validateRequest("release", req); err != nil {
		return err
	}
	_, err := call(ctx, c, "release", kindWrite, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.ReleaseResponse, error) {
		return c.locks.Release(ctx, req, co...)
	})
	return err
}

// Describe reports lock name's holders and waiters (none when it is free).
func (c *Client) Describe(ctx context.Context, name string) (*lockdv1.LockInfo, error) {
	req := &lockdv1.DescribeRequest{Name: name}
	if err := validateRequest("describe", req); err != nil {
		return nil, err
	}
	resp, err := call(ctx, c, "describe", kindRead, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.DescribeResponse, error) {
		return c.locks.Describe(ctx, req, co...)
	})
	return resp.GetLock(), err
}

// List returns up to limit locks (0: the server's page size) whose name has
// prefix and sorts after startAfter, in name order; more reports a next page.
func (c *Client) List(ctx context.Context, prefix, startAfter string, limit int64) (locks []*lockdv1.LockInfo, more bool, err error) {
	req := &lockdv1.ListRequest{Prefix: prefix, StartAfter: startAfter, Limit: limit}
	if err := validateRequest("list", req); err != nil {
		return nil, false, err
	}
	resp, err := call(ctx, c, "list", kindRead, false, func(ctx context.Context, co ...grpc.CallOption) (*lockdv1.ListResponse, error) {
		return c.locks.List(ctx, req, co...)
	})
	return resp.GetLocks(), resp.GetMore(), err
}
