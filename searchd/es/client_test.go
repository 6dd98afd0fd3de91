package es

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	"github.com/stretchr/testify/require"
)

// The official Go client, unchanged, creates an index, indexes, bulks,
// reads and searches through the API (its product check included).
func TestOfficialGoClient(t *testing.T) {
	a := newAPITest(t, Options{})
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{a.srv.URL}})
	require.NoError(t, err)
	ctx := context.Background()

	decode := func(res *esapi.Response, err error) map[string]any {
		t.Helper()
		require.NoError(t, err)
		defer res.Body.Close()
		require.False(t, res.IsError(), "%s", res.String())
		var m map[string]any
		require.NoError(t, json.NewDecoder(res.Body).Decode(&m))
		return m
	}

	info := decode(es.Info())
	require.Equal(t, "8.11.0", at(info, "version", "number"))

	decode(es.Indices.Create("products", es.Indices.Create.WithBody(strings.NewReader(
		`{"settings":{"number_of_shards":2},"mappings":{"properties":{"title":{"type":"text"}}}}`))))
	m := decode(es.Index("products", strings.NewReader(`{"title":"wireless headphones"}`), es.Index.WithDocumentID("1"), es.Index.WithRefresh("true")))
	require.Equal(t, "created", m["result"])

	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: "products", NumWorkers: 1})
	require.NoError(t, err)
	failed := 0
	for _, id := range []string{"2", "3", "4"} {
		require.NoError(t, bi.Add(ctx, esutil.BulkIndexerItem{
			Action: "index", DocumentID: id, Body: strings.NewReader(`{"title":"lamp ` + id + `"}`),
			OnFailure: func(context.Context, esutil.BulkIndexerItem, esutil.BulkIndexerResponseItem, error) { failed++ },
		}))
	}
	require.NoError(t, bi.Close(ctx))
	require.Equal(t, uint64(3), bi.Stats().NumIndexed)
	require.Zero(t, failed)

	res, err := es.Bulk(bytes.NewReader([]byte("{\"delete\":{\"_index\":\"products\",\"_id\":\"4\"}}\n")))
	m = decode(res, err)
	require.Equal(t, false, m["errors"])

	m = decode(es.Get("products", "2"))
	require.Equal(t, "lamp 2", at(m, "_source", "title"))
	res, err = es.Get("products", "4")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, 404, res.StatusCode)

	m = decode(es.Search(es.Search.WithIndex("products"), es.Search.WithBody(strings.NewReader(`{"query":{"match":{"title":"lamp"}}}`)), es.Search.WithSize(10)))
	require.EqualValues(t, 3, at(m, "hits", "total", "value"))
	require.Equal(t, "1", at(m, "hits", "hits", 0, "_id"))
	m = decode(es.Count(es.Count.WithIndex("products")))
	require.EqualValues(t, 3, m["count"])

	// Errors come back in the shape the client reads.
	res, err = es.Indices.Create("products")
	require.NoError(t, err)
	defer res.Body.Close()
	require.True(t, res.IsError())
	require.Contains(t, res.String(), "resource_already_exists_exception")
}
