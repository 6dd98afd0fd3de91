// Package route matches requests to the gateway's routes (gwconfig.Route)
// and rewrites their paths.
//
// Build a Router once per configuration with New and call Match for every
// request, with the request path as CleanPath returns it:
//
//	p, ok := route.CleanPath(r.URL.EscapedPath())
//	if !ok { /* 400 */ }
//	res := router.Match(r.Host, r.Method, p, r.Header)
//	switch {
//	case res.Matched: // routes[res.Route], with res.Params from a pattern
//	case res.MethodNotAllowed: // 405 with Allow: strings.Join(res.Allow, ", ")
//	default: // 404
//	}
//
// # Precedence
//
// Each (host, path) pair of a route is an entry; among the entries that
// match a request the most specific wins, comparing in this order:
//
//  1. the path: an exact path beats a pattern, which beats a prefix; among
//     patterns, more literal segments first, then more segments, then a
//     pattern without a {rest...} param before one with; among prefixes,
//     the longest;
//  2. the host: an exact host beats a wildcard (a longer suffix first),
//     which beats a route with no hosts;
//  3. constraints: more header matches first, then a route with methods
//     before one without;
//  4. document order.
//
// An entry matches when its host, path, header matches and methods all do;
// a route listing GET also matches HEAD. When no entry matches but some
// failed only on the method, the result is MethodNotAllowed with the sorted
// union of their methods in Allow.
//
// Host matching ignores case, a port and a trailing dot; "*.example.com"
// matches any name ending in ".example.com" (at any depth), not
// "example.com" itself. Paths match case-sensitively, byte for byte, after
// cleaning.
//
// Match on exact and prefix routes does not allocate; a pattern match
// allocates its Params map. A Router is immutable and safe for concurrent
// use.
package route
