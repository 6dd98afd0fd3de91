package gwconfig

import (
	"errors"
	"fmt"
	"strings"
)

// ErrBadPattern wraps every error ParsePattern returns.
var ErrBadPattern = errors.New("gwconfig: bad path pattern")

// Segment is one "/"-separated segment of a path pattern: a literal that
// must equal the request's segment, a Param ("{id}") capturing exactly one
// non-empty segment, or, last only, a Rest param ("{path...}") capturing
// everything after the preceding "/" (possibly empty, slashes included).
type Segment struct {
	Literal string
	Param   string
	Rest    bool
}

// MaxPatternSegments bounds the segments of one pattern.
const MaxPatternSegments = 32

// ParsePattern splits a pattern such as "/users/{id}/files/{path...}" into
// its segments. A pattern starts with "/", has no empty segments (so no
// trailing "/" and no "//") and no "." or ".." segments; a param fills its
// whole segment, is named like a Go identifier, appears once, and a rest
// param is the last segment. The pattern "/" has no segments. Literals use
// only URL path characters, with percent-escapes only for characters that
// are not unreserved (request paths are matched with those decoded).
func ParsePattern(p string) ([]Segment, error) {
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("%w: must start with /", ErrBadPattern)
	}
	if p == "/" {
		return nil, nil
	}
	parts := strings.Split(p[1:], "/")
	if len(parts) > MaxPatternSegments {
		return nil, fmt.Errorf("%w: more than %d segments", ErrBadPattern, MaxPatternSegments)
	}
	segs := make([]Segment, 0, len(parts))
	seen := map[string]bool{}
	for i, part := range parts {
		switch {
		case part == "":
			return nil, fmt.Errorf("%w: empty segment (no // and no trailing /)", ErrBadPattern)
		case strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}"):
			name := part[1 : len(part)-1]
			rest := strings.HasSuffix(name, "...")
			name = strings.TrimSuffix(name, "...")
			if !isIdent(name) {
				return nil, fmt.Errorf("%w: param %q must be named like an identifier ({id}, {rest...})", ErrBadPattern, part)
			}
			if seen[name] {
				return nil, fmt.Errorf("%w: param {%s} appears twice", ErrBadPattern, name)
			}
			if rest && i != len(parts)-1 {
				return nil, fmt.Errorf("%w: {%s...} must be the last segment", ErrBadPattern, name)
			}
			seen[name] = true
			segs = append(segs, Segment{Param: name, Rest: rest})
		case strings.ContainsAny(part, "{}"):
			return nil, fmt.Errorf("%w: segment %q: a param must fill its whole segment", ErrBadPattern, part)
		default:
			if err := checkSegment(part); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrBadPattern, err)
			}
			segs = append(segs, Segment{Literal: part})
		}
	}
	return segs, nil
}

// isIdent reports whether s is a non-empty identifier of at most 64 ASCII
// letters, digits and underscores, not starting with a digit.
func isIdent(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// checkSegment checks one literal path segment (no "/").
func checkSegment(s string) error {
	if s == "." || s == ".." {
		return fmt.Errorf("segment %q is not allowed", s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
				return fmt.Errorf("segment %q: %% must start an escape like %%2F", s)
			}
			if b := byte(unhex(s[i+1])<<4 | unhex(s[i+2])); isUnreserved(b) {
				return fmt.Errorf("segment %q: write %q instead of %s (requests are matched decoded)", s, string(b), s[i:i+3])
			}
			if up := strings.ToUpper(s[i : i+3]); up != s[i:i+3] {
				return fmt.Errorf("segment %q: write %s with upper-case hex (requests are matched so)", s, up)
			}
			i += 2
			continue
		}
		if !isPathChar(c) {
			return fmt.Errorf("segment %q: character %q is not allowed in a path", s, c)
		}
	}
	return nil
}

// checkPath checks a literal path: it starts with "/", and its segments are
// valid literals; a trailing "/" is allowed when trailing is true.
func checkPath(p string, trailing bool) error {
	if !strings.HasPrefix(p, "/") {
		return errors.New("must start with /")
	}
	if p == "/" {
		return nil
	}
	body := p[1:]
	if trailing {
		body = strings.TrimSuffix(body, "/")
	} else if strings.HasSuffix(body, "/") {
		return errors.New("must not end with / (prefixes match whole segments: /api matches /api and /api/x)")
	}
	for _, seg := range strings.Split(body, "/") {
		if seg == "" {
			return errors.New("must not contain //")
		}
		if err := checkSegment(seg); err != nil {
			return err
		}
	}
	return nil
}

func unhex(c byte) int {
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

// isUnreserved reports RFC 3986 unreserved characters.
func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// isPathChar reports RFC 3986 pchar characters other than '%'.
func isPathChar(c byte) bool {
	return isUnreserved(c) || strings.IndexByte("!$&'()*+,;=:@", c) >= 0
}
