package cached

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/cached/store"
)

// Errors of cached. Store outcomes (too large, out of memory, not an integer)
// come from the store package; toStatus maps them all.
var (
	// ErrEmptyKey means a request named no key.
	ErrEmptyKey = errors.New("cached: key is empty")
	// ErrInvalidArgument covers other malformed requests.
	ErrInvalidArgument = errors.New("cached: invalid argument")
	// ErrOwnerUnreachable means the key's owner (and its replicas, for reads)
	// did not answer a forwarded write in time.
	ErrOwnerUnreachable = errors.New("cached: key owner unreachable")
	// ErrShuttingDown means the server is stopping.
	ErrShuttingDown = errors.New("cached: server is shutting down")
	// ErrNotServing means the node has no ring yet.
	ErrNotServing = errors.New("cached: node not serving yet")
)

// toStatus is the one place where cached and store errors become gRPC status
// codes. Status errors (from a forwarded call) and context errors pass through
// with their own codes.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ErrEmptyKey), errors.Is(err, ErrInvalidArgument), errors.Is(err, store.ErrBadOptions):
		code = codes.InvalidArgument
	case errors.Is(err, store.ErrTooLarge), errors.Is(err, store.ErrOutOfMemory):
		code = codes.ResourceExhausted
	case errors.Is(err, store.ErrNotInteger), errors.Is(err, store.ErrOverflow):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrOwnerUnreachable), errors.Is(err, ErrShuttingDown), errors.Is(err, ErrNotServing):
		code = codes.Unavailable
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	return status.Error(code, err.Error())
}
