package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"cairn.dev/cairn/searchd/engine"
)

// cairnSystem is searchd's engine as a library (engine.Index) with its
// defaults: title and body mapped as text with no analyzer named (so
// searchd's default text analyzer), BM25 with k1 1.2 and b 0.75, one
// shard, and an Elasticsearch multi_match query over both fields of type
// most_fields: a document's score is the sum of its fields' scores, which
// is what Bleve's side computes (a disjunction of one match query per
// field; Bleve has no dis_max). With multi_match's default, best_fields
// (the best field's score), nDCG@10 is 0.988× Bleve's instead of 1.036×.
type cairnSystem struct {
	ix *engine.Index
}

const cairnMapping = `{"properties":{"title":{"type":"text"},"body":{"type":"text"}}}`

func newCairn(dir string) (*cairnSystem, error) {
	ix, err := engine.Open(dir, []byte(cairnMapping), engine.Settings{Shards: 1})
	if err != nil {
		return nil, fmt.Errorf("cairn: %w", err)
	}
	return &cairnSystem{ix: ix}, nil
}

func (c *cairnSystem) Name() string { return "cairn" }

func (c *cairnSystem) Index(docs []Doc) error {
	for _, d := range docs {
		src, err := json.Marshal(map[string]string{"title": d.Title, "body": d.Body})
		if err != nil {
			return err
		}
		if err := c.ix.Put(strconv.Itoa(d.ID), src); err != nil {
			return fmt.Errorf("cairn: put %d: %w", d.ID, err)
		}
	}
	return c.ix.Refresh()
}

func (c *cairnSystem) Search(ctx context.Context, text string, k int) ([]int, error) {
	body, err := json.Marshal(map[string]any{
		"query":   map[string]any{"multi_match": map[string]any{"query": text, "fields": []string{"title", "body"}, "type": "most_fields"}},
		"size":    k,
		"_source": false,
	})
	if err != nil {
		return nil, err
	}
	raw, err := c.ix.Search(ctx, body)
	if err != nil {
		return nil, err
	}
	var res struct {
		Hits struct {
			Hits []struct {
				ID string `json:"_id"`
			} `json:"hits"`
		} `json:"hits"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("cairn: response: %w", err)
	}
	ids := make([]int, 0, len(res.Hits.Hits))
	for _, h := range res.Hits.Hits {
		id, err := strconv.Atoi(h.ID)
		if err != nil {
			return nil, fmt.Errorf("cairn: hit id %q", h.ID)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (c *cairnSystem) Close() error { return c.ix.Close() }
