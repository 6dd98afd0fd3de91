package lockd

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/raftnode"
)

// Errors of lockd. Group errors (no leader, …) come from raftnode; toStatus maps
// them all to gRPC status codes.
var (
	// ErrInvalidArgument covers malformed requests: empty names, bad modes, ….
	ErrInvalidArgument = errors.New("lockd: invalid argument")
	// ErrTooLarge means a name or an owner value exceeds its limit.
	ErrTooLarge = errors.New("lockd: too large")
	// ErrBadTTL means a session TTL outside [min_session_ttl, max_session_ttl].
	ErrBadTTL = errors.New("lockd: session ttl out of range")
	// ErrSessionNotFound means the session was closed, expired or never existed.
	ErrSessionNotFound = errors.New("lockd: session not found")
	// ErrNotHolder means a release, resign or proclaim by a session that does not
	// hold the resource while another session does.
	ErrNotHolder = errors.New("lockd: held by another session")
	// ErrNotHeld means a release, resign or proclaim of a resource nobody holds.
	ErrNotHeld = errors.New("lockd: not held")
	// ErrPermitsMismatch means a semaphore acquire named a size other than the
	// semaphore's while it is in use.
	ErrPermitsMismatch = errors.New("lockd: semaphore permits mismatch")
	// ErrModeConflict means a session asked for a lock in another mode than the
	// one it holds or waits for.
	ErrModeConflict = errors.New("lockd: lock mode conflict")
	// ErrWaitTimeout means a blocking acquire's deadline passed before a grant; its
	// wait was cancelled.
	ErrWaitTimeout = errors.New("lockd: deadline passed while waiting")
	// ErrWaitEnded means a blocking acquire's wait was removed by someone else (a
	// concurrent cancel of the same session's wait).
	ErrWaitEnded = errors.New("lockd: wait ended without a grant")
	// ErrTooMany means a configured count limit (sessions, waiters) was reached.
	ErrTooMany = errors.New("lockd: limit reached")
	// ErrObserverLagged means an Observe stream could not keep up.
	ErrObserverLagged = errors.New("lockd: observer fell behind")
	// ErrShuttingDown means the server is stopping.
	ErrShuttingDown = errors.New("lockd: server is shutting down")
)

// errorFromCode maps a result's domain error code to its sentinel.
func errorFromCode(code, msg string) error {
	var base error
	switch code {
	case codeSessionNotFound:
		base = ErrSessionNotFound
	case codeNotHolder:
		base = ErrNotHolder
	case codeNotHeld:
		base = ErrNotHeld
	case codePermitsMismatch:
		base = ErrPermitsMismatch
	case codeModeConflict:
		base = ErrModeConflict
	default:
		return errors.New("lockd: command rejected by the state machine: " + code + ": " + msg)
	}
	return &domainError{base: base, msg: msg}
}

// domainError carries a sentinel and a message naming the session and resource.
type domainError struct {
	base error
	msg  string
}

func (e *domainError) Error() string { return e.base.Error() + ": " + e.msg }
func (e *domainError) Unwrap() error { return e.base }

// toStatus is the one place where lockd and raftnode errors become gRPC status
// codes. Status errors and context errors pass through with their own codes.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	code := codes.Internal
	switch {
	case errors.Is(err, ErrInvalidArgument), errors.Is(err, ErrBadTTL), errors.Is(err, raftnode.ErrInvalidArgument):
		code = codes.InvalidArgument
	case errors.Is(err, ErrTooLarge), errors.Is(err, ErrTooMany):
		code = codes.ResourceExhausted
	case errors.Is(err, ErrSessionNotFound), errors.Is(err, raftnode.ErrUnknownMember):
		code = codes.NotFound
	case errors.Is(err, ErrNotHolder):
		code = codes.PermissionDenied
	case errors.Is(err, ErrNotHeld), errors.Is(err, ErrPermitsMismatch), errors.Is(err, ErrModeConflict):
		code = codes.FailedPrecondition
	case errors.Is(err, ErrWaitTimeout):
		code = codes.DeadlineExceeded
	case errors.Is(err, ErrWaitEnded), errors.Is(err, ErrObserverLagged):
		code = codes.Aborted
	case errors.Is(err, raftnode.ErrNoLeader), errors.Is(err, raftnode.ErrNotLeader),
		errors.Is(err, raftnode.ErrShutdown), errors.Is(err, ErrShuttingDown):
		code = codes.Unavailable
	case errors.Is(err, raftnode.ErrUnknownOutcome):
		// The write may or may not have been applied; the message says so.
		code = codes.Unavailable
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled):
		code = codes.Canceled
	}
	return status.Error(code, err.Error())
}
