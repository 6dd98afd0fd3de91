package meta

import (
	"errors"
	"fmt"

	"cairn.dev/cairn/node/rpcerr"
)

// Errors of the state machine. A command that fails carries its reason,
// message and metadata in its result; Propose turns them back into these
// sentinels (with the metadata) through Sentinels.
var (
	// ErrInvalidArgument: a malformed command (bad index name, shard count,
	// unknown shard); the metadata names the field.
	ErrInvalidArgument = errors.New("meta: invalid argument")
	// ErrIndexNotFound: no index of that name (or uuid).
	ErrIndexNotFound = errors.New("meta: index not found")
	// ErrIndexExists: the name is taken.
	ErrIndexExists = errors.New("meta: index exists")
	// ErrMappingConflict: a mapping update was computed from another
	// version than the current one (the caller re-reads and retries).
	ErrMappingConflict = errors.New("meta: mapping conflict")
	// ErrCopyConflict: a placement change no longer fits the shard (the
	// node already holds a copy, the copy is gone or was replaced).
	ErrCopyConflict = errors.New("meta: copy conflict")
	// ErrClosed: the store is closed.
	ErrClosed = errors.New("meta: closed")
	// ErrCorrupt: the database or a record cannot be read.
	ErrCorrupt = errors.New("meta: corrupt database")
)

// Sentinels maps the sentinels to their rpcerr reasons; command results
// travel as (reason, message, metadata) and come back through it.
var Sentinels = rpcerr.Sentinels{
	{Err: ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: ErrIndexNotFound, Reason: rpcerr.IndexNotFound},
	{Err: ErrIndexExists, Reason: rpcerr.IndexExists},
	{Err: ErrMappingConflict, Reason: rpcerr.MappingConflict},
	{Err: ErrCopyConflict, Reason: rpcerr.PreconditionFailed},
}

// failure is a deterministic command failure.
type failure struct {
	err error
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// fail builds a failure of sentinel base naming field (when not empty).
func fail(base error, field, format string, args ...any) error {
	var err error = fmt.Errorf("%w: %s", base, fmt.Sprintf(format, args...))
	if field != "" {
		err = rpcerr.WithMetadata(err, rpcerr.KeyField, field)
	}
	return &failure{err: err}
}
