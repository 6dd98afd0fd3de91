package query

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/searchd/aggs"
	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/mapping"
)

// spec is a Request's parsed body beyond the exported fields.
type spec struct {
	query       node
	sort        []sortSpec
	searchAfter []any
	trackScores bool
	source      sourceFilter
	highlight   *highlightSpec
	suggest     []suggestSpec
	minScore    float64
	hasMinScore bool
	mapping     *mapping.Mapping
	reg         *analysis.Registry
	limits      Limits
}

func (r *Request) spec2() *spec { return r.spec.(*spec) }

// Parse parses a _search (or _count) body against the index's mapping and
// analyzers. Errors (ErrParse, ErrTooManyClauses, ErrLimit) name the clause
// path ("query.bool.must[1].match.title") and the limit. An empty body is
// match_all. "now" in date math is the time of the call.
func Parse(body []byte, m *mapping.Mapping, reg *analysis.Registry, limits Limits) (*Request, error) {
	limits = limits.withDefaults()
	p := &parser{m: m, reg: reg, limits: limits, now: time.Now()}
	sp := &spec{mapping: m, reg: reg, limits: limits}
	req := &Request{Size: 10, TrackTotalHits: DefaultTrackTotalHits, spec: sp}
	if len(strings.TrimSpace(string(body))) == 0 {
		sp.query = &matchAllNode{boost: 1}
		return req, nil
	}
	o, err := decodeObject(body, "body")
	if err != nil {
		return nil, err
	}
	var err2 error
	for _, k := range o.keys() {
		v := o[k]
		switch k {
		case "query":
			sp.query, err2 = p.parseQuery(v, "query", 0)
		case "from":
			req.From, err2 = asInt(v, k)
			if err2 == nil && req.From < 0 {
				err2 = parseErr(k, "must not be negative")
			}
		case "size":
			req.Size, err2 = asInt(v, k)
			if err2 == nil && req.Size < 0 {
				err2 = parseErr(k, "must not be negative")
			}
		case "sort":
			sp.sort, err2 = parseSort(v, m)
		case "search_after":
			sp.searchAfter, err2 = parseSearchAfter(v)
		case "track_total_hits":
			req.TrackTotalHits, err2 = parseTrackTotalHits(v)
		case "track_scores":
			sp.trackScores, err2 = asBool(v, k)
		case "_source":
			sp.source, err2 = parseSourceFilter(v)
		case "highlight":
			sp.highlight, err2 = parseHighlight(v)
		case "aggs", "aggregations":
			if _, both := o["aggs"]; both && k == "aggregations" {
				err2 = parseErr(k, "both [aggs] and [aggregations] given")
				break
			}
			req.Aggs, err2 = aggs.Parse(v, m, limits.Aggs)
		case "suggest":
			sp.suggest, err2 = parseSuggest(v, m)
		case "min_score":
			sp.minScore, err2 = asFloat(v, k)
			sp.hasMinScore = true
		case "timeout", "explain", "version", "seq_no_primary_term", "stored_fields", "profile":
			// Accepted and ignored: searches are not cut short by a timeout.
		default:
			err2 = parseErr(k, "unknown key [%s]", k)
		}
		if err2 != nil {
			return nil, err2
		}
	}
	if sp.query == nil {
		sp.query = &matchAllNode{boost: 1}
	}
	if c := sp.query.clauses(); c > limits.MaxClauses {
		return nil, limitErr(ErrTooManyClauses, "query", c, "max_clauses", limits.MaxClauses)
	}
	if req.From+req.Size > limits.MaxResultWindow {
		return nil, limitErr(ErrLimit, "from+size", req.From+req.Size, "max_result_window", limits.MaxResultWindow)
	}
	if sp.searchAfter != nil {
		if req.From > 0 {
			return nil, parseErr("from", "must be 0 with search_after")
		}
		want := max(len(sp.sort), 1)
		if len(sp.searchAfter) != want {
			return nil, parseErr("search_after", "has %d values, the sort has %d", len(sp.searchAfter), want)
		}
	}
	return req, nil
}

// parseTrackTotalHits: true counts every hit (-1), false none (0), an
// integer counts exactly up to it.
func parseTrackTotalHits(v json.RawMessage) (int, error) {
	s := strings.TrimSpace(string(v))
	switch s {
	case "true":
		return -1, nil
	case "false":
		return 0, nil
	}
	n, err := asInt(v, "track_total_hits")
	if err != nil {
		return 0, err
	}
	if n < -1 {
		return 0, parseErr("track_total_hits", "must be -1 or more")
	}
	return n, nil
}

// parseSearchAfter decodes search_after's values (numbers keep their
// precision as json.Number).
func parseSearchAfter(v json.RawMessage) ([]any, error) {
	items, err := decodeArray(v, "search_after", false)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(items))
	for i, it := range items {
		out[i], err = decodeValue(it)
		if err != nil {
			return nil, parseErr("search_after["+strconv.Itoa(i)+"]", "%v", err)
		}
	}
	return out, nil
}

// decodeValue decodes a JSON scalar, numbers as json.Number.
func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
