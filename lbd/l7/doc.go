// Package l7 is lbd's HTTP frontend: it matches each request to a pool by
// host and path prefix, picks a member (sticky cookie first, then the pool's
// algorithm keyed by source IP, a cookie or a header) and forwards the
// request through node/httpproxy, retrying idempotent requests on other
// members. HTTP/2 and gRPC are balanced per request, not per connection.
//
// Use:
//
//	h := l7.New(l7.Config{Name: "web", Routes: routes, DefaultPool: "web", Pools: lookup, Proxy: core})
//	srv, err := httpproxy.Listen("web", httpproxy.ServerConfig{Addr: addr}, h, logger)
//
// Pools are looked up by name on every request (Config.Pools), so a
// configuration reload that replaces a pool takes effect without restarting
// the frontend or dropping its connections.
package l7
