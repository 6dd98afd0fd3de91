package query

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"cairn.dev/cairn/searchd/index"
)

func TestHighlight(t *testing.T) {
	long := strings.Repeat("filler words here ", 12) + "the wireless charger " + strings.Repeat("more filler text ", 12) + "and wireless earbuds"
	f := newFix(t, testMapping, 0,
		doc("1", "title", "Wireless Headphones", "body", long),
		doc("2", "title", "wired mouse", "body", "a wireless receiver"))
	res := f.search(`{"query":{"match":{"title":"wireless"}},"highlight":{"fields":{"title":{}}}}`)
	if got := res.Hits[0].Highlight; !reflect.DeepEqual(got, map[string][]string{"title": {"<em>Wireless</em> Headphones"}}) {
		t.Fatalf("highlight %v", got)
	}
	// require_field_match (default) leaves out body; off, body is highlighted with fragments.
	res = f.search(`{"query":{"match":{"title":"wireless"}},"highlight":{"fields":{"body":{}}}}`)
	if res.Hits[0].Highlight != nil {
		t.Fatalf("body highlighted despite require_field_match: %v", res.Hits[0].Highlight)
	}
	res = f.search(`{"query":{"match":{"title":"wireless"}},"highlight":{"require_field_match":false,"pre_tags":["<b>"],"post_tags":["</b>"],"fields":{"body":{"fragment_size":40}}}}`)
	frags := res.Hits[0].Highlight["body"]
	if len(frags) != 2 {
		t.Fatalf("fragments %q", frags)
	}
	for _, fr := range frags {
		if !strings.Contains(fr, "<b>wireless</b>") || len(fr) > 60 {
			t.Fatalf("fragment %q", fr)
		}
	}
	res = f.search(`{"query":{"match":{"body":"wireless"}},"highlight":{"fields":{"body":{"number_of_fragments":0}}}}`)
	for _, h := range res.Hits {
		if h.ID == "2" && h.Highlight["body"][0] != "a <em>wireless</em> receiver" {
			t.Fatalf("whole-field highlight %q", h.Highlight["body"])
		}
	}
	// fuzzy matches are highlighted as the indexed words they matched.
	res = f.search(`{"query":{"match":{"title":{"query":"wirless","fuzziness":"AUTO"}}},"highlight":{"fields":{"title":{}}}}`)
	if got := res.Hits[0].Highlight["title"]; len(got) != 1 || got[0] != "<em>Wireless</em> Headphones" {
		t.Fatalf("fuzzy highlight %q", got)
	}
}

func TestTermSuggestAndComplete(t *testing.T) {
	f := newFix(t, testMapping, 2,
		doc("1", "title", "Wireless headphones"),
		doc("2", "title", "wireless mouse"),
		doc("3", "title", "laptop stand"),
		doc("4", "title", "laptop bag"),
		doc("5", "title", "lapel pin"),
		doc("6", "title", "desk lamp"),
		doc("7", "title", "running shoes"))
	req := f.parse(`{"size":0,"suggest":{"fix":{"text":"wirless hedphones","term":{"field":"title"}}}}`)
	var parts []*ShardResult
	for i := range f.r.Segments {
		r := &index.Reader{Segments: f.r.Segments[i : i+1]}
		res, err := Execute(t.Context(), req, r, nil, Settings{})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, res)
	}
	m, err := Merge(req, parts)
	if err != nil {
		t.Fatal(err)
	}
	var sug map[string][]struct {
		Text    string `json:"text"`
		Offset  int    `json:"offset"`
		Length  int    `json:"length"`
		Options []struct {
			Text  string  `json:"text"`
			Score float64 `json:"score"`
			Freq  int     `json:"freq"`
		} `json:"options"`
	}
	if err := json.Unmarshal(m.Suggest, &sug); err != nil {
		t.Fatal(err)
	}
	e := sug["fix"]
	if len(e) != 2 || e[0].Text != "wirless" || e[0].Offset != 0 || e[0].Length != 7 || e[1].Offset != 8 {
		t.Fatalf("entries %s", m.Suggest)
	}
	if len(e[0].Options) == 0 || e[0].Options[0].Text != "wireless" || e[0].Options[0].Freq != 2 {
		t.Fatalf("wirless → %s", m.Suggest)
	}
	// unstemmed: "headphones", not the stem "headphon".
	if len(e[1].Options) == 0 || e[1].Options[0].Text != "headphones" {
		t.Fatalf("hedphones → %s", m.Suggest)
	}

	got := Complete(f.r, []string{"title"}, "lap", 5, true)
	var words []string
	for _, s := range got {
		words = append(words, s.Text)
	}
	if strings.Join(words, ",") != "laptop,lapel,lamp" {
		t.Fatalf("complete lap: %v", got)
	}
	if got[0].DocFreq != 2 || got[0].Edits != 0 || got[2].Edits != 1 {
		t.Fatalf("complete details %+v", got)
	}
	if got := Complete(f.r, nil, "Lap", 1, false); len(got) != 1 || got[0].Text != "laptop" {
		t.Fatalf("complete all fields %+v", got)
	}
	if got := Complete(f.r, nil, "wireless mou", 5, false); len(got) != 1 || got[0].Text != "wireless mouse" {
		t.Fatalf("complete two words %+v", got)
	}
}
