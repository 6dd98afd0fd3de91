package analysis

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// terms renders tokens as "term@pos" for compact assertions.
func terms(toks []Token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = fmt.Sprintf("%s@%d", t.Term, t.Position)
	}
	return strings.Join(parts, " ")
}

func analyze(t *testing.T, r *Registry, name, text string) []Token {
	t.Helper()
	a, ok := r.Lookup(name)
	if !ok {
		t.Fatalf("analyzer %q not found", name)
	}
	return a.Analyze(text, nil)
}

func TestBuiltinAnalyzers(t *testing.T) {
	r, err := NewRegistry(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		analyzer, text, want string
	}{
		{"standard", "The QUICK brown-fox, jumped!", "the@0 quick@1 brown@2 fox@3 jumped@4"},
		{"standard", "O'Reilly's U.S.A. 3.14 1,000 foo_bar", "o'reilly's@0 u.s.a@1 3.14@2 1,000@3 foo_bar@4"},
		{"standard", "end. Next", "end@0 next@1"},
		{"standard", "abc123 x-1", "abc123@0 x@1 1@2"},
		{"standard", "日本語 text", "日@0 本@1 語@2 text@3"},
		{"standard", "Ünïcödé ΑΒΓ", "ünïcödé@0 αβγ@1"},
		{"standard", "__ ... ''", ""},
		{"simple", "Hello, World42x", "hello@0 world@1 x@2"},
		{"whitespace", "Hello,  World\tfoo", "Hello,@0 World@1 foo@2"},
		{"keyword", "New York", "New York@0"},
		{"keyword", "", ""},
		{"stop", "The cat and THE hat", "cat@1 hat@4"},
		{"english", "The running dogs' batteries", "run@1 dog@2 batteri@3"},
		{"english", "John's Café is the BEST", "john@0 cafe@1 best@4"},
		{"english", "Straße Æsir naïve", "strass@0 aesir@1 naiv@2"},
		{"", "Running", "run@0"},
	}
	for _, tc := range tests {
		got := terms(analyze(t, r, tc.analyzer, tc.text))
		if got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.analyzer, tc.text, got, tc.want)
		}
	}
}

func TestOffsets(t *testing.T) {
	r, _ := NewRegistry(nil)
	text := "Café, déjà vu! Ünïcödé"
	toks := analyze(t, r, "standard", text)
	want := []string{"Café", "déjà", "vu", "Ünïcödé"}
	if len(toks) != len(want) {
		t.Fatalf("tokens %v", toks)
	}
	for i, tok := range toks {
		if got := text[tok.Start:tok.End]; got != want[i] {
			t.Errorf("token %d spans %q, want %q", i, got, want[i])
		}
	}
}

func TestStemming(t *testing.T) {
	for word, want := range map[string]string{
		"running": "run", "batteries": "batteri", "generously": "generous",
		"cats": "cat", "ponies": "poni", "is": "is", "knightly": "knight",
		"consignment": "consign",
	} {
		if got := porter2.Stem(word); got != want {
			t.Errorf("porter2(%q) = %q, want %q", word, got, want)
		}
		// The memo answers the second time.
		if got := porter2.Stem(word); got != want {
			t.Errorf("porter2(%q) again = %q, want %q", word, got, want)
		}
	}
	if got := porter1.Stem("generalization"); got != "gener" {
		t.Errorf("porter(generalization) = %q", got)
	}
}

func TestFolding(t *testing.T) {
	for in, want := range map[string]string{
		"Café": "Cafe", "ß": "ss", "æble": "aeble", "Œuvre": "OEuvre",
		"naïve": "naive", "Øresund": "Oresund", "ﬁne": "fine",
		"ＡＢＣ": "ABC", "łódź": "lodz", "plain": "plain", "日本": "日本",
		"cafe\u0301": "cafe", "“quoted”": "\"quoted\"",
	} {
		if got := foldString(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSurfaceForms(t *testing.T) {
	got := SurfaceForms("The Running Café's dogs", nil)
	want := []string{"the", "running", "cafe's", "dogs"}
	if !slices.Equal(got, want) {
		t.Fatalf("SurfaceForms = %q, want %q", got, want)
	}
}

func TestLowerStringNoAllocForLowercase(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		_ = lowerString("already lowercase")
		_ = foldString("ascii")
	})
	if allocs != 0 {
		t.Fatalf("allocs = %v", allocs)
	}
}

const customSettings = `{
  "analyzer": {
    "syn": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "my_syn"]},
    "syn_explicit": {"tokenizer": "standard", "filter": ["lowercase", "tv_syn"]},
    "auto": {"type": "custom", "tokenizer": "standard", "filter": ["lowercase", "my_ng"]},
    "mystop": {"type": "custom", "tokenizer": "whitespace", "filter": ["lowercase", "my_stop", "my_stem"]},
    "std_en_stop": {"type": "standard", "stopwords": "_english_"}
  },
  "filter": {
    "my_syn": {"type": "synonym", "synonyms": ["laptop, notebook", "wifi, wireless network", "# comment", ""]},
    "tv_syn": {"type": "synonym_graph", "synonyms": ["tv, telly => television"]},
    "my_ng": {"type": "edge_ngram", "min_gram": 2, "max_gram": "4"},
    "my_stop": {"type": "stop", "stopwords": ["foo", "bar"]},
    "my_stem": {"type": "stemmer", "language": "english"}
  }
}`

func TestCustomAnalyzers(t *testing.T) {
	r, err := NewRegistry([]byte(customSettings))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		analyzer, text, want string
	}{
		{"syn", "cheap Laptop bag", "cheap@0 laptop@1 notebook@1 bag@2"},
		{"syn", "notebook", "notebook@0 laptop@0"},
		{"syn", "fast wifi here", "fast@0 wifi@1 wireless@1 network@2 here@2"},
		{"syn", "a Wireless Network card", "a@0 wireless@1 wifi@1 network@2 card@3"},
		{"syn", "wireless card", "wireless@0 card@1"},
		{"syn_explicit", "my TV and telly", "my@0 television@1 and@2 television@3"},
		{"auto", "Search it", "se@0 sea@0 sear@0 it@1"},
		{"mystop", "Foo Running bar cats", "run@1 cat@3"},
		{"std_en_stop", "The end", "end@1"},
	}
	for _, tc := range tests {
		got := terms(analyze(t, r, tc.analyzer, tc.text))
		if got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.analyzer, tc.text, got, tc.want)
		}
	}
	// Added synonym tokens carry the matched phrase's span.
	text := "a Wireless Network card"
	for _, tok := range analyze(t, r, "syn", text) {
		if tok.Term == "wifi" && text[tok.Start:tok.End] != "Wireless Network" {
			t.Errorf("wifi spans %q", text[tok.Start:tok.End])
		}
	}
	// The built-ins stay available.
	if _, ok := r.Lookup("english"); !ok {
		t.Error("english missing")
	}
	if _, ok := r.Lookup("nope"); ok {
		t.Error("unknown analyzer found")
	}
}

func TestSynonymsAnalysedByPrecedingFilters(t *testing.T) {
	r, err := NewRegistry([]byte(`{"analyzer":{"a":{"tokenizer":"standard","filter":["lowercase","my_stem","s"]}},
	  "filter":{"my_stem":{"type":"stemmer","language":"english"},"s":{"type":"synonym","synonyms":["Running Shoes, sneakers"],"expand":true}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := terms(analyze(t, r, "a", "sneakers")), "sneaker@0 run@0 shoe@1"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	r, err = NewRegistry([]byte(`{"analyzer":{"a":{"tokenizer":"standard","filter":["lowercase","s"]}},
	  "filter":{"s":{"type":"synonym","synonyms":["couch, sofa, divan"],"expand":false}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := terms(analyze(t, r, "a", "sofa divan couch")), "couch@0 couch@1 couch@2"; got != want {
		t.Errorf("expand false: got %q, want %q", got, want)
	}
}

func TestRegistryErrors(t *testing.T) {
	tests := []struct{ settings, want string }{
		{`{"analyzer":{"a":{"tokenizer":"nope"}}}`, "analysis.analyzer.a.tokenizer: unknown tokenizer [nope]"},
		{`{"analyzer":{"a":{"tokenizer":"standard","filter":["lowercase","nope"]}}}`, "analysis.analyzer.a.filter[1]: unknown filter [nope]"},
		{`{"filter":{"f":{"type":"magic"}}}`, "analysis.filter.f.type: unknown filter type [magic]"},
		{`{"filter":{"f":{"type":"synonym","synonyms":["a, b","c => "]}}}`, "analysis.filter.f.synonyms[1]"},
		{`{"filter":{"f":{"type":"synonym","synonyms":["a, b","x => y => z"]}}}`, "analysis.filter.f.synonyms[1]"},
		{`{"filter":{"f":{"type":"synonym","synonyms":["a", 3]}}}`, "analysis.filter.f.synonyms[1]: must be a string"},
		{`{"filter":{"f":{"type":"edge_ngram","min_gram":3,"max_gram":2}}}`, "analysis.filter.f.max_gram"},
		{`{"filter":{"f":{"type":"stop","stopwords":"_french_"}}}`, "analysis.filter.f.stopwords"},
		{`{"filter":{"f":{"type":"stemmer","language":"klingon"}}}`, "analysis.filter.f.language"},
		{`{"filter":{"f":{"type":"length","mni":3}}}`, "analysis.filter.f: unknown parameter [mni]"},
		{`{"analyzer":{"a":{"type":"pattern"}}}`, "analysis.analyzer.a.type: unknown analyzer type [pattern]"},
		{`{"tokenizer":{"t":{"type":"ngram"}}}`, "analysis.tokenizer.t.type: unknown tokenizer type [ngram]"},
		{`{"char_filter":{"c":{"type":"html_strip"}}}`, "analysis.char_filter.c"},
		{`{"analyzers":{}}`, "analysis"},
		{`[1]`, "analysis"},
	}
	for _, tc := range tests {
		_, err := NewRegistry([]byte(tc.settings))
		if err == nil || !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewRegistry(%s) = %v, want an ErrSettings naming %q", tc.settings, err, tc.want)
		}
	}
}

func TestRegistryWrappedInAnalysis(t *testing.T) {
	r, err := NewRegistry([]byte(`{"analysis":{"analyzer":{"x":{"type":"simple"}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Lookup("x"); !ok {
		t.Fatal("x not defined")
	}
}

func TestAnalyzeAppends(t *testing.T) {
	r, _ := NewRegistry([]byte(customSettings))
	for _, name := range []string{"english", "syn", "auto"} {
		a, _ := r.Lookup(name)
		dst := []Token{{Term: "keep"}}
		dst = a.Analyze("Laptop searching", dst)
		if dst[0].Term != "keep" || len(dst) < 2 {
			t.Errorf("%s: dst = %v", name, dst)
		}
	}
}

func TestTokenizerMaxLength(t *testing.T) {
	toks := standardTokenizer{maxLen: 4}.Tokenize("abcdefghij", nil)
	if got, want := terms(toks), "abcd@0 efgh@1 ij@2"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"The quick brown fox", "O'Reilly's 3.14 U.S.A.", "日本語 café", "a\xffb", "wifi wireless network"} {
		f.Add(s)
	}
	r, err := NewRegistry([]byte(customSettings))
	if err != nil {
		f.Fatal(err)
	}
	names := []string{"standard", "english", "simple", "whitespace", "keyword", "stop", "syn", "auto", "mystop"}
	f.Fuzz(func(t *testing.T, text string) {
		for _, name := range names {
			a, _ := r.Lookup(name)
			for _, tok := range a.Analyze(text, nil) {
				if tok.Start < 0 || tok.End > len(text) || tok.Start > tok.End || tok.Position < 0 {
					t.Fatalf("%s(%q): bad token %+v", name, text, tok)
				}
			}
		}
		_ = SurfaceForms(text, nil)
	})
}

var benchText = strings.Repeat("The Quick brown fox's batteries were running low, so she searched "+
	"for cheaper replacements online; Café owners in Zürich reported 3.14% growth in 2024. ", 20)

func BenchmarkEnglishAnalyzer(b *testing.B) {
	a, _ := (*Registry)(nil).Lookup("english")
	var dst []Token
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for b.Loop() {
		dst = a.Analyze(benchText, dst[:0])
	}
}

func BenchmarkStandardTokenizer(b *testing.B) {
	t := standardTokenizer{maxLen: defaultMaxTokenLength}
	var dst []Token
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for b.Loop() {
		dst = t.Tokenize(benchText, dst[:0])
	}
}
