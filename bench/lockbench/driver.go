package lockbench

import (
	"context"
	"errors"
)

// Driver connects to a lock service and hands out Lockers. Its methods may be
// called concurrently.
type Driver interface {
	// NewLocker returns the Locker of client i, with its own session.
	NewLocker(ctx context.Context, i int) (Locker, error)
	// Close releases the driver's connections, after every Locker is closed.
	Close() error
}

// Locker is one client's handle on the lock service: it is used by one
// goroutine at a time.
type Locker interface {
	// Lock blocks until it holds lock name, and returns the grant's fencing
	// token (0 when the service has none).
	Lock(ctx context.Context, name string) (uint64, error)
	// Unlock releases lock name, which it holds.
	Unlock(ctx context.Context, name string) error
	// Close ends the Locker's session.
	Close(ctx context.Context) error
}

// ErrNotHeld is returned by Unlock when the service says the lock was no
// longer held by the Locker (its session or key expired).
var ErrNotHeld = errors.New("lockbench: lock not held at unlock")

// NewDriver returns the Driver of cfg.Target.
func NewDriver(cfg Config) (Driver, error) {
	switch cfg.Target {
	case TargetLockd:
		return newLockdDriver(cfg)
	case TargetEtcd:
		return newEtcdDriver(cfg)
	case TargetRedis:
		return newRedisDriver(cfg), nil
	}
	return nil, errors.New("lockbench: unknown target " + string(cfg.Target))
}
