package mapping

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner reads JSON from a string without building values: strings come
// back as substrings of the source unless they hold escapes, numbers as
// their literal text.
type scanner struct {
	s string
	i int
}

// maxNesting bounds arrays and objects nested in a document, mapped or
// not, so a hostile document cannot exhaust the stack.
const maxNesting = 100

func (sc *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("%w: at offset %d: %s", ErrParse, sc.i, fmt.Sprintf(format, args...))
}

func (sc *scanner) ws() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte (0 at the end; a NUL byte in the
// input is never valid JSON where a value or delimiter is expected).
func (sc *scanner) peek() byte {
	sc.ws()
	if sc.i < len(sc.s) {
		return sc.s[sc.i]
	}
	return 0
}

// expect consumes c after white space.
func (sc *scanner) expect(c byte) error {
	if sc.peek() != c {
		if sc.i >= len(sc.s) {
			return sc.errorf("unexpected end of input, expected %q", c)
		}
		return sc.errorf("expected %q, found %q", c, sc.s[sc.i])
	}
	sc.i++
	return nil
}

// str reads a string at sc.i (which is '"').
func (sc *scanner) str() (string, error) {
	start := sc.i + 1
	for j := start; j < len(sc.s); j++ {
		switch c := sc.s[j]; {
		case c == '"':
			sc.i = j + 1
			return sc.s[start:j], nil
		case c == '\\':
			return sc.unescape(start)
		case c < 0x20:
			sc.i = j
			return "", sc.errorf("control character in string")
		}
	}
	sc.i = len(sc.s)
	return "", sc.errorf("unterminated string")
}

func (sc *scanner) unescape(start int) (string, error) {
	var b strings.Builder
	j := start
	for j < len(sc.s) {
		c := sc.s[j]
		switch {
		case c == '"':
			sc.i = j + 1
			return b.String(), nil
		case c < 0x20:
			sc.i = j
			return "", sc.errorf("control character in string")
		case c != '\\':
			b.WriteByte(c)
			j++
			continue
		}
		if j+1 >= len(sc.s) {
			break
		}
		e := sc.s[j+1]
		j += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(sc.s, j)
			if !ok {
				sc.i = j
				return "", sc.errorf("bad \\u escape")
			}
			j += 4
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if j+1 < len(sc.s) && sc.s[j] == '\\' && sc.s[j+1] == 'u' {
					if v, ok := hex4(sc.s, j+2); ok {
						r2 = v
					}
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					j += 6
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
		default:
			sc.i = j - 1
			return "", sc.errorf("bad escape \\%c", e)
		}
	}
	sc.i = len(sc.s)
	return "", sc.errorf("unterminated string")
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i:i+4], 16, 32)
	return rune(v), err == nil
}

// number reads a JSON number literal at sc.i.
func (sc *scanner) number() (string, error) {
	s, start := sc.s, sc.i
	j := start
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && s[j] >= '1' && s[j] <= '9':
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
	default:
		sc.i = j
		return "", sc.errorf("invalid number")
	}
	if j < len(s) && s[j] == '.' {
		j++
		k := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == k {
			sc.i = j
			return "", sc.errorf("invalid number: no digits after '.'")
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == k {
			sc.i = j
			return "", sc.errorf("invalid number: no digits in exponent")
		}
	}
	sc.i = j
	return s[start:j], nil
}

// literal consumes word (true, false, null).
func (sc *scanner) literal(word string) error {
	if !strings.HasPrefix(sc.s[sc.i:], word) {
		return sc.errorf("invalid literal")
	}
	sc.i += len(word)
	return nil
}

// skip reads and discards one value, checking its syntax.
func (sc *scanner) skip(nesting int) error {
	switch sc.peek() {
	case '{':
		if nesting >= maxNesting {
			return fmt.Errorf("%w: JSON nesting depth exceeds %d", ErrLimit, maxNesting)
		}
		sc.i++
		if sc.peek() == '}' {
			sc.i++
			return nil
		}
		for {
			if sc.peek() != '"' {
				return sc.errorf("expected a field name")
			}
			if _, err := sc.str(); err != nil {
				return err
			}
			if err := sc.expect(':'); err != nil {
				return err
			}
			if err := sc.skip(nesting + 1); err != nil {
				return err
			}
			if more, err := sc.next('}'); err != nil || !more {
				return err
			}
		}
	case '[':
		if nesting >= maxNesting {
			return fmt.Errorf("%w: JSON nesting depth exceeds %d", ErrLimit, maxNesting)
		}
		sc.i++
		if sc.peek() == ']' {
			sc.i++
			return nil
		}
		for {
			if err := sc.skip(nesting + 1); err != nil {
				return err
			}
			if more, err := sc.next(']'); err != nil || !more {
				return err
			}
		}
	case '"':
		_, err := sc.str()
		return err
	case 't':
		return sc.literal("true")
	case 'f':
		return sc.literal("false")
	case 'n':
		return sc.literal("null")
	case 0:
		return sc.errorf("unexpected end of input")
	default:
		_, err := sc.number()
		return err
	}
}

// next consumes ',' (more: true) or the closing byte (more: false).
func (sc *scanner) next(closing byte) (bool, error) {
	switch sc.peek() {
	case ',':
		sc.i++
		return true, nil
	case closing:
		sc.i++
		return false, nil
	case 0:
		return false, sc.errorf("unexpected end of input, expected ',' or %q", closing)
	}
	return false, sc.errorf("expected ',' or %q, found %q", closing, sc.s[sc.i])
}
