package aggs

import (
	"math"
	"sort"
	"strconv"
	"unicode/utf8"
)

// render writes a's reduced result.
func render(w *jsonWriter, a *Agg, p *partialAgg, singleShard bool, b *budget) error {
	switch s := a.spec.(type) {
	case *termsSpec:
		return renderTerms(w, a, s, p, singleShard, b)
	case *rangeSpec:
		return renderRange(w, a, s, p, singleShard, b)
	case *histSpec:
		return renderHistogram(w, a, s, p, singleShard, b)
	case *metricSpec:
		renderMetric(w, s, p)
	case *cardSpec:
		w.raw(`{"value":`)
		w.int(p.Card.estimate())
		w.raw("}")
	default:
		w.raw("{}")
	}
	return nil
}

// renderSubs writes a bucket's sub-aggregations as members of the bucket
// object (after its own members).
func renderSubs(w *jsonWriter, a *Agg, bk *partialBucket, singleShard bool, b *budget) error {
	for i, sub := range a.Subs {
		w.raw(",")
		w.str(sub.Name)
		w.raw(":")
		if err := render(w, sub, subPartial(bk, a, i), singleShard, b); err != nil {
			return err
		}
	}
	return nil
}

func renderMetric(w *jsonWriter, s *metricSpec, p *partialAgg) {
	date := s.field.kind == kindDate
	if s.typ == "stats" {
		w.raw(`{"count":`)
		w.int(p.Count)
		for _, m := range []string{"min", "max", "avg", "sum"} {
			w.raw(`,"` + m + `":`)
			v := metricValue(&Agg{Type: "stats"}, p, m)
			w.float(v)
		}
		if date && p.Count > 0 {
			w.raw(`,"min_as_string":`)
			w.str(s.field.format.format(int64(p.Min)))
			w.raw(`,"max_as_string":`)
			w.str(s.field.format.format(int64(p.Max)))
			w.raw(`,"avg_as_string":`)
			w.str(s.field.format.format(int64(p.Sum / float64(p.Count))))
			w.raw(`,"sum_as_string":`)
			w.str(s.field.format.format(int64(p.Sum)))
		}
		w.raw("}")
		return
	}
	w.raw(`{"value":`)
	if s.typ == "value_count" {
		w.int(p.Count)
		w.raw("}")
		return
	}
	v := metricValue(&Agg{Type: s.typ}, p, "value")
	w.float(v)
	if date && !math.IsNaN(v) && s.typ != "sum" {
		w.raw(`,"value_as_string":`)
		w.str(s.field.format.format(int64(v)))
	}
	w.raw("}")
}

// metricValue returns a metric of a metric aggregation's result; NaN when
// it has none (the min of no values).
func metricValue(a *Agg, p *partialAgg, metric string) float64 {
	typ := a.Type
	if typ == "stats" {
		typ = metric
		if typ == "count" {
			typ = "value_count"
		}
	}
	switch typ {
	case "value_count":
		return float64(p.Count)
	case "cardinality":
		if p.Card == nil {
			return 0
		}
		return float64(p.Card.estimate())
	case "sum":
		return p.Sum
	}
	if p.Count == 0 {
		return math.NaN()
	}
	switch typ {
	case "min":
		return p.Min
	case "max":
		return p.Max
	case "avg":
		return p.Sum / float64(p.Count)
	}
	return math.NaN()
}

func sortBuckets(bs []partialBucket, less func(x, y *partialBucket) bool) {
	sort.Slice(bs, func(i, j int) bool { return less(&bs[i], &bs[j]) })
}

// jsonWriter appends JSON.
type jsonWriter struct{ b []byte }

func (w *jsonWriter) raw(s string) { w.b = append(w.b, s...) }

func (w *jsonWriter) int(v int64) { w.b = strconv.AppendInt(w.b, v, 10) }

// float writes a double as Elasticsearch does: integral values keep ".0";
// NaN and infinities (a metric of no values) are null.
func (w *jsonWriter) float(v float64) {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		w.raw("null")
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		w.b = strconv.AppendFloat(w.b, v, 'f', 1, 64)
	default:
		w.b = strconv.AppendFloat(w.b, v, 'g', -1, 64)
	}
}

func (w *jsonWriter) str(s string) {
	const hex = "0123456789abcdef"
	w.b = append(w.b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				w.b = append(w.b, '\\', c)
			case c < 0x20:
				w.b = append(w.b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				w.b = append(w.b, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			w.b = append(w.b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			w.b = append(w.b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		} else {
			w.b = append(w.b, s[i:i+n]...)
		}
		i += n
	}
	w.b = append(w.b, '"')
}
