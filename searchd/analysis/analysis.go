// Package analysis turns text into the terms searchd indexes and queries:
// tokenizers, token filters (lowercase, ASCII folding, stop words, English
// stemming, synonyms, edge n-grams) and the analyzers built from them, named
// as Elasticsearch names them ("standard", "english", "simple",
// "whitespace", "keyword") plus custom ones from an index's
// settings.analysis.
package analysis

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

// Registry holds the analyzers an index may name: the built-in ones and
// those its settings define. Safe for concurrent use.
type Registry struct {
	analyzers map[string]Analyzer
}

// DefaultText is the analyzer of text fields that name none: Unicode word
// tokenizer, lowercase, ASCII folding, English stop words and stemming.
const DefaultText = "english"

// NewRegistry builds the registry of an index from Elasticsearch's
// settings.analysis JSON (nil or empty: built-ins only). Errors name the
// offending path (e.g. "analysis.filter.my_syn.synonyms[2]").
func NewRegistry(settingsJSON []byte) (*Registry, error) { panic("searchd: not built yet") }

// Lookup returns the named analyzer.
func (r *Registry) Lookup(name string) (Analyzer, bool) { panic("searchd: not built yet") }

// SurfaceForms appends to dst the lowercased, ASCII-folded but unstemmed
// words of text, in order: the vocabulary autocomplete and "did you mean"
// suggest from (a suggestion must be a word users typed, not a stem).
func SurfaceForms(text string, dst []string) []string { panic("searchd: not built yet") }
