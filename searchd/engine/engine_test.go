package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
)

const productsMapping = `{"properties":{
  "title":{"type":"text"},
  "brand":{"type":"keyword"},
  "category":{"type":"keyword"},
  "price":{"type":"double"},
  "stock":{"type":"long"},
  "added":{"type":"date"}
}}`

// esResponse is the part of Elasticsearch's response the tests read.
type esResponse struct {
	Took     int64 `json:"took"`
	TimedOut bool  `json:"timed_out"`
	Shards   struct {
		Total, Successful, Skipped, Failed int
	} `json:"_shards"`
	Hits struct {
		Total *struct {
			Value    int64  `json:"value"`
			Relation string `json:"relation"`
		} `json:"total"`
		MaxScore *float64 `json:"max_score"`
		Hits     []struct {
			Index     string              `json:"_index"`
			ID        string              `json:"_id"`
			Score     *float64            `json:"_score"`
			Source    json.RawMessage     `json:"_source"`
			Highlight map[string][]string `json:"highlight"`
			Sort      []any               `json:"sort"`
		} `json:"hits"`
	} `json:"hits"`
	Aggregations map[string]json.RawMessage `json:"aggregations"`
	Suggest      map[string]json.RawMessage `json:"suggest"`
}

func openIndex(t *testing.T, name string, shards int) *Index {
	t.Helper()
	ix, err := Open(filepath.Join(t.TempDir(), name), []byte(productsMapping), Settings{Shards: shards})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func put(t *testing.T, ix *Index, id, src string) {
	t.Helper()
	if err := ix.Put(id, []byte(src)); err != nil {
		t.Fatalf("put %s: %v", id, err)
	}
}

func search(t *testing.T, ix *Index, body string) *esResponse {
	t.Helper()
	raw, err := ix.Search(context.Background(), []byte(body))
	if err != nil {
		t.Fatalf("search %s: %v", body, err)
	}
	var r esResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("response %s: %v", raw, err)
	}
	return &r
}

func hitIDs(r *esResponse) []string {
	out := make([]string, len(r.Hits.Hits))
	for i, h := range r.Hits.Hits {
		out[i] = h.ID
	}
	return out
}

var products = [][2]string{
	{"1", `{"title":"Wireless Headphones","brand":"Sony","category":"audio","price":99.5,"stock":10,"added":"2024-01-10"}`},
	{"2", `{"title":"Wireless Mouse","brand":"Logitech","category":"computer","price":25,"stock":0,"added":"2024-02-01"}`},
	{"3", `{"title":"Laptop Stand","brand":"Lenovo","category":"computer","price":45,"stock":5,"added":"2024-02-15"}`},
	{"4", `{"title":"Gaming Laptop","brand":"Lenovo","category":"computer","price":1299,"stock":2,"added":"2024-03-01"}`},
	{"5", `{"title":"Lapel Pin","brand":"Levi","category":"fashion","price":5,"stock":100,"added":"2023-12-24"}`},
	{"6", `{"title":"Desk Lamp","brand":"Ikea","category":"home","price":19.99,"stock":7,"added":"2024-01-20"}`},
	{"7", `{"title":"Bluetooth Speaker, wireless and loud","brand":"Sony","category":"audio","price":150,"stock":3,"added":"2024-02-20"}`},
}

func loadProducts(t *testing.T, ix *Index) {
	t.Helper()
	for _, p := range products {
		put(t, ix, p[0], p[1])
	}
	if err := ix.Refresh(); err != nil {
		t.Fatal(err)
	}
}

func TestShardOfStable(t *testing.T) {
	// FNV-1a 32 of the id modulo shards: fixed forever.
	for _, c := range []struct {
		id     string
		shards int
		want   int
	}{{"", 3, 0x811c9dc5 % 3}, {"a", 3, 0xe40c292c % 3}, {"foobar", 5, 0xbf9cf968 % 5}, {"x", 1, 0}, {"x", 0, 0}} {
		if got := ShardOf(c.id, c.shards); got != c.want {
			t.Errorf("ShardOf(%q, %d) = %d, want %d", c.id, c.shards, got, c.want)
		}
	}
}

func TestSearchResponseShape(t *testing.T) {
	ix := openIndex(t, "products", 3)
	loadProducts(t, ix)
	r := search(t, ix, `{"query":{"bool":{"must":{"match":{"title":"wireless"}},"filter":{"range":{"price":{"lte":100}}}}},
		"aggs":{"brands":{"terms":{"field":"brand"}}},"highlight":{"fields":{"title":{}}}}`)
	if r.TimedOut || r.Shards.Total != 3 || r.Shards.Successful != 3 {
		t.Fatalf("header %+v", r)
	}
	if r.Hits.Total == nil || r.Hits.Total.Value != 2 || r.Hits.Total.Relation != "eq" {
		t.Fatalf("total %+v", r.Hits.Total)
	}
	if got := strings.Join(hitIDs(r), ","); got != "2,1" && got != "1,2" {
		t.Fatalf("hits %s", got)
	}
	for _, h := range r.Hits.Hits {
		if h.Index != "products" || h.Score == nil || len(h.Source) == 0 || !strings.Contains(h.Highlight["title"][0], "<em>Wireless</em>") {
			t.Fatalf("hit %+v", h)
		}
	}
	if r.Hits.MaxScore == nil || *r.Hits.MaxScore != *r.Hits.Hits[0].Score {
		t.Fatal("max_score")
	}
	var brands struct {
		Buckets []struct {
			Key      string `json:"key"`
			DocCount int    `json:"doc_count"`
		} `json:"buckets"`
	}
	if err := json.Unmarshal(r.Aggregations["brands"], &brands); err != nil || len(brands.Buckets) != 2 {
		t.Fatalf("aggs %s %v", r.Aggregations["brands"], err)
	}
	// track_total_hits false leaves total out; sorting by a field without
	// track_scores gives null scores and sort values.
	r = search(t, ix, `{"track_total_hits":false,"sort":[{"price":"desc"}],"size":2}`)
	if r.Hits.Total != nil || r.Hits.Hits[0].Score != nil || r.Hits.Hits[0].ID != "4" || r.Hits.Hits[0].Sort[0].(float64) != 1299 {
		t.Fatalf("sorted %+v", r.Hits)
	}
}

func TestRangeNumbersAndDates(t *testing.T) {
	ix := openIndex(t, "products", 2)
	loadProducts(t, ix)
	now := time.Now().UTC()
	put(t, ix, "new", fmt.Sprintf(`{"title":"fresh thing","price":1,"stock":1,"added":%q}`, now.Add(-time.Hour).Format(time.RFC3339)))
	put(t, ix, "old", fmt.Sprintf(`{"title":"stale thing","price":1,"stock":1,"added":%q}`, now.AddDate(0, 0, -3).Format(time.RFC3339)))
	if err := ix.Refresh(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ body, want string }{
		{`{"range":{"price":{"gte":20,"lt":100}}}`, "1,2,3"},
		{`{"range":{"price":{"gt":25,"lte":99.5}}}`, "1,3"},
		{`{"range":{"stock":{"gte":5}}}`, "1,3,5,6"},
		{`{"range":{"stock":{"lt":1}}}`, "2"},
		{`{"range":{"stock":{"gt":1.5,"lt":3}}}`, "4"},
		{`{"range":{"added":{"gte":"2024-02-01","lt":"2024-03-01"}}}`, "2,3,7"},
		{`{"range":{"added":{"gt":"2024-01||/M","lte":"2024-02-15"}}}`, "2,3"},
		{`{"range":{"added":{"gte":"now-1d/d"}}}`, "new"},
		{`{"range":{"added":{"gte":"now-7d","lt":"now-1d"}}}`, "old"},
		{`{"range":{"brand":{"gte":"L","lt":"M"}}}`, "2,3,4,5"},
		{`{"term":{"stock":100}}`, "5"},
		{`{"bool":{"must_not":{"exists":{"field":"brand"}}}}`, "new,old"},
		{`{"exists":{"field":"title"}}`, "1,2,3,4,5,6,7,new,old"},
		{`{"bool":{"filter":[{"exists":{"field":"price"}},{"range":{"price":{"lt":2}}}]}}`, "new,old"},
		{`{"terms":{"price":[25,45]}}`, "2,3"},
	} {
		r := search(t, ix, `{"size":20,"sort":["_id"],"query":`+c.body+`}`)
		if got := strings.Join(hitIDs(r), ","); got != c.want {
			t.Errorf("%s: got %s, want %s", c.body, got, c.want)
		}
	}
}

// corpus makes n random products.
func corpus(rng *rand.Rand, n int) [][2]string {
	words := []string{"wireless", "headphones", "laptop", "stand", "gaming", "mouse", "keyboard", "lamp", "desk",
		"speaker", "bluetooth", "cable", "charger", "usb", "monitor", "camera", "lens", "bag", "case", "screen"}
	brands := []string{"Sony", "Lenovo", "Apple", "Ikea", "Logitech", "Dell"}
	out := make([][2]string, n)
	for i := range out {
		ws := make([]string, 1+rng.IntN(8))
		for j := range ws {
			ws[j] = words[rng.IntN(len(words))]
		}
		doc := map[string]any{"title": strings.Join(ws, " "), "brand": brands[rng.IntN(len(brands))],
			"price": math.Round(rng.Float64()*50000) / 100, "stock": rng.IntN(20)}
		if rng.IntN(5) == 0 {
			delete(doc, "stock")
		}
		b, _ := json.Marshal(doc)
		out[i] = [2]string{fmt.Sprintf("p%04d", i), string(b)}
	}
	return out
}

// TestScoresIndependentOfShardCount indexes one corpus into 1 and 3 shards:
// with global statistics every document scores the same.
func TestScoresIndependentOfShardCount(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 3))
	docs := append(corpus(rng, 400),
		[2]string{"fixed1", `{"title":"gaming laptop stand","brand":"Ikea","price":10}`},
		[2]string{"fixed2", `{"title":"laptop big stand and lamp","brand":"Dell","price":20}`})
	one := openIndex(t, "one", 1)
	three := openIndex(t, "three", 3)
	for _, ix := range []*Index{one, three} {
		for i, d := range docs {
			put(t, ix, d[0], d[1])
			if i == 200 {
				if err := ix.Refresh(); err != nil { // two segments per shard
					t.Fatal(err)
				}
			}
		}
		if err := ix.Refresh(); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range []string{
		`{"match":{"title":"wireless headphones"}}`,
		`{"match":{"title":{"query":"gaming laptop stand","operator":"and"}}}`,
		`{"match_phrase":{"title":{"query":"laptop stand","slop":1}}}`,
		`{"bool":{"should":[{"match":{"title":"lamp"}},{"term":{"brand":"Ikea"}}],"filter":{"range":{"price":{"lt":300}}}}}`,
		`{"match":{"title":{"query":"wirless camra","fuzziness":"AUTO"}}}`,
	} {
		body := `{"size":500,"query":` + q + `}`
		a, b := search(t, one, body), search(t, three, body)
		if a.Hits.Total.Value != b.Hits.Total.Value || a.Hits.Total.Value == 0 {
			t.Fatalf("%s: totals %d vs %d", q, a.Hits.Total.Value, b.Hits.Total.Value)
		}
		scores := map[string]float64{}
		for _, h := range a.Hits.Hits {
			scores[h.ID] = *h.Score
		}
		for _, h := range b.Hits.Hits {
			if s, ok := scores[h.ID]; !ok || math.Abs(s-*h.Score) > 1e-9*s {
				t.Fatalf("%s: %s scores %v in 1 shard, %v in 3", q, h.ID, s, *h.Score)
			}
		}
	}
}

// TestSortSearchAfterPaging pages through every document with search_after
// and sees each exactly once, in order.
func TestSortSearchAfterPaging(t *testing.T) {
	rng := rand.New(rand.NewPCG(nodetest.Seed(t), 5))
	docs := corpus(rng, 120)
	ix := openIndex(t, "paging", 3)
	for _, d := range docs {
		put(t, ix, d[0], d[1])
	}
	if err := ix.Refresh(); err != nil {
		t.Fatal(err)
	}
	for _, sortSpec := range []string{
		`[{"stock":{"order":"desc","missing":"_last"}},{"_id":"asc"}]`,
		`[{"brand":"asc"},{"price":"desc"},"_id"]`,
		`[{"stock":{"order":"asc","missing":"_first"}},"_id"]`,
	} {
		seen := map[string]bool{}
		var after string
		var prev []any
		for page := 0; page < 100; page++ {
			body := `{"size":7,"sort":` + sortSpec
			if after != "" {
				body += `,"search_after":` + after
			}
			r := search(t, ix, body+`}`)
			if len(r.Hits.Hits) == 0 {
				break
			}
			for _, h := range r.Hits.Hits {
				if seen[h.ID] {
					t.Fatalf("%s: %s seen twice", sortSpec, h.ID)
				}
				seen[h.ID] = true
				prev = h.Sort
			}
			b, _ := json.Marshal(prev)
			after = string(b)
		}
		if len(seen) != len(docs) {
			t.Fatalf("%s: saw %d of %d documents", sortSpec, len(seen), len(docs))
		}
	}
	// from/size pages over shards agree with one big page.
	all := hitIDs(search(t, ix, `{"size":120,"query":{"match":{"title":"laptop lamp"}}}`))
	var paged []string
	for from := 0; from < len(all); from += 9 {
		paged = append(paged, hitIDs(search(t, ix, fmt.Sprintf(`{"from":%d,"size":9,"query":{"match":{"title":"laptop lamp"}}}`, from)))...)
	}
	if strings.Join(all, ",") != strings.Join(paged, ",") {
		t.Fatalf("from/size pages differ from one page")
	}
}

func TestCompleteAndSuggest(t *testing.T) {
	ix := openIndex(t, "products", 3)
	loadProducts(t, ix)
	got, err := ix.Complete(nil, "lap", 5, true)
	if err != nil {
		t.Fatal(err)
	}
	var words []string
	for _, s := range got {
		words = append(words, s.Text)
	}
	if strings.Join(words, ",") != "laptop,lapel,lamp" {
		t.Fatalf("complete lap: %+v", got)
	}
	r := search(t, ix, `{"size":0,"suggest":{"fix":{"text":"wirless","term":{"field":"title"}},"c":{"prefix":"lap","completion":{"field":"title"}}}}`)
	var fix []struct {
		Text    string `json:"text"`
		Options []struct {
			Text string `json:"text"`
			Freq int    `json:"freq"`
		} `json:"options"`
	}
	if err := json.Unmarshal(r.Suggest["fix"], &fix); err != nil || len(fix) != 1 || fix[0].Options[0].Text != "wireless" || fix[0].Options[0].Freq != 3 {
		t.Fatalf("suggest %s", r.Suggest["fix"])
	}
	if !strings.Contains(string(r.Suggest["c"]), `"text":"laptop"`) {
		t.Fatalf("completion %s", r.Suggest["c"])
	}
	// fuzzy match query end to end.
	r = search(t, ix, `{"query":{"match":{"title":{"query":"wirless headphones","fuzziness":"AUTO"}}}}`)
	if hitIDs(r)[0] != "1" {
		t.Fatalf("fuzzy %v", hitIDs(r))
	}
}

func TestPutGetDeleteReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "docs")
	ix, err := Open(dir, nil, Settings{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	put(t, ix, "a", `{"title":"hello world","views":3}`)
	put(t, ix, "b", `{"title":"goodbye world"}`)
	if src, ok, err := ix.Get("a"); err != nil || !ok || !strings.Contains(string(src), "hello") {
		t.Fatalf("get %s %v %v", src, ok, err)
	}
	if ok, err := ix.Delete("b"); err != nil || !ok {
		t.Fatalf("delete %v %v", ok, err)
	}
	if ok, _ := ix.Delete("b"); ok {
		t.Fatal("deleted twice")
	}
	if f, ok := ix.Mapping().Lookup("views"); !ok || f.Type != "long" {
		t.Fatalf("dynamic mapping %v", f)
	}
	if err := ix.Put("big", make([]byte, DefaultMaxDocumentBytes+1)); err == nil {
		t.Fatal("oversize document accepted")
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	ix, err = Open(dir, []byte(`{"properties":{"other":{"type":"keyword"}}}`), Settings{Shards: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if len(ix.Shards()) != 2 {
		t.Fatalf("reopened with %d shards", len(ix.Shards()))
	}
	if _, ok := ix.Mapping().Lookup("views"); !ok {
		t.Fatal("dynamic field lost")
	}
	r := search(t, ix, `{"query":{"range":{"views":{"gte":1}}}}`)
	if strings.Join(hitIDs(r), ",") != "a" {
		t.Fatalf("after reopen %v", hitIDs(r))
	}
	r = search(t, ix, `{"query":{"match":{"title":"world"}}}`)
	if strings.Join(hitIDs(r), ",") != "a" {
		t.Fatalf("delete lost on reopen: %v", hitIDs(r))
	}
	sort.Strings(nil)
}

func TestShardResultCodec(t *testing.T) {
	ix := openIndex(t, "codec", 1)
	loadProducts(t, ix)
	sh := ix.Shards()[0]
	if err := sh.Apply("gone", []byte(`{"title":"wireless temp"}`)); err != nil {
		t.Fatal(err)
	}
	if err := sh.Apply("gone", nil); err != nil {
		t.Fatal(err)
	}
	if err := sh.Apply("gone", nil); err != nil {
		t.Fatal(err)
	}
	if err := sh.W.Refresh(); err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"sort":[{"stock":"desc"},"_id"],"size":3,"query":{"match":{"title":"wireless"}}}`)
	st, err := sh.TermStats(body)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := EncodeStats(st)
	if err != nil {
		t.Fatal(err)
	}
	st2, err := DecodeStats(sb)
	if err != nil || st2.Terms["title"]["wireless"] != 3 {
		t.Fatalf("stats %s %v", sb, err)
	}
	res, err := sh.Search(context.Background(), body, st2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := EncodeShardResult(res)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeShardResult(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Hits) != 3 || !math.IsNaN(back.Hits[0].Score) || back.Hits[0].ID != res.Hits[0].ID {
		t.Fatalf("decoded %+v", back)
	}
}
