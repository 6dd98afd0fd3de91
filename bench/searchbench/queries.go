package searchbench

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"
)

// Kind is a type of query in the benchmark's mix.
type Kind string

// The query kinds, each run against every target with the same texts.
const (
	// KindTerm is one word matched in the description (a match query of
	// one term).
	KindTerm Kind = "term"
	// KindPhrase is two adjacent words of some description, matched as a
	// phrase in the description.
	KindPhrase Kind = "phrase"
	// KindFuzzy is a word of 5+ letters with one edit (a letter changed,
	// dropped or two swapped), matched in the description with fuzziness
	// AUTO (2 edits for more than 5 letters, else 1).
	KindFuzzy Kind = "fuzzy"
	// KindPrefix is the first 4 letters of a title word, as a prefix of
	// the terms of the title (autocomplete).
	KindPrefix Kind = "prefix"
	// KindFacet is a term query whose response also counts the matching
	// documents of each section (a terms aggregation, top 10).
	KindFacet Kind = "facet"
)

// Kinds are every kind, in the order they are reported.
var Kinds = []Kind{KindTerm, KindPhrase, KindFuzzy, KindPrefix, KindFacet}

// ParseKind parses a kind's name.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("query kind %q: want one of term, phrase, fuzzy, prefix, facet", s)
}

// Query is one query of the mix. Every target is asked the top TopK hits
// of Field for Text; what Text means depends on Kind.
type Query struct {
	Kind  Kind   `json:"kind"`
	Field string `json:"field"`
	Text  string `json:"text"`
}

// TopK is how many hits every query asks for.
const TopK = 10

// FacetField is the field KindFacet counts by; FacetSize the buckets it
// asks for.
const (
	FacetField = "section"
	FacetSize  = 10
)

// Fuzziness is the edit distance Elasticsearch's AUTO allows a word of n
// letters: 0 up to 2, 1 up to 5, else 2.
func Fuzziness(n int) int {
	switch {
	case n <= 2:
		return 0
	case n <= 5:
		return 1
	}
	return 2
}

// words splits text into lower-case words of ASCII letters and digits;
// letters reports whether a word has letters only.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r))
	})
}

func letters(w string) bool {
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// stop are words too common to make a useful query (and that some
// engines' analyzers drop).
var stop = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an and are as at be but by for from has have if in into is it its
		no not of on or such that the their then there these they this to was which will with you your can
		may also more other all any some used use this one two package provides contains files`) {
		m[w] = true
	}
	return m
}()

// Generate makes perKind queries of each kind from the corpus, chosen by
// seed: words and phrases that occur in it (term and facet words in at
// least one document in a thousand and at most one in twenty, so that they
// select; in corpora under 2000 documents, at most one in two), their
// misspellings, and prefixes of title words.
func Generate(docs []Doc, perKind int, seed uint64) (map[Kind][]Query, error) {
	if len(docs) == 0 || perKind < 1 {
		return nil, fmt.Errorf("searchbench: no queries from %d documents", len(docs))
	}
	r := rand.New(rand.NewPCG(seed, 0x5eac4))
	df := map[string]int{}
	titleWords := map[string]bool{}
	for _, d := range docs {
		seen := map[string]bool{}
		for _, w := range words(d.Description) {
			if !seen[w] {
				seen[w] = true
				df[w]++
			}
		}
		for _, w := range words(d.Title) {
			if len(w) >= 5 && letters(w) && !stop[w] {
				titleWords[w] = true
			}
		}
	}
	lo, hi := max(1, len(docs)/1000), len(docs)/20
	if len(docs) < 2000 { // a test's corpus: any word that does not match everything
		hi = len(docs) / 2
	}
	var selective, long []string
	for w, n := range df {
		if len(w) < 3 || !letters(w) || stop[w] || n < lo || n > hi {
			continue
		}
		selective = append(selective, w)
		if len(w) >= 5 {
			long = append(long, w)
		}
	}
	prefixes := map[string]bool{}
	for w := range titleWords {
		prefixes[w[:4]] = true
	}
	slices.Sort(selective)
	slices.Sort(long)
	pre := slices.Sorted(func(yield func(string) bool) {
		for p := range prefixes {
			if !yield(p) {
				return
			}
		}
	})
	if len(selective) == 0 || len(long) == 0 || len(pre) == 0 {
		return nil, fmt.Errorf("searchbench: %d documents are too few to make queries from", len(docs))
	}
	out := map[Kind][]Query{}
	for range perKind {
		out[KindTerm] = append(out[KindTerm], Query{KindTerm, "description", selective[r.IntN(len(selective))]})
		out[KindFacet] = append(out[KindFacet], Query{KindFacet, "description", selective[r.IntN(len(selective))]})
		out[KindFuzzy] = append(out[KindFuzzy], Query{KindFuzzy, "description", misspell(long[r.IntN(len(long))], r)})
		out[KindPrefix] = append(out[KindPrefix], Query{KindPrefix, "title", pre[r.IntN(len(pre))]})
		out[KindPhrase] = append(out[KindPhrase], Query{KindPhrase, "description", phrase(docs, r)})
	}
	return out, nil
}

// misspell makes one edit inside w (never its first letter): a letter
// changed, dropped, or swapped with the next.
func misspell(w string, r *rand.Rand) string {
	b := []byte(w)
	i := 1 + r.IntN(len(b)-2)
	switch r.IntN(3) {
	case 0:
		c := byte('a' + r.IntN(26))
		if c == b[i] {
			c = 'a' + (c-'a'+1)%26
		}
		b[i] = c
	case 1:
		b = append(b[:i], b[i+1:]...)
	default:
		if b[i] == b[i+1] {
			b[i] = 'a' + (b[i]-'a'+1)%26
		} else {
			b[i], b[i+1] = b[i+1], b[i]
		}
	}
	return string(b)
}

// phrase picks two adjacent words of 3+ letters, neither a stop word, from
// a random document's description (trying others when one has none).
func phrase(docs []Doc, r *rand.Rand) string {
	for range 1000 {
		ws := words(docs[r.IntN(len(docs))].Description)
		var pairs []string
		for i := 0; i+1 < len(ws); i++ {
			a, b := ws[i], ws[i+1]
			if len(a) >= 3 && len(b) >= 3 && letters(a) && letters(b) && !stop[a] && !stop[b] {
				pairs = append(pairs, ws[i]+" "+ws[i+1])
			}
		}
		if len(pairs) > 0 {
			return pairs[r.IntN(len(pairs))]
		}
	}
	return "free software"
}
