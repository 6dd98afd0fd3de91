package edge

import (
	"errors"

	"cairn.dev/cairn/node/rpcerr"
)

// Errors of the edge's admin API. Match with errors.Is.
var (
	// ErrInvalidArgument: a request field is malformed.
	ErrInvalidArgument = errors.New("edge: invalid argument")
	// ErrNoRegistry: the node has no raftkv (--registry), which the call
	// needs.
	ErrNoRegistry = errors.New("edge: no registry (--registry): purges cannot reach the other edges")
)

// rules map the sentinels to reasons; first match wins.
var errorRules = []rpcerr.Rule{
	{Err: ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: ErrNoRegistry, Reason: rpcerr.PreconditionFailed},
}

// toStatus is the one place admin-API errors become gRPC statuses. Errors
// from raftkv keep their status; context errors keep their codes.
func toStatus(err error) error { return rpcerr.ToStatus(err, errorRules) }
