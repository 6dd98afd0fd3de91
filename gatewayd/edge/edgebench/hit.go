package edgebench

import (
	"net/http"
	"strconv"
	"strings"
)

// IsHit tells whether a cache answered from its store, by the headers of
// its answer: X-Cache starting with HIT or STALE (cairn's edge, Varnish and
// nginx as the comparison configures them, Squid's "HIT from host"), an
// RFC 9211 Cache-Status member with the "hit" parameter, or an Age above 0
// (RFC 9111: only a cache adds Age).
func IsHit(h http.Header) bool {
	xc := strings.ToUpper(strings.TrimSpace(h.Get("X-Cache")))
	if strings.HasPrefix(xc, "HIT") || strings.HasPrefix(xc, "STALE") {
		return true
	}
	for _, v := range h.Values("Cache-Status") {
		for _, member := range strings.Split(v, ",") {
			for _, param := range strings.Split(member, ";")[1:] {
				if strings.TrimSpace(param) == "hit" {
					return true
				}
			}
		}
	}
	if age := h.Get("Age"); age != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(age), 10, 64); err == nil && n > 0 {
			return true
		}
	}
	return false
}
