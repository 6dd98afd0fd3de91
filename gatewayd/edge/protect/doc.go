// Package protect keeps an edge node standing under abusive load: a per-client
// request rate limit (Limiter), a per-client cap on concurrent connections
// (ConnLimiter, a net.Listener wrapper), and a detector that watches origin
// fetches and says when the origin is overwhelmed (AttackDetector), so the
// cache can switch to serving stale content (httpcache's SetUnderAttack).
//
// # Use
//
//	ln, _ := net.Listen("tcp", addr)
//	cl, _ := protect.NewConnLimiter(ln, protect.ConnLimiterConfig{MaxPerClient: 64})
//	lim, _ := protect.NewLimiter(protect.LimiterConfig{Rate: 50, Burst: 100})
//	det, _ := protect.NewAttackDetector(protect.DetectorConfig{OnChange: cache.SetUnderAttack})
//	fetch := det.Wrap(origin.Fetch) // records each origin fetch's outcome
//	srv := &http.Server{Handler: lim.Handler(edgeHandler)}
//	srv.Serve(cl) // wrap TLS above the ConnLimiter: tls.NewListener(cl, conf)
//
// # Clients
//
// A client is an IP address: IPv4-mapped IPv6 addresses count as their IPv4
// address, and IPv6 addresses are grouped by their first 64 bits by default
// (one host usually owns a whole /64, so counting single addresses would let
// it rotate freely). The address is the TCP peer's (Limiter.Handler reads
// http.Request.RemoteAddr): an edge is the first hop, so forwarded-for
// headers are not trusted.
//
// # Concurrency
//
// Limiter, ConnLimiter and AttackDetector are safe for concurrent use and
// start no goroutines.
package protect
