package analysis

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// asciiFoldingFilter folds letters, digits and symbols to their ASCII
// equivalents when they have one ("café" → "cafe", "straße" → "strasse",
// "æ" → "ae"), as Lucene's ASCIIFoldingFilter does. With preserveOriginal
// a folded token is followed by its original at the same position.
type asciiFoldingFilter struct{ preserveOriginal bool }

func (f asciiFoldingFilter) Filter(toks []Token) []Token {
	if !f.preserveOriginal {
		return mapTerms(toks, foldString)
	}
	var out []Token
	for i, t := range toks {
		folded := foldString(t.Term)
		if folded == t.Term {
			if out != nil {
				out = append(out, t)
			}
			continue
		}
		if out == nil {
			out = append(make([]Token, 0, len(toks)+1), toks[:i]...)
		}
		orig := t
		t.Term = folded
		out = append(out, t, orig)
	}
	if out == nil {
		return toks
	}
	return out
}

// foldSpecial holds the foldings Unicode decomposition does not give.
var foldSpecial = map[rune]string{
	'ß': "ss", 'ẞ': "SS", 'æ': "ae", 'Æ': "AE", 'œ': "oe", 'Œ': "OE",
	'ø': "o", 'Ø': "O", 'đ': "d", 'Đ': "D", 'ð': "d", 'Ð': "D",
	'þ': "th", 'Þ': "TH", 'ł': "l", 'Ł': "L", 'ħ': "h", 'Ħ': "H",
	'ı': "i", 'ĳ': "ij", 'Ĳ': "IJ", 'ŀ': "l", 'Ŀ': "L", 'ŉ': "'n",
	'ſ': "s", 'ŋ': "n", 'Ŋ': "N", 'ŧ': "t", 'Ŧ': "T", 'ƒ': "f",
	'ƀ': "b", 'Ɓ': "B", 'ƈ': "c", 'Ƈ': "C", 'ɗ': "d", 'Ɗ': "D",
	'ɠ': "g", 'Ɠ': "G", 'ɨ': "i", 'Ɨ': "I", 'ƙ': "k", 'Ƙ': "K",
	'ƚ': "l", 'Ƚ': "L", 'ɲ': "n", 'Ɲ': "N", 'ƥ': "p", 'Ƥ': "P",
	'ʉ': "u", 'Ʉ': "U", 'ƴ': "y", 'Ƴ': "Y", 'ƶ': "z", 'Ƶ': "Z",
	'ȿ': "s", 'ɀ': "z", 'ɍ': "r", 'Ɍ': "R", 'ɏ': "y", 'Ɏ': "Y",
	'‘': "'", '’': "'", '‚': "'", '‛': "'", '′': "'", '‹': "'", '›': "'",
	'“': "\"", '”': "\"", '„': "\"", '‟': "\"", '″': "\"", '«': "\"", '»': "\"",
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '―': "-", '⁄': "/",
	'…': "...", '¼': "1/4", '½': "1/2", '¾': "3/4",
}

// foldString folds s to ASCII where it can, returning s itself (no
// allocation) when it is ASCII already.
func foldString(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteString(s[:i])
	changed := false
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			b.WriteByte(c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if f, ok := foldRune(r, s[i:i+size]); ok {
			b.WriteString(f)
			changed = true
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	if !changed {
		return s
	}
	return b.String()
}

// foldRune returns the ASCII folding of r (whose UTF-8 encoding is enc),
// or false when r has none: r's compatibility decomposition without its
// combining marks, when that is ASCII, or a special case.
func foldRune(r rune, enc string) (string, bool) {
	if f, ok := foldSpecial[r]; ok {
		return f, true
	}
	if unicode.Is(unicode.Mn, r) {
		return "", true // a lone combining mark folds away
	}
	d := norm.NFKD.PropertiesString(enc).Decomposition()
	if d == nil {
		return "", false
	}
	var out []byte
	for j := 0; j < len(d); {
		dr, size := utf8.DecodeRune(d[j:])
		switch {
		case dr < utf8.RuneSelf:
			out = append(out, byte(dr))
		case unicode.Is(unicode.Mn, dr):
		default:
			f, ok := foldSpecial[dr]
			if !ok {
				return "", false
			}
			out = append(out, f...)
		}
		j += size
	}
	if len(out) == 0 {
		return "", false
	}
	return string(out), true
}
