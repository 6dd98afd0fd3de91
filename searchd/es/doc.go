// Package es serves the subset of the Elasticsearch REST API that curl
// examples and the common clients (the official go-elasticsearch,
// elasticsearch-py, Kibana-less tooling) use, over searchd's gRPC services
// (cairn.searchd.v1: IndexService, DocumentService, SearchService,
// ClusterService). A Handler holds no state: every request becomes one or
// a few RPCs on a connection to a searchd node, and the node's answers are
// rendered in Elasticsearch's JSON shapes.
//
// A searchd node serves it with Attach, between the node's New and Serve:
//
//	srv, err := searchd.New(cfg, logger)
//	api, err := es.Attach(srv, es.ServeConfig{Addr: cfg.HTTPAddr, TLS: cfg.Server.TLS}, conn, es.Options{}, logger)
//	err = srv.Serve(ctx)
//
// Tests and other hosts build a Handler with NewHandler over any
// grpc.ClientConnInterface.
//
// # Endpoints
//
//	GET|HEAD /                               banner (version.number 8.11.0)
//	PUT|DELETE|GET|HEAD /<index>             create (settings, mappings), delete, describe, exists
//	GET /_cat/indices[/<pattern>]            text (?v, ?h, ?bytes) or ?format=json
//	GET /_cluster/health[/<index>]           green/yellow/red; ?wait_for_status, ?timeout
//	GET|PUT|POST /<index>/_mapping, GET /_mapping
//	PUT|POST /<index>/_doc/<id>              index (?op_type=create, ?refresh=true|wait_for|false)
//	POST /<index>/_doc                       index with a generated id
//	PUT|POST /<index>/_create/<id>           create (409 when the id exists)
//	GET|HEAD /<index>/_doc/<id>, GET /<index>/_source/<id>, DELETE /<index>/_doc/<id>
//	POST|PUT /_bulk, /<index>/_bulk          NDJSON index/create/delete
//	GET|POST /_search, /<index>/_search, /<i1>,<i2>/_search, /<pattern>/_search
//	GET|POST /_count, /<index>/_count
//	POST|GET /_refresh, /<index>/_refresh
//	GET /_stats, /<index>/_stats
//
// Index expressions take comma-separated names, "*" patterns, "_all" and
// "-exclusions". _search and _count take their body (or ?source=) as it is
// and merge the URL parameters q (a simple query string), size, from,
// sort, track_total_hits and _source into it. Every response carries
// X-Elastic-Product: Elasticsearch, which the official clients require;
// ?pretty indents. A write to a missing index creates it with the default
// settings and a dynamic mapping, unless Options.NoAutoCreateIndex.
//
// Not supported: _update and the update bulk action, optimistic
// concurrency (if_seq_no, version), scroll, aliases, data streams,
// templates, ingest pipelines, _msearch, _mget, _reindex, delete and
// update by query, index close/open and snapshot APIs; security (see
// docs/searchd.md: the API has no authentication, only the node's TLS).
//
// # Errors
//
// Errors are Elasticsearch's {"error":{"root_cause":[...],"type","reason",
// ...},"status":N}, mapped in one function (fromRPC) from the rpcerr
// reasons of the searchd services: INDEX_NOT_FOUND → 404
// index_not_found_exception, INDEX_EXISTS → 400
// resource_already_exists_exception, VERSION_CONFLICT → 409
// version_conflict_engine_exception, STRICT_MAPPING → 400
// strict_dynamic_mapping_exception, PARSE_ERROR → 400
// mapper_parsing_exception (a document) or parsing_exception (a search),
// TOO_MANY_CLAUSES → 400 too_many_clauses, SHARD_UNAVAILABLE → 503, the
// Raft ones → 503. A missing document is a 404 {"_index","_id",
// "found":false}, as Elasticsearch's. Bodies are bounded by
// Options.MaxContentLength (100 MiB, http.max_content_length): a larger one
// is a 413 naming the limit.
package es
