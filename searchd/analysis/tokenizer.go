package analysis

import (
	"unicode"
	"unicode/utf8"
)

// Tokenizer splits text into tokens numbered from position 0, with byte
// offsets into text. Implementations are safe for concurrent use.
type Tokenizer interface {
	// Tokenize appends the tokens of text to dst and returns it.
	Tokenize(text string, dst []Token) []Token
}

// defaultMaxTokenLength is the standard tokenizer's max_token_length, as in
// Elasticsearch: longer words are split every that many characters.
const defaultMaxTokenLength = 255

// charClass is a character's role in word segmentation.
type charClass uint8

const (
	classOther      charClass = iota
	classLetter               // letters and combining marks: part of a word
	classDigit                // decimal digits: part of a word
	classConnect              // '_': joins letters and digits (ExtendNumLet)
	classIdeograph            // Han and Hiragana: one token per character
	classApostrophe           // ' and ’: inside words between letters
	classDot                  // '.': between letters or between digits
	classComma                // ',': between digits
)

// asciiClass classifies the ASCII bytes.
var asciiClass = func() (t [utf8.RuneSelf]charClass) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = classLetter
		t[c-'a'+'A'] = classLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = classDigit
	}
	t['_'] = classConnect
	t['\''] = classApostrophe
	t['.'] = classDot
	t[','] = classComma
	return t
}()

// classAt returns the class and byte length of the character at text[i].
func classAt(text string, i int) (charClass, int) {
	b := text[i]
	if b < utf8.RuneSelf {
		return asciiClass[b], 1
	}
	r, size := utf8.DecodeRuneInString(text[i:])
	return runeClass(r), size
}

func runeClass(r rune) charClass {
	switch {
	case r == '’' || r == '\uFF07':
		return classApostrophe
	case r == '\uFF0E':
		return classDot
	case unicode.IsLetter(r):
		if unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) {
			return classIdeograph
		}
		return classLetter
	case unicode.IsMark(r):
		return classLetter
	case unicode.IsDigit(r):
		return classDigit
	case unicode.Is(unicode.Pc, r):
		return classConnect
	}
	return classOther
}

// joins reports whether mid, between prev and next, keeps a word together:
// apostrophes and dots between letters ("o'neil", "u.s.a"), dots and
// commas between digits ("3.14", "1,000").
func joins(prev, mid, next charClass) bool {
	switch mid {
	case classApostrophe:
		return prev == classLetter && next == classLetter
	case classDot:
		return (prev == classLetter && next == classLetter) || (prev == classDigit && next == classDigit)
	case classComma:
		return prev == classDigit && next == classDigit
	}
	return false
}

// standardTokenizer approximates Lucene's StandardTokenizer (Unicode
// UAX #29 word boundaries): words are runs of letters, digits and
// underscores, joined across an apostrophe or dot between letters and a
// dot or comma between digits; each Han or Hiragana character is a token of
// its own; everything else separates words. Words longer than maxLen
// characters are split.
type standardTokenizer struct {
	maxLen int
}

func (t standardTokenizer) Tokenize(text string, dst []Token) []Token {
	pos := 0
	n := len(text)
	for i := 0; i < n; {
		c, size := classAt(text, i)
		switch c {
		case classIdeograph:
			dst = append(dst, Token{Term: text[i : i+size], Position: pos, Start: i, End: i + size})
			pos++
			i += size
			continue
		case classLetter, classDigit, classConnect:
		default:
			i += size
			continue
		}
		start := i
		alnum := c != classConnect
		last := c
		runes := 1
		i += size
		for i < n && runes < t.maxLen {
			c2, s2 := classAt(text, i)
			if c2 == classLetter || c2 == classDigit || c2 == classConnect {
				alnum = alnum || c2 != classConnect
				last = c2
				i += s2
				runes++
				continue
			}
			if c2 >= classApostrophe && i+s2 < n && runes+2 <= t.maxLen {
				c3, s3 := classAt(text, i+s2)
				if joins(last, c2, c3) {
					last = c3
					i += s2 + s3
					runes += 2
					continue
				}
			}
			break
		}
		if alnum {
			dst = append(dst, Token{Term: text[start:i], Position: pos, Start: start, End: i})
			pos++
		}
	}
	return dst
}

// letterTokenizer splits text at every character that is not a letter
// (Elasticsearch's "letter" tokenizer, used by the "simple" and "stop"
// analyzers).
type letterTokenizer struct{}

func (letterTokenizer) Tokenize(text string, dst []Token) []Token {
	return splitRuns(text, dst, isLetterAt)
}

// whitespaceTokenizer splits text at white space.
type whitespaceTokenizer struct{}

func (whitespaceTokenizer) Tokenize(text string, dst []Token) []Token {
	return splitRuns(text, dst, isNotSpaceAt)
}

// keywordTokenizer emits the whole text as one token (none for "").
type keywordTokenizer struct{}

func (keywordTokenizer) Tokenize(text string, dst []Token) []Token {
	if text == "" {
		return dst
	}
	return append(dst, Token{Term: text, Start: 0, End: len(text)})
}

func isLetterAt(text string, i int) (bool, int) {
	b := text[i]
	if b < utf8.RuneSelf {
		return asciiClass[b] == classLetter, 1
	}
	r, size := utf8.DecodeRuneInString(text[i:])
	return unicode.IsLetter(r) || unicode.IsMark(r), size
}

func isNotSpaceAt(text string, i int) (bool, int) {
	b := text[i]
	if b < utf8.RuneSelf {
		return !(b == ' ' || (b >= '\t' && b <= '\r')), 1
	}
	r, size := utf8.DecodeRuneInString(text[i:])
	return !unicode.IsSpace(r), size
}

// splitRuns emits the maximal runs of characters for which in is true.
func splitRuns(text string, dst []Token, in func(string, int) (bool, int)) []Token {
	pos := 0
	start := -1
	for i := 0; i < len(text); {
		ok, size := in(text, i)
		switch {
		case ok && start < 0:
			start = i
		case !ok && start >= 0:
			dst = append(dst, Token{Term: text[start:i], Position: pos, Start: start, End: i})
			pos++
			start = -1
		}
		i += size
	}
	if start >= 0 {
		dst = append(dst, Token{Term: text[start:], Position: pos, Start: start, End: len(text)})
	}
	return dst
}
