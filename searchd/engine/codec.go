package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"cairn.dev/cairn/searchd/query"
)

// wireHit is query.Hit on the wire: NaN scores as null, sort values with
// their numbers kept exact.
type wireHit struct {
	ID        string              `json:"id"`
	Score     *float64            `json:"score"`
	Sort      []any               `json:"sort,omitempty"`
	Source    json.RawMessage     `json:"source,omitempty"`
	Highlight map[string][]string `json:"highlight,omitempty"`
}

type wireResult struct {
	Total         int64           `json:"total"`
	TotalRelation string          `json:"total_relation"`
	MaxScore      *float64        `json:"max_score"`
	Hits          []wireHit       `json:"hits"`
	Aggs          json.RawMessage `json:"aggs,omitempty"`
	Suggest       json.RawMessage `json:"suggest,omitempty"`
}

func nanToNil(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

func nilToNaN(f *float64) float64 {
	if f == nil {
		return math.NaN()
	}
	return *f
}

// EncodeShardResult encodes a shard result for ShardSearchResponse.result
// (JSON).
func EncodeShardResult(r *query.ShardResult) ([]byte, error) {
	w := wireResult{Total: r.Total, TotalRelation: r.TotalRelation, MaxScore: nanToNil(r.MaxScore),
		Hits: make([]wireHit, len(r.Hits)), Aggs: r.Aggs, Suggest: r.Suggest}
	for i, h := range r.Hits {
		w.Hits[i] = wireHit{ID: h.ID, Score: nanToNil(h.Score), Sort: h.Sort, Source: h.Source, Highlight: h.Highlight}
	}
	return json.Marshal(w)
}

// DecodeShardResult decodes EncodeShardResult's output. Sort values that
// were numbers come back as json.Number, which query.Merge compares
// exactly.
func DecodeShardResult(b []byte) (*query.ShardResult, error) {
	var w wireResult
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("engine: bad shard result: %w", err)
	}
	r := &query.ShardResult{Total: w.Total, TotalRelation: w.TotalRelation, MaxScore: nilToNaN(w.MaxScore),
		Hits: make([]query.Hit, len(w.Hits)), Aggs: w.Aggs, Suggest: w.Suggest}
	for i, h := range w.Hits {
		r.Hits[i] = query.Hit{ID: h.ID, Score: nilToNaN(h.Score), Sort: h.Sort, Source: h.Source, Highlight: h.Highlight}
	}
	return r, nil
}

// EncodeStats and DecodeStats carry query.Stats (ShardTermStatsResponse's
// stats_json, ShardSearchRequest's).
func EncodeStats(s *query.Stats) ([]byte, error) { return json.Marshal(s) }

// DecodeStats decodes EncodeStats's output; empty input is nil stats.
func DecodeStats(b []byte) (*query.Stats, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	var s query.Stats
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("engine: bad stats: %w", err)
	}
	return &s, nil
}

// MergeSuggestions merges per-shard completions: document frequencies of
// equal words summed, fewest edits kept, exact completions first, then by
// frequency, then by text; at most size.
func MergeSuggestions(parts [][]query.Suggestion, size int) []query.Suggestion {
	byText := map[string]*query.Suggestion{}
	var out []query.Suggestion
	for _, p := range parts {
		for _, s := range p {
			if cur, ok := byText[s.Text]; ok {
				cur.DocFreq += s.DocFreq
				cur.Edits = min(cur.Edits, s.Edits)
				continue
			}
			c := s
			byText[s.Text] = &c
		}
	}
	for _, s := range byText {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Edits != b.Edits {
			return a.Edits < b.Edits
		}
		if a.DocFreq != b.DocFreq {
			return a.DocFreq > b.DocFreq
		}
		return a.Text < b.Text
	})
	if size > 0 && len(out) > size {
		out = out[:size]
	}
	return out
}
