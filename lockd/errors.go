package lockd

import (
	"errors"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
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

// statusRules map lockd's and raftnode's errors to reasons; see toStatus.
var statusRules = append([]rpcerr.Rule{
	{Err: ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: ErrBadTTL, Reason: rpcerr.InvalidArgument},
	{Err: ErrTooLarge, Reason: rpcerr.LimitExceeded},
	{Err: ErrTooMany, Reason: rpcerr.LimitExceeded},
	{Err: ErrSessionNotFound, Reason: rpcerr.SessionNotFound},
	{Err: ErrNotHolder, Reason: rpcerr.NotHolder},
	{Err: ErrNotHeld, Reason: rpcerr.NotHeld},
	{Err: ErrPermitsMismatch, Reason: rpcerr.PermitsMismatch},
	{Err: ErrModeConflict, Reason: rpcerr.ModeConflict},
	{Err: ErrWaitTimeout, Reason: rpcerr.WaitTimeout},
	{Err: ErrWaitEnded, Reason: rpcerr.WaitEnded},
	{Err: ErrObserverLagged, Reason: rpcerr.ObserverLagged},
	{Err: ErrShuttingDown, Reason: rpcerr.ShuttingDown},
}, raftnode.StatusRules...)

// toStatus is the one place where lockd and raftnode errors become gRPC status
// errors, each with its rpcerr reason and the metadata the error carries.
// Status errors (relayed from the leader) pass through unchanged; context
// errors keep their own codes.
func toStatus(err error) error { return rpcerr.ToStatus(err, statusRules) }
