package transform

import (
	"fmt"
	"net/http"
	"net/textproto"
	"sort"
)

// forbidden lists the headers no edit may touch: hop-by-hop headers belong
// to one connection, Host and Content-Length frame the message.
var forbidden = map[string]bool{
	"Connection":          true,
	"Keep-Alive":          true,
	"Proxy-Connection":    true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
	"Host":                true,
	"Content-Length":      true,
}

// Forbidden reports whether the header name may not be edited (the
// config validator can reuse it).
func Forbidden(name string) bool {
	return forbidden[textproto.CanonicalMIMEHeaderKey(name)]
}

// headerEdits is a compiled gwconfig.HeaderEdits for headers.
type headerEdits struct {
	remove []string    // canonical names
	rename [][2]string // canonical from, to; sorted by from
	add    [][2]string // canonical name, value; sorted by name
}

func (e *headerEdits) empty() bool {
	return len(e.remove) == 0 && len(e.rename) == 0 && len(e.add) == 0
}

// checkName returns the canonical form of a header name an edit may use.
func checkName(name string) (string, error) {
	if !validToken(name) {
		return "", fmt.Errorf("%w: name %q", ErrBadHeader, name)
	}
	c := textproto.CanonicalMIMEHeaderKey(name)
	if forbidden[c] {
		return "", fmt.Errorf("%w: %s", ErrForbiddenHeader, c)
	}
	return c, nil
}

func compileHeaders(remove []string, rename, add map[string]string) (headerEdits, error) {
	var e headerEdits
	for _, n := range remove {
		c, err := checkName(n)
		if err != nil {
			return e, err
		}
		e.remove = append(e.remove, c)
	}
	for from, to := range rename {
		cf, err := checkName(from)
		if err != nil {
			return e, err
		}
		ct, err := checkName(to)
		if err != nil {
			return e, err
		}
		e.rename = append(e.rename, [2]string{cf, ct})
	}
	for n, v := range add {
		c, err := checkName(n)
		if err != nil {
			return e, err
		}
		if !validValue(v) {
			return e, fmt.Errorf("%w: value of %s", ErrBadHeader, c)
		}
		e.add = append(e.add, [2]string{c, v})
	}
	sort.Slice(e.rename, func(i, j int) bool { return e.rename[i][0] < e.rename[j][0] })
	sort.Slice(e.add, func(i, j int) bool { return e.add[i][0] < e.add[j][0] })
	return e, nil
}

// apply edits h in place: remove, then rename (the new name's values are
// replaced by the old name's), then add (replacing).
func (e *headerEdits) apply(h http.Header) {
	for _, n := range e.remove {
		delete(h, n)
	}
	for _, r := range e.rename {
		if v, ok := h[r[0]]; ok {
			delete(h, r[0])
			h[r[1]] = v
		}
	}
	for _, a := range e.add {
		h[a[0]] = []string{a[1]}
	}
}

// validToken reports whether s is an RFC 9110 token.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c < 0x80 && isTokenPunct(c):
		default:
			return false
		}
	}
	return true
}

func isTokenPunct(c byte) bool {
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// validValue reports whether s is a field value without control characters
// other than horizontal tab.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
