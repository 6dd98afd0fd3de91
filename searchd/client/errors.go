package client

import (
	"errors"

	"cairn.dev/cairn/node/clusterconn"
	"cairn.dev/cairn/node/rpcerr"
)

// Sentinel errors. Errors returned by the client match them with errors.Is.
var (
	// ErrNoEndpoints is returned by New when Config.Endpoints is empty.
	ErrNoEndpoints = errors.New("searchd client: no endpoints")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("searchd client: client closed")
	// ErrUnknownOutcome marks a write that may or may not have been applied.
	ErrUnknownOutcome = errors.New("searchd client: outcome of write unknown")
	// ErrInvalidArgument: a malformed request; the metadata names the field.
	ErrInvalidArgument = errors.New("searchd client: invalid argument")
	// ErrLimitExceeded: a size or count over its limit.
	ErrLimitExceeded = errors.New("searchd client: limit exceeded")
	// ErrIndexNotFound: no such index.
	ErrIndexNotFound = errors.New("searchd client: index not found")
	// ErrIndexExists: an index of that name exists.
	ErrIndexExists = errors.New("searchd client: index exists")
	// ErrDocumentNotFound: no document with that id.
	ErrDocumentNotFound = errors.New("searchd client: document not found")
	// ErrVersionConflict: a create of an id that exists.
	ErrVersionConflict = errors.New("searchd client: version conflict")
	// ErrMappingConflict: a field exists with another type.
	ErrMappingConflict = errors.New("searchd client: mapping conflict")
	// ErrStrictMapping: a field the strict mapping does not allow.
	ErrStrictMapping = errors.New("searchd client: field not allowed by strict mapping")
	// ErrParse: malformed JSON, document or query.
	ErrParse = errors.New("searchd client: parse error")
	// ErrTooManyClauses: a query expands past the clause limit.
	ErrTooManyClauses = errors.New("searchd client: too many clauses")
	// ErrShardUnavailable: no started copy of a shard answered.
	ErrShardUnavailable = errors.New("searchd client: shard unavailable")
)

var errs = clusterconn.Errors{
	Client:  "searchd client",
	Unknown: ErrUnknownOutcome,
	Sentinels: map[rpcerr.Reason]error{
		rpcerr.InvalidArgument:  ErrInvalidArgument,
		rpcerr.LimitExceeded:    ErrLimitExceeded,
		rpcerr.IndexNotFound:    ErrIndexNotFound,
		rpcerr.IndexExists:      ErrIndexExists,
		rpcerr.DocumentNotFound: ErrDocumentNotFound,
		rpcerr.VersionConflict:  ErrVersionConflict,
		rpcerr.MappingConflict:  ErrMappingConflict,
		rpcerr.StrictMapping:    ErrStrictMapping,
		rpcerr.ParseError:       ErrParse,
		rpcerr.TooManyClauses:   ErrTooManyClauses,
		rpcerr.ShardUnavailable: ErrShardUnavailable,
	},
}

// Error is the error of a failed call (see clusterconn.Error).
type Error = clusterconn.Error

// IsUnknownOutcome reports whether err comes from a write that may have
// been applied.
func IsUnknownOutcome(err error) bool { return errors.Is(err, ErrUnknownOutcome) }
