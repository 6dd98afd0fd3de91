package client

import (
	"errors"

	"cairn.dev/cairn/node/clusterconn"
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

// errs builds every error the client returns.
var errs = clusterconn.Errors{
	Client:  "raftkv client",
	Unknown: ErrUnknownOutcome,
	Sentinels: map[rpcerr.Reason]error{
		rpcerr.Compacted:      ErrCompacted,
		rpcerr.FutureRevision: ErrFutureRevision,
		rpcerr.LeaseNotFound:  ErrLeaseNotFound,
	},
}

// Error is the error returned by a failed call (see clusterconn.Error). It
// keeps the gRPC status of the failure (status.FromError(err) returns it
// unchanged) and, where one applies, a sentinel error that errors.Is matches.
type Error = clusterconn.Error

// IsUnknownOutcome reports whether err comes from a write that failed after its
// request may have reached a server (codes.Unavailable, DeadlineExceeded or
// Canceled, with no reason saying it was refused before it was proposed or
// sent). Such a write may have been applied; read back before retrying it.
func IsUnknownOutcome(err error) bool { return errors.Is(err, ErrUnknownOutcome) }

// callKind says whether a call may change state.
type callKind int

const (
	kindRead callKind = iota
	kindWrite
)

// toError turns the error of a gRPC call into an *Error; only a kindWrite
// call's error can have an unknown outcome. Errors that are already an *Error
// are returned unchanged.
func toError(op string, kind callKind, err error) error {
	return errs.Wrap(op, kind == kindWrite, err)
}
