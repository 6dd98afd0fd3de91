package engine

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"

	"cairn.dev/cairn/searchd/query"
)

// Response renders a merged result as Elasticsearch's _search response:
//
//	{"took","timed_out":false,"_shards":{"total","successful","skipped":0,"failed":0},
//	 "hits":{"total":{"value","relation"},"max_score","hits":[{"_index","_id","_score",
//	 "_source","highlight","sort"}]},"aggregations","suggest"}
//
// with keys in that order; indexName names the index of every hit by the
// shard it came from. A NaN score (sorted by fields) prints null; hits.total
// is left out when the request did not track totals; aggregations and
// suggest only when asked.
func Response(res *query.Result, indexName func(shard int) string, tookMillis int64, shards int) json.RawMessage {
	var b bytes.Buffer
	b.WriteString(`{"took":`)
	b.WriteString(strconv.FormatInt(tookMillis, 10))
	b.WriteString(`,"timed_out":false,"_shards":{"total":`)
	b.WriteString(strconv.Itoa(shards))
	b.WriteString(`,"successful":`)
	b.WriteString(strconv.Itoa(shards))
	b.WriteString(`,"skipped":0,"failed":0},"hits":{`)
	if res.TotalRelation != "" {
		b.WriteString(`"total":{"value":`)
		b.WriteString(strconv.FormatInt(res.Total, 10))
		b.WriteString(`,"relation":`)
		writeJSON(&b, res.TotalRelation)
		b.WriteString(`},`)
	}
	b.WriteString(`"max_score":`)
	writeScore(&b, res.MaxScore)
	b.WriteString(`,"hits":[`)
	for i, h := range res.Hits {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"_index":`)
		writeJSON(&b, indexName(h.Shard))
		b.WriteString(`,"_id":`)
		writeJSON(&b, h.ID)
		b.WriteString(`,"_score":`)
		writeScore(&b, h.Score)
		if h.Source != nil {
			b.WriteString(`,"_source":`)
			b.Write(h.Source)
		}
		if len(h.Highlight) > 0 {
			b.WriteString(`,"highlight":`)
			writeJSON(&b, h.Highlight)
		}
		if h.Sort != nil {
			b.WriteString(`,"sort":`)
			writeJSON(&b, h.Sort)
		}
		b.WriteByte('}')
	}
	b.WriteString(`]}`)
	if res.Aggregations != nil {
		b.WriteString(`,"aggregations":`)
		b.Write(res.Aggregations)
	}
	if res.Suggest != nil {
		b.WriteString(`,"suggest":`)
		b.Write(res.Suggest)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func writeScore(b *bytes.Buffer, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		b.WriteString("null")
		return
	}
	b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
}

// writeJSON writes v's JSON without HTML escaping, as Elasticsearch
// prints highlight tags (values that cannot be encoded print null).
func writeJSON(b *bytes.Buffer, v any) {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		b.WriteString("null")
		return
	}
	b.Write(bytes.TrimSuffix(out.Bytes(), []byte("\n")))
}
