package client

import (
	"errors"

	"cairn.dev/cairn/node/clusterconn"
	"cairn.dev/cairn/node/rpcerr"
)

// Sentinel errors. Errors returned by the client match them with errors.Is.
var (
	// ErrNoEndpoints is returned by New when Config.Endpoints is empty.
	ErrNoEndpoints = errors.New("lockd client: no endpoints")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("lockd client: client closed")
	// ErrUnknownOutcome marks a write that failed after it may have reached a
	// server: it may or may not have been applied.
	ErrUnknownOutcome = errors.New("lockd client: outcome of write unknown")
	// ErrSessionNotFound means the session was closed or expired (reason
	// SESSION_NOT_FOUND).
	ErrSessionNotFound = errors.New("lockd client: session not found")
	// ErrSessionLost is the error of a Session whose keep-alive stopped: the
	// server reported it gone, or no renewal succeeded within its TTL.
	ErrSessionLost = errors.New("lockd client: session lost")
	// ErrLocked is returned by TryAcquire and TrySemaphoreAcquire when the lock or
	// every permit is held.
	ErrLocked = errors.New("lockd client: held by another session")
	// ErrNotHolder means a release, resign or proclaim by a session that does not
	// hold the resource while another does (reason NOT_HOLDER).
	ErrNotHolder = errors.New("lockd client: not the holder")
	// ErrNotHeld means a release, resign or proclaim of a resource nobody holds,
	// or a request that conflicts with the resource's state (reasons NOT_HELD,
	// PERMITS_MISMATCH, MODE_CONFLICT).
	ErrNotHeld = errors.New("lockd client: failed precondition")
	// ErrInvalidArgument is the error of a request the client refuses to send:
	// a name that is empty or not valid UTF-8 (proto3 strings must be UTF-8,
	// so such a request could not even be encoded). The message names the field.
	ErrInvalidArgument = errors.New("lockd client: invalid argument")
	// ErrStaleToken is returned by ValidateToken and Fence.Check for a fencing
	// token lower than one already seen.
	ErrStaleToken = errors.New("lockd client: stale fencing token")
)

// errs builds every error the client returns.
var errs = clusterconn.Errors{
	Client:  "lockd client",
	Unknown: ErrUnknownOutcome,
	Sentinels: map[rpcerr.Reason]error{
		rpcerr.SessionNotFound: ErrSessionNotFound,
		rpcerr.NotHolder:       ErrNotHolder,
		rpcerr.NotHeld:         ErrNotHeld,
		rpcerr.PermitsMismatch: ErrNotHeld,
		rpcerr.ModeConflict:    ErrNotHeld,
	},
	// A blocked acquire that the server timed out has had its wait
	// cancelled: its outcome is known (not acquired).
	KnownOutcome: []rpcerr.Reason{rpcerr.WaitTimeout},
}

// Error is the error of a failed call (see clusterconn.Error). It keeps the
// gRPC status (status.FromError returns it) and, where one applies, a
// sentinel that errors.Is matches.
type Error = clusterconn.Error

// IsUnknownOutcome reports whether err comes from a write that may have been applied.
func IsUnknownOutcome(err error) bool { return errors.Is(err, ErrUnknownOutcome) }

// toError turns a gRPC call's error into an *Error; kindIdempotent and
// kindWrite calls' errors can have an unknown outcome.
func toError(op string, kind callKind, err error) error {
	return errs.Wrap(op, kind != kindRead, err)
}

// sessionLost is the cause of a Session's error once its keep-alive stops:
// it reads as ErrSessionLost and matches ErrSessionNotFound too.
type sessionLost struct{}

func (sessionLost) Error() string   { return ErrSessionLost.Error() }
func (sessionLost) Unwrap() []error { return []error{ErrSessionLost, ErrSessionNotFound} }
