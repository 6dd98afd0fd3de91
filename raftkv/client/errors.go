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
	ErrNoEndpoints = errors.New("raftkv client: no endpoints")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("raftkv client: client closed")
	// ErrUnknownOutcome marks a write that failed after its request may have
	// reached a server: it may or may not have been applied. See IsUnknownOutcome.
	ErrUnknownOutcome = errors.New("raftkv client: outcome of write unknown")
	// ErrCompacted is returned when a read or watch asks for a revision older than
	// the compacted history (reason COMPACTED).
	ErrCompacted = errors.New("raftkv client: required revision has been compacted")
	// ErrFutureRevision is returned when a read asks for a revision newer than the
	// store's (reason FUTURE_REVISION).
	ErrFutureRevision = errors.New("raftkv client: required revision is a future revision")
	// ErrLeaseNotFound is returned by lease calls for a lease that does not exist or
	// has expired (reason LEASE_NOT_FOUND), and ends a KeepAlive.
	ErrLeaseNotFound = errors.New("raftkv client: lease not found")
	// ErrInvalidCompare is returned by Txn.Commit when a Compare was built with an
	// unknown operator or a value of the wrong type.
	ErrInvalidCompare = errors.New("raftkv client: invalid compare")
)

// Error is the error returned by a failed call. It keeps the gRPC status of the
// failure (status.FromError(err) returns it unchanged) and, where one applies, a
// sentinel error that errors.Is matches.
type Error struct {
	// Op names the call: "put", "range", "txn", "lease-grant", ...
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

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("raftkv client: ")
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

// Unwrap returns the wrapped errors: the original error, the sentinel if any, and
// ErrUnknownOutcome for writes of unknown outcome.
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

// IsUnknownOutcome reports whether err comes from a write that failed after its
// request may have reached a server (codes.Unavailable, DeadlineExceeded or
// Canceled, with no reason saying it was refused before it was proposed or
// sent). Such a write may have been applied; read back before retrying it.
func IsUnknownOutcome(err error) bool { return errors.Is(err, ErrUnknownOutcome) }

// mayHaveApplied reports whether a write that failed with code and reason may
// have been applied: it failed as a request in flight fails (Unavailable,
// DeadlineExceeded, Canceled) and its reason does not say it was refused
// before anything was proposed or sent.
func mayHaveApplied(code codes.Code, reason rpcerr.Reason) bool {
	switch code {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		return !reason.TryOther() && reason != rpcerr.NotSent
	}
	return false
}

// callKind says whether a call may change state.
type callKind int

const (
	kindRead callKind = iota
	kindWrite
)

// toError turns the error of a gRPC call into an *Error. Errors that are already
// an *Error are returned unchanged.
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
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			st = status.FromContextError(err)
		} else {
			st = nil
		}
	}
	e := &Error{Op: op, err: err, st: st}
	if st == nil {
		return e
	}
	e.Reason = rpcerr.ReasonOf(err)
	switch e.Reason {
	case rpcerr.Compacted:
		e.sentinel = ErrCompacted
	case rpcerr.FutureRevision:
		e.sentinel = ErrFutureRevision
	case rpcerr.LeaseNotFound:
		e.sentinel = ErrLeaseNotFound
	}
	e.Unknown = kind == kindWrite && mayHaveApplied(st.Code(), e.Reason)
	return e
}
