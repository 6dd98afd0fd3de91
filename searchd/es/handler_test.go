package es

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/searchdfake"
)

func TestBanner(t *testing.T) {
	a := newAPITest(t, Options{NodeName: "searchd-1"})
	m := a.ok(200, "GET", "/", "")
	require.Equal(t, "8.11.0", at(m, "version", "number"))
	require.Equal(t, "You Know, for Search", m["tagline"])
	require.Equal(t, "searchd-1", m["name"])
	require.Equal(t, "cairn", m["cluster_name"])
	r := a.do("HEAD", "/", "")
	require.Equal(t, 200, r.status)
	require.Empty(t, r.body)
	// ?pretty indents.
	require.Contains(t, a.do("GET", "/?pretty", "").body, "\n  \"name\"")
}

func TestRoutingErrors(t *testing.T) {
	a := newAPITest(t, Options{})
	m := a.ok(400, "GET", "/_nothing/here", "")
	require.Contains(t, m["error"], "no handler found for uri [/_nothing/here] and method [GET]")
	m = a.ok(405, "PATCH", "/products/_doc/1", "")
	require.Contains(t, m["error"], "Incorrect HTTP method")
	require.EqualValues(t, 405, m["status"])
}

func TestIndexLifecycle(t *testing.T) {
	a := newAPITest(t, Options{})
	m := a.ok(200, "PUT", "/products", `{
		"settings": {"number_of_shards": 3, "index.number_of_replicas": "1", "index": {"refresh_interval": "500ms"},
		  "analysis": {"filter": {"syn": {"type": "synonym", "synonyms": ["laptop, notebook"]}}},
		  "index.similarity.default.k1": 1.5},
		"mappings": {"properties": {"title": {"type": "text"}, "price": {"type": "float"}}}}`)
	require.Equal(t, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": "products"}, m)

	m = a.ok(200, "GET", "/products", "")
	s := at(m, "products", "settings", "index").(map[string]any)
	require.Equal(t, "3", s["number_of_shards"])
	require.Equal(t, "1", s["number_of_replicas"])
	require.Equal(t, "500ms", s["refresh_interval"])
	require.Equal(t, "uuid-1", s["uuid"])
	require.Equal(t, []any{"laptop, notebook"}, at(s, "analysis", "filter", "syn", "synonyms"))
	require.Equal(t, "1.5", at(s, "similarity", "default", "k1"))
	require.Equal(t, "text", at(m, "products", "mappings", "properties", "title", "type"))

	e := a.esErr(400, "resource_already_exists_exception", "PUT", "/products", "")
	require.Equal(t, "index [products/uuid-1] already exists", e["reason"])
	require.Equal(t, "products", e["index"])

	require.Equal(t, 200, a.do("HEAD", "/products", "").status)
	require.Equal(t, 404, a.do("HEAD", "/nope", "").status)
	e = a.esErr(404, "index_not_found_exception", "GET", "/nope", "")
	require.Equal(t, "no such index [nope]", e["reason"])
	require.Equal(t, "nope", e["index"])
	require.Equal(t, "index_or_alias", e["resource.type"])

	a.esErr(400, "invalid_index_name_exception", "PUT", "/Products", "")
	a.esErr(400, "illegal_argument_exception", "PUT", "/x", `{"settings":{"index.number_of_flurbs":2}}`)
	a.esErr(400, "illegal_argument_exception", "PUT", "/x", `{"settings":{"refresh_interval":"soon"}}`)
	a.esErr(400, "x_content_parse_exception", "PUT", "/x", `{"settings":`)
	a.esErr(400, "x_content_parse_exception", "PUT", "/x", `{"mapping":{}}`)

	// Mappings: get and add.
	m = a.ok(200, "GET", "/products/_mapping", "")
	require.Equal(t, "float", at(m, "products", "mappings", "properties", "price", "type"))
	a.ok(200, "PUT", "/products/_mapping", `{"properties":{"brand":{"type":"keyword"}}}`)
	m = a.ok(200, "GET", "/_mapping", "")
	require.Equal(t, "keyword", at(m, "products", "mappings", "properties", "brand", "type"))
	a.fake.FailNext("PutMapping", searchdfake.Error(codes.FailedPrecondition, "MAPPING_CONFLICT", "mapper [price] cannot be changed from type [float] to [text]", nil))
	e = a.esErr(400, "illegal_argument_exception", "PUT", "/products/_mapping", `{"properties":{"price":{"type":"text"}}}`)
	require.Contains(t, e["reason"], "cannot be changed")

	require.Equal(t, map[string]any{"acknowledged": true}, a.ok(200, "DELETE", "/products", ""))
	a.esErr(404, "index_not_found_exception", "DELETE", "/products", "")
}

func TestDocuments(t *testing.T) {
	a := newAPITest(t, Options{})
	a.ok(200, "PUT", "/products", "")

	m := a.ok(201, "PUT", "/products/_doc/1", `{"title":"wireless headphones"}`)
	require.Equal(t, "created", m["result"])
	require.EqualValues(t, 1, m["_version"])
	require.Equal(t, "products", m["_index"])
	require.Equal(t, "1", m["_id"])
	require.EqualValues(t, 1, at(m, "_shards", "successful"))
	m = a.ok(200, "POST", "/products/_doc/1?refresh=true", `{"title":"wireless headphones v2"}`)
	require.Equal(t, "updated", m["result"])
	require.EqualValues(t, 2, m["_version"])
	require.Equal(t, true, m["forced_refresh"])

	e := a.esErr(409, "version_conflict_engine_exception", "PUT", "/products/_doc/1?op_type=create", `{"a":1}`)
	require.Contains(t, e["reason"], "[1]: version conflict")
	a.esErr(409, "version_conflict_engine_exception", "PUT", "/products/_create/1", `{"a":1}`)
	a.ok(201, "PUT", "/products/_create/2", `{"title":"lamp"}`)
	a.esErr(400, "illegal_argument_exception", "PUT", "/products/_doc/1?refresh=sometimes", `{"a":1}`)
	a.esErr(400, "illegal_argument_exception", "PUT", "/products/_doc/1?op_type=upsert", `{"a":1}`)

	m = a.ok(201, "POST", "/products/_doc", `{"title":"lapel pin"}`)
	gen := m["_id"].(string)
	require.NotEmpty(t, gen)

	m = a.ok(200, "GET", "/products/_doc/1", "")
	require.Equal(t, true, m["found"])
	require.Equal(t, map[string]any{"title": "wireless headphones v2"}, m["_source"])
	require.EqualValues(t, 2, m["_version"])
	m = a.ok(200, "GET", "/products/_doc/1?_source=false", "")
	require.NotContains(t, m, "_source")
	require.Equal(t, map[string]any{"_index": "products", "_id": "404", "found": false}, a.ok(404, "GET", "/products/_doc/404", ""))
	require.Equal(t, 200, a.do("HEAD", "/products/_doc/1", "").status)
	require.Equal(t, 404, a.do("HEAD", "/products/_doc/404", "").status)
	require.Equal(t, map[string]any{"title": "lapel pin"}, a.ok(200, "GET", "/products/_source/"+gen, ""))
	a.esErr(404, "resource_not_found_exception", "GET", "/products/_source/404", "")
	a.esErr(404, "index_not_found_exception", "GET", "/nope/_doc/1", "")

	// An id may hold an escaped slash.
	a.ok(201, "PUT", "/products/_doc/a%2Fb", `{"x":1}`)
	require.Contains(t, a.fake.Docs("products"), "a/b")
	require.Equal(t, "a/b", a.ok(200, "GET", "/products/_doc/a%2Fb", "")["_id"])

	m = a.ok(200, "DELETE", "/products/_doc/1", "")
	require.Equal(t, "deleted", m["result"])
	m = a.ok(404, "DELETE", "/products/_doc/1", "")
	require.Equal(t, "not_found", m["result"])

	// Bad sources.
	e = a.esErr(400, "mapper_parsing_exception", "PUT", "/products/_doc/3", `{"title":`)
	require.Equal(t, "json_parse_exception", at(e, "caused_by", "type"))
	require.Equal(t, "json_parse_exception", at(e, "root_cause", 0, "type"))
	a.esErr(400, "mapper_parsing_exception", "PUT", "/products/_doc/3", `[1,2]`)
	a.esErr(400, "parse_exception", "PUT", "/products/_doc/3", ``)
	a.fake.FailNext("PutDocument", searchdfake.Error(codes.InvalidArgument, "STRICT_MAPPING",
		"mapping set to strict, dynamic introduction of [color] within [_doc] is not allowed", map[string]string{"field": "color"}))
	a.esErr(400, "strict_dynamic_mapping_exception", "PUT", "/products/_doc/3", `{"color":"red"}`)
	a.fake.FailNext("PutDocument", searchdfake.Error(codes.InvalidArgument, "PARSE_ERROR", "failed to parse field [price] of type [float]", nil))
	a.esErr(400, "mapper_parsing_exception", "PUT", "/products/_doc/3", `{"price":"cheap"}`)
	a.fake.FailNext("PutDocument", searchdfake.Error(codes.Unavailable, "SHARD_UNAVAILABLE", "shard 0 has no started copy", nil))
	a.esErr(503, "unavailable_shards_exception", "PUT", "/products/_doc/3", `{"a":1}`)
}

func TestAutoCreateIndex(t *testing.T) {
	a := newAPITest(t, Options{})
	a.ok(201, "PUT", "/logs/_doc/1", `{"msg":"hi"}`)
	require.Equal(t, 200, a.do("HEAD", "/logs", "").status)
	a.esErr(400, "invalid_index_name_exception", "PUT", "/Logs/_doc/1", `{"msg":"hi"}`)

	b := newAPITest(t, Options{NoAutoCreateIndex: true})
	b.esErr(404, "index_not_found_exception", "PUT", "/logs/_doc/1", `{"msg":"hi"}`)
}

func TestBulk(t *testing.T) {
	a := newAPITest(t, Options{})
	a.ok(200, "PUT", "/products", "")
	body := `{"index":{"_index":"products","_id":"1"}}
{"title":"wireless headphones","price":99}
{"create":{"_id":"2"}}
{"title":"laptop"}

{"create":{"_id":"1"}}
{"title":"dup"}
{"index":{}}
{"title":"generated"}
{"update":{"_id":"1"}}
{"doc":{"price":5}}
{"index":{"_id":"3","if_seq_no":1,"if_primary_term":1}}
{"title":"occ"}
{"index":{"_id":"4"}}
{"title":
{"delete":{"_id":"2"}}
{"delete":{"_id":"nope"}}
{"index":{"_index":"fresh","_id":"1"}}
{"title":"auto-created"}
`
	m := a.ok(200, "POST", "/products/_bulk?refresh=wait_for", body)
	require.Equal(t, true, m["errors"])
	items := m["items"].([]any)
	require.Len(t, items, 10)
	type want struct {
		action string
		status float64
		errTyp string
	}
	for i, w := range []want{
		{"index", 201, ""}, {"create", 201, ""}, {"create", 409, "version_conflict_engine_exception"}, {"index", 201, ""},
		{"update", 400, "illegal_argument_exception"}, {"index", 400, "illegal_argument_exception"}, {"index", 400, "mapper_parsing_exception"},
		{"delete", 200, ""}, {"delete", 404, ""}, {"index", 201, ""},
	} {
		it := at(items[i], w.action)
		require.NotNil(t, it, "item %d: %v", i, items[i])
		require.EqualValues(t, w.status, at(it, "status"), "item %d: %v", i, it)
		require.Equal(t, w.errTyp, strOr(at(it, "error", "type")), "item %d: %v", i, it)
	}
	require.Equal(t, "products", at(items[0], "index", "_index"))
	require.Equal(t, "created", at(items[0], "index", "result"))
	require.NotEmpty(t, at(items[3], "index", "_id"), "a generated id")
	require.Equal(t, "not_found", at(items[8], "delete", "result"))
	require.Equal(t, "fresh", at(items[9], "index", "_index"))
	require.Equal(t, map[string]string{"1": `{"title":"auto-created"}`}, a.fake.Docs("fresh"))
	for _, b := range a.fake.Bulks() {
		require.Equal(t, searchdv1.Refresh_REFRESH_WAIT_FOR, b.GetRefresh())
	}

	// Request-level errors.
	e := a.esErr(400, "illegal_argument_exception", "POST", "/_bulk", `{"index":{"_index":"products"}}`+"\n"+`{"a":1}`)
	require.Contains(t, e["reason"], "terminated by a newline")
	e = a.esErr(400, "action_request_validation_exception", "POST", "/_bulk", "{\"index\":{}}\n{\"a\":1}\n")
	require.Contains(t, e["reason"], "index is missing")
	a.esErr(400, "action_request_validation_exception", "POST", "/products/_bulk", "{\"delete\":{}}\n")
	a.esErr(400, "illegal_argument_exception", "POST", "/products/_bulk", "{\"upsert\":{}}\n{}\n")
	a.esErr(400, "illegal_argument_exception", "POST", "/products/_bulk", "{\"index\":{\"_idx\":\"x\"}}\n{}\n")
	a.esErr(400, "illegal_argument_exception", "POST", "/products/_bulk", "{\"index\":{}}\n")
	a.esErr(400, "action_request_validation_exception", "POST", "/products/_bulk", "\n")
}

func strOr(v any) string {
	s, _ := v.(string)
	return s
}

// A large _bulk goes to searchd in chunks, in order; when a later chunk
// fails as a whole, its items and the rest fail and the earlier answers
// stand.
func TestBulkChunks(t *testing.T) {
	a := newAPITest(t, Options{BulkChunkItems: 2})
	a.ok(200, "PUT", "/p", "")
	var b strings.Builder
	for i := 0; i < 5; i++ {
		b.WriteString(`{"index":{"_id":"` + string(rune('a'+i)) + `"}}` + "\n" + `{"n":1}` + "\n")
	}
	m := a.ok(200, "POST", "/p/_bulk", b.String())
	require.Equal(t, false, m["errors"])
	require.Len(t, a.fake.Bulks(), 3)
	require.Equal(t, "a", a.fake.Bulks()[0].GetItems()[0].GetId())
	require.Equal(t, "e", a.fake.Bulks()[2].GetItems()[0].GetId())

	// The first chunk failing fails the request.
	a.fake.FailNext("Bulk", searchdfake.Error(codes.Unavailable, "NO_LEADER", "no leader", nil))
	a.esErr(503, "master_not_discovered_exception", "POST", "/p/_bulk", b.String())
}

func TestBulkChunkFailsMidway(t *testing.T) {
	a := newAPITest(t, Options{BulkChunkItems: 1})
	a.ok(200, "PUT", "/p", "")
	body := "{\"index\":{\"_id\":\"1\"}}\n{}\n{\"index\":{\"_id\":\"2\"}}\n{}\n{\"index\":{\"_id\":\"3\"}}\n{}\n"
	a.fake.FailAfter("Bulk", 1, searchdfake.Error(codes.Unavailable, "NO_LEADER", "no leader", nil))
	m := a.ok(200, "POST", "/p/_bulk", body)
	require.Equal(t, true, m["errors"])
	items := m["items"].([]any)
	require.EqualValues(t, 201, at(items[0], "index", "status"))
	require.EqualValues(t, 503, at(items[1], "index", "status"))
	require.EqualValues(t, 503, at(items[2], "index", "status"))
	require.Equal(t, "master_not_discovered_exception", at(items[2], "index", "error", "type"))
	require.Len(t, a.fake.Docs("p"), 1)
}

func TestSearch(t *testing.T) {
	a := newAPITest(t, Options{})
	a.ok(200, "PUT", "/products", `{"settings":{"number_of_shards":2}}`)
	a.ok(200, "PUT", "/products-old", "")
	a.ok(200, "PUT", "/other", "")
	a.ok(201, "PUT", "/products/_doc/1", `{"title":"wireless headphones"}`)
	a.ok(201, "PUT", "/products/_doc/2", `{"title":"laptop"}`)
	a.ok(201, "PUT", "/other/_doc/9", `{"title":"other"}`)

	body := `{"query":{"match":{"title":"wireless"}},"aggs":{"brands":{"terms":{"field":"brand"}}}}`
	m := a.ok(200, "POST", "/products/_search", body)
	last := a.fake.Searches()[len(a.fake.Searches())-1]
	require.Equal(t, []string{"products"}, last.GetIndexes())
	require.JSONEq(t, body, string(last.GetBodyJson()), "the body reaches searchd as it is")
	require.EqualValues(t, 2, at(m, "hits", "total", "value"))
	require.Equal(t, "eq", at(m, "hits", "total", "relation"))
	require.EqualValues(t, 1, at(m, "hits", "max_score"))
	require.Equal(t, "1", at(m, "hits", "hits", 0, "_id"))
	require.Equal(t, "products", at(m, "hits", "hits", 0, "_index"))
	require.Equal(t, "wireless headphones", at(m, "hits", "hits", 0, "_source", "title"))
	require.EqualValues(t, 2, at(m, "_shards", "total"))
	require.Equal(t, false, m["timed_out"])
	require.NotNil(t, at(m, "aggregations", "fake"))

	// URL parameters override the body.
	m = a.ok(200, "GET", "/products/_search?q=title:wireless&size=1&from=0&sort=price:desc&rest_total_hits_as_int=true", `{"size":5}`)
	last = a.fake.Searches()[len(a.fake.Searches())-1]
	require.JSONEq(t, `{"size":1,"from":0,"query":{"match":{"title":"wireless"}},"sort":[{"price":{"order":"desc"}}]}`, string(last.GetBodyJson()))
	require.EqualValues(t, 2, at(m, "hits", "total"))
	require.Len(t, at(m, "hits", "hits"), 1)

	// Several indexes, patterns, everything.
	a.ok(200, "GET", "/products,other/_search", "")
	require.Equal(t, []string{"products", "other"}, a.fake.Searches()[len(a.fake.Searches())-1].GetIndexes())
	a.ok(200, "GET", "/prod*,-products-old/_search", "")
	require.Equal(t, []string{"products"}, a.fake.Searches()[len(a.fake.Searches())-1].GetIndexes())
	m = a.ok(200, "GET", "/_search", "")
	require.Equal(t, []string{"other", "products", "products-old"}, a.fake.Searches()[len(a.fake.Searches())-1].GetIndexes())
	require.EqualValues(t, 3, at(m, "hits", "total", "value"))
	m = a.ok(200, "GET", "/nothing-*/_search", "")
	require.EqualValues(t, 0, at(m, "hits", "total", "value"))
	require.Nil(t, at(m, "hits", "max_score"))

	a.esErr(404, "index_not_found_exception", "GET", "/nope/_search", "")
	a.esErr(400, "x_content_parse_exception", "POST", "/products/_search", `{"query":`)
	a.esErr(400, "illegal_argument_exception", "POST", "/products/_search?scroll=1m", `{}`)
	a.fake.FailNext("Search", searchdfake.Error(codes.InvalidArgument, "PARSE_ERROR", "unknown query [matchh]", nil))
	a.esErr(400, "parsing_exception", "POST", "/products/_search", `{"query":{"matchh":{}}}`)
	a.fake.FailNext("Search", searchdfake.Error(codes.InvalidArgument, "TOO_MANY_CLAUSES", "too many clauses: 1025 > 1024 (max_clause_count)", nil))
	a.esErr(400, "too_many_clauses", "POST", "/products/_search", `{}`)

	// GET with ?source= carries the body.
	a.ok(200, "GET", `/products/_search?source={"size":0}`, "")
	require.JSONEq(t, `{"size":0}`, string(a.fake.Searches()[len(a.fake.Searches())-1].GetBodyJson()))

	// _count.
	m = a.ok(200, "GET", "/products/_count?q=laptop", "")
	require.EqualValues(t, 2, m["count"])
	require.EqualValues(t, 2, at(m, "_shards", "total"))
	require.JSONEq(t, `{"query":{"multi_match":{"query":"laptop"}}}`, string(a.fake.Searches()[len(a.fake.Searches())-1].GetBodyJson()))
	m = a.ok(200, "POST", "/_count", `{"query":{"match_all":{}}}`)
	require.EqualValues(t, 3, m["count"])
}

func TestAdminEndpoints(t *testing.T) {
	a := newAPITest(t, Options{})
	a.ok(200, "PUT", "/products", `{"settings":{"number_of_shards":3,"number_of_replicas":1}}`)
	a.ok(200, "PUT", "/logs", `{"settings":{"number_of_replicas":0}}`)
	a.ok(201, "PUT", "/products/_doc/1", `{"title":"x"}`)

	m := a.ok(200, "POST", "/products/_refresh", "")
	require.EqualValues(t, 3, at(m, "_shards", "total"))
	require.EqualValues(t, 0, at(m, "_shards", "failed"))
	m = a.ok(200, "POST", "/_refresh", "")
	require.EqualValues(t, 4, at(m, "_shards", "successful"))

	r := a.do("GET", "/_cat/indices?v", "")
	require.Equal(t, 200, r.status)
	lines := strings.Split(strings.TrimSpace(r.body), "\n")
	require.Len(t, lines, 3)
	require.Equal(t, strings.Fields("health status index uuid pri rep docs.count docs.deleted store.size pri.store.size"), strings.Fields(lines[0]))
	require.Equal(t, "green", strings.Fields(lines[1])[0])
	require.Equal(t, "logs", strings.Fields(lines[1])[2])
	require.Equal(t, []string{"yellow", "open", "products", "uuid-1", "3", "1", "1", "0", "13b", "6b"}, strings.Fields(lines[2]))
	r = a.do("GET", "/_cat/indices/prod*?h=index,docs.count", "")
	require.Equal(t, "products 1\n", r.body)
	var rows []map[string]string
	require.NoError(t, json.Unmarshal([]byte(a.do("GET", "/_cat/indices?format=json", "").body), &rows))
	require.Len(t, rows, 2)
	require.Equal(t, "products", rows[1]["index"])
	require.Equal(t, "1", rows[1]["docs.count"])

	m = a.ok(200, "GET", "/_cluster/health", "")
	require.Equal(t, "yellow", m["status"])
	require.EqualValues(t, 3, m["number_of_nodes"])
	require.EqualValues(t, 4, m["active_primary_shards"])
	require.EqualValues(t, 3, m["unassigned_shards"])
	m = a.ok(200, "GET", "/_cluster/health/logs", "")
	require.Equal(t, "green", m["status"])
	m = a.ok(408, "GET", "/_cluster/health?wait_for_status=green&timeout=200ms", "")
	require.Equal(t, true, m["timed_out"])
	a.ok(200, "GET", "/_cluster/health?wait_for_status=yellow", "")

	m = a.ok(200, "GET", "/products/_stats", "")
	require.EqualValues(t, 1, at(m, "_all", "primaries", "docs", "count"))
	require.EqualValues(t, 2, at(m, "indices", "products", "total", "docs", "count"))
	require.Equal(t, "uuid-1", at(m, "indices", "products", "uuid"))
	m = a.ok(200, "GET", "/_stats", "")
	require.Len(t, m["indices"], 2)
}

func TestBodyLimit(t *testing.T) {
	a := newAPITest(t, Options{MaxContentLength: 64})
	e := a.esErr(413, "content_too_long_exception", "PUT", "/p/_doc/1", `{"title":"`+strings.Repeat("x", 100)+`"}`)
	require.Contains(t, e["reason"], "http.max_content_length")
	require.Contains(t, e["reason"], "64 bytes")
	// A chunked body without a length is cut at the limit too.
	req, err := http.NewRequest("POST", a.srv.URL+"/_bulk", strings.NewReader(strings.Repeat("{}\n", 40)))
	require.NoError(t, err)
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, 413, resp.StatusCode)
}

func TestCompatibleMediaType(t *testing.T) {
	a := newAPITest(t, Options{})
	req, err := http.NewRequest("GET", a.srv.URL+"/", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/vnd.elasticsearch+json;compatible-with=8")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, "application/vnd.elasticsearch+json;compatible-with=8", resp.Header.Get("Content-Type"))
}
