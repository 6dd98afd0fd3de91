package client

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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

// Error is the error of a failed call. It keeps the gRPC status (status.FromError
// returns it) and, where one applies, a sentinel that errors.Is matches.
type Error struct {
	// Op names the call: "acquire", "release", "campaign", ...
	Op string
	// Unknown is true when the call was a write that may have been applied.
	Unknown bool
	// Reason is the rpcerr reason the server (or the connection layer) gave,
	// or "" when there is none.
	Reason   rpcerr.Reason
	sentinel error
	err      error
	st       *status.Status
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("lockd client: ")
	b.WriteString(e.Op)
	b.WriteString(": ")
	if e.st != nil {
		fmt.Fprintf(&b, "%s: %s", e.st.Code(), e.st.Message())
	} else {
		b.WriteString(e.err.Error())
	}
	if e.Unknown {
		b.WriteString(" (outcome unknown: the write may have been applied)")
	}
	return b.String()
}

// GRPCStatus returns the gRPC status of the failure, for status.FromError.
func (e *Error) GRPCStatus() *status.Status { return e.st }

// Unwrap returns the original error, the sentinel and ErrUnknownOutcome as they apply.
func (e *Error) Unwrap() []error {
	errs := []error{e.err}
	if e.sentinel != nil {
		errs = append(errs, e.sentinel)
	}
	if e.Unknown {
		errs = append(errs, ErrUnknownOutcome)
	}
	return errs
}

// IsUnknownOutcome reports whether err comes from a write that may have been applied.
func IsUnknownOutcome(err error) bool { return errors.Is(err, ErrUnknownOutcome) }

// toError turns a gRPC call's error into an *Error.
func toError(op string, kind callKind, err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		st = nil
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			st = status.FromContextError(err)
		}
	}
	e := &Error{Op: op, err: err, st: st}
	if st == nil {
		return e
	}
	e.Reason = rpcerr.ReasonOf(err)
	switch e.Reason {
	case rpcerr.SessionNotFound:
		e.sentinel = ErrSessionNotFound
	case rpcerr.NotHolder:
		e.sentinel = ErrNotHolder
	case rpcerr.NotHeld, rpcerr.PermitsMismatch, rpcerr.ModeConflict:
		e.sentinel = ErrNotHeld
	}
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		// A blocked acquire that the server timed out has had its wait
		// cancelled (WAIT_TIMEOUT): its outcome is known (not acquired). So
		// is a request refused before it was proposed or sent.
		e.Unknown = kind != kindRead && !e.Reason.TryOther() &&
			e.Reason != rpcerr.NotSent && e.Reason != rpcerr.WaitTimeout
	}
	return e
}
