// Package httpproxy is the HTTP reverse-proxy core shared by gatewayd, its
// edge role and lbd's L7 mode. It owns the data path between a client
// connection and an upstream; routing, authentication and balancing belong
// to its callers.
//
// # Pieces
//
//   - Transport: an http.RoundTripper per upstream (HTTP/1.1, h2c with
//     prior knowledge, h2 over TLS, or TLS with ALPN choosing). Plain
//     HTTP/1.1 goes through the package's own client (h1client.go): round
//     trips on the caller's goroutine over a per-target pool of keep-alive
//     connections; the rest through a tuned http.Transport.
//   - Proxy.Forward: one request to one Upstream, bodies streamed both ways
//     through pooled buffers, hop-by-hop headers stripped, X-Forwarded-*,
//     Forwarded and X-Request-Id set, trailers (gRPC) passed through,
//     WebSocket upgrades spliced after hijacking the client connection.
//   - Proxy.ForwardRetrying: retries of idempotent requests before any
//     response byte is written, bounded by a RetryPolicy and a RetryBudget.
//   - WriteError: the JSON error body every gateway answer uses.
//   - Metrics, StatusWriter and AccessLogger: observability of each request.
//   - Server: the listening side (HTTP/1.1, h2 over TLS via ALPN, optional
//     h2c) with slowloris and oversize-header protection and graceful stop.
//     HTTP/1.1 (plaintext, or TLS that negotiated http/1.1) runs on the
//     package's own server loop (h1server.go): one goroutine per
//     connection, the handler on it, one buffered write per response, and
//     a client-gone watch only for handlers still running after 5ms. h2
//     and h2c connections are handed to net/http. The switch is the
//     useOwnHTTP1 constant (server.go).
//   - CertStore: certificates from files picked by SNI, hot-reloadable.
//
// # Use
//
//	p := httpproxy.New(httpproxy.Config{Metrics: m, Logger: logger})
//	defer p.Close()
//	tr := httpproxy.NewTransport(httpproxy.TransportConfig{Protocol: "http1"})
//	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
//		p.Forward(w, r, httpproxy.Upstream{Name: "api", Target: "10.0.0.5:8080", Transport: tr})
//	})
//	srv, err := httpproxy.Listen("gateway", httpproxy.ServerConfig{Addr: ":8080"}, h, logger)
//	...
//	err = srv.Serve(ctx) // returns after a graceful stop once ctx ends
//
// # Contracts worth knowing
//
//   - Forwarding headers: X-Forwarded-For and Forwarded are appended to
//     what the client sent, so an upstream may trust only the last element
//     (the one this proxy adds from the peer address); X-Forwarded-Proto
//     and X-Forwarded-Host are replaced.
//   - Upstream.Timeout bounds the whole exchange including a streamed
//     body: long-lived streams (server-sent events, gRPC watches) need a
//     generous or zero Timeout.
//   - Metrics: the Proxy counts upstream errors and retries; the caller
//     records each client request once with Metrics.ObserveRequest.
//   - Flushing: responses with a known length are left to the server's
//     buffering; unknown-length, text/event-stream and application/grpc
//     responses are flushed after every read.
//
// Forward never panics on upstream failures. When a response was already
// partly written and then broke (Outcome.Truncated), the caller should finish
// its bookkeeping and call AbortIfTruncated, so that the client sees a broken
// response rather than a clean but short one.
package httpproxy
