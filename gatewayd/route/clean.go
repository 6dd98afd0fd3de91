package route

import "strings"

// CleanPath normalizes a request path in its escaped form (as
// url.URL.EscapedPath returns it) for matching and forwarding: escapes of
// unreserved characters (letters, digits, - . _ ~) are decoded and the hex
// digits of the other escapes upper-cased; "//" collapses to "/"; "." and
// ".." segments are resolved (after decoding, so "%2e%2e" is ".."); a
// trailing "/" is kept. An empty path is "/". It reports false for a path
// that does not start with "/", has a malformed escape, or whose ".."
// segments climb above the root — the caller answers 400.
//
// A path that is already clean is returned as is, without allocating.
func CleanPath(p string) (string, bool) {
	if p == "" {
		return "/", true
	}
	if p[0] != '/' {
		return "", false
	}
	if isClean(p) {
		return p, true
	}
	decoded, ok := decodeUnreserved(p)
	if !ok {
		return "", false
	}
	return resolveDots(decoded)
}

// isClean reports whether p (starting with "/") needs no change: no escape
// to normalize, no empty segment and no dot segment.
func isClean(p string) bool {
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '%':
			if i+2 >= len(p) {
				return false
			}
			a, b := unhex(p[i+1]), unhex(p[i+2])
			if a < 0 || b < 0 || isUnreserved(byte(a<<4|b)) || isLowerHex(p[i+1]) || isLowerHex(p[i+2]) {
				return false
			}
			i += 2
		case '/':
			if i+1 < len(p) {
				switch p[i+1] {
				case '/':
					return false
				case '.':
					rest := p[i+2:]
					if rest == "" || rest[0] == '/' || rest[0] == '.' && (len(rest) == 1 || rest[1] == '/') {
						return false
					}
				}
			}
		}
	}
	return true
}

// decodeUnreserved decodes escapes of unreserved characters and upper-cases
// the hex of the others; false on a malformed escape.
func decodeUnreserved(p string) (string, bool) {
	if strings.IndexByte(p, '%') < 0 {
		return p, true
	}
	b := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			b = append(b, c)
			continue
		}
		if i+2 >= len(p) {
			return "", false
		}
		hi, lo := unhex(p[i+1]), unhex(p[i+2])
		if hi < 0 || lo < 0 {
			return "", false
		}
		if d := byte(hi<<4 | lo); isUnreserved(d) {
			b = append(b, d)
		} else {
			b = append(b, '%', upperHex[hi], upperHex[lo])
		}
		i += 2
	}
	return string(b), true
}

// resolveDots collapses empty segments and resolves "." and "..".
func resolveDots(p string) (string, bool) {
	segs := make([]string, 0, strings.Count(p, "/"))
	trailing := false
	for _, s := range strings.Split(p[1:], "/") {
		trailing = false
		switch s {
		case "", ".":
			trailing = true
		case "..":
			if len(segs) == 0 {
				return "", false
			}
			segs = segs[:len(segs)-1]
			trailing = true
		default:
			segs = append(segs, s)
		}
	}
	var b strings.Builder
	b.Grow(len(p))
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(s)
	}
	if trailing || len(segs) == 0 {
		b.WriteByte('/')
	}
	return b.String(), true
}

const upperHex = "0123456789ABCDEF"

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

func isLowerHex(c byte) bool { return c >= 'a' && c <= 'f' }

// isUnreserved reports RFC 3986 unreserved characters.
func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}
