package client

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Sentinel errors. Errors returned by the package match them with errors.Is;
// errors that come from a node also keep its gRPC status (status.Code(err)).
var (
	// ErrNoEndpoints is returned by New when Config.Endpoints is empty.
	ErrNoEndpoints = errors.New("cached client: no endpoints")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("cached client: client closed")
	// ErrNoRing is returned by New when no endpoint returned a ring with at least
	// one member within Config.DialTimeout.
	ErrNoRing = errors.New("cached client: no ring")
	// ErrUnavailable marks a write (or Ring, Stats) that failed because the node
	// it had to reach was unreachable or too slow. Reads never return it: they
	// report a miss instead.
	ErrUnavailable = errors.New("cached client: node unavailable")
	// ErrNotStored is returned by Set when its condition (IfAbsent, IfPresent or
	// IfVersion) did not hold, so nothing was written.
	ErrNotStored = errors.New("cached client: not stored")
	// ErrWriteBehindClosed is returned by WriteBehind calls made after Close.
	ErrWriteBehindClosed = errors.New("cached client: write-behind closed")
)

// unreachable reports whether err, returned by an attempt made under a
// context derived from ctx, means that the node did not answer (it is down,
// unreachable or slower than RequestTimeout) rather than that the caller gave
// up or the node refused the request.
func unreachable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return true
	}
	return false
}
