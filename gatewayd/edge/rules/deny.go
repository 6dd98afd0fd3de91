package rules

import (
	"net"
	"net/http"
	"net/netip"
	"path"
	"strings"
)

// denied reports whether the deny list matches r: its remote address, its
// User-Agent, or its cleaned path.
func (e *Engine) denied(r *http.Request) bool {
	if len(e.denyNets) > 0 {
		if a, ok := RemoteAddr(r); ok {
			for _, p := range e.denyNets {
				if p.Contains(a) {
					return true
				}
			}
		}
	}
	if len(e.denyUASubstrings) > 0 || len(e.denyUARegexps) > 0 {
		ua := r.Header.Get("User-Agent")
		lower := strings.ToLower(ua)
		for _, s := range e.denyUASubstrings {
			if strings.Contains(lower, s) {
				return true
			}
		}
		for _, re := range e.denyUARegexps {
			if re.MatchString(ua) {
				return true
			}
		}
	}
	if len(e.denyPaths) > 0 {
		p := cleanPath(r.URL.Path)
		for _, prefix := range e.denyPaths {
			if strings.HasPrefix(p, prefix) {
				return true
			}
		}
	}
	return false
}

// cleanPath is p as path.Clean makes it (no "..", ".", or "//"), keeping a
// trailing slash, rooted at "/".
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	c := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
}

// RemoteAddr is the client address of r from its RemoteAddr ("ip:port" or a
// bare ip), IPv4-mapped IPv6 addresses unmapped and zones dropped; ok is
// false when RemoteAddr holds no address.
func RemoteAddr(r *http.Request) (netip.Addr, bool) {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}
