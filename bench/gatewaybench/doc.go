// Package gatewaybench is the engine of `cairn bench gateway` and of
// bench/gateway-compare.sh: a fixed HTTP/1.1 upstream to put behind a proxy,
// a closed-loop HTTP load generator, and the gateway configuration and token
// the comparison runs with.
//
// The upstream (StartUpstream) answers every GET or HEAD with the same
// 100-byte JSON body; a path ending in /cacheable carries
// `Cache-Control: public, max-age=60`, every other path carries no caching
// header. It counts the requests it served (Requests, and GET
// /_upstream/requests for scripts), so a run can show that a cache answered
// instead of it.
//
// The load generator (Run) opens Conns keep-alive connections, one worker
// per connection sending requests back to back for Warmup (not measured) and
// then Duration, and reports requests per second, exact latency percentiles
// and the errors. The scenarios pick the path and the credentials:
//
//   - plain: GET /plain, a plain reverse-proxied request.
//   - auth: GET /auth/plain with `Authorization: Bearer <Token>`: the
//     gateway verifies an HS256 JWT and takes a per-consumer rate-limit
//     token (a limit far above the load, so it never refuses).
//   - cached: GET /cache/cacheable: after the first request the gateway's
//     response cache answers; the result counts the responses marked as
//     cache hits (X-Cache: HIT or a Cache-Status hit).
//
// GatewayConfig writes the gateway YAML with one route per scenario, and
// SignHS256 the token the auth scenario sends; both use the benchmark's
// fixed key (BenchSecret), which protects nothing.
//
//	up, err := gatewaybench.StartUpstream("127.0.0.1:0")
//	defer up.Close()
//	cfg := gatewaybench.DefaultConfig()
//	cfg.URL = "http://127.0.0.1:8080" // the proxy in front of up.Addr()
//	res, err := gatewaybench.Run(ctx, cfg)
//	gatewaybench.WriteTable(os.Stdout, res)
package gatewaybench
