package jwt

import (
	"net/http"
	"strings"
)

// BearerToken returns the token of an `Authorization: Bearer <token>` header
// (RFC 6750 section 2.1; the scheme is case-insensitive), and whether there
// was one. A request with several Authorization headers has none: which one
// counts would be ambiguous.
func BearerToken(h http.Header) (string, bool) {
	vals := h.Values("Authorization")
	if len(vals) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(vals[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", false
	}
	return tok, true
}
