package es

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/searchd/searchdfake"
)

func TestFromRPC(t *testing.T) {
	e := func(c codes.Code, r string) error { return searchdfake.Error(c, r, "msg", nil) }
	for _, tc := range []struct {
		err    error
		op     op
		status int
		typ    string
	}{
		{e(codes.NotFound, "INDEX_NOT_FOUND"), opSearch, 404, "index_not_found_exception"},
		{e(codes.AlreadyExists, "INDEX_EXISTS"), opIndexAdmin, 400, "resource_already_exists_exception"},
		{e(codes.NotFound, "DOCUMENT_NOT_FOUND"), opDocWrite, 404, "document_missing_exception"},
		{e(codes.FailedPrecondition, "VERSION_CONFLICT"), opDocWrite, 409, "version_conflict_engine_exception"},
		{e(codes.FailedPrecondition, "MAPPING_CONFLICT"), opDocWrite, 400, "mapper_parsing_exception"},
		{e(codes.FailedPrecondition, "MAPPING_CONFLICT"), opPutMapping, 400, "illegal_argument_exception"},
		{e(codes.InvalidArgument, "STRICT_MAPPING"), opDocWrite, 400, "strict_dynamic_mapping_exception"},
		{e(codes.InvalidArgument, "PARSE_ERROR"), opDocWrite, 400, "mapper_parsing_exception"},
		{e(codes.InvalidArgument, "PARSE_ERROR"), opSearch, 400, "parsing_exception"},
		{e(codes.InvalidArgument, "PARSE_ERROR"), opIndexAdmin, 400, "x_content_parse_exception"},
		{e(codes.InvalidArgument, "TOO_MANY_CLAUSES"), opSearch, 400, "too_many_clauses"},
		{e(codes.Unavailable, "SHARD_UNAVAILABLE"), opSearch, 503, "search_phase_execution_exception"},
		{e(codes.Unavailable, "SHARD_UNAVAILABLE"), opDocWrite, 503, "unavailable_shards_exception"},
		{e(codes.InvalidArgument, "INVALID_ARGUMENT"), opDocWrite, 400, "illegal_argument_exception"},
		{e(codes.ResourceExhausted, "LIMIT_EXCEEDED"), opSearch, 400, "illegal_argument_exception"},
		{searchdfake.Error(codes.ResourceExhausted, "LIMIT_EXCEEDED", "too big", map[string]string{"field": "source_json"}), opDocWrite, 413, "mapper_parsing_exception"},
		{e(codes.Unavailable, "NOT_LEADER"), opIndexAdmin, 503, "master_not_discovered_exception"},
		{e(codes.Unavailable, "OUTCOME_UNKNOWN"), opIndexAdmin, 503, "process_cluster_event_timeout_exception"},
		{status.Error(codes.Unavailable, "connection refused"), opSearch, 503, "unavailable_shards_exception"},
		{status.Error(codes.DeadlineExceeded, "late"), opSearch, 504, "timeout_exception"},
		{context.DeadlineExceeded, opSearch, 504, "timeout_exception"},
		{status.Error(codes.Internal, "boom"), opSearch, 500, "exception"},
		{fmt.Errorf("plain"), opSearch, 500, "exception"},
	} {
		got := fromRPC(tc.err, tc.op, "i", "1")
		require.Equal(t, tc.status, got.status, "%v", tc.err)
		require.Equal(t, tc.typ, got.typ, "%v", tc.err)
	}
}
