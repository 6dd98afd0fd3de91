package analysis

import (
	"strings"
	"unicode/utf8"
)

// TokenFilter rewrites the tokens one tokenizer produced for one text.
// Filter may modify toks in place and return a prefix of it (rewriting or
// dropping tokens) or return a new slice (adding tokens); it must not keep
// toks. Implementations are safe for concurrent use.
type TokenFilter interface {
	Filter(toks []Token) []Token
}

// chain is an analyzer: char filters, a tokenizer and token filters.
type chain struct {
	charFilters []charFilter
	tokenizer   Tokenizer
	filters     []TokenFilter
}

func (c *chain) Analyze(text string, dst []Token) []Token {
	start := len(dst)
	if len(c.charFilters) == 0 {
		dst = c.tokenizer.Tokenize(text, dst)
	} else {
		dst = c.filtered(text, dst)
	}
	seg := dst[start:]
	for _, f := range c.filters {
		seg = f.Filter(seg)
	}
	if len(seg) > 0 && len(dst) > start && &seg[0] == &dst[start] {
		return dst[:start+len(seg)]
	}
	return append(dst[:start], seg...)
}

// filtered tokenizes text through the char filters, mapping the tokens'
// offsets back to text. Terms are substrings of the filtered text.
func (c *chain) filtered(text string, dst []Token) []Token {
	maps := make([]offsetMap, len(c.charFilters))
	t := text
	for i, cf := range c.charFilters {
		t, maps[i] = cf.apply(t)
	}
	start := len(dst)
	dst = c.tokenizer.Tokenize(t, dst)
	for i := range dst[start:] {
		tok := &dst[start+i]
		for j := len(maps) - 1; j >= 0; j-- {
			tok.Start, tok.End = maps[j].start(tok.Start), maps[j].end(tok.End)
		}
		tok.End = max(tok.End, tok.Start)
	}
	return dst
}

// mapTerms rewrites every term with fn, in place.
func mapTerms(toks []Token, fn func(string) string) []Token {
	for i := range toks {
		toks[i].Term = fn(toks[i].Term)
	}
	return toks
}

// lowercaseFilter lowercases terms.
type lowercaseFilter struct{}

func (lowercaseFilter) Filter(toks []Token) []Token { return mapTerms(toks, lowerString) }

// lowerString lowercases s, returning s itself (no allocation) when it has
// no upper-case letter.
func lowerString(s string) string {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= utf8.RuneSelf {
			return strings.ToLower(s)
		}
		if 'A' <= b && b <= 'Z' {
			return lowerASCIIFrom(s, i)
		}
	}
	return s
}

// lowerASCIIFrom lowercases s whose bytes before i are lower-case ASCII.
func lowerASCIIFrom(s string, i int) string {
	for j := i; j < len(s); j++ {
		if s[j] >= utf8.RuneSelf {
			return strings.ToLower(s)
		}
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for j := i; j < len(s); j++ {
		c := s[j]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// uppercaseFilter uppercases terms.
type uppercaseFilter struct{}

func (uppercaseFilter) Filter(toks []Token) []Token { return mapTerms(toks, strings.ToUpper) }

// trimFilter removes leading and trailing white space from terms.
type trimFilter struct{}

func (trimFilter) Filter(toks []Token) []Token { return mapTerms(toks, strings.TrimSpace) }

// reverseFilter reverses each term's characters.
type reverseFilter struct{}

func (reverseFilter) Filter(toks []Token) []Token {
	return mapTerms(toks, func(s string) string {
		r := []rune(s)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		return string(r)
	})
}

// possessiveFilter removes the English possessive: a trailing 's or ’s.
type possessiveFilter struct{}

func (possessiveFilter) Filter(toks []Token) []Token { return mapTerms(toks, stripPossessive) }

func stripPossessive(s string) string {
	n := len(s)
	if n < 2 || (s[n-1] != 's' && s[n-1] != 'S') {
		return s
	}
	switch {
	case s[n-2] == '\'':
		return s[:n-2]
	case strings.HasSuffix(s[:n-1], "’"), strings.HasSuffix(s[:n-1], "\uFF07"):
		_, size := utf8.DecodeLastRuneInString(s[:n-1])
		return s[:n-1-size]
	}
	return s
}

// apostropheFilter removes an apostrophe and everything after it
// ("o'neil" → "o", as Elasticsearch's apostrophe filter).
type apostropheFilter struct{}

func (apostropheFilter) Filter(toks []Token) []Token {
	return mapTerms(toks, func(s string) string {
		if i := strings.IndexAny(s, "'’"); i >= 0 {
			return s[:i]
		}
		return s
	})
}

// keep drops, in place, the tokens for which ok is false; positions are
// untouched, so a dropped token leaves a gap.
func keep(toks []Token, ok func(*Token) bool) []Token {
	out := toks[:0]
	for i := range toks {
		if ok(&toks[i]) {
			out = append(out, toks[i])
		}
	}
	return out
}

// lengthFilter keeps terms of min to max characters.
type lengthFilter struct{ min, max int }

func (f lengthFilter) Filter(toks []Token) []Token {
	return keep(toks, func(t *Token) bool {
		n := len(t.Term)
		if n >= f.min && n <= f.max && n == utf8.RuneCountInString(t.Term) {
			return true
		}
		n = utf8.RuneCountInString(t.Term)
		return n >= f.min && n <= f.max
	})
}

// uniqueFilter drops tokens whose term appeared before (onlySamePosition:
// before at the same position).
type uniqueFilter struct{ onlySamePosition bool }

func (f uniqueFilter) Filter(toks []Token) []Token {
	type key struct {
		term string
		pos  int
	}
	seen := make(map[key]struct{}, len(toks))
	return keep(toks, func(t *Token) bool {
		k := key{term: t.Term}
		if f.onlySamePosition {
			k.pos = t.Position
		}
		if _, dup := seen[k]; dup {
			return false
		}
		seen[k] = struct{}{}
		return true
	})
}

// stopFilter drops stop words.
type stopFilter struct {
	words      map[string]struct{}
	ignoreCase bool
}

func (f *stopFilter) Filter(toks []Token) []Token {
	if len(f.words) == 0 {
		return toks
	}
	return keep(toks, func(t *Token) bool {
		term := t.Term
		if f.ignoreCase {
			term = lowerString(term)
		}
		_, stop := f.words[term]
		return !stop
	})
}

func newStopFilter(words []string, ignoreCase bool) *stopFilter {
	f := &stopFilter{words: make(map[string]struct{}, len(words)), ignoreCase: ignoreCase}
	for _, w := range words {
		if ignoreCase {
			w = lowerString(w)
		}
		f.words[w] = struct{}{}
	}
	return f
}

// englishStopWords is Lucene's English stop word set, Elasticsearch's
// "_english_". Read only.
var englishStopWords = []string{
	"a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in",
	"into", "is", "it", "no", "not", "of", "on", "or", "such", "that", "the",
	"their", "then", "there", "these", "they", "this", "to", "was", "will",
	"with",
}

// edgeNGramFilter replaces each token by its prefixes of min to max
// characters, at the token's position; tokens shorter than min are dropped
// unless preserveOriginal.
type edgeNGramFilter struct {
	min, max         int
	preserveOriginal bool
}

func (f edgeNGramFilter) Filter(toks []Token) []Token {
	out := make([]Token, 0, len(toks)*(f.max-f.min+1))
	for _, t := range toks {
		whole := false
		for end, k := 0, 0; end < len(t.Term) && k < f.max; {
			_, size := utf8.DecodeRuneInString(t.Term[end:])
			end += size
			k++
			if k >= f.min {
				g := t
				g.Term = t.Term[:end]
				out = append(out, g)
				whole = end == len(t.Term)
			}
		}
		if f.preserveOriginal && !whole {
			out = append(out, t)
		}
	}
	return out
}

// truncateFilter cuts terms to n characters.
type truncateFilter struct{ n int }

func (f truncateFilter) Filter(toks []Token) []Token {
	return mapTerms(toks, func(s string) string {
		k := 0
		for i := range s {
			if k == f.n {
				return s[:i]
			}
			k++
		}
		return s
	})
}
