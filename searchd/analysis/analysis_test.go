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

// slowEnglish is the english analyzer as separate filters, the reference
// for the fused englishFilter.
var slowEnglish = &chain{
	tokenizer: standardTokenizer{maxLen: defaultMaxTokenLength},
	filters:   []TokenFilter{possessiveFilter{}, lowercaseFilter{}, asciiFoldingFilter{}, englishStop, stemFilter{porter2}},
}

func TestEnglishFusedMatchesChain(t *testing.T) {
	for _, text := range []string{benchText, "THE CAT'S HATS AND Boxes", "I A US UK Ü ÉCOLE",
		strings.Repeat("Supercalifragilisticexpialidocious", 3) + " IT IS", "O’NEIL’S Dogs’"} {
		fast := englishChain.Analyze(text, nil)
		slow := slowEnglish.Analyze(text, nil)
		if !slices.Equal(fast, slow) {
			t.Errorf("%q:\nfused %v\nchain %v", text, fast, slow)
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
    "std_en_stop": {"type": "standard", "stopwords": "_english_"},
    "grams": {"tokenizer": "ngram", "filter": ["ngram", "edge_ngram"]},
    "html": {"tokenizer": "standard", "char_filter": ["html_strip", "amp"], "filter": ["lowercase"]}
  },
  "char_filter": {"amp": {"type": "mapping", "mappings": ["& => and", "ph => f"]}},
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

func TestCharFilters(t *testing.T) {
	r, err := NewRegistry([]byte(`{
	  "char_filter": {
	    "emo": {"type": "mapping", "mappings": [":) => _happy_", "ph => f", "\\u00e6 => ae"]},
	    "keep_b": {"type": "html_strip", "escaped_tags": ["b"]}
	  },
	  "analyzer": {
	    "html": {"tokenizer": "standard", "char_filter": ["html_strip"], "filter": ["lowercase"]},
	    "emo": {"tokenizer": "whitespace", "char_filter": ["emo"]},
	    "both": {"tokenizer": "standard", "char_filter": ["html_strip", "emo"]},
	    "keepb": {"tokenizer": "whitespace", "char_filter": ["keep_b"]}
	  }}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ analyzer, text, want string }{
		{"html", "<p>Hello <b>big</b>World</p><p>again&amp;more &eacute;t&eacute;</p><script>var x;</script><!-- no -->end",
			"hello@0 bigworld@1 again@2 more@3 été@4 end@5"},
		{"html", "a < b and c>d", "a@0 b@1 and@2 c@3 d@4"},
		{"html", "<SCRIPT>alert(1)</Script>y<style>p{}</style>z<br/>w", "y@0 z@1 w@2"},
		{"emo", "graph :) æ", "graf@0 _happy_@1 ae@2"},
		{"both", "<i>phone</i>", "fone@0"},
		{"keepb", "<b>x</b> <i>y</i>", "<b>x</b>@0 y@1"},
	}
	for _, tc := range tests {
		if got := terms(analyze(t, r, tc.analyzer, tc.text)); got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.analyzer, tc.text, got, tc.want)
		}
	}
	// Offsets point into the original text.
	text := "<p>Hello <b>big</b>World &amp; caf&eacute;</p>"
	want := []string{"Hello", "big</b>World", "caf&eacute;"}
	toks := analyze(t, r, "html", text)
	if len(toks) != len(want) {
		t.Fatalf("tokens %v", toks)
	}
	for i, tok := range toks {
		if got := text[tok.Start:tok.End]; got != want[i] {
			t.Errorf("token %q spans %q, want %q", tok.Term, got, want[i])
		}
	}
	text = "graph it"
	toks = analyze(t, r, "emo", text)
	if got := text[toks[0].Start:toks[0].End]; got != "graph" || toks[1].Start != 6 {
		t.Errorf("mapping offsets: %q, %+v", got, toks)
	}
}

func TestNGrams(t *testing.T) {
	r, err := NewRegistry([]byte(`{
	  "tokenizer": {
	    "auto": {"type": "edge_ngram", "min_gram": 2, "max_gram": 4, "token_chars": ["letter", "digit"]},
	    "tri": {"type": "ngram", "min_gram": 3, "max_gram": 3}
	  },
	  "filter": {"ng": {"type": "ngram", "min_gram": 2, "max_gram": 3}},
	  "analyzer": {
	    "auto": {"tokenizer": "auto", "filter": ["lowercase"]},
	    "tri": {"tokenizer": "tri"},
	    "ngf": {"tokenizer": "standard", "filter": ["ng"]}
	  }}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ analyzer, text, want string }{
		{"auto", "Quick Fox-9", "qu@0 qui@1 quic@2 fo@3 fox@4"},
		{"tri", "abcd", "abc@0 bcd@1"},
		{"tri", "ab", ""},
		{"ngf", "abcd x", "ab@0 abc@0 bc@0 bcd@0 cd@0"},
	}
	for _, tc := range tests {
		if got := terms(analyze(t, r, tc.analyzer, tc.text)); got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.analyzer, tc.text, got, tc.want)
		}
	}
	text := "Quick Fox-9"
	for _, tok := range analyze(t, r, "auto", text) {
		if !strings.EqualFold(text[tok.Start:tok.End], tok.Term) {
			t.Errorf("%q spans %q", tok.Term, text[tok.Start:tok.End])
		}
	}
	if _, err := NewRegistry([]byte(`{"tokenizer":{"t":{"type":"ngram","token_chars":["vowels"]}}}`)); err == nil || !strings.Contains(err.Error(), "analysis.tokenizer.t.token_chars") {
		t.Errorf("bad token_chars: %v", err)
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
		{`{"tokenizer":{"t":{"type":"classic"}}}`, "analysis.tokenizer.t.type: unknown tokenizer type [classic]"},
		{`{"char_filter":{"c":{"type":"pattern_replace"}}}`, "analysis.char_filter.c.type"},
		{`{"char_filter":{"c":{"type":"mapping","mappings":["a -> b"]}}}`, "analysis.char_filter.c.mappings[0]"},
		{`{"analyzer":{"a":{"tokenizer":"standard","char_filter":["nope"]}}}`, "analysis.analyzer.a.char_filter[0]: unknown char filter [nope]"},
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

func TestDefaultAnalyzers(t *testing.T) {
	r, _ := NewRegistry(nil)
	for _, name := range []string{"", "default", "default_search"} {
		if got := terms(analyze(t, r, name, "Running")); got != "run@0" {
			t.Errorf("%q without settings = %q, want the english analyzer", name, got)
		}
	}
	r, err := NewRegistry([]byte(`{"analyzer":{"default":{"type":"simple"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "default", "default_search"} {
		if got := terms(analyze(t, r, name, "Running")); got != "running@0" {
			t.Errorf("%q with a default = %q, want the simple analyzer", name, got)
		}
	}
	r, _ = NewRegistry([]byte(`{"analyzer":{"default_search":{"type":"whitespace"}}}`))
	if got := terms(analyze(t, r, "default_search", "Running")); got != "Running@0" {
		t.Errorf("default_search = %q", got)
	}
	if got := terms(analyze(t, r, "default", "Running")); got != "run@0" {
		t.Errorf("default = %q", got)
	}
}

func TestNormalizers(t *testing.T) {
	r, err := NewRegistry([]byte(`{"filter":{"cut":{"type":"truncate","length":3}},
	  "normalizer":{"n":{"type":"custom","filter":["lowercase","asciifolding","cut"]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	n, ok := r.Normalizer("n")
	if !ok {
		t.Fatal("n missing")
	}
	if got := n.Normalize("ÉCOLE"); got != "eco" {
		t.Errorf("Normalize = %q", got)
	}
	if l, ok := r.Normalizer("lowercase"); !ok || l.Normalize("AbC") != "abc" {
		t.Error("built-in lowercase normalizer")
	}
	if _, ok := r.Normalizer("nope"); ok {
		t.Error("unknown normalizer found")
	}
	for _, bad := range []string{
		`{"normalizer":{"n":{"filter":["porter_stem"]}}}`,
		`{"normalizer":{"n":{"filter":["nope"]}}}`,
		`{"normalizer":{"n":{"type":"custom","filter":["lowercase"],"char_filter":["html_strip"]}}}`,
	} {
		if _, err := NewRegistry([]byte(bad)); !errors.Is(err, ErrSettings) || !strings.Contains(err.Error(), "analysis.normalizer.n") {
			t.Errorf("NewRegistry(%s) = %v", bad, err)
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
	names := []string{"standard", "english", "simple", "whitespace", "keyword", "stop", "syn", "auto", "mystop", "grams", "html"}
	f.Fuzz(func(t *testing.T, text string) {
		for _, name := range names {
			a, _ := r.Lookup(name)
			for _, tok := range a.Analyze(text, nil) {
				if tok.Start < 0 || tok.End > len(text) || tok.Start > tok.End || tok.Position < 0 || (name == "html" && tok.Term == "") {
					t.Fatalf("%s(%q): bad token %+v", name, text, tok)
				}
			}
		}
		_ = SurfaceForms(text, nil)
		if fast, slow := englishChain.Analyze(text, nil), slowEnglish.Analyze(text, nil); !slices.Equal(fast, slow) {
			t.Fatalf("%q: fused english %v, chain %v", text, fast, slow)
		}
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
