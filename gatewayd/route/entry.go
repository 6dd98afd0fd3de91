package route

import (
	"net/http"
	"strings"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// Host kinds, in order of precedence.
const (
	hostExact = iota
	hostWildcard
	hostAny
)

// entry is one (host, path) pair of a route with everything Match checks.
type entry struct {
	route    int
	order    int    // position among all entries, for stable ties
	hostKind int    // hostExact, hostWildcard or hostAny
	host     string // lower-case exact host, or the suffix ".example.com"
	methods  []string
	headers  []headerCond

	// Pattern entries only.
	segs     []gwconfig.Segment
	literals int
	rest     bool
}

// headerCond is one header match, the name canonical so Match can index
// http.Header without allocating.
type headerCond struct {
	name            string
	value           string
	present, absent bool
}

// constraints is the number of constraints for precedence: each header
// match counts one, a method list one.
func (e *entry) constraints() int {
	n := 2 * len(e.headers)
	if len(e.methods) > 0 {
		n++
	}
	return n
}

// less orders entries of the same path by host, constraints, then order.
func (e *entry) less(o *entry) bool {
	if e.hostKind != o.hostKind {
		return e.hostKind < o.hostKind
	}
	if e.hostKind == hostWildcard && len(e.host) != len(o.host) {
		return len(e.host) > len(o.host)
	}
	if a, b := e.constraints(), o.constraints(); a != b {
		return a > b
	}
	return e.order < o.order
}

// matchHost reports whether the request host (port and trailing dot
// already removed) matches.
func (e *entry) matchHost(host string) bool {
	switch e.hostKind {
	case hostExact:
		return strings.EqualFold(host, e.host)
	case hostWildcard:
		return len(host) > len(e.host) && strings.EqualFold(host[len(host)-len(e.host):], e.host)
	}
	return true
}

func (e *entry) matchHeaders(h http.Header) bool {
	for i := range e.headers {
		c := &e.headers[i]
		vs := h[c.name]
		switch {
		case c.absent:
			if len(vs) > 0 {
				return false
			}
		case c.present:
			if len(vs) == 0 {
				return false
			}
		default:
			found := false
			for _, v := range vs {
				if v == c.value {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	return true
}

// matchMethod reports whether method is allowed; a GET route allows HEAD.
func (e *entry) matchMethod(method string) bool {
	if len(e.methods) == 0 {
		return true
	}
	for _, m := range e.methods {
		if m == method || m == http.MethodGet && method == http.MethodHead {
			return true
		}
	}
	return false
}

// requestHost strips a port and a trailing dot from a Host header value.
func requestHost(host string) string {
	if i := strings.LastIndexByte(host, ':'); i >= 0 && !strings.Contains(host[i:], "]") {
		host = host[:i]
	}
	return strings.TrimSuffix(host, ".")
}
