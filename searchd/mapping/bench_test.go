package mapping

import (
	"testing"
)

var benchDoc = []byte(`{"title":"The Quick Brown Fox's Adventures in Zürich","body":"The quick brown fox jumped over the lazy dogs, ` +
	`while batteries were running low and searchers looked for cheaper replacements online. Café owners reported growth.",` +
	`"tags":["animals","stories","fox"],"price":12.5,"stock":42,"published":"2024-03-01T10:20:30Z","active":true,` +
	`"author":{"name":"Jane Doe","email":"jane@example.com"}}`)

func BenchmarkParseDocument(b *testing.B) {
	m, err := Parse([]byte(`{"properties":{"title":{"type":"text","fields":{"keyword":{"type":"keyword","ignore_above":256}}},
	  "body":{"type":"text"},"tags":{"type":"keyword"},"price":{"type":"double"},"stock":{"type":"long"},
	  "published":{"type":"date"},"active":{"type":"boolean"},
	  "author":{"properties":{"name":{"type":"text"},"email":{"type":"keyword"}}}}}`))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchDoc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, add, err := m.ParseDocument("1", benchDoc, nil); err != nil || add != nil {
			b.Fatal(err, add)
		}
	}
}
