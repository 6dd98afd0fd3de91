// Package analysis turns text into the terms searchd indexes and queries:
// tokenizers, token filters (lowercase, ASCII folding, stop words, English
// stemming, synonyms, edge n-grams) and the analyzers built from them, named
// as Elasticsearch names them ("standard", "english", "simple",
// "whitespace", "keyword", "stop") plus custom ones from an index's
// settings.analysis.
//
// An analyzer is a tokenizer followed by token filters. Tokenizers number
// tokens from position 0 and record byte offsets into the analysed string;
// filters rewrite terms, drop tokens (leaving position gaps) or add tokens
// at existing positions (synonyms, n-grams). Analyzers are immutable and
// safe for concurrent use; Analyze appends to a caller-owned slice so that a
// caller analysing many values can reuse one buffer.
package analysis

import (
	"errors"
	"sync"
)

// Token is one term of analysed text.
type Token struct {
	// Term is the indexed form (lowercased, folded, stemmed, ...).
	Term string
	// Position counts tokens from 0; a synonym shares the position of the
	// token it stands for, and removed stop words leave a gap, so phrase
	// queries see the original distances.
	Position int
	// Start and End are byte offsets of the token's source text in the
	// analysed string (for highlighting).
	Start, End int
}

// Analyzer analyses text. Implementations are safe for concurrent use.
type Analyzer interface {
	// Analyze appends the tokens of text to dst and returns it.
	Analyze(text string, dst []Token) []Token
}

// ErrSettings is returned (wrapped, with the offending path) by NewRegistry
// for invalid settings.analysis.
var ErrSettings = errors.New("analysis: invalid settings")

// DefaultText is the analyzer of text fields that name none: Unicode word
// tokenizer, lowercase, ASCII folding, English stop words and stemming.
const DefaultText = "english"

// Registry holds the analyzers an index may name: the built-in ones and
// those its settings define. Safe for concurrent use.
type Registry struct {
	analyzers   map[string]Analyzer
	normalizers map[string]*Normalizer
}

// Normalizer rewrites a keyword value as a whole (Elasticsearch's
// normalizers: lowercase, asciifolding, ...): keyword fields index, and
// term queries look up, normalised values. Safe for concurrent use.
type Normalizer struct {
	filters []TokenFilter
}

// Normalize returns the normalised form of value.
func (n *Normalizer) Normalize(value string) string {
	toks := []Token{{Term: value, End: len(value)}}
	for _, f := range n.filters {
		toks = f.Filter(toks)
	}
	if len(toks) == 0 {
		return ""
	}
	return toks[0].Term
}

// lowercaseNormalizer is the built-in "lowercase" normalizer.
var lowercaseNormalizer = &Normalizer{filters: []TokenFilter{lowercaseFilter{}}}

// Normalizer returns the named normalizer: one the settings define or the
// built-in "lowercase".
func (r *Registry) Normalizer(name string) (*Normalizer, bool) {
	if r != nil {
		if n, ok := r.normalizers[name]; ok {
			return n, true
		}
	}
	if name == "lowercase" {
		return lowercaseNormalizer, true
	}
	return nil, false
}

// Lookup returns the named analyzer. As in Elasticsearch, "default" (and
// the empty name) is the analyzer the settings name "default", else
// DefaultText, and "default_search" is the settings' "default_search",
// else "default": the analyzers of text fields that name none.
func (r *Registry) Lookup(name string) (Analyzer, bool) {
	switch name {
	case "", "default":
		name = DefaultText
		if a, ok := r.custom("default"); ok {
			return a, true
		}
	case "default_search":
		if a, ok := r.custom("default_search"); ok {
			return a, true
		}
		return r.Lookup("default")
	}
	if a, ok := r.custom(name); ok {
		return a, true
	}
	a, ok := builtinAnalyzers[name]
	return a, ok
}

// custom returns the analyzer the settings define under name.
func (r *Registry) custom(name string) (Analyzer, bool) {
	if r != nil {
		if a, ok := r.analyzers[name]; ok {
			return a, true
		}
	}
	return nil, false
}

// Names returns the names of the analyzers the settings defined (not the
// built-ins), in no particular order.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	names := make([]string, 0, len(r.analyzers))
	for n := range r.analyzers {
		names = append(names, n)
	}
	return names
}

// SurfaceForms appends to dst the lowercased, ASCII-folded but unstemmed
// words of text, in order: the vocabulary autocomplete and "did you mean"
// suggest from (a suggestion must be a word users typed, not a stem). Stop
// words are kept.
func SurfaceForms(text string, dst []string) []string {
	bp := tokenBufs.Get().(*[]Token)
	toks := standardTokenizer{maxLen: defaultMaxTokenLength}.Tokenize(text, (*bp)[:0])
	for i := range toks {
		dst = append(dst, foldString(lowerString(toks[i].Term)))
	}
	if cap(toks) <= 1<<12 {
		clear(toks) // drop the references into text
		*bp = toks[:0]
		tokenBufs.Put(bp)
	}
	return dst
}

// tokenBufs holds scratch token slices for SurfaceForms.
var tokenBufs = sync.Pool{New: func() any { b := make([]Token, 0, 64); return &b }}
