package searchd

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/searchd/mapping"
	"cairn.dev/cairn/searchd/meta"
	"cairn.dev/cairn/searchd/query"
)

func validConfig() Config {
	cfg := DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.StreamdEndpoints = "searchd-1", "/tmp/x", "127.0.0.1:7400"
	return cfg
}

func TestConfigValidateNamesFields(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		field  string
		mutate func(*Config)
	}{
		{"id", func(c *Config) { c.ID = "" }},
		{"data_dir", func(c *Config) { c.DataDir = "" }},
		{"streamd_endpoints", func(c *Config) { c.StreamdEndpoints = " , " }},
		{"http_addr", func(c *Config) { c.HTTPAddr = "nope" }},
		{"commit_ops", func(c *Config) { c.CommitOps = 0 }},
		{"node_timeout", func(c *Config) { c.NodeTimeout = time.Millisecond }},
		{"heartbeat_interval", func(c *Config) { c.HeartbeatInterval = c.NodeTimeout }},
		{"max_bulk_items", func(c *Config) { c.MaxBulkItems = 0 }},
	} {
		cfg := validConfig()
		tc.mutate(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: %v", tc.field, err)
		}
	}
}

func TestToStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   codes.Code
		reason rpcerr.Reason
	}{
		{fmt.Errorf("%w: x", meta.ErrIndexNotFound), codes.NotFound, rpcerr.IndexNotFound},
		{fmt.Errorf("%w: x", meta.ErrIndexExists), codes.AlreadyExists, rpcerr.IndexExists},
		{fmt.Errorf("%w: x", ErrVersionConflict), codes.AlreadyExists, rpcerr.VersionConflict},
		{fmt.Errorf("%w: x", mapping.ErrStrict), codes.InvalidArgument, rpcerr.StrictMapping},
		{fmt.Errorf("%w: x", mapping.ErrConflict), codes.FailedPrecondition, rpcerr.MappingConflict},
		{fmt.Errorf("%w: x", query.ErrParse), codes.InvalidArgument, rpcerr.ParseError},
		{fmt.Errorf("%w: x", query.ErrTooManyClauses), codes.InvalidArgument, rpcerr.TooManyClauses},
		{fmt.Errorf("%w: x", ErrShardUnavailable), codes.Unavailable, rpcerr.ShardUnavailable},
		{invalidField("items[2].id", "bad"), codes.InvalidArgument, rpcerr.InvalidArgument},
		{tooLarge("source_json", "max_document_bytes", 11, 10), codes.ResourceExhausted, rpcerr.LimitExceeded},
	} {
		err := toStatus(tc.err)
		if status.Code(err) != tc.code || rpcerr.ReasonOf(err) != tc.reason {
			t.Errorf("%v: %v %v", tc.err, status.Code(err), rpcerr.ReasonOf(err))
		}
	}
	if info, _ := rpcerr.FromError(toStatus(invalidField("items[2].id", "bad"))); info.Metadata[rpcerr.KeyField] != "items[2].id" {
		t.Errorf("field metadata: %v", info.Metadata)
	}
}

func TestBulkItemErrors(t *testing.T) {
	for _, tc := range []struct {
		err    error
		typ    string
		status int32
	}{
		{ErrVersionConflict, "version_conflict_engine_exception", 409},
		{fmt.Errorf("%w: x", mapping.ErrType), "mapper_parsing_exception", 400},
		{fmt.Errorf("%w: x", mapping.ErrStrict), "strict_dynamic_mapping_exception", 400},
		{meta.ErrIndexNotFound, "index_not_found_exception", 404},
		{errors.New("streamd down"), "unavailable_shards_exception", 503},
	} {
		if got, st := errorType(tc.err), itemStatus(tc.err); got != tc.typ || st != tc.status {
			t.Errorf("%v: %s %d", tc.err, got, st)
		}
	}
}
