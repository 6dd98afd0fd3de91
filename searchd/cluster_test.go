package searchd_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/rpcerr"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd"
	"cairn.dev/cairn/searchd/engine"
	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/meta"
	"cairn.dev/cairn/searchd/searchdtest"
)

type api struct {
	ix  searchdv1.IndexServiceClient
	doc searchdv1.DocumentServiceClient
	sr  searchdv1.SearchServiceClient
	sh  searchdv1.ShardServiceClient
}

func apiOf(conn grpc.ClientConnInterface) api {
	return api{searchdv1.NewIndexServiceClient(conn), searchdv1.NewDocumentServiceClient(conn),
		searchdv1.NewSearchServiceClient(conn), searchdv1.NewShardServiceClient(conn)}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// setup starts 3 nodes, creates "products" (3 shards, 1 replica) and bulks
// n documents into it.
func setup(t *testing.T, n int) (*searchdtest.Cluster, api) {
	c := searchdtest.New(t, 3, nil)
	a := apiOf(c.Leader().Conn)
	ctx := ctxT(t)
	_, err := a.ix.CreateIndex(ctx, &searchdv1.CreateIndexRequest{Name: "products",
		Settings:     &searchdv1.IndexSettings{Shards: 3, Replicas: 1},
		MappingsJson: []byte(`{"properties":{"title":{"type":"text"},"n":{"type":"long"}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	req := &searchdv1.BulkRequest{Index: "products", Refresh: searchdv1.Refresh_REFRESH_WAIT_FOR}
	for i := 0; i < n; i++ {
		req.Items = append(req.Items, &searchdv1.BulkItem{Action: searchdv1.BulkAction_BULK_ACTION_INDEX, Id: strconv.Itoa(i),
			SourceJson: fmt.Appendf(nil, `{"title":"wireless headphones model %d","n":%d,"brand":"b%d"}`, i, i, i%5)})
	}
	resp, err := a.doc.Bulk(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetErrors() {
		t.Fatalf("bulk errors: %v", resp.GetItems()[0])
	}
	for _, it := range resp.GetItems() {
		if it.GetStatus() != 201 || it.GetResult() != "created" {
			t.Fatalf("bulk item %v", it)
		}
	}
	return c, a
}

func total(t *testing.T, a api, body string) int64 {
	t.Helper()
	resp, err := a.sr.Search(ctxT(t), &searchdv1.SearchRequest{Indexes: []string{"products"}, BodyJson: []byte(body)})
	if err != nil {
		t.Fatalf("search %s: %v", body, err)
	}
	return resp.GetTotalHits()
}

// copyCounts returns the searchable documents of every started copy.
func copyCounts(t *testing.T, c *searchdtest.Cluster) map[string]int64 {
	t.Helper()
	ix, err := c.Leader().Server.Meta().Index("products")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for shard, cs := range ix.Copies {
		for _, cp := range cs {
			if cp.State != meta.Started {
				continue
			}
			m := c.Member(cp.Node)
			if m == nil || !m.Running() {
				continue
			}
			r := &searchdv1.ShardRef{Index: ix.Name, IndexUuid: ix.UUID, Shard: int32(shard)}
			sh := searchdv1.NewShardServiceClient(m.Conn)
			if _, err := sh.ShardSync(ctxT(t), &searchdv1.ShardSyncRequest{Shard: r, MinOffset: 0, Refresh: true}); err != nil {
				t.Fatalf("sync %s shard %d: %v", cp.Node, shard, err)
			}
			resp, err := sh.ShardSearch(ctxT(t), &searchdv1.ShardSearchRequest{Shard: r, BodyJson: []byte(`{"size":0,"track_total_hits":true}`)})
			if err != nil {
				t.Fatalf("count %s shard %d: %v", cp.Node, shard, err)
			}
			var w struct {
				R json.RawMessage `json:"r"`
			}
			if err := json.Unmarshal(resp.GetResult(), &w); err != nil {
				t.Fatal(err)
			}
			res, err := engine.DecodeShardResult(w.R)
			if err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("%d/%s", shard, cp.Node)] = res.Total
		}
	}
	return out
}

// checkCopiesAgree checks every shard's started copies count the same and
// the counts sum (one copy per shard) to want.
func checkCopiesAgree(t *testing.T, c *searchdtest.Cluster, want int64) {
	t.Helper()
	counts := copyCounts(t, c)
	perShard := map[string]int64{}
	for k, n := range counts {
		shard := k[:1]
		if prev, ok := perShard[shard]; ok && prev != n {
			t.Fatalf("copies of shard %s disagree: %v", shard, counts)
		}
		perShard[shard] = n
	}
	var sum int64
	for _, n := range perShard {
		sum += n
	}
	if sum != want || len(perShard) != 3 {
		t.Fatalf("copies hold %d documents over %d shards, want %d over 3: %v", sum, len(perShard), want, counts)
	}
}

func TestIndexSearchGetDelete(t *testing.T) {
	c, a := setup(t, 100)
	ctx := ctxT(t)
	if n := total(t, a, `{"query":{"match_all":{}}}`); n != 100 {
		t.Fatalf("match_all total %d, want 100", n)
	}
	if n := total(t, a, `{"query":{"match":{"title":"wireless"}}}`); n != 100 {
		t.Fatalf("match total %d, want 100", n)
	}
	if n := total(t, a, `{"query":{"range":{"n":{"lt":10}}}}`); n != 10 {
		t.Fatalf("range total %d, want 10", n)
	}
	aggs, err := a.sr.Search(ctx, &searchdv1.SearchRequest{Indexes: []string{"products"},
		BodyJson: []byte(`{"size":0,"aggs":{"n":{"max":{"field":"n"}},"brands":{"terms":{"field":"brand.keyword"}}}}`)})
	if err != nil || !strings.Contains(string(aggs.GetAggregationsJson()), `"value":99`) || !strings.Contains(string(aggs.GetAggregationsJson()), `"doc_count":20`) {
		t.Fatalf("aggregations: %s %v", aggs.GetAggregationsJson(), err)
	}
	cnt, err := a.sr.Count(ctx, &searchdv1.CountRequest{Indexes: []string{"products"}, BodyJson: []byte(`{"query":{"term":{"n":7}}}`)})
	if err != nil || cnt.GetCount() != 1 {
		t.Fatalf("count: %v %v", cnt, err)
	}
	checkCopiesAgree(t, c, 100)

	// Realtime get after a put without refresh, from another node.
	other := apiOf(c.Follower().Conn)
	put, err := other.doc.PutDocument(ctx, &searchdv1.PutDocumentRequest{Index: "products", Id: "new", SourceJson: []byte(`{"title":"fresh","color":"red"}`)})
	if err != nil || put.GetResult() != "created" {
		t.Fatalf("put: %v %v", put, err)
	}
	got, err := a.doc.GetDocument(ctx, &searchdv1.GetDocumentRequest{Index: "products", Id: "new"})
	if err != nil || !got.GetFound() || string(got.GetSourceJson()) != `{"title":"fresh","color":"red"}` {
		t.Fatalf("realtime get: %v %v", got, err)
	}
	// Dynamic mapping committed the new field.
	gi, err := a.ix.GetIndex(ctx, &searchdv1.GetIndexRequest{Name: "products"})
	if err != nil || gi.GetIndex().GetMappingVersion() < 2 {
		t.Fatalf("mapping after a new field: %v %v", gi, err)
	}
	// Create of an existing id conflicts; an update says updated.
	_, err = a.doc.PutDocument(ctx, &searchdv1.PutDocumentRequest{Index: "products", Id: "new", SourceJson: []byte(`{"title":"x"}`), OpType: searchdv1.OpType_OP_TYPE_CREATE})
	if rpcerr.ReasonOf(err) != rpcerr.VersionConflict {
		t.Fatalf("create of an existing id: %v", err)
	}
	put, err = a.doc.PutDocument(ctx, &searchdv1.PutDocumentRequest{Index: "products", Id: "new", SourceJson: []byte(`{"title":"fresher"}`), Refresh: searchdv1.Refresh_REFRESH_WAIT_FOR})
	if err != nil || put.GetResult() != "updated" {
		t.Fatalf("update: %v %v", put, err)
	}
	if n := total(t, a, `{"query":{"match":{"title":"fresher"}}}`); n != 1 {
		t.Fatalf("updated doc found %d times", n)
	}
	// Delete, then search.
	del, err := a.doc.DeleteDocument(ctx, &searchdv1.DeleteDocumentRequest{Index: "products", Id: "7", Refresh: searchdv1.Refresh_REFRESH_TRUE})
	if err != nil || del.GetResult() != "deleted" {
		t.Fatalf("delete: %v %v", del, err)
	}
	del, err = a.doc.DeleteDocument(ctx, &searchdv1.DeleteDocumentRequest{Index: "products", Id: "7"})
	if err != nil || del.GetResult() != "not_found" {
		t.Fatalf("second delete: %v %v", del, err)
	}
	if n := total(t, a, `{"query":{"term":{"n":7}}}`); n != 0 {
		t.Fatalf("deleted doc still found (%d)", n)
	}
	if _, err := a.ix.Refresh(ctx, &searchdv1.RefreshRequest{}); err != nil {
		t.Fatal(err)
	}
	if n := total(t, a, `{}`); n != 100 {
		t.Fatalf("after put and delete: %d docs, want 100", n)
	}
	checkCopiesAgree(t, c, 100)
	// Bulk item errors.
	resp, err := a.doc.Bulk(ctx, &searchdv1.BulkRequest{Index: "products", Items: []*searchdv1.BulkItem{
		{Action: searchdv1.BulkAction_BULK_ACTION_CREATE, Id: "1", SourceJson: []byte(`{"title":"dup"}`)},
		{Action: searchdv1.BulkAction_BULK_ACTION_INDEX, Id: "bad", SourceJson: []byte(`{"n":"not a number"}`)},
		{Action: searchdv1.BulkAction_BULK_ACTION_DELETE, Id: "absent"},
		{Action: searchdv1.BulkAction_BULK_ACTION_INDEX, Index: "nope", Id: "x", SourceJson: []byte(`{}`)},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var statuses []int32
	for _, it := range resp.GetItems() {
		statuses = append(statuses, it.GetStatus())
	}
	if fmt.Sprint(statuses) != "[409 400 404 404]" || !resp.GetErrors() {
		t.Fatalf("bulk statuses %v: %v", statuses, resp.GetItems())
	}
	// Suggest.
	sg, err := a.sr.Suggest(ctx, &searchdv1.SuggestRequest{Index: "products", Prefix: "wire", Size: 3})
	if err != nil || len(sg.GetSuggestions()) == 0 || sg.GetSuggestions()[0].GetText() != "wireless" {
		t.Fatalf("suggest: %v %v", sg, err)
	}
	// Errors.
	if _, err := a.ix.GetIndex(ctx, &searchdv1.GetIndexRequest{Name: "nope"}); rpcerr.ReasonOf(err) != rpcerr.IndexNotFound {
		t.Fatalf("missing index: %v", err)
	}
	if _, err := a.ix.CreateIndex(ctx, &searchdv1.CreateIndexRequest{Name: "products"}); rpcerr.ReasonOf(err) != rpcerr.IndexExists {
		t.Fatalf("existing index: %v", err)
	}
	if _, err := a.sr.Search(ctx, &searchdv1.SearchRequest{Indexes: []string{"products"}, BodyJson: []byte(`{"query":{"nope":{}}}`)}); rpcerr.ReasonOf(err) != rpcerr.ParseError {
		t.Fatalf("bad query: %v", err)
	}
	// Delete the index.
	if _, err := a.ix.DeleteIndex(ctx, &searchdv1.DeleteIndexRequest{Name: "products"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.sr.Search(ctx, &searchdv1.SearchRequest{Indexes: []string{"products"}}); rpcerr.ReasonOf(err) != rpcerr.IndexNotFound {
		t.Fatalf("search of a deleted index: %v", err)
	}
}

func TestNodeLossReplacesCopies(t *testing.T) {
	c, _ := setup(t, 60)
	leader := c.WaitLeader()
	var victim string
	for _, m := range c.All() {
		if m.ID != leader {
			victim = m.ID
			break
		}
	}
	c.Stop(victim)
	a := apiOf(c.Leader().Conn)
	// At once: the remaining copy of each shard answers.
	if n := total(t, a, `{}`); n != 60 {
		t.Fatalf("right after a node loss: %d docs, want 60", n)
	}
	// Then the lost copies are replaced and started elsewhere.
	nodetest.WaitFor(t, 30*time.Second, "copies replaced", func() bool {
		ix, err := c.Leader().Server.Meta().Index("products")
		if err != nil || ix.Health() != "green" {
			return false
		}
		for _, cs := range ix.Copies {
			for _, cp := range cs {
				if cp.Node == victim {
					return false
				}
			}
		}
		return true
	})
	if n := total(t, a, `{}`); n != 60 {
		t.Fatalf("after replacement: %d docs, want 60", n)
	}
	var recovered int64
	for _, m := range c.Live() {
		recovered += m.Server.PeerRecoveries()
	}
	if recovered == 0 {
		t.Fatal("no copy was built by peer recovery")
	}
	checkCopiesAgree(t, c, 60)
}

func TestRestartResumesFromCommit(t *testing.T) {
	c, a := setup(t, 30)
	victim := c.Follower().ID
	uuid := ""
	if ix, err := c.Leader().Server.Meta().Index("products"); err == nil {
		uuid = ix.UUID
	}
	c.Stop(victim)
	// The copies on the stopped node committed on close at their applied
	// offset.
	m := c.Member(victim)
	ix, _ := c.Leader().Server.Meta().Index("products")
	committed := int64(0)
	for shard, cs := range ix.Copies {
		if cp, ok := ix.CopyOn(shard, victim); ok {
			_ = cs
			dir := filepath.Join(m.Config.DataDir, searchd.ShardsDir, uuid, strconv.Itoa(shard), strconv.FormatUint(cp.AllocID, 10))
			w, err := index.Open(index.Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			off, _ := strconv.ParseInt(w.CommitData()["offset"], 10, 64)
			docs := w.Stats().Docs
			w.Close()
			if off == 0 || docs == 0 {
				t.Fatalf("shard %d on %s: commit offset %d with %d docs", shard, victim, off, docs)
			}
			committed += off
		}
	}
	if committed == 0 {
		t.Fatalf("%s held no copies", victim)
	}
	// Writes while it is down, then a restart: it resumes and catches up.
	if _, err := a.doc.PutDocument(ctxT(t), &searchdv1.PutDocumentRequest{Index: "products", Id: "late", SourceJson: []byte(`{"title":"late"}`)}); err != nil {
		t.Fatal(err)
	}
	c.Restart(victim)
	nodetest.WaitFor(t, 30*time.Second, "index green", func() bool {
		ix, err := c.Leader().Server.Meta().Index("products")
		return err == nil && ix.Health() == "green"
	})
	rr, err := a.ix.Refresh(ctxT(t), &searchdv1.RefreshRequest{Indexes: []string{"products"}})
	if err != nil || rr.GetSuccessfulShards() != rr.GetTotalShards() || rr.GetTotalShards() != 6 {
		t.Fatalf("refresh: %v %v", rr, err)
	}
	checkCopiesAgree(t, c, 31)
}
