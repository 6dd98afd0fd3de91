package searchd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"sync"
	"time"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/engine"
	"cairn.dev/cairn/searchd/meta"
	"cairn.dev/cairn/searchd/query"
)

// searchService serves cairn.searchd.v1.SearchService.
type searchService struct {
	searchdv1.UnimplementedSearchServiceServer
	s *Server
}

// target is one shard of one index of a search.
type target struct {
	ix    *meta.Index
	shard int
}

// searchResult is a merged search with the shards it ran on.
type searchResult struct {
	res     *query.Result
	targets []target
	ok      int
}

// search runs body over every shard of the indexes: the DFS phase on one
// started copy per shard, then the query phase with the summed statistics,
// then query.Merge.
func (s *Server) search(ctx context.Context, names []string, body []byte) (*searchResult, error) {
	if len(names) == 0 {
		return nil, invalidField("indexes", "at least one index is required")
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SearchTimeout)
	defer cancel()
	s.freshPlacement(ctx)
	var targets []target
	var first *meta.Index
	for i, name := range names {
		if err := meta.ValidateIndexName("indexes", name); err != nil {
			return nil, err
		}
		ix, err := s.lookupIndex(ctx, name)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			first = ix
		}
		for shard := 0; shard < ix.Shards; shard++ {
			targets = append(targets, target{ix, shard})
		}
	}
	if len(body) == 0 {
		body = []byte(`{}`)
	}
	sc, err := s.schemas.get(first)
	if err != nil {
		return nil, err
	}
	req, err := query.Parse(body, sc.mapping, sc.reg, s.engineSettings(first).Limits)
	if err != nil {
		return nil, err
	}
	// DFS: the statistics of the query's terms on every shard.
	stats := &query.Stats{}
	statsParts := make([]*query.Stats, len(targets))
	if err := each(targets, func(i int, t target) error {
		resp, err := onCopy(ctx, s, t.ix, t.shard, func(ctx context.Context, c searchdv1.ShardServiceClient) (*searchdv1.ShardTermStatsResponse, error) {
			return c.ShardTermStats(ctx, &searchdv1.ShardTermStatsRequest{Shard: ref(t.ix, t.shard), BodyJson: body})
		})
		if err != nil {
			return err
		}
		statsParts[i], err = engine.DecodeStats(resp.GetStatsJson())
		return err
	}); err != nil {
		return nil, err
	}
	for _, p := range statsParts {
		if p != nil {
			stats.Add(p)
		}
	}
	statsJSON, err := engine.EncodeStats(stats)
	if err != nil {
		return nil, err
	}
	results := make([]*query.ShardResult, len(targets))
	if err := each(targets, func(i int, t target) error {
		resp, err := onCopy(ctx, s, t.ix, t.shard, func(ctx context.Context, c searchdv1.ShardServiceClient) (*searchdv1.ShardSearchResponse, error) {
			return c.ShardSearch(ctx, &searchdv1.ShardSearchRequest{Shard: ref(t.ix, t.shard), BodyJson: body, StatsJson: statsJSON})
		})
		if err != nil {
			return err
		}
		results[i], err = decodeShardResult(resp.GetResult())
		return err
	}); err != nil {
		return nil, err
	}
	res, err := query.Merge(req, results)
	if err != nil {
		return nil, err
	}
	return &searchResult{res: res, targets: targets, ok: len(targets)}, nil
}

// each runs fn on every target in parallel and returns the first error.
func each(targets []target, fn func(i int, t target) error) error {
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() { errs[i] = fn(i, t) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// placementWait bounds how long a read waits to bring this node's view of
// shard placement up to date before it routes with the view it has.
const placementWait = 500 * time.Millisecond

// freshPlacement brings this node's metadata up to the leader's commit (a
// read barrier) before a read picks its copies, so that a node that has
// just restarted, its metadata still replaying, does not route to copies
// that were replaced while it was down or miss ones a refresh reached (the
// chaos checker caught a search through such a node returning a replaced
// copy's stale documents). With no leader within placementWait it goes on
// with the local view: searches stay available during an election, routed
// by a view that may be a few entries old.
func (s *Server) freshPlacement(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, placementWait)
	defer cancel()
	if err := s.barrier(ctx); err != nil {
		s.logger.Debug("search: routing with the local view of placement", "err", err)
	}
}

// Search answers with the structured fields of SearchResponse.
func (h *searchService) Search(ctx context.Context, req *searchdv1.SearchRequest) (*searchdv1.SearchResponse, error) {
	start := time.Now()
	sr, err := h.s.search(ctx, req.GetIndexes(), req.GetBodyJson())
	if err != nil {
		return nil, toStatus(err)
	}
	res := sr.res
	resp := &searchdv1.SearchResponse{
		Header: h.s.header(), TotalHits: res.Total, TotalRelation: res.TotalRelation, MaxScore: res.MaxScore,
		AggregationsJson: res.Aggregations, SuggestJson: res.Suggest,
		TotalShards: int32(len(sr.targets)), SuccessfulShards: int32(sr.ok),
	}
	for _, hit := range res.Hits {
		t := sr.targets[hit.Shard]
		ph := &searchdv1.Hit{Index: t.ix.Name, Id: hit.ID, Score: hit.Score, SourceJson: hit.Source, Shard: int32(t.shard)}
		if len(hit.Highlight) > 0 {
			ph.HighlightJson = marshalNoEscape(hit.Highlight)
		}
		if len(hit.Sort) > 0 {
			ph.SortJson = marshalNoEscape(hit.Sort)
		}
		resp.Hits = append(resp.Hits, ph)
	}
	if math.IsNaN(resp.MaxScore) {
		resp.MaxScore = 0
	}
	resp.TookMs = time.Since(start).Milliseconds()
	return resp, nil
}

// marshalNoEscape is json.Marshal without HTML escaping (highlight tags
// print as <em>, as Elasticsearch prints them).
func marshalNoEscape(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimRight(b.Bytes(), "\n")
}

// SearchJSON runs a search and renders Elasticsearch's _search response
// (engine.Response), for the HTTP API.
func (s *Server) SearchJSON(ctx context.Context, indexes []string, body []byte) (json.RawMessage, error) {
	start := time.Now()
	sr, err := s.search(ctx, indexes, body)
	if err != nil {
		return nil, toStatus(err)
	}
	name := func(i int) string { return sr.targets[i].ix.Name }
	return engine.Response(sr.res, name, time.Since(start).Milliseconds(), len(sr.targets)), nil
}

// Count counts the documents matching the body's query.
func (h *searchService) Count(ctx context.Context, req *searchdv1.CountRequest) (*searchdv1.CountResponse, error) {
	var in struct {
		Query json.RawMessage `json:"query"`
	}
	if b := req.GetBodyJson(); len(b) > 0 {
		if err := json.Unmarshal(b, &in); err != nil {
			return nil, toStatus(invalidField("body_json", "malformed JSON: %v", err))
		}
	}
	body := map[string]any{"size": 0, "track_total_hits": true}
	if len(in.Query) > 0 {
		body["query"] = in.Query
	}
	b, _ := json.Marshal(body)
	sr, err := h.s.search(ctx, req.GetIndexes(), b)
	if err != nil {
		return nil, toStatus(err)
	}
	return &searchdv1.CountResponse{Header: h.s.header(), Count: sr.res.Total}, nil
}

// Suggest asks one started copy per shard for its completions and merges
// them by document frequency.
func (h *searchService) Suggest(ctx context.Context, req *searchdv1.SuggestRequest) (*searchdv1.SuggestResponse, error) {
	size := int(req.GetSize())
	switch {
	case size == 0:
		size = 5
	case size < 0 || size > 100:
		return nil, toStatus(invalidField("size", "%d must be in [1, 100]", size))
	}
	if req.GetPrefix() == "" {
		return nil, toStatus(invalidField("prefix", "a prefix is required"))
	}
	if err := meta.ValidateIndexName("index", req.GetIndex()); err != nil {
		return nil, toStatus(err)
	}
	ix, err := h.s.lookupIndex(ctx, req.GetIndex())
	if err != nil {
		return nil, toStatus(err)
	}
	body, _ := json.Marshal(map[string]completeRequest{"_cairn_complete": {Fields: req.GetFields(), Prefix: req.GetPrefix(), Size: size, Fuzzy: req.GetFuzzy()}})
	var targets []target
	for shard := 0; shard < ix.Shards; shard++ {
		targets = append(targets, target{ix, shard})
	}
	parts := make([][]query.Suggestion, len(targets))
	if err := each(targets, func(i int, t target) error {
		resp, err := onCopy(ctx, h.s, t.ix, t.shard, func(ctx context.Context, c searchdv1.ShardServiceClient) (*searchdv1.ShardSearchResponse, error) {
			return c.ShardSearch(ctx, &searchdv1.ShardSearchRequest{Shard: ref(t.ix, t.shard), BodyJson: body})
		})
		if err != nil {
			return err
		}
		return json.Unmarshal(resp.GetResult(), &parts[i])
	}); err != nil {
		return nil, toStatus(err)
	}
	resp := &searchdv1.SuggestResponse{Header: h.s.header()}
	for _, sg := range engine.MergeSuggestions(parts, size) {
		resp.Suggestions = append(resp.Suggestions, &searchdv1.Suggestion{Text: sg.Text, DocFreq: sg.DocFreq, Edits: int32(sg.Edits)})
	}
	return resp, nil
}
