package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/mapping"
)

// testMapping is the products mapping most tests use.
const testMapping = `{"properties":{
  "title":{"type":"text"},
  "body":{"type":"text"},
  "brand":{"type":"keyword"},
  "price":{"type":"double"},
  "stock":{"type":"long"},
  "added":{"type":"date"},
  "tags":{"type":"keyword"}
}}`

// fix is a parsed mapping, registry and a reader over documents.
type fix struct {
	t   testing.TB
	m   *mapping.Mapping
	reg *analysis.Registry
	r   *index.Reader
}

// newFix indexes docs (id → JSON) into segments of segSize documents
// (0: one segment), in the order given.
func newFix(t testing.TB, mappingJSON string, segSize int, docs ...[2]string) *fix {
	t.Helper()
	reg, err := analysis.NewRegistry(nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Parse([]byte(mappingJSON))
	if err != nil {
		t.Fatal(err)
	}
	f := &fix{t: t, m: m, reg: reg, r: &index.Reader{}}
	var batch []*mapping.Document
	flush := func() {
		if len(batch) > 0 {
			f.r.Segments = append(f.r.Segments, newMemSeg(batch))
			batch = nil
		}
	}
	for _, d := range docs {
		doc, _, err := m.ParseDocument(d[0], []byte(d[1]), reg)
		if err != nil {
			t.Fatalf("doc %s: %v", d[0], err)
		}
		batch = append(batch, withSuggest(doc))
		if segSize > 0 && len(batch) == segSize {
			flush()
		}
	}
	flush()
	return f
}

func (f *fix) parse(body string) *Request {
	f.t.Helper()
	req, err := Parse([]byte(body), f.m, f.reg, Limits{})
	if err != nil {
		f.t.Fatalf("parse %s: %v", body, err)
	}
	return req
}

func (f *fix) search(body string) *ShardResult {
	f.t.Helper()
	res, err := Execute(context.Background(), f.parse(body), f.r, nil, Settings{})
	if err != nil {
		f.t.Fatalf("execute %s: %v", body, err)
	}
	return res
}

// ids returns the hits' ids in order.
func ids(res *ShardResult) []string {
	out := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		out[i] = h.ID
	}
	return out
}

func (f *fix) expectIDs(body string, want ...string) *ShardResult {
	f.t.Helper()
	res := f.search(body)
	if got := strings.Join(ids(res), ","); got != strings.Join(want, ",") {
		f.t.Fatalf("%s\n got  %s\n want %s", body, got, strings.Join(want, ","))
	}
	return res
}

// doc builds a [2]string document.
func doc(id string, fields ...any) [2]string {
	m := map[string]any{}
	for i := 0; i+1 < len(fields); i += 2 {
		m[fields[i].(string)] = fields[i+1]
	}
	b, _ := json.Marshal(m)
	return [2]string{id, string(b)}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func mustErr(t *testing.T, err, want error, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v containing %q", want, contains)
	}
	if !errors.Is(err, want) {
		t.Fatalf("error %v is not %v", err, want)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not name %q", err, contains)
	}
}

var _ = fmt.Sprintf

// withSuggest adds the "<field>._suggest" vocabulary as the engine does.
func withSuggest(d *mapping.Document) *mapping.Document {
	for _, fv := range d.Fields {
		if fv.Type != mapping.Text || len(fv.Surface) == 0 {
			continue
		}
		toks := make([]analysis.Token, len(fv.Surface))
		for i, w := range fv.Surface {
			toks[i] = analysis.Token{Term: w, Position: i}
		}
		d.Fields = append(d.Fields, mapping.FieldValue{Path: fv.Path + SuggestSuffix, Type: mapping.Text, Tokens: toks, Indexed: true})
	}
	return d
}
