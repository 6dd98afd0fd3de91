package es

import (
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/grpc/codes"

	"cairn.dev/cairn/node/rpcerr"
)

// The rpcerr reasons of cairn.searchd.v1 (the proto's package comment), as
// the handler reads them from the gRPC errors of the searchd services.
const (
	reasonIndexNotFound    rpcerr.Reason = "INDEX_NOT_FOUND"
	reasonIndexExists      rpcerr.Reason = "INDEX_EXISTS"
	reasonDocNotFound      rpcerr.Reason = "DOCUMENT_NOT_FOUND"
	reasonVersionConflict  rpcerr.Reason = "VERSION_CONFLICT"
	reasonMappingConflict  rpcerr.Reason = "MAPPING_CONFLICT"
	reasonStrictMapping    rpcerr.Reason = "STRICT_MAPPING"
	reasonParseError       rpcerr.Reason = "PARSE_ERROR"
	reasonTooManyClauses   rpcerr.Reason = "TOO_MANY_CLAUSES"
	reasonShardUnavailable rpcerr.Reason = "SHARD_UNAVAILABLE"
)

// esError is an error in Elasticsearch's shape: an HTTP status, a type
// (index_not_found_exception), a reason, and extra fields in order
// (index_uuid, index); causedBy, when set, is rendered as caused_by.
type esError struct {
	status   int
	typ      string
	reason   string
	extra    obj
	causedBy *esError
}

func (e *esError) Error() string { return e.typ + ": " + e.reason }

// errorf builds an esError.
func errorf(status int, typ, format string, args ...any) *esError {
	return &esError{status: status, typ: typ, reason: fmt.Sprintf(format, args...)}
}

// with adds an extra field.
func (e *esError) with(k string, v any) *esError {
	e.extra = e.extra.add(k, v)
	return e
}

// object is the error's own object: type, reason, the extra fields and
// caused_by.
func (e *esError) object() obj {
	o := obj{}.add("type", e.typ).add("reason", e.reason)
	o = append(o, e.extra...)
	if e.causedBy != nil {
		o = o.add("caused_by", e.causedBy.object())
	}
	return o
}

// errorBody is the response body of e:
// {"error":{"root_cause":[...],"type",...},"status":N}; the root cause is
// the innermost caused_by.
func errorBody(e *esError) obj {
	root := e
	for root.causedBy != nil {
		root = root.causedBy
	}
	rc := obj{}.add("type", root.typ).add("reason", root.reason)
	rc = append(rc, root.extra...)
	return obj{}.add("error", append(obj{{"root_cause", []obj{rc}}}, e.object()...)).add("status", e.status)
}

// writeError writes err: an *esError as it is, anything else as a 500.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := err.(*esError)
	if !ok {
		e = errorf(http.StatusInternalServerError, "exception", "%v", err)
	}
	writeJSON(w, r, e.status, errorBody(e))
}

// op is what a request was doing when the searchd services failed it: the
// same reason reads differently for a document and for a search.
type op int

const (
	opIndexAdmin op = iota // create, delete, get, mapping, stats, refresh
	opPutMapping
	opDocWrite // put, create, delete of a document
	opDocRead  // get of a document
	opSearch   // _search, _count
)

// fromRPC maps an error of the searchd gRPC services to Elasticsearch's
// error for op on index (and document id, if any). It is the one place that
// reads rpcerr reasons.
func fromRPC(err error, o op, index, id string) *esError {
	if e, ok := err.(*esError); ok {
		return e
	}
	info, _ := rpcerr.FromError(err)
	msg := info.Message
	md := info.Metadata
	switch info.Reason {
	case reasonIndexNotFound:
		name := index
		if n := md["index"]; n != "" {
			name = n
		}
		return indexNotFound(name)
	case reasonIndexExists:
		e := errorf(http.StatusBadRequest, "resource_already_exists_exception", "index [%s] already exists", index)
		if u := md["uuid"]; u != "" {
			e.reason = fmt.Sprintf("index [%s/%s] already exists", index, u)
			e.with("index_uuid", u)
		}
		return e.with("index", index)
	case reasonDocNotFound:
		return errorf(http.StatusNotFound, "document_missing_exception", "[%s]: document missing", id).with("index", index)
	case reasonVersionConflict:
		return errorf(http.StatusConflict, "version_conflict_engine_exception", "[%s]: version conflict, document already exists (%s)", id, msg).with("index", index)
	case reasonStrictMapping:
		return errorf(http.StatusBadRequest, "strict_dynamic_mapping_exception", "%s", msg).with("index", index)
	case reasonMappingConflict:
		if o == opDocWrite {
			return errorf(http.StatusBadRequest, "mapper_parsing_exception", "%s", msg).with("index", index)
		}
		return errorf(http.StatusBadRequest, "illegal_argument_exception", "%s", msg).with("index", index)
	case reasonParseError:
		switch o {
		case opDocWrite:
			return errorf(http.StatusBadRequest, "mapper_parsing_exception", "failed to parse: %s", msg).with("index", index)
		case opSearch:
			return errorf(http.StatusBadRequest, "parsing_exception", "%s", msg)
		}
		return errorf(http.StatusBadRequest, "x_content_parse_exception", "%s", msg)
	case reasonTooManyClauses:
		return errorf(http.StatusBadRequest, "too_many_clauses", "%s", msg)
	case reasonShardUnavailable:
		if o == opSearch {
			return errorf(http.StatusServiceUnavailable, "search_phase_execution_exception", "all shards failed: %s", msg)
		}
		return errorf(http.StatusServiceUnavailable, "unavailable_shards_exception", "%s", msg).with("index", index)
	case rpcerr.LimitExceeded:
		if md[rpcerr.KeyLimitName] == "max_document_bytes" || md[rpcerr.KeyField] == "source_json" {
			return errorf(http.StatusRequestEntityTooLarge, "mapper_parsing_exception", "%s", msg).with("index", index)
		}
		return errorf(http.StatusBadRequest, "illegal_argument_exception", "%s", msg)
	case rpcerr.InvalidArgument:
		return errorf(http.StatusBadRequest, "illegal_argument_exception", "%s", msg)
	case rpcerr.NoLeader, rpcerr.NotLeader, rpcerr.NoQuorum:
		return errorf(http.StatusServiceUnavailable, "master_not_discovered_exception", "%s", msg)
	case rpcerr.OutcomeUnknown:
		return errorf(http.StatusServiceUnavailable, "process_cluster_event_timeout_exception", "the outcome is unknown: the change may or may not have been applied: %s", msg)
	}
	switch info.Code {
	case codes.InvalidArgument, codes.OutOfRange:
		return errorf(http.StatusBadRequest, "illegal_argument_exception", "%s", msg)
	case codes.NotFound:
		return errorf(http.StatusNotFound, "resource_not_found_exception", "%s", msg)
	case codes.AlreadyExists, codes.Aborted, codes.FailedPrecondition:
		return errorf(http.StatusConflict, "status_exception", "%s", msg)
	case codes.ResourceExhausted:
		return errorf(http.StatusTooManyRequests, "es_rejected_execution_exception", "%s", msg)
	case codes.Unavailable:
		return errorf(http.StatusServiceUnavailable, "unavailable_shards_exception", "searchd is unavailable: %s", msg)
	case codes.DeadlineExceeded:
		return errorf(http.StatusGatewayTimeout, "timeout_exception", "%s", msg)
	case codes.Canceled:
		return errorf(499, "task_cancelled_exception", "%s", msg)
	}
	return errorf(http.StatusInternalServerError, "exception", "%s", strings.TrimSpace(msg))
}

// indexNotFound is Elasticsearch's 404 for a missing index.
func indexNotFound(name string) *esError {
	return errorf(http.StatusNotFound, "index_not_found_exception", "no such index [%s]", name).
		with("resource.type", "index_or_alias").with("resource.id", name).with("index_uuid", "_na_").with("index", name)
}

// badRequest is a 400 illegal_argument_exception.
func badRequest(format string, args ...any) *esError {
	return errorf(http.StatusBadRequest, "illegal_argument_exception", format, args...)
}

// itemError converts an error into the "error" object of a bulk item.
func itemError(e *esError) obj { return e.object() }
