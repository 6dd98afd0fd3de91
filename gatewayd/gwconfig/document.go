package gwconfig

import "time"

// Document is the gateway's declarative configuration: the YAML a user
// writes (examples/gateway.yaml) and the same bytes stored in raftkv. Field
// names in YAML are the snake_case yaml tags below. Unknown fields are
// errors. Parse fills defaults and Validate rejects the whole document on
// any error, each error naming its path in the document
// ("routes[2].rate_limits[0].per").
type Document struct {
	// Version is the schema version; only 1 exists.
	Version int `yaml:"version"`
	// Upstreams are the services routes send requests to, by name.
	Upstreams []Upstream `yaml:"upstreams"`
	// JWTProviders are the token issuers routes may accept.
	JWTProviders []JWTProvider `yaml:"jwt_providers"`
	// Consumers are the known callers; a JWT's consumer claim or an API key
	// names one.
	Consumers []Consumer `yaml:"consumers"`
	// Routes are matched in order of specificity (see package route), not
	// in document order.
	Routes []Route `yaml:"routes"`
}

// Upstream is a named pool of targets.
type Upstream struct {
	Name string `yaml:"name"`
	// Targets is a static list; Service resolves the list from the raftkv
	// registry instead (exactly one of the two). The service "raftkv" is the
	// gateway's own registry cluster.
	Targets []Target `yaml:"targets"`
	Service string   `yaml:"service"`
	// Protocol: http (default), https, h2c (HTTP/2 without TLS), h2 (HTTP/2
	// over TLS), grpc (HTTP/2 over TLS with the cluster's certificates unless
	// TLS says otherwise; required by transcoding routes).
	Protocol string `yaml:"protocol"`
	TLS      *TLS   `yaml:"tls"`
	// Balance: round_robin (default, smooth weighted), least_request (P2C),
	// random.
	Balance        string          `yaml:"balance"`
	Timeouts       Timeouts        `yaml:"timeouts"`
	Retries        Retries         `yaml:"retries"`
	CircuitBreaker *CircuitBreaker `yaml:"circuit_breaker"`
	Outlier        *Outlier        `yaml:"outlier"`
}

// Target is one upstream address.
type Target struct {
	Address string `yaml:"address"` // host:port
	Weight  int    `yaml:"weight"`  // default 1
}

// TLS says how the gateway dials an upstream over TLS.
type TLS struct {
	// Cluster uses the cluster CA and the gateway node's own certificate
	// (mutual TLS to cairn daemons).
	Cluster            bool   `yaml:"cluster"`
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	ServerName         string `yaml:"server_name"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// Timeouts per phase of a proxied request; zero means the default.
type Timeouts struct {
	Connect        time.Duration `yaml:"connect"`         // default 2s
	ResponseHeader time.Duration `yaml:"response_header"` // default 30s
	Total          time.Duration `yaml:"total"`           // default 60s; bounds the whole exchange
	Idle           time.Duration `yaml:"idle"`            // pooled connection idle, default 90s
}

// Retries of idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE without a
// body that cannot be replayed), bounded by the gateway's retry budget.
type Retries struct {
	Attempts int `yaml:"attempts"` // extra tries, default 1, 0..5
	// On lists what is retried: connect_failure (default), reset, 502, 503,
	// 504, timeout.
	On []string `yaml:"on"`
}

// CircuitBreaker opens on the error rate or on consecutive failures within
// Window, once MinRequests were seen; stays open OpenFor; then lets
// HalfOpenRequests through and closes if they all succeed.
type CircuitBreaker struct {
	Window              time.Duration `yaml:"window"`               // default 10s
	MinRequests         int           `yaml:"min_requests"`         // default 20
	ErrorRate           float64       `yaml:"error_rate"`           // default 0.5, in (0,1]
	ConsecutiveFailures int           `yaml:"consecutive_failures"` // default 5; 0 disables
	OpenFor             time.Duration `yaml:"open_for"`             // default 5s
	HalfOpenRequests    int           `yaml:"half_open_requests"`   // default 3
}

// Outlier ejects single targets after ConsecutiveFailures (5xx, connect
// errors, timeouts), for BaseEjection × times ejected (capped at
// MaxEjection), never more than MaxEjectedPercent of the targets.
type Outlier struct {
	ConsecutiveFailures int           `yaml:"consecutive_failures"` // default 5
	BaseEjection        time.Duration `yaml:"base_ejection"`        // default 30s
	MaxEjection         time.Duration `yaml:"max_ejection"`         // default 5m
	MaxEjectedPercent   int           `yaml:"max_ejected_percent"`  // default 50
}

// JWTProvider is one token issuer.
type JWTProvider struct {
	Name string `yaml:"name"`
	// Issuer is required: a token's iss must equal it.
	Issuer string `yaml:"issuer"`
	// Audiences, when set, require the token's aud to contain one of them.
	Audiences []string `yaml:"audiences"`
	// Algorithms is the allowlist (HS256/384/512, RS256/384/512,
	// PS256/384/512, ES256/384/512, EdDSA); required; "none" is refused, and
	// HMAC algorithms may not be mixed with public-key ones in one provider.
	Algorithms []string `yaml:"algorithms"`
	// Keys: inline or file keys; JWKSURL: a key set fetched and refreshed in
	// the background every JWKSRefresh (default 5m); ClusterIssuer: the
	// public key of the cluster's token key (gatewayd --issuer-key), which
	// `cairn gateway token` signs with. At least one source.
	Keys          []Key         `yaml:"keys"`
	JWKSURL       string        `yaml:"jwks_url"`
	JWKSRefresh   time.Duration `yaml:"jwks_refresh"`
	ClusterIssuer bool          `yaml:"cluster_issuer"`
	// Leeway for exp/nbf/iat, default 30s, at most 5m.
	Leeway time.Duration `yaml:"leeway"`
	// ConsumerClaim names the claim holding the consumer name, default sub.
	ConsumerClaim string `yaml:"consumer_claim"`
	// MaxLifetime, when set, refuses tokens whose exp-iat exceeds it; a
	// token without exp is always refused.
	MaxLifetime time.Duration `yaml:"max_lifetime"`
}

// Key is one verification key. Exactly one of the fields.
type Key struct {
	ID     string `yaml:"kid"`    // matched against the token header's kid when both are set
	File   string `yaml:"file"`   // PEM public key or certificate, or JWK/JWKS JSON
	PEM    string `yaml:"pem"`    // inline PEM public key
	Secret string `yaml:"secret"` // HMAC secret, base64 (std or url), at least 32 bytes decoded
}

// Consumer is a known caller.
type Consumer struct {
	Name   string   `yaml:"name"`
	Groups []string `yaml:"groups"`
	// Scopes are granted to the consumer whatever the token says (API-key
	// callers have no token scopes).
	Scopes []string `yaml:"scopes"`
}

// Route sends matching requests to an upstream through its plugins.
type Route struct {
	Name  string `yaml:"name"`
	Match Match  `yaml:"match"`
	// Upstream names one upstream; Split instead sends weighted shares to
	// several (canaries). Exactly one of the two, unless Fallback-only.
	Upstream string  `yaml:"upstream"`
	Split    []Split `yaml:"split"`
	Rewrite  Rewrite `yaml:"rewrite"`
	// Transcode maps REST/JSON requests onto a gRPC service of the upstream
	// (protocol grpc): POST <prefix>/<method> with a JSON body.
	Transcode  *Transcode        `yaml:"transcode"`
	Auth       *Auth             `yaml:"auth"`
	Authorize  *Authorize        `yaml:"authorize"`
	RateLimits []RateLimit       `yaml:"rate_limits"`
	Request    *Transform        `yaml:"request"`
	Response   *Transform        `yaml:"response"`
	Cache      *Cache            `yaml:"cache"`
	Fallback   *Fallback         `yaml:"fallback"`
	Timeout    time.Duration     `yaml:"timeout"`  // overrides the upstream's total timeout
	MaxBody    ByteSize          `yaml:"max_body"` // request body limit, default 10MiB
	Headers    map[string]string `yaml:"headers"`  // response headers set on every answer (e.g. CORS)
}

// Match selects requests. Every set field must match.
type Match struct {
	// Hosts: exact ("api.example.com") or a leading wildcard
	// ("*.example.com"); empty matches any host. Ports are ignored.
	Hosts []string `yaml:"hosts"`
	// Paths: any one must match; empty matches every path.
	Paths   []PathMatch   `yaml:"paths"`
	Methods []string      `yaml:"methods"` // empty: any
	Headers []HeaderMatch `yaml:"headers"`
}

// PathMatch is exactly one of Exact, Prefix (segment-aware: /api matches
// /api and /api/x, not /apix) or Pattern (/users/{id}/orders/{rest...}).
type PathMatch struct {
	Exact   string `yaml:"exact"`
	Prefix  string `yaml:"prefix"`
	Pattern string `yaml:"pattern"`
}

// HeaderMatch: Value exact, or Present, or Absent (one of them).
type HeaderMatch struct {
	Name    string `yaml:"name"`
	Value   string `yaml:"value"`
	Present bool   `yaml:"present"`
	Absent  bool   `yaml:"absent"`
}

// Split is one weighted share of a route's traffic.
type Split struct {
	Upstream string `yaml:"upstream"`
	Weight   int    `yaml:"weight"`
}

// Rewrite changes the path sent upstream: StripPrefix removes a prefix;
// Path replaces the path, with {param} from a pattern match substituted.
type Rewrite struct {
	StripPrefix string `yaml:"strip_prefix"`
	Path        string `yaml:"path"`
}

// Transcode names the gRPC service (full name, e.g. cairn.raftkv.v1.KVService)
// a route's requests are mapped onto.
type Transcode struct {
	Service string `yaml:"service"`
}

// Auth says how callers authenticate. With both JWT and APIKey either is
// accepted. Optional lets anonymous requests through (no consumer).
type Auth struct {
	JWT      []string `yaml:"jwt"`     // provider names
	APIKey   bool     `yaml:"api_key"` // X-API-Key header or Authorization: ApiKey <key>
	Optional bool     `yaml:"optional"`
}

// Authorize requires, of an authenticated caller, every listed scope, and
// at least one of the listed roles and of the listed groups.
type Authorize struct {
	Scopes []string `yaml:"scopes"`
	Roles  []string `yaml:"roles"`
	Groups []string `yaml:"groups"`
}

// RateLimit is a token bucket of Limit tokens refilled evenly over Per
// (Burst, default Limit, is the bucket size), keyed By consumer, route or
// ip, counted on each gateway node (Scope local) or shared by all of them
// through cached (Scope global, the default).
type RateLimit struct {
	By    string        `yaml:"by"`
	Limit int64         `yaml:"limit"`
	Per   time.Duration `yaml:"per"`
	Burst int64         `yaml:"burst"`
	Scope string        `yaml:"scope"`
}

// Transform edits a request or a response. JSON body edits apply when the
// body is JSON (Content-Type application/json or +json) and at most
// MaxBody (default 1MiB); paths are dot-separated object keys.
type Transform struct {
	Headers HeaderEdits `yaml:"headers"`
	Query   HeaderEdits `yaml:"query"` // requests only
	JSON    *JSONEdits  `yaml:"json"`
}

// HeaderEdits apply in the order remove, rename, add (add replaces).
type HeaderEdits struct {
	Add    map[string]string `yaml:"add"`
	Remove []string          `yaml:"remove"`
	Rename map[string]string `yaml:"rename"`
}

// JSONEdits apply in the order remove, rename, add.
type JSONEdits struct {
	Add    map[string]any    `yaml:"add"`
	Remove []string          `yaml:"remove"`
	Rename map[string]string `yaml:"rename"`
}

// Cache stores GET/HEAD responses in cached for every gateway node.
type Cache struct {
	// TTL applies when the upstream says nothing (no Cache-Control max-age
	// or s-maxage, no Expires); zero means such responses are not stored.
	TTL        time.Duration `yaml:"ttl"`
	KeyQuery   []string      `yaml:"key_query"`   // query parameters in the key; empty: the whole query string
	KeyHeaders []string      `yaml:"key_headers"` // request headers in the key
	MaxBody    ByteSize      `yaml:"max_body"`    // default 1MiB
}

// Fallback is the answer when the upstream's circuit is open or no target
// is available (default: 503 with a JSON error).
type Fallback struct {
	Status  int               `yaml:"status"`
	Body    string            `yaml:"body"`
	Headers map[string]string `yaml:"headers"`
}

// ByteSize is a size in bytes; YAML accepts 1048576, "512KiB", "10MiB", "1GiB".
type ByteSize int64
