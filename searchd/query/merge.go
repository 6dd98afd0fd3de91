package query

import (
	"encoding/json"
	"math"
	"sort"

	"cairn.dev/cairn/searchd/aggs"
)

// Merge merges shard results (in shard order) into the requested page: the
// hits of every shard ordered by score (or sort values), ties by shard then
// the shard's own order, then From and Size applied; totals summed (capped
// at TrackTotalHits with relation "gte", as Elasticsearch reports them; no
// relation when the request did not track totals); aggregations reduced by
// aggs.Reduce; suggestions merged (frequencies summed per word).
func Merge(req *Request, results []*ShardResult) (*Result, error) {
	sp := req.spec2()
	res := &Result{TotalRelation: "eq", MaxScore: math.NaN()}
	type ref struct {
		hit   *Hit
		shard int
		pos   int
	}
	var all []ref
	for si, r := range results {
		if r == nil {
			continue
		}
		res.Total += r.Total
		if r.TotalRelation == "gte" {
			res.TotalRelation = "gte"
		}
		if !math.IsNaN(r.MaxScore) && (math.IsNaN(res.MaxScore) || r.MaxScore > res.MaxScore) {
			res.MaxScore = r.MaxScore
		}
		for i := range r.Hits {
			all = append(all, ref{hit: &r.Hits[i], shard: si, pos: i})
		}
	}
	switch t := req.TrackTotalHits; {
	case t == 0:
		res.Total, res.TotalRelation = 0, ""
	case t > 0 && res.Total > int64(t):
		res.Total, res.TotalRelation = int64(t), "gte"
	}
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if len(sp.sort) == 0 {
			if a.hit.Score != b.hit.Score {
				return a.hit.Score > b.hit.Score
			}
		} else if c := compareKeys(a.hit.Sort, b.hit.Sort, sp.sort); c != 0 {
			return c < 0
		}
		if a.shard != b.shard {
			return a.shard < b.shard
		}
		return a.pos < b.pos
	})
	from := min(req.From, len(all))
	to := min(req.From+req.Size, len(all))
	for _, r := range all[from:to] {
		res.Hits = append(res.Hits, MergedHit{Hit: *r.hit, Shard: r.shard})
	}
	if req.Aggs != nil {
		partials := make([][]byte, 0, len(results))
		for _, r := range results {
			if r != nil {
				partials = append(partials, r.Aggs)
			}
		}
		out, err := aggs.Reduce(req.Aggs, partials)
		if err != nil {
			return nil, err
		}
		res.Aggregations = out
	}
	if len(sp.suggest) > 0 {
		out, err := mergeSuggest(sp, results)
		if err != nil {
			return nil, err
		}
		res.Suggest = out
	}
	return res, nil
}

// mergeSuggest merges the shards' suggestions into Elasticsearch's suggest
// object: {"name": [{"text", "offset", "length", "options": [...]}]}.
func mergeSuggest(sp *spec, results []*ShardResult) ([]byte, error) {
	merged := map[string][]suggestEntry{}
	for _, r := range results {
		if r == nil || len(r.Suggest) == 0 {
			continue
		}
		var parts map[string]suggestPartial
		if err := json.Unmarshal(r.Suggest, &parts); err != nil {
			return nil, err
		}
		for name, p := range parts {
			cur := merged[name]
			if cur == nil {
				cur = make([]suggestEntry, len(p.Entries))
				for i, e := range p.Entries {
					cur[i] = suggestEntry{Text: e.Text, Offset: e.Offset, Length: e.Length}
				}
			}
			for i, e := range p.Entries {
				if i >= len(cur) {
					break
				}
				cur[i].Options = addOptions(cur[i].Options, e.Options)
			}
			merged[name] = cur
		}
	}
	type esOption struct {
		Text      string   `json:"text"`
		Score     float64  `json:"score,omitempty"`
		Freq      int64    `json:"freq,omitempty"`
		CompScore *float64 `json:"_score,omitempty"`
	}
	type esEntry struct {
		Text    string     `json:"text"`
		Offset  int        `json:"offset"`
		Length  int        `json:"length"`
		Options []esOption `json:"options"`
	}
	out := map[string][]esEntry{}
	for _, s := range sp.suggest {
		entries := merged[s.name]
		es := make([]esEntry, 0, len(entries))
		for _, e := range entries {
			sortOptions(e.Options, s.completion)
			if len(e.Options) > s.size {
				e.Options = e.Options[:s.size]
			}
			ee := esEntry{Text: e.Text, Offset: e.Offset, Length: e.Length, Options: []esOption{}}
			for _, o := range e.Options {
				if s.completion {
					sc := float64(o.Freq)
					ee.Options = append(ee.Options, esOption{Text: o.Text, CompScore: &sc})
				} else {
					ee.Options = append(ee.Options, esOption{Text: o.Text, Score: o.Score, Freq: o.Freq})
				}
			}
			es = append(es, ee)
		}
		out[s.name] = es
	}
	return json.Marshal(out)
}

// addOptions adds options to acc, summing frequencies of equal words.
func addOptions(acc, opts []suggestOption) []suggestOption {
	for _, o := range opts {
		found := false
		for i := range acc {
			if acc[i].Text == o.Text {
				acc[i].Freq += o.Freq
				acc[i].Edits = min(acc[i].Edits, o.Edits)
				found = true
				break
			}
		}
		if !found {
			acc = append(acc, o)
		}
	}
	return acc
}
