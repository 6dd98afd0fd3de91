package value

import (
	"strings"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Like reports whether s matches the LIKE pattern (ILIKE when
// caseInsensitive): % matches any run of characters, _ exactly one, and \
// makes the next character literal. A pattern ending in a lone \ is the
// 22025 error PostgreSQL gives.
func Like(s, pattern string, caseInsensitive bool) (bool, error) {
	if caseInsensitive {
		s, pattern = strings.ToLower(s), strings.ToLower(pattern)
	}
	// Compile the pattern into tokens: literal runes, '_' (any one), '%'
	// (any run).
	type tok struct {
		r    rune
		kind byte // 0 literal, '_' one, '%' any
	}
	var toks []tok
	pr := []rune(pattern)
	for i := 0; i < len(pr); i++ {
		switch c := pr[i]; c {
		case '\\':
			if i+1 >= len(pr) {
				return false, sqlerr.New(sqlerr.InvalidEscape, "LIKE pattern must not end with escape character")
			}
			i++
			toks = append(toks, tok{r: pr[i]})
		case '%':
			if len(toks) == 0 || toks[len(toks)-1].kind != '%' {
				toks = append(toks, tok{kind: '%'})
			}
		case '_':
			toks = append(toks, tok{kind: '_'})
		default:
			toks = append(toks, tok{r: c})
		}
	}
	sr := []rune(s)
	// Greedy match with one backtrack point (the last %), linear in
	// practice and never exponential.
	si, ti := 0, 0
	starT, starS := -1, 0
	for si < len(sr) {
		if ti < len(toks) {
			t := toks[ti]
			switch {
			case t.kind == '%':
				starT, starS = ti, si
				ti++
				continue
			case t.kind == '_' || t.r == sr[si]:
				si++
				ti++
				continue
			}
		}
		if starT < 0 {
			return false, nil
		}
		starS++
		si = starS
		ti = starT + 1
	}
	for ti < len(toks) && toks[ti].kind == '%' {
		ti++
	}
	return ti == len(toks), nil
}
