package es

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"time"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

// searchParams are the URL parameters of _search that change its body:
// they override the body's keys, as in Elasticsearch.
var searchParams = []string{"q", "size", "from", "sort", "track_total_hits", "_source", "terminate_after"}

// searchBody reads a _search or _count body (or ?source=), checks that it
// is a JSON object, and merges the URL parameters into it: q (a simple
// query string, see parseQueryString), size, from, sort (field:asc,...),
// track_total_hits and _source (false, or fields).
func (h *Handler) searchBody(c *call, count bool) ([]byte, error) {
	body, err := h.bodyOrSource(c)
	if err != nil {
		return nil, err
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && (body[0] != '{' || !json.Valid(body)) {
		return nil, errorf(http.StatusBadRequest, "x_content_parse_exception", "the request body is not a JSON object")
	}
	if c.q.Has("scroll") {
		return nil, badRequest("scroll is not supported by cairn searchd: page with search_after")
	}
	params := false
	for _, p := range searchParams {
		params = params || c.q.Has(p)
	}
	if !params {
		return body, nil
	}
	m := map[string]json.RawMessage{}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, errorf(http.StatusBadRequest, "x_content_parse_exception", "%v", err)
		}
	}
	set := func(k string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		m[k] = b
		return nil
	}
	if q := c.q.Get("q"); c.q.Has("q") {
		query, err := parseQueryString(q, c.q.Get("df"), c.q.Get("default_operator"))
		if err != nil {
			return nil, err
		}
		_ = set("query", query)
	}
	if count {
		out, _ := json.Marshal(m)
		return out, nil
	}
	for _, p := range []string{"size", "from", "terminate_after"} {
		if v := c.q.Get(p); c.q.Has(p) {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, badRequest("Failed to parse int parameter [%s] with value [%s]", p, v)
			}
			_ = set(p, n)
		}
	}
	if v := c.q.Get("sort"); v != "" {
		var sorts []any
		for _, s := range splitComma(v) {
			f, dir, ok := cutLast(s, ':')
			if !ok {
				sorts = append(sorts, s)
				continue
			}
			sorts = append(sorts, map[string]any{f: map[string]string{"order": dir}})
		}
		_ = set("sort", sorts)
	}
	if v := c.q.Get("track_total_hits"); c.q.Has("track_total_hits") {
		switch v {
		case "", "true":
			_ = set("track_total_hits", true)
		case "false":
			_ = set("track_total_hits", false)
		default:
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, badRequest("Failed to parse track_total_hits [%s]", v)
			}
			_ = set("track_total_hits", n)
		}
	}
	if v := c.q.Get("_source"); c.q.Has("_source") {
		switch v {
		case "true", "":
			_ = set("_source", true)
		case "false":
			_ = set("_source", false)
		default:
			_ = set("_source", splitComma(v))
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	return out, nil
}

// searchDocs serves GET|POST /_search, /<index>/_search and
// /<i1>,<i2>/_search.
func (h *Handler) searchDocs(c *call) error {
	start := time.Now()
	expr := ""
	if len(c.segs) == 2 {
		expr = c.segs[0]
	}
	names, err := h.resolve(c, expr, true)
	if err != nil {
		return err
	}
	body, err := h.searchBody(c, false)
	if err != nil {
		return err
	}
	asInt := c.q.Get("rest_total_hits_as_int") == "true"
	if len(names) == 0 {
		writeJSON(c.w, c.r, http.StatusOK, searchObject(&searchdv1.SearchResponse{TookMs: millisSince(start), TotalRelation: "eq"}, asInt))
		return nil
	}
	resp, err := h.search.Search(c.ctx, &searchdv1.SearchRequest{Indexes: names, BodyJson: body})
	if err != nil {
		return fromRPC(err, opSearch, expr, "")
	}
	writeJSON(c.w, c.r, http.StatusOK, searchObject(resp, asInt))
	return nil
}

// score is a hit's or the max score as JSON: null for NaN (sorted by
// fields without scores).
func score(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}

// searchObject renders a SearchResponse as Elasticsearch's _search answer.
func searchObject(resp *searchdv1.SearchResponse, totalAsInt bool) obj {
	hits := make([]obj, 0, len(resp.GetHits()))
	for _, hit := range resp.GetHits() {
		o := obj{}.add("_index", hit.GetIndex()).add("_id", hit.GetId()).add("_score", score(hit.GetScore()))
		if src := hit.GetSourceJson(); len(src) > 0 {
			o = o.add("_source", json.RawMessage(src))
		}
		if hl := hit.GetHighlightJson(); len(hl) > 0 {
			o = o.add("highlight", json.RawMessage(hl))
		}
		if s := hit.GetSortJson(); len(s) > 0 {
			o = o.add("sort", json.RawMessage(s))
		}
		hits = append(hits, o)
	}
	var maxScore any
	if len(hits) > 0 {
		maxScore = score(resp.GetMaxScore())
	}
	rel := resp.GetTotalRelation()
	if rel == "" {
		rel = "eq"
	}
	var total any = obj{}.add("value", resp.GetTotalHits()).add("relation", rel)
	if totalAsInt {
		total = resp.GetTotalHits()
	}
	failed := resp.GetTotalShards() - resp.GetSuccessfulShards()
	o := obj{}.
		add("took", resp.GetTookMs()).
		add("timed_out", false).
		add("_shards", obj{}.add("total", resp.GetTotalShards()).add("successful", resp.GetSuccessfulShards()).add("skipped", 0).add("failed", failed)).
		add("hits", obj{}.add("total", total).add("max_score", maxScore).add("hits", hits))
	if a := resp.GetAggregationsJson(); len(a) > 0 {
		o = o.add("aggregations", json.RawMessage(a))
	}
	if s := resp.GetSuggestJson(); len(s) > 0 {
		o = o.add("suggest", json.RawMessage(s))
	}
	return o
}

// count serves GET|POST /_count and /<index>/_count.
func (h *Handler) count(c *call) error {
	expr := ""
	if len(c.segs) == 2 {
		expr = c.segs[0]
	}
	names, err := h.resolve(c, expr, true)
	if err != nil {
		return err
	}
	body, err := h.searchBody(c, true)
	if err != nil {
		return err
	}
	var n int64
	if len(names) > 0 {
		resp, err := h.search.Count(c.ctx, &searchdv1.CountRequest{Indexes: names, BodyJson: body})
		if err != nil {
			return fromRPC(err, opSearch, expr, "")
		}
		n = resp.GetCount()
	}
	shards := int32(0)
	if list, err := h.indexes.ListIndexes(c.ctx, &searchdv1.ListIndexesRequest{}); err == nil {
		want := map[string]bool{}
		for _, name := range names {
			want[name] = true
		}
		for _, ix := range list.GetIndexes() {
			if want[ix.GetName()] {
				shards += ix.GetSettings().GetShards()
			}
		}
	}
	writeJSON(c.w, c.r, http.StatusOK, obj{}.add("count", n).
		add("_shards", obj{}.add("total", shards).add("successful", shards).add("skipped", 0).add("failed", 0)))
	return nil
}
