package analysis

import (
	"unicode"
	"unicode/utf8"
)

// maxNGramDiff bounds max_gram - min_gram of the n-gram tokenizers and
// filters: each token makes up to that many grams per character.
const maxNGramDiff = 50

// runeBounds appends to b the byte offsets of the character boundaries of
// s (its start, each character's end).
func runeBounds(s string, b []int) []int {
	b = append(b, 0)
	for i := range s {
		if i > 0 {
			b = append(b, i)
		}
	}
	if len(s) > 0 {
		b = append(b, len(s))
	}
	return b
}

// ngramTokenizer splits text into words of the characters chars accepts
// (all characters when chars is nil: the whole text is one word) and emits
// the grams of min to max characters of each word — all of them, or only
// the word's prefixes when edge — each at a position of its own, as
// Elasticsearch's ngram and edge_ngram tokenizers.
type ngramTokenizer struct {
	min, max int
	edge     bool
	chars    func(rune) bool
}

func (t ngramTokenizer) Tokenize(text string, dst []Token) []Token {
	var boundsBuf [64]int
	pos := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if t.chars != nil && !t.chars(r) {
			i += size
			continue
		}
		start := i
		i += size
		for i < len(text) {
			r, size := utf8.DecodeRuneInString(text[i:])
			if t.chars != nil && !t.chars(r) {
				break
			}
			i += size
		}
		word := text[start:i]
		b := runeBounds(word, boundsBuf[:0])
		n := len(b) - 1
		last := n - 1
		if t.edge {
			last = 0
		}
		for s := 0; s <= last; s++ {
			for l := t.min; l <= t.max && s+l <= n; l++ {
				dst = append(dst, Token{Term: word[b[s]:b[s+l]], Position: pos, Start: start + b[s], End: start + b[s+l]})
				pos++
			}
		}
	}
	return dst
}

// tokenChars returns the character test of an n-gram tokenizer's
// token_chars classes (nil: every character), or the unknown class.
func tokenChars(classes []string, custom string) (func(rune) bool, string) {
	if len(classes) == 0 {
		return nil, ""
	}
	var tests []func(rune) bool
	for _, c := range classes {
		switch c {
		case "letter":
			tests = append(tests, unicode.IsLetter)
		case "digit":
			tests = append(tests, unicode.IsDigit)
		case "whitespace":
			tests = append(tests, unicode.IsSpace)
		case "punctuation":
			tests = append(tests, unicode.IsPunct)
		case "symbol":
			tests = append(tests, unicode.IsSymbol)
		case "custom":
			set := map[rune]bool{}
			for _, r := range custom {
				set[r] = true
			}
			tests = append(tests, func(r rune) bool { return set[r] })
		default:
			return nil, c
		}
	}
	return func(r rune) bool {
		for _, test := range tests {
			if test(r) {
				return true
			}
		}
		return false
	}, ""
}

// ngramFilter replaces each token by its grams of min to max characters,
// at the token's position and with its offsets; with preserveOriginal a
// token no gram equals is kept too.
type ngramFilter struct {
	min, max         int
	preserveOriginal bool
}

func (f ngramFilter) Filter(toks []Token) []Token {
	var boundsBuf [64]int
	out := make([]Token, 0, len(toks)*(f.max-f.min+1)*2)
	for _, t := range toks {
		b := runeBounds(t.Term, boundsBuf[:0])
		n := len(b) - 1
		whole := false
		for s := 0; s < n; s++ {
			for l := f.min; l <= f.max && s+l <= n; l++ {
				g := t
				g.Term = t.Term[b[s]:b[s+l]]
				out = append(out, g)
				whole = whole || (s == 0 && s+l == n)
			}
		}
		if f.preserveOriginal && !whole {
			out = append(out, t)
		}
	}
	return out
}
