package searchbench

import (
	"context"
	"encoding/json"
	"io/fs"
	"path/filepath"
)

// Target is a search engine under benchmark. Run calls Index from several
// goroutines at once, then Refresh, then Search from several goroutines
// at once, then Finish once; a Target is not used after Finish.
type Target interface {
	// Name names the target in results ("cairn", "cairn-cluster", "bleve",
	// "sphinx", "xapian").
	Name() string
	// Supports reports whether the target can answer queries of the kind
	// (Sphinx 2.2 and Xapian 1.4 have no fuzzy matching); Run leaves out
	// the kinds it cannot.
	Supports(Kind) bool
	// Index adds the documents (ids unique over the run).
	Index(ctx context.Context, docs []Doc) error
	// Refresh makes every indexed document searchable.
	Refresh(ctx context.Context) error
	// Search answers q with its top TopK hits and returns how many
	// documents match (engines may stop counting at 10000).
	Search(ctx context.Context, q Query) (total int64, err error)
	// Finish makes the index durable (commit, flush), measures its size on
	// disk in bytes, and releases the target.
	Finish(ctx context.Context) (sizeBytes int64, err error)
}

// ESBody is q as an Elasticsearch _search body, as searchd's engine and
// daemon take it: match (term), match_phrase (phrase), match with
// fuzziness AUTO (fuzzy), prefix (prefix), match with a terms aggregation
// on FacetField (facet); TopK hits, no _source.
func ESBody(q Query) []byte {
	var query any
	switch q.Kind {
	case KindPhrase:
		query = map[string]any{"match_phrase": map[string]any{q.Field: q.Text}}
	case KindFuzzy:
		query = map[string]any{"match": map[string]any{q.Field: map[string]any{"query": q.Text, "fuzziness": "AUTO"}}}
	case KindPrefix:
		query = map[string]any{"prefix": map[string]any{q.Field: q.Text}}
	default:
		query = map[string]any{"match": map[string]any{q.Field: q.Text}}
	}
	body := map[string]any{"query": query, "size": TopK, "_source": false}
	if q.Kind == KindFacet {
		body["aggs"] = map[string]any{"sections": map[string]any{"terms": map[string]any{"field": FacetField, "size": FacetSize}}}
	}
	b, _ := json.Marshal(body)
	return b
}

// esTotal reads hits.total.value (or a bare number) from an Elasticsearch
// response.
func esTotal(resp []byte) (int64, error) {
	var r struct {
		Hits struct {
			Total json.RawMessage `json:"total"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(resp, &r); err != nil {
		return 0, err
	}
	var obj struct {
		Value int64 `json:"value"`
	}
	if err := json.Unmarshal(r.Hits.Total, &obj); err == nil {
		return obj.Value, nil
	}
	var n int64
	err := json.Unmarshal(r.Hits.Total, &n)
	return n, err
}

// DirSize is the bytes of the regular files under dir.
func DirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}
