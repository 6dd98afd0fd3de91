package lbconfig

import "time"

// Document is one lbd configuration: frontends and the pools they use.
type Document struct {
	Frontends []Frontend `yaml:"frontends"`
	Pools     []Pool     `yaml:"pools"`
}

// Frontend modes.
const (
	ModeTCP  = "tcp"
	ModeUDP  = "udp"
	ModeHTTP = "http"
)

// Frontend is one listening address and what its traffic goes to.
type Frontend struct {
	Name string `yaml:"name"`
	// Mode is ModeTCP, ModeUDP or ModeHTTP.
	Mode string `yaml:"mode"`
	// Listen is host:port. A frontend on the node's virtual address is
	// listened on only while the node is the active one of its HA group.
	Listen string `yaml:"listen"`
	// Pool receives every connection of a tcp or udp frontend, and the
	// requests of an http frontend that no route matches (DefaultPool is
	// its synonym for http).
	Pool        string `yaml:"pool"`
	DefaultPool string `yaml:"default_pool"`
	// Routes (http only) send requests by host and path prefix; the first
	// match in order wins, so list longer prefixes first.
	Routes []Route `yaml:"routes"`
	// TLS (http only): "cluster" serves the node's own certificate, "none"
	// plain HTTP; CertFile/KeyFile serve the given pair. Default "none".
	TLS      string `yaml:"tls"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ProxyProtocol (tcp only): 0, or 1 or 2 to send a PROXY header of
	// that version to the backend before the client's bytes.
	ProxyProtocol int `yaml:"proxy_protocol"`
	// MaxConns bounds the frontend's open connections (tcp, http) or
	// sessions (udp); 0 means the default, 10000.
	MaxConns int `yaml:"max_conns"`
	// IdleTimeout cuts a tcp connection idle both ways, ends a udp session
	// and closes an idle http keep-alive connection. Default 5m (udp 30s).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
}

// Route sends matching http requests to a pool.
type Route struct {
	// Host matches the request's host (without port), case-insensitively;
	// "*.example.com" matches any subdomain; "" matches every host.
	Host string `yaml:"host"`
	// PathPrefix matches whole path segments: "/api" matches /api and
	// /api/x, not /apix. Default "/".
	PathPrefix string `yaml:"path_prefix"`
	Pool       string `yaml:"pool"`
}

// Pool is a set of backends and how traffic is spread over them.
type Pool struct {
	Name string `yaml:"name"`
	// Algorithm is one of lbd/balance's (round_robin, weighted_round_robin,
	// least_conn, least_time, p2c, random, ring_hash, maglev, ip_hash).
	// Default round_robin.
	Algorithm string `yaml:"algorithm"`
	// HashOn is the key of hashing algorithms: "source_ip" (default),
	// "cookie:<name>" or "header:<name>" (http only).
	HashOn string `yaml:"hash_on"`
	// Service names the raftkv registry service whose instances join the
	// pool (named by their registry ids), watched without reloads.
	Service  string    `yaml:"service"`
	Backends []Backend `yaml:"backends"`
	Health   Health    `yaml:"health"`
	Outlier  Outlier   `yaml:"outlier"`
	// SlowStart ramps a backend's weight from 10% to 100% over this long
	// after it comes up (0 disables).
	SlowStart time.Duration `yaml:"slow_start"`
	// PanicThreshold is a percentage: when fewer than this share of the
	// enabled members pass their health checks, the checks are ignored and
	// traffic goes to every enabled member not ejected by outlier detection
	// (Envoy's panic mode: a broken health endpoint or a check storm must
	// not take the whole pool out; a member that is really down then fails
	// its requests, which retries and outlier detection handle). 0 (the
	// default) never ignores the checks: with none passing, requests wait
	// queue_timeout and are refused.
	PanicThreshold int `yaml:"panic_threshold"`
	// DrainTimeout is how long a draining backend's existing connections
	// may go on before they are cut. Default 30s.
	DrainTimeout time.Duration `yaml:"drain_timeout"`
	// QueueTimeout is how long a request or connection waits for a
	// member when none is eligible (all down, draining, or none registered
	// yet) before it is refused (503 for http). Default 3s; 1ms refuses at
	// once.
	QueueTimeout time.Duration `yaml:"queue_timeout"`
	// ConnectTimeout bounds a connect to a backend. Default 3s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// StickyCookie (http only) pins a client to the backend that first
	// answered it, through a cookie of this name (the backend's name,
	// so it survives pool changes); "" disables.
	StickyCookie string `yaml:"sticky_cookie"`
	// Retries (http only) is how many other backends an idempotent request
	// is tried on after a connect failure, a reset or a 502/503/504 before
	// any response byte was sent. Default 2; -1 disables.
	Retries int `yaml:"retries"`
	// Protocol (http only) towards the backends: http1 (default), h2c, h2
	// or auto (TLS with ALPN). h2c balances gRPC per request.
	Protocol string `yaml:"protocol"`
	// Timeout (http only) bounds a whole request to a backend, streamed
	// body included; 0 means 60s.
	Timeout time.Duration `yaml:"timeout"`
	// BackendTLS dials backends over TLS with the cluster CA (http: h2 and
	// auto protocols; health checks too).
	BackendTLS bool `yaml:"backend_tls"`
}

// Backend is a statically configured member of a pool.
type Backend struct {
	Name    string `yaml:"name"`
	Address string `yaml:"address"`
	// Weight 1..1000, default 1.
	Weight int `yaml:"weight"`
}

// Health check types.
const (
	CheckNone = "none"
	CheckTCP  = "tcp"
	CheckHTTP = "http"
	CheckGRPC = "grpc"
)

// Health is a pool's active health check.
type Health struct {
	// Type is none, tcp (default), http or grpc.
	Type string `yaml:"type"`
	// Path, Host, Method, Expect and Body configure an http check: the
	// status must fall in Expect ("200-399" by default) and the body
	// contain Body.
	Path   string `yaml:"path"`
	Host   string `yaml:"host"`
	Method string `yaml:"method"`
	Expect string `yaml:"expect"`
	Body   string `yaml:"body"`
	// Service is the grpc.health.v1 service name of a grpc check ("" =
	// the server as a whole).
	Service  string        `yaml:"service"`
	Interval time.Duration `yaml:"interval"` // default 2s
	Timeout  time.Duration `yaml:"timeout"`  // default 1s, at most Interval
	Rise     int           `yaml:"rise"`     // default 2
	Fall     int           `yaml:"fall"`     // default 3
	// Jitter spreads checks: each wait is Interval·(1±Jitter·u). Default 0.1.
	Jitter float64 `yaml:"jitter"`
}

// Outlier is a pool's passive health checking: failures of real traffic
// eject a backend for a while.
type Outlier struct {
	// ConsecutiveFailures ejects after this many failures in a row
	// (default 5; -1 disables).
	ConsecutiveFailures int `yaml:"consecutive_failures"`
	// FailureRate ejects when failures/requests over Window reach it,
	// with at least MinRequests requests (0 disables, the default).
	FailureRate float64       `yaml:"failure_rate"`
	Window      time.Duration `yaml:"window"`       // default 10s
	MinRequests int           `yaml:"min_requests"` // default 20
	// BaseEjection is the first ejection's length, doubled on each
	// further one up to MaxEjection. Defaults 5s and 5m.
	BaseEjection time.Duration `yaml:"base_ejection"`
	MaxEjection  time.Duration `yaml:"max_ejection"`
	// MaxEjectedPercent bounds the share of a pool ejected at once.
	// Default 50.
	MaxEjectedPercent int `yaml:"max_ejected_percent"`
}
