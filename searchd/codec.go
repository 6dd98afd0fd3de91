package searchd

import (
	"encoding/json"
	"fmt"

	"cairn.dev/cairn/searchd/engine"
	"cairn.dev/cairn/searchd/query"
)

// shardWire is ShardSearchResponse.result as searchd sends it:
// engine.EncodeShardResult's JSON without the partial aggregations and
// suggestions, which travel beside it as bytes. (engine's codec carries
// them as raw JSON, but aggs.Collector.Partial is binary.)
type shardWire struct {
	Result  json.RawMessage `json:"r"`
	Aggs    []byte          `json:"a,omitempty"`
	Suggest []byte          `json:"s,omitempty"`
}

// encodeShardResult encodes a shard result for ShardSearchResponse.result.
func encodeShardResult(r *query.ShardResult) ([]byte, error) {
	rest := *r
	rest.Aggs, rest.Suggest = nil, nil
	b, err := engine.EncodeShardResult(&rest)
	if err != nil {
		return nil, err
	}
	return json.Marshal(shardWire{Result: b, Aggs: r.Aggs, Suggest: r.Suggest})
}

// decodeShardResult decodes encodeShardResult's output.
func decodeShardResult(b []byte) (*query.ShardResult, error) {
	var w shardWire
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("searchd: bad shard result: %w", err)
	}
	r, err := engine.DecodeShardResult(w.Result)
	if err != nil {
		return nil, err
	}
	r.Aggs, r.Suggest = w.Aggs, w.Suggest
	return r, nil
}
