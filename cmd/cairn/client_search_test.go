package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/searchd/searchdtest"
)

// searchCLI runs cairn commands in-process against an in-process searchd.
type searchCLI struct {
	t   *testing.T
	eps string
}

func newSearchCLI(t *testing.T) *searchCLI {
	c := searchdtest.New(t, 1, nil)
	return &searchCLI{t: t, eps: strings.Join(c.Endpoints(), ",")}
}

func (s *searchCLI) runCtx(ctx context.Context, stdin string, args ...string) cliResult {
	var stdout, stderr syncBuffer
	root := newRootCmd()
	root.SetArgs(withEndpoints(args, s.eps))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetIn(strings.NewReader(stdin))
	err := root.ExecuteContext(ctx)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

func (s *searchCLI) run(args ...string) cliResult { return s.runCtx(testCtx(s.t), "", args...) }

func (s *searchCLI) ok(args ...string) string {
	s.t.Helper()
	r := s.run(args...)
	require.NoError(s.t, r.err, "%v: %s", args, r.stderr)
	return r.stdout
}

// The CLI walk-through: create with mappings, bulk, query with
// typos, facets and highlights (table and Elasticsearch JSON), suggest,
// get, delete, list and stats.
func TestSearchCLI(t *testing.T) {
	s := newSearchCLI(t)
	dir := t.TempDir()
	mappings := filepath.Join(dir, "mappings.json")
	require.NoError(t, os.WriteFile(mappings, []byte(`{"properties":{"title":{"type":"text"},"category":{"type":"keyword"},"price":{"type":"float"}}}`), 0o600))
	require.Contains(t, s.ok("search", "index", "create", "products", "--shards", "2", "--replicas", "0", "--mappings", mappings), "created index products (2 shards, 0 replicas")
	r := s.run("search", "index", "create", "products")
	require.Equal(t, exitConflict, r.code(), "%v", r.err)

	bulk := filepath.Join(dir, "products.ndjson")
	require.NoError(t, os.WriteFile(bulk, []byte(`{"index":{"_id":"1"}}
{"title":"Wireless headphones","category":"audio","price":99}
{"index":{"_id":"2"}}
{"title":"Wireless mouse","category":"computers","price":20}
{"index":{"_id":"3"}}
{"title":"Laptop lamp","category":"home","price":30}
`), 0o600))
	require.Contains(t, s.ok("search", "bulk", "products", bulk, "--refresh=wait_for"), "3 items applied, 0 failed")
	require.Contains(t, s.ok("search", "put", "products", "4", `{"title":"Lapel pin","category":"home","price":5}`, "--refresh"), "created products/4")

	out := s.ok("search", "query", "products", "wirless", "--fuzzy", "--facet", "category", "--highlight")
	require.Contains(t, out, "2 hits")
	require.Contains(t, out, "Wireless headphones")
	require.Contains(t, out, "<em>Wireless</em>")
	require.Contains(t, out, "category:")
	require.Contains(t, out, "audio")

	var res map[string]any
	require.NoError(t, json.Unmarshal([]byte(s.ok("search", "query", "products", "wirless headphones", "--fuzzy", "--facet", "category", "--output", "json")), &res))
	hits := res["hits"].(map[string]any)
	require.EqualValues(t, 2, hits["total"].(map[string]any)["value"])
	require.Equal(t, "1", hits["hits"].([]any)[0].(map[string]any)["_id"], "both words match the headphones")
	require.NotNil(t, res["aggregations"].(map[string]any)["category"])

	out = s.ok("search", "query", "products", "", "--filter", "category:home", "--filter", "price<=10")
	require.Contains(t, out, "1 hits")
	require.Contains(t, out, "Lapel pin")
	require.Equal(t, exitUsage, s.run("search", "query", "products", "x", "--filter", "nonsense").code())
	raw := filepath.Join(dir, "body.json")
	require.NoError(t, os.WriteFile(raw, []byte(`{"query":{"term":{"category":"audio"}}}`), 0o600))
	require.Contains(t, s.ok("search", "query", "products", "--raw", raw), "Wireless headphones")
	require.Equal(t, exitUsage, s.run("search", "query", "products").code())
	require.Equal(t, exitUsage, s.run("search", "query", "products", "x", "--raw", raw).code())

	require.Contains(t, s.ok("search", "suggest", "products", "lap"), "laptop")

	require.Equal(t, `{"title":"Lapel pin","category":"home","price":5}`+"\n", s.ok("search", "get", "products", "4"))
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(s.ok("search", "get", "products", "4", "--output", "json")), &doc))
	require.Equal(t, true, doc["found"])
	require.Equal(t, "Lapel pin", doc["_source"].(map[string]any)["title"])
	require.Contains(t, s.ok("search", "delete", "products", "4"), "deleted products/4")
	require.Equal(t, exitNotFound, s.run("search", "get", "products", "4").code())
	require.Equal(t, exitNotFound, s.run("search", "delete", "products", "4").code())
	require.Equal(t, exitNotFound, s.run("search", "get", "nope", "1").code())
	require.Equal(t, exitUsage, s.run("search", "put", "products", "5", "not json").code())

	require.Contains(t, s.ok("search", "index", "list"), "products")
	out = s.ok("search", "index", "stats", "products")
	require.Contains(t, out, "shards            2")
	require.Contains(t, out, "started")
	require.Contains(t, s.ok("search", "index", "delete", "products"), "deleted index products")
	require.Equal(t, exitNotFound, s.run("search", "index", "stats", "products").code())
}

// cairn search sync follows a raftkv prefix until stopped.
func TestSearchCLISync(t *testing.T) {
	s := newSearchCLI(t)
	kvAddr := startRaftKVNode(t)
	s.ok("search", "index", "create", "shop", "--replicas", "0")
	s.kv(kvAddr, "put", "/shop/p1", `{"title":"wireless headphones"}`)

	ctx, cancel := context.WithCancel(testCtx(t))
	done := make(chan cliResult, 1)
	go func() {
		done <- s.runCtx(ctx, "", "search", "sync", "--prefix", "/shop/", "--index", "shop", "--kv-endpoints", kvAddr, "--output", "json")
	}()
	nodetest.WaitFor(t, 30*time.Second, "p1 synced", func() bool { return s.run("search", "get", "shop", "p1").err == nil })
	s.kv(kvAddr, "del", "/shop/p1")
	nodetest.WaitFor(t, 30*time.Second, "p1 deleted", func() bool { return s.run("search", "get", "shop", "p1").code() == exitNotFound })
	cancel()
	r := <-done
	require.NoError(t, r.err, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	var last map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &last))
	require.EqualValues(t, 1, last["deleted"])
}

// kv runs a cairn kv command against a raftkv node.
func (s *searchCLI) kv(addr string, args ...string) {
	s.t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	root.SetArgs(append(append([]string{"kv"}, args...), "--endpoints", addr))
	root.SetOut(&out)
	root.SetErr(&out)
	require.NoError(s.t, root.ExecuteContext(testCtx(s.t)), out.String())
}

func TestClusterEnvSearch(t *testing.T) {
	st := &cluster.State{Dir: "/c", Nodes: []cluster.NodeState{{Name: "searchd-1", Service: "searchd", GRPCAddr: "127.0.0.1:7600", Ports: map[string]string{"http": "127.0.0.1:7620"}}},
		TLS: &cluster.TLSState{CAFile: "/c/tls/ca.pem", CertFile: "/c/tls/client.pem", KeyFile: "/c/tls/client-key.pem"}}
	var b bytes.Buffer
	require.NoError(t, writeClusterEnv(&b, st))
	require.Contains(t, b.String(), "export CAIRN_SEARCH_ENDPOINT='https://127.0.0.1:7620'\n")
	require.Contains(t, b.String(), "export CURL_CA_BUNDLE='/c/tls/ca.pem'\n")
	st.TLS = nil
	b.Reset()
	require.NoError(t, writeClusterEnv(&b, st))
	require.Contains(t, b.String(), "export CAIRN_SEARCH_ENDPOINT='http://127.0.0.1:7620'\n")
}
