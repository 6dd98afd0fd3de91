package searchd

import (
	"errors"
	"fmt"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/searchd/aggs"
	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/engine"
	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/mapping"
	"cairn.dev/cairn/searchd/meta"
	"cairn.dev/cairn/searchd/query"
	sdclient "cairn.dev/cairn/streamd/client"
)

// Errors of searchd. toStatus maps them, and the engine's and metadata's,
// to gRPC status codes with rpcerr reasons.
var (
	// ErrInvalidArgument: a malformed request; the metadata names the field.
	ErrInvalidArgument = errors.New("searchd: invalid argument")
	// ErrLimitExceeded: a size or count over its limit, named.
	ErrLimitExceeded = errors.New("searchd: limit exceeded")
	// ErrDocumentNotFound: no document with that id.
	ErrDocumentNotFound = errors.New("searchd: document not found")
	// ErrVersionConflict: a create of an id that exists.
	ErrVersionConflict = errors.New("searchd: version conflict, document already exists")
	// ErrShardUnavailable: no started copy of a shard answered.
	ErrShardUnavailable = errors.New("searchd: shard unavailable")
	// ErrCopyNotHere: this node holds no copy of the shard asked for (a
	// stale placement seen by the caller, which tries another copy).
	ErrCopyNotHere = errors.New("searchd: no such shard copy on this node")
	// ErrShuttingDown: the server is stopping.
	ErrShuttingDown = errors.New("searchd: server is shutting down")
)

// invalidField is ErrInvalidArgument naming the request field.
func invalidField(field, format string, args ...any) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s: %s", ErrInvalidArgument, field, fmt.Sprintf(format, args...)), rpcerr.KeyField, field)
}

// tooLarge is ErrLimitExceeded naming the field and the limit.
func tooLarge(field, limitName string, size, limit int) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s is %d, the limit (%s) is %d", ErrLimitExceeded, field, size, limitName, limit),
		rpcerr.KeyField, field, rpcerr.KeySize, fmt.Sprint(size), rpcerr.KeyLimit, fmt.Sprint(limit), rpcerr.KeyLimitName, limitName)
}

// statusRules map searchd's, the engine's, the metadata's, streamd's and
// raftnode's errors to reasons; see toStatus.
var statusRules = append(append([]rpcerr.Rule{
	{Err: ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: ErrLimitExceeded, Reason: rpcerr.LimitExceeded},
	{Err: ErrDocumentNotFound, Reason: rpcerr.DocumentNotFound},
	{Err: ErrVersionConflict, Reason: rpcerr.VersionConflict},
	{Err: ErrShardUnavailable, Reason: rpcerr.ShardUnavailable},
	{Err: ErrCopyNotHere, Reason: rpcerr.ShardUnavailable},
	{Err: ErrShuttingDown, Reason: rpcerr.ShuttingDown},
	{Err: meta.ErrClosed, Reason: rpcerr.ShuttingDown},
	{Err: mapping.ErrParse, Reason: rpcerr.ParseError},
	{Err: mapping.ErrStrict, Reason: rpcerr.StrictMapping},
	{Err: mapping.ErrType, Reason: rpcerr.ParseError},
	{Err: mapping.ErrConflict, Reason: rpcerr.MappingConflict},
	{Err: mapping.ErrLimit, Reason: rpcerr.LimitExceeded},
	{Err: mapping.ErrInvalid, Reason: rpcerr.InvalidArgument},
	{Err: analysis.ErrSettings, Reason: rpcerr.InvalidArgument},
	{Err: query.ErrParse, Reason: rpcerr.ParseError},
	{Err: query.ErrTooManyClauses, Reason: rpcerr.TooManyClauses},
	{Err: query.ErrLimit, Reason: rpcerr.LimitExceeded},
	{Err: aggs.ErrParse, Reason: rpcerr.ParseError},
	{Err: aggs.ErrTooManyBuckets, Reason: rpcerr.LimitExceeded},
	{Err: engine.ErrDocumentTooLarge, Reason: rpcerr.LimitExceeded},
	{Err: engine.ErrClosed, Reason: rpcerr.ShardUnavailable},
	{Err: index.ErrClosed, Reason: rpcerr.ShardUnavailable},
	{Err: sdclient.ErrNotEnoughReplicas, Reason: rpcerr.NotEnoughReplicas},
	{Err: sdclient.ErrPartitionOffline, Reason: rpcerr.PartitionOffline},
	{Err: sdclient.ErrUnknownOutcome, Reason: rpcerr.OutcomeUnknown},
}, meta.Sentinels...), raftnode.StatusRules...)

// toStatus is the one place where errors become gRPC status errors.
// Status errors pass through unchanged; context errors keep their codes.
func toStatus(err error) error { return rpcerr.ToStatus(err, statusRules) }

// errorType names an error as Elasticsearch's error.type does, for bulk
// item results.
func errorType(err error) string {
	switch {
	case errors.Is(err, ErrVersionConflict):
		return "version_conflict_engine_exception"
	case errors.Is(err, mapping.ErrStrict):
		return "strict_dynamic_mapping_exception"
	case errors.Is(err, mapping.ErrParse), errors.Is(err, mapping.ErrType), errors.Is(err, mapping.ErrLimit),
		errors.Is(err, mapping.ErrConflict), errors.Is(err, engine.ErrDocumentTooLarge):
		return "mapper_parsing_exception"
	case errors.Is(err, meta.ErrIndexNotFound):
		return "index_not_found_exception"
	case errors.Is(err, ErrInvalidArgument):
		return "illegal_argument_exception"
	}
	return "unavailable_shards_exception"
}

// itemStatus is the HTTP status Elasticsearch gives a failed bulk item.
func itemStatus(err error) int32 {
	switch errorType(err) {
	case "version_conflict_engine_exception":
		return 409
	case "index_not_found_exception":
		return 404
	case "unavailable_shards_exception":
		return 503
	}
	return 400
}
