package es

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/searchd/searchdtest"
)

// The walk-through over a real in-process searchd (one node, one
// streamd node): create with mappings, _bulk, then a bool query with a
// range filter, a terms aggregation and highlights; a fuzzy match; _count,
// GET and DELETE.
func TestAgainstSearchd(t *testing.T) {
	c := searchdtest.New(t, 1, nil)
	m := c.Leader()
	srv := httptest.NewServer(NewHandler(m.Conn, Options{Logger: nodetest.Logger(t)}))
	t.Cleanup(srv.Close)
	a := &apiTest{t: t, srv: srv}

	a.ok(200, "PUT", "/products", `{"settings":{"number_of_shards":2,"number_of_replicas":0},
		"mappings":{"properties":{"title":{"type":"text"},"brand":{"type":"keyword"},"category":{"type":"keyword"},"price":{"type":"float"}}}}`)
	bulk := `{"index":{"_id":"1"}}
{"title":"Wireless noise cancelling headphones","brand":"acme","category":"audio","price":99}
{"index":{"_id":"2"}}
{"title":"Wired headphones","brand":"sonic","category":"audio","price":25}
{"index":{"_id":"3"}}
{"title":"Wireless mouse","brand":"acme","category":"computers","price":150}
{"index":{"_id":"4"}}
{"title":"Laptop stand","brand":"deskco","category":"computers","price":40}
`
	r := a.ok(200, "POST", "/products/_bulk?refresh=wait_for", bulk)
	require.Equal(t, false, r["errors"], "%v", r)

	r = a.ok(200, "POST", "/products/_search", `{"query":{"bool":{"must":{"match":{"title":"wireless"}},"filter":{"range":{"price":{"lte":100}}}}},
		"aggs":{"brands":{"terms":{"field":"brand"}}},"highlight":{"fields":{"title":{}}}}`)
	require.EqualValues(t, 1, at(r, "hits", "total", "value"), "%v", r)
	require.Equal(t, "1", at(r, "hits", "hits", 0, "_id"))
	require.Contains(t, at(r, "hits", "hits", 0, "highlight", "title", 0), "<em>")
	require.Equal(t, "acme", at(r, "aggregations", "brands", "buckets", 0, "key"))
	require.EqualValues(t, 2, at(r, "_shards", "total"))

	r = a.ok(200, "POST", "/products/_search", `{"query":{"match":{"title":{"query":"wirless","fuzziness":"AUTO"}}}}`)
	require.EqualValues(t, 2, at(r, "hits", "total", "value"), "%v", r)
	r = a.ok(200, "GET", "/products/_search?q=brand:acme", "")
	require.EqualValues(t, 2, at(r, "hits", "total", "value"), "%v", r)

	require.EqualValues(t, 4, a.ok(200, "GET", "/products/_count", "")["count"])
	require.Equal(t, "Laptop stand", at(a.ok(200, "GET", "/products/_doc/4", ""), "_source", "title"))
	a.ok(200, "DELETE", "/products/_doc/4?refresh=true", "")
	require.EqualValues(t, 3, a.ok(200, "GET", "/products/_count", "")["count"])
	a.ok(404, "GET", "/products/_doc/4", "")

	a.esErr(400, "resource_already_exists_exception", "PUT", "/products", "")
	a.esErr(404, "index_not_found_exception", "GET", "/nope/_search", "")
	e := a.esErr(400, "mapper_parsing_exception", "PUT", "/products/_doc/9", `{"price":"cheap"}`)
	require.NotEmpty(t, e["reason"])
	a.ok(201, "PUT", "/auto/_doc/1?refresh=true", `{"msg":"auto-created"}`)
	require.EqualValues(t, 1, a.ok(200, "GET", "/auto/_count", "")["count"])
	h := a.ok(200, "GET", "/_cluster/health", "")
	require.Contains(t, []any{"green", "yellow"}, h["status"])
}
