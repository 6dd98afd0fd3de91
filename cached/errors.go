package cached

import (
	"errors"

	"cairn.dev/cairn/cached/store"
	"cairn.dev/cairn/node/rpcerr"
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

// statusRules map cached's and the store's errors to reasons; see toStatus.
var statusRules = []rpcerr.Rule{
	{Err: ErrEmptyKey, Reason: rpcerr.InvalidArgument},
	{Err: ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: store.ErrBadOptions, Reason: rpcerr.InvalidArgument},
	{Err: store.ErrTooLarge, Reason: rpcerr.LimitExceeded},
	{Err: store.ErrOutOfMemory, Reason: rpcerr.OutOfMemory},
	{Err: store.ErrNotInteger, Reason: rpcerr.NotInteger},
	{Err: store.ErrOverflow, Reason: rpcerr.Overflow},
	{Err: store.ErrWrongType, Reason: rpcerr.WrongType},
	{Err: ErrOwnerUnreachable, Reason: rpcerr.OwnerUnreachable},
	{Err: ErrShuttingDown, Reason: rpcerr.ShuttingDown},
	{Err: ErrNotServing, Reason: rpcerr.NotServing},
}

// toStatus is the one place where cached and store errors become gRPC status
// errors, each with its rpcerr reason and the metadata the error carries.
// Status errors (from a forwarded call) pass through unchanged; context errors
// keep their own codes.
func toStatus(err error) error { return rpcerr.ToStatus(err, statusRules) }
