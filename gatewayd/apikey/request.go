package apikey

import (
	"net/http"
	"strings"
)

// HeaderName is the request header that carries an API key.
const HeaderName = "X-API-Key"

// FromRequest returns the API key of a request: the X-API-Key header, or an
// `Authorization: ApiKey <key>` header (scheme case-insensitive), and whether
// there was exactly one. Several values, in one header or across both, give
// none: which one counts would be ambiguous.
func FromRequest(h http.Header) (string, bool) {
	var found []string
	found = append(found, h.Values(HeaderName)...)
	for _, v := range h.Values("Authorization") {
		scheme, key, ok := strings.Cut(v, " ")
		if ok && strings.EqualFold(scheme, "ApiKey") {
			found = append(found, strings.TrimLeft(key, " "))
		}
	}
	if len(found) != 1 || found[0] == "" {
		return "", false
	}
	return strings.TrimSpace(found[0]), true
}
