package lbd

import (
	"errors"

	"cairn.dev/cairn/node/rpcerr"
)

// Errors of lbd's admin API. Match with errors.Is.
var (
	// ErrInvalidArgument: a request field is malformed.
	ErrInvalidArgument = errors.New("lbd: invalid argument")
	// ErrPoolNotFound: no pool has the name.
	ErrPoolNotFound = errors.New("lbd: no such pool")
	// ErrBackendNotFound: no pool (or not the named one) has the backend.
	ErrBackendNotFound = errors.New("lbd: no such backend")
	// ErrAmbiguousBackend: several pools have a backend of the name; the
	// request must name the pool.
	ErrAmbiguousBackend = errors.New("lbd: backend name is in several pools; name the pool")
)

// errorRules map the sentinels to reasons; first match wins.
var errorRules = []rpcerr.Rule{
	{Err: ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: ErrPoolNotFound, Reason: rpcerr.PoolNotFound},
	{Err: ErrBackendNotFound, Reason: rpcerr.BackendNotFound},
	{Err: ErrAmbiguousBackend, Reason: rpcerr.AmbiguousBackend},
}

// toStatus is the one place admin-API errors become gRPC statuses. Errors
// from raftkv keep their status; context errors keep their codes.
func toStatus(err error) error { return rpcerr.ToStatus(err, errorRules) }
