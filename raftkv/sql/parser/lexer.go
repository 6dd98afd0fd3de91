package parser

import (
	"strings"
	"unicode/utf8"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// tokKind is the lexical class of a token.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // unquoted identifier or keyword; text folded to lower case
	tQIdent         // "quoted identifier"; text as written (without quotes, "" unescaped)
	tString         // string constant; text unescaped
	tInt            // integer constant; text the digits
	tNum            // decimal constant (1.5, .5, 1., 1e3); text as written
	tParam          // $N; text the digits
	tOp             // operator (+, ::, ->>, <=, …); text the operator
	tPunct          // one of ( ) [ ] , ; . :
)

// token is one lexeme. pos is the 1-based character offset of its first
// character in the query; raw is its text as written (for error messages).
type token struct {
	kind tokKind
	text string
	raw  string
	pos  int
	off  int // byte offset of the first byte
	end  int // byte offset past the last byte
}

// lexer turns a query string into tokens by PostgreSQL's lexical rules.
type lexer struct {
	src  string
	i    int // byte offset
	toks []token
}

// lex returns the tokens of src, ending with a tEOF token, or a 42601 error.
func lex(src string) ([]token, error) {
	l := &lexer{src: src, toks: make([]token, 0, len(src)/5+2)}
	for {
		if err := l.skipSpace(); err != nil {
			return nil, err
		}
		if l.i >= len(src) {
			break
		}
		if err := l.next(); err != nil {
			return nil, err
		}
	}
	l.toks = append(l.toks, token{kind: tEOF, off: len(src), end: len(src)})
	// Byte offsets to 1-based character positions, in one pass.
	chars, at := 0, 0
	for k := range l.toks {
		t := &l.toks[k]
		chars += utf8.RuneCountInString(src[at:t.off])
		at = t.off
		t.pos = chars + 1
		if t.raw == "" && t.kind != tEOF {
			t.raw = src[t.off:t.end]
		}
	}
	return l.toks, nil
}

// charPos is the 1-based character position of byte offset off.
func charPos(src string, off int) int {
	if off > len(src) {
		off = len(src)
	}
	return utf8.RuneCountInString(src[:off]) + 1
}

func (l *lexer) errAt(off int, format string, args ...any) error {
	return sqlerr.New(sqlerr.SyntaxError, format, args...).At(int32(charPos(l.src, off)))
}

// skipSpace skips white space and comments (-- to end of line, nested /* */).
func (l *lexer) skipSpace() error {
	src := l.src
	for l.i < len(src) {
		c := src[l.i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.i++
		case c == '-' && l.i+1 < len(src) && src[l.i+1] == '-':
			for l.i < len(src) && src[l.i] != '\n' {
				l.i++
			}
		case c == '/' && l.i+1 < len(src) && src[l.i+1] == '*':
			start := l.i
			depth := 0
			for {
				if l.i+1 >= len(src) {
					return l.errAt(start, "unterminated /* comment at or near \"%s\"", src[start:])
				}
				if src[l.i] == '/' && src[l.i+1] == '*' {
					depth++
					l.i += 2
				} else if src[l.i] == '*' && src[l.i+1] == '/' {
					depth--
					l.i += 2
					if depth == 0 {
						break
					}
				} else {
					l.i++
				}
			}
		default:
			return nil
		}
	}
	return nil
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentCont(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isOpChar reports whether c may be part of a PostgreSQL operator.
func isOpChar(c byte) bool {
	return strings.IndexByte("+-*/<>=~!@#%^&|`?", c) >= 0
}

func (l *lexer) emit(kind tokKind, text string, off int) {
	l.toks = append(l.toks, token{kind: kind, text: text, off: off, end: l.i})
}

// next lexes one token at l.i (not white space).
func (l *lexer) next() error {
	src := l.src
	start := l.i
	c := src[l.i]
	switch {
	case (c == 'e' || c == 'E') && l.i+1 < len(src) && src[l.i+1] == '\'':
		l.i++
		s, err := l.quoted(start, true)
		if err != nil {
			return err
		}
		l.emit(tString, s, start)
	case (c == 'n' || c == 'N') && l.i+1 < len(src) && src[l.i+1] == '\'':
		l.i++
		s, err := l.quoted(start, false)
		if err != nil {
			return err
		}
		l.emit(tString, s, start)
	case isIdentStart(c):
		for l.i < len(src) && isIdentCont(src[l.i]) {
			l.i++
		}
		l.emit(tIdent, foldIdent(src[start:l.i]), start)
	case c == '"':
		l.i++
		var b strings.Builder
		for {
			if l.i >= len(src) {
				return l.errAt(start, "unterminated quoted identifier at or near \"%s\"", src[start:])
			}
			if src[l.i] == '"' {
				if l.i+1 < len(src) && src[l.i+1] == '"' {
					b.WriteByte('"')
					l.i += 2
					continue
				}
				l.i++
				break
			}
			b.WriteByte(src[l.i])
			l.i++
		}
		if b.Len() == 0 {
			return l.errAt(start, "zero-length delimited identifier at or near \"%s\"", src[start:l.i])
		}
		l.emit(tQIdent, b.String(), start)
	case c == '\'':
		s, err := l.quoted(start, false)
		if err != nil {
			return err
		}
		l.emit(tString, s, start)
	case c == '$':
		return l.dollar(start)
	case isDigit(c) || (c == '.' && l.i+1 < len(src) && isDigit(src[l.i+1])):
		return l.number(start)
	case strings.IndexByte("()[],;", c) >= 0:
		l.i++
		l.emit(tPunct, src[start:l.i], start)
	case c == '.':
		l.i++
		l.emit(tPunct, ".", start)
	case c == ':':
		l.i++
		if l.i < len(src) && src[l.i] == ':' {
			l.i++
			l.emit(tOp, "::", start)
			return nil
		}
		l.emit(tPunct, ":", start)
	case isOpChar(c):
		l.operator(start)
	default:
		_, size := utf8.DecodeRuneInString(src[l.i:])
		return l.errAt(start, "syntax error at or near \"%s\"", src[start:start+size])
	}
	return nil
}

// foldIdent lower-cases ASCII letters as PostgreSQL folds unquoted identifiers.
func foldIdent(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// quoted lexes a quoted string at l.i (a doubled quote is a quote); escapes
// enables E-string backslash escapes.
func (l *lexer) quoted(start int, escapes bool) (string, error) {
	src := l.src
	l.i++ // opening quote
	var b strings.Builder
	for {
		if l.i >= len(src) {
			return "", l.errAt(start, "unterminated quoted string at or near \"%s\"", src[start:])
		}
		c := src[l.i]
		switch {
		case c == '\'':
			if l.i+1 < len(src) && src[l.i+1] == '\'' {
				b.WriteByte('\'')
				l.i += 2
				continue
			}
			l.i++
			if j, ok := continuation(src, l.i); ok {
				// 'foo'<newline>'bar' is one constant, as in standard SQL.
				l.i = j + 1
				continue
			}
			return b.String(), nil
		case c == '\\' && escapes:
			if l.i+1 >= len(src) {
				return "", l.errAt(start, "unterminated quoted string at or near \"%s\"", src[start:])
			}
			l.i++
			e := src[l.i]
			l.i++
			switch e {
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
			case 'x':
				v, n := 0, 0
				for n < 2 && l.i < len(src) && hexVal(src[l.i]) >= 0 {
					v = v*16 + hexVal(src[l.i])
					l.i++
					n++
				}
				if n == 0 {
					b.WriteByte('x')
				} else {
					b.WriteByte(byte(v))
				}
			case 'u', 'U':
				want := 4
				if e == 'U' {
					want = 8
				}
				v := 0
				for n := 0; n < want; n++ {
					if l.i >= len(src) || hexVal(src[l.i]) < 0 {
						return "", l.errAt(l.i, "invalid Unicode escape at or near \"%s\"", src[start:l.i])
					}
					v = v*16 + hexVal(src[l.i])
					l.i++
				}
				if !utf8.ValidRune(rune(v)) || v == 0 {
					return "", l.errAt(l.i, "invalid Unicode escape value at or near \"%s\"", src[start:l.i])
				}
				b.WriteRune(rune(v))
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for n := 1; n < 3 && l.i < len(src) && src[l.i] >= '0' && src[l.i] <= '7'; n++ {
						v = v*8 + int(src[l.i]-'0')
						l.i++
					}
					b.WriteByte(byte(v))
				} else {
					b.WriteByte(e)
				}
			}
		default:
			b.WriteByte(c)
			l.i++
		}
	}
}

// continuation reports whether white space holding a newline and then a
// quote follow offset i; j is the offset of that quote.
func continuation(src string, i int) (j int, ok bool) {
	newline := false
	for j = i; j < len(src); j++ {
		switch src[j] {
		case '\n', '\r':
			newline = true
		case ' ', '\t', '\f', '\v':
		case '\'':
			return j, newline
		default:
			return j, false
		}
	}
	return j, false
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// dollar lexes $N or a dollar-quoted string $tag$…$tag$ at l.i.
func (l *lexer) dollar(start int) error {
	src := l.src
	j := l.i + 1
	if j < len(src) && isDigit(src[j]) {
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		l.i = j
		l.emit(tParam, src[start+1:j], start)
		return nil
	}
	for j < len(src) && isIdentCont(src[j]) && src[j] != '$' {
		j++
	}
	if j >= len(src) || src[j] != '$' {
		return l.errAt(start, "syntax error at or near \"$\"")
	}
	delim := src[start : j+1]
	body := j + 1
	end := strings.Index(src[body:], delim)
	if end < 0 {
		return l.errAt(start, "unterminated dollar-quoted string at or near \"%s\"", src[start:])
	}
	l.i = body + end + len(delim)
	l.emit(tString, src[body:body+end], start)
	return nil
}

// number lexes an integer or decimal constant at l.i.
func (l *lexer) number(start int) error {
	src := l.src
	kind := tInt
	for l.i < len(src) && isDigit(src[l.i]) {
		l.i++
	}
	if l.i < len(src) && src[l.i] == '.' && !(l.i+1 < len(src) && src[l.i+1] == '.') {
		kind = tNum
		l.i++
		for l.i < len(src) && isDigit(src[l.i]) {
			l.i++
		}
	}
	if l.i < len(src) && (src[l.i] == 'e' || src[l.i] == 'E') {
		j := l.i + 1
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if j < len(src) && isDigit(src[j]) {
			kind = tNum
			for j < len(src) && isDigit(src[j]) {
				j++
			}
			l.i = j
		}
	}
	if l.i < len(src) && isIdentStart(src[l.i]) {
		// PostgreSQL rejects junk directly after a numeric literal (123abc).
		_, size := utf8.DecodeRuneInString(src[l.i:])
		return l.errAt(start, "trailing junk after numeric literal at or near \"%s\"", src[start:l.i+size])
	}
	l.emit(kind, src[start:l.i], start)
	return nil
}

// operator lexes an operator by PostgreSQL's rule: the longest run of
// operator characters not starting a comment, from which a trailing + or -
// is dropped unless the run contains one of ~ ! @ # % ^ & | ` ?.
func (l *lexer) operator(start int) {
	src := l.src
	j := l.i
	for j < len(src) && isOpChar(src[j]) {
		if j > start && j+1 < len(src) && ((src[j] == '-' && src[j+1] == '-') || (src[j] == '/' && src[j+1] == '*')) {
			break
		}
		j++
	}
	if j == start {
		j = start + 1
	}
	op := src[start:j]
	if len(op) > 1 && !strings.ContainsAny(op, "~!@#%^&|`?") {
		for len(op) > 1 && (op[len(op)-1] == '+' || op[len(op)-1] == '-') {
			op = op[:len(op)-1]
		}
	}
	l.i = start + len(op)
	l.emit(tOp, op, start)
}
