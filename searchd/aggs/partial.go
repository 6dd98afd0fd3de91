package aggs

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
)

// partialAgg is one aggregation's result on one shard (or several, once
// merged). It is gob-encoded on the wire: the fields a type does not use
// stay zero and cost nothing.
type partialAgg struct {
	// Metrics: Count values (value_count, avg, stats), their Sum, Min and
	// Max (±Inf when Count is 0).
	Count    int64
	Sum      float64
	Min, Max float64
	// Card is cardinality's sketch.
	Card *sketch
	// Buckets of bucket aggregations: terms (the shard's top shard_size),
	// range (one per range, I = the range's index), histograms (every
	// non-empty bucket).
	Buckets []partialBucket
	// Other counts the documents of terms buckets the shard did not send;
	// ErrBound is the shard's doc_count_error_upper_bound (-1: unknown).
	Other, ErrBound int64
}

// partialBucket is a bucket. Its key is S (keyword terms), I (integer,
// date and boolean terms; range index) or N (float terms, histograms).
type partialBucket struct {
	S        string
	I        int64
	N        float64
	DocCount int64
	// Err is a terms bucket's doc count error: the sum of the error bounds
	// of the shards that did not send the bucket (-1: unknown).
	Err int64
	// Subs holds the sub-aggregations in request order (nil: none
	// collected, the same as empty ones).
	Subs []partialAgg
}

func (b *partialBucket) sameKey(o *partialBucket) bool {
	return b.S == o.S && b.I == o.I && (b.N == o.N || (b.N != b.N && o.N != o.N))
}

type bucketKey struct {
	s string
	i int64
	n uint64
}

func (b *partialBucket) key() bucketKey {
	return bucketKey{b.S, b.I, math.Float64bits(b.N)}
}

func encodePartial(parts []partialAgg) ([]byte, error) {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(parts); err != nil {
		return nil, fmt.Errorf("aggs: encode partial: %w", err)
	}
	return buf.Bytes(), nil
}

func decodePartial(raw []byte) ([]partialAgg, error) {
	var parts []partialAgg
	if err := gob.NewDecoder(bytes.NewReader(raw)).Decode(&parts); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPartial, err)
	}
	return parts, nil
}

// emptyPartial is a's result over no documents.
func emptyPartial(a *Agg) partialAgg {
	p := partialAgg{Min: math.Inf(1), Max: math.Inf(-1)}
	if s, ok := a.spec.(*cardSpec); ok {
		p.Card = newSketch(s.precision, s.threshold)
	}
	return p
}

// subPartial returns a bucket's i-th sub-aggregation, empty when absent.
func subPartial(b *partialBucket, a *Agg, i int) *partialAgg {
	if i < len(b.Subs) {
		return &b.Subs[i]
	}
	e := emptyPartial(a.Subs[i])
	return &e
}

// mergePartial adds src into dst; both are results of a.
func mergePartial(a *Agg, dst, src *partialAgg) {
	dst.Count += src.Count
	dst.Sum += src.Sum
	dst.Min = math.Min(dst.Min, src.Min)
	dst.Max = math.Max(dst.Max, src.Max)
	if src.Card != nil {
		if dst.Card == nil {
			dst.Card = src.Card
		} else {
			dst.Card.merge(src.Card)
		}
	}
	dst.Other += src.Other
	prevBound := dst.ErrBound
	dst.ErrBound = addBound(dst.ErrBound, src.ErrBound)
	if len(src.Buckets) == 0 && len(dst.Buckets) == 0 {
		return
	}
	idx := make(map[bucketKey]int, len(dst.Buckets))
	for i := range dst.Buckets {
		idx[dst.Buckets[i].key()] = i
	}
	inSrc := make([]bool, len(dst.Buckets))
	for j := range src.Buckets {
		sb := &src.Buckets[j]
		i, ok := idx[sb.key()]
		if !ok {
			// Every shard merged before may have held the bucket unsent.
			nb := *sb
			nb.Err = addBound(nb.Err, prevBound)
			dst.Buckets = append(dst.Buckets, nb)
			continue
		}
		inSrc[i] = true
		db := &dst.Buckets[i]
		db.DocCount += sb.DocCount
		db.Err = addBound(db.Err, sb.Err)
		mergeSubs(a, db, sb)
	}
	for i, ok := range inSrc {
		if !ok {
			// src may have held the bucket unsent.
			dst.Buckets[i].Err = addBound(dst.Buckets[i].Err, src.ErrBound)
		}
	}
}

// addBound adds doc count error bounds; -1 (unknown) absorbs.
func addBound(a, b int64) int64 {
	if a < 0 || b < 0 {
		return -1
	}
	return a + b
}

func mergeSubs(a *Agg, dst, src *partialBucket) {
	if len(src.Subs) == 0 {
		return
	}
	if len(dst.Subs) == 0 {
		dst.Subs = src.Subs
		return
	}
	for k, sub := range a.Subs {
		mergePartial(sub, &dst.Subs[k], &src.Subs[k])
	}
}

// budget counts buckets against Limits.MaxBuckets.
type budget struct {
	left int
	max  int
}

func newBudget(max int) *budget { return &budget{left: max, max: max} }

func (b *budget) take(n int) error {
	b.left -= n
	if b.left < 0 {
		return fmt.Errorf("%w: trying to create more than %d buckets; this limit can be set by changing the [search.max_buckets] cluster level setting", ErrTooManyBuckets, b.max)
	}
	return nil
}
