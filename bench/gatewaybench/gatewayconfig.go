package gatewaybench

import (
	"bytes"
	"fmt"
	"net"
	"text/template"
)

// GatewaySpec parameterises GatewayConfig.
type GatewaySpec struct {
	// Upstream is the host:port of the fixed upstream.
	Upstream string
	// Secret (base64), Issuer and Consumer set up the auth route's HS256
	// provider and its one consumer; empty means the Bench constants.
	Secret, Issuer, Consumer string
	// RateLimit is the auth route's per-consumer local limit per second;
	// 0 means 1,000,000, far above what one machine can send.
	RateLimit int64
}

// GatewayConfig returns the gatewayd YAML document of the benchmark: one
// upstream (Upstream) and one route per scenario —
//
//   - plain: prefix /, proxied as is;
//   - auth: prefix /auth, a JWT from the HS256 provider naming the consumer,
//     and a per-consumer local rate limit of RateLimit per second;
//   - cached: prefix /cache, the response cache (the upstream's max-age=60
//     sets the TTL).
func GatewayConfig(s GatewaySpec) ([]byte, error) {
	if _, _, err := net.SplitHostPort(s.Upstream); err != nil {
		return nil, fmt.Errorf("gatewaybench: upstream %q: %w", s.Upstream, err)
	}
	if s.Secret == "" {
		s.Secret = BenchSecret
	}
	if s.Issuer == "" {
		s.Issuer = BenchIssuer
	}
	if s.Consumer == "" {
		s.Consumer = BenchConsumer
	}
	if s.RateLimit == 0 {
		s.RateLimit = 1_000_000
	}
	if s.RateLimit < 1 {
		return nil, fmt.Errorf("gatewaybench: rate limit %d: must be >= 1", s.RateLimit)
	}
	if _, err := decodeSecret(s.Secret); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := gatewayTemplate.Execute(&b, s); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// gatewayTemplate quotes every string with %q, which YAML reads as a
// double-quoted scalar.
var gatewayTemplate = template.Must(template.New("gateway").Parse(`# The gateway of bench/gateway-compare.sh (cairn bench gateway --print-config).
version: 1
upstreams:
  - name: bench
    targets:
      - address: {{printf "%q" .Upstream}}
jwt_providers:
  - name: bench
    issuer: {{printf "%q" .Issuer}}
    algorithms: [HS256]
    keys:
      - secret: {{printf "%q" .Secret}}
consumers:
  - name: {{printf "%q" .Consumer}}
routes:
  - name: plain
    match:
      paths: [{prefix: /}]
    upstream: bench
  - name: auth
    match:
      paths: [{prefix: /auth}]
    upstream: bench
    auth:
      jwt: [bench]
    rate_limits:
      - {by: consumer, limit: {{.RateLimit}}, per: 1s, scope: local}
  - name: cached
    match:
      paths: [{prefix: /cache}]
    upstream: bench
    cache:
      ttl: 60s
`))
