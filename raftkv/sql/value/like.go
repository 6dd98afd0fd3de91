package value

import (
	"strings"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// Like reports whether s matches the LIKE pattern (ILIKE when
// caseInsensitive): % matches any run of characters, _ exactly one, and \
// makes the next character literal. It walks the pattern the way
// PostgreSQL's MatchText does, so a pattern ending in a lone \ is the 22025
// error only when the match reaches it, as in PostgreSQL.
func Like(s, pattern string, caseInsensitive bool) (bool, error) {
	if caseInsensitive {
		s, pattern = strings.ToLower(s), strings.ToLower(pattern)
	}
	r, err := likeMatch([]rune(s), []rune(pattern))
	return r == likeTrue, err
}

type likeResult uint8

const (
	likeFalse likeResult = iota
	likeTrue
	likeAbort // no match and no later start position can match either
)

func errLikeEscape() error {
	return sqlerr.New(sqlerr.InvalidEscape, "LIKE pattern must not end with escape character")
}

func likeMatch(t, p []rune) (likeResult, error) {
	if len(p) == 1 && p[0] == '%' {
		return likeTrue, nil
	}
	for len(t) > 0 && len(p) > 0 {
		switch p[0] {
		case '\\':
			p = p[1:]
			if len(p) == 0 {
				return likeFalse, errLikeEscape()
			}
			if p[0] != t[0] {
				return likeFalse, nil
			}
		case '%':
			p = p[1:]
			// Runs of % and _ collapse: each _ consumes a character.
			for len(p) > 0 {
				if p[0] == '%' {
					p = p[1:]
				} else if p[0] == '_' {
					if len(t) == 0 {
						return likeAbort, nil
					}
					t, p = t[1:], p[1:]
				} else {
					break
				}
			}
			if len(p) == 0 {
				return likeTrue, nil
			}
			first := p[0]
			if first == '\\' {
				if len(p) < 2 {
					return likeFalse, errLikeEscape()
				}
				first = p[1]
			}
			for len(t) > 0 {
				if t[0] == first {
					r, err := likeMatch(t, p)
					if err != nil || r != likeFalse {
						return r, err
					}
				}
				t = t[1:]
			}
			return likeAbort, nil
		case '_':
		default:
			if p[0] != t[0] {
				return likeFalse, nil
			}
		}
		t, p = t[1:], p[1:]
	}
	if len(t) > 0 {
		return likeFalse, nil
	}
	for len(p) > 0 && p[0] == '%' {
		p = p[1:]
	}
	if len(p) == 0 {
		return likeTrue, nil
	}
	return likeAbort, nil
}
