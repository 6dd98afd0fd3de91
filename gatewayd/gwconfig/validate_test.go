package gwconfig

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// baseYAML is a small valid document the validation cases change.
const baseYAML = `
upstreams:
  - name: web
    targets: [{address: "127.0.0.1:8080"}]
  - name: kv
    service: raftkv
    protocol: grpc
jwt_providers:
  - name: hs
    issuer: me
    algorithms: [HS256]
    keys: [{secret: "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE="}]
  - name: rs
    issuer: them
    algorithms: [RS256]
    jwks_url: https://them.example/jwks
consumers:
  - name: demo
routes:
  - name: r
    match:
      paths: [{prefix: /api}]
    upstream: web
    auth: {jwt: [hs]}
`

func base(t *testing.T) *Document {
	t.Helper()
	d, err := Parse([]byte(baseYAML))
	if err != nil {
		t.Fatalf("base document: %v", err)
	}
	return d
}

// TestValidateRules changes the base document to break one rule per case
// and checks that Validate names the path with the expected message.
func TestValidateRules(t *testing.T) {
	type doc = Document
	cases := []struct {
		name     string
		change   func(d *doc)
		path, in string // in: a substring of the message
	}{
		{"version", func(d *doc) { d.Version = 2 }, "version", "only 1"},
		{"upstream name empty", func(d *doc) { d.Upstreams[0].Name = "" }, "upstreams[0].name", "is required"},
		{"upstream name syntax", func(d *doc) { d.Upstreams[0].Name = "a b" }, "upstreams[0].name", "not a valid upstream name"},
		{"upstream name unique", func(d *doc) { d.Upstreams[1].Name = "web" }, "upstreams[1].name", `"web" is already the name of upstreams[0]`},
		{"provider name unique", func(d *doc) { d.JWTProviders[1].Name = "hs" }, "jwt_providers[1].name", "already"},
		{"consumer name unique", func(d *doc) { d.Consumers = append(d.Consumers, Consumer{Name: "demo"}) }, "consumers[1].name", "already"},
		{"consumer name space", func(d *doc) { d.Consumers[0].Name = "de mo" }, "consumers[0].name", "not a valid consumer name"},
		{"route name unique", func(d *doc) { d.Routes = append(d.Routes, Route{Name: "r", Upstream: "web", MaxBody: MiB}) }, "routes[1].name", "already"},
		{"targets and service", func(d *doc) { d.Upstreams[0].Service = "x" }, "upstreams[0]", "only one of targets or service"},
		{"neither targets nor service", func(d *doc) { d.Upstreams[0].Targets = nil }, "upstreams[0]", "needs one of targets or service"},
		{"target address", func(d *doc) { d.Upstreams[0].Targets[0].Address = "127.0.0.1" }, "upstreams[0].targets[0].address", "host:port"},
		{"target port", func(d *doc) { d.Upstreams[0].Targets[0].Address = "h:0" }, "upstreams[0].targets[0].address", "1..65535"},
		{"target duplicate", func(d *doc) { d.Upstreams[0].Targets = append(d.Upstreams[0].Targets, d.Upstreams[0].Targets[0]) }, "upstreams[0].targets[1].address", "already targets[0]"},
		{"weight low", func(d *doc) { d.Upstreams[0].Targets[0].Weight = 0 }, "upstreams[0].targets[0].weight", "1..1000"},
		{"weight high", func(d *doc) { d.Upstreams[0].Targets[0].Weight = 1001 }, "upstreams[0].targets[0].weight", "1..1000"},
		{"service name", func(d *doc) { d.Upstreams[1].Service = "raft/kv" }, "upstreams[1].service", "not a valid service name"},
		{"protocol", func(d *doc) { d.Upstreams[0].Protocol = "ftp" }, "upstreams[0].protocol", `"ftp" is not one of`},
		{"balance", func(d *doc) { d.Upstreams[0].Balance = "hash" }, "upstreams[0].balance", "is not one of"},
		{"tls on plaintext", func(d *doc) { d.Upstreams[0].TLS = &TLS{} }, "upstreams[0].tls", "plaintext"},
		{"tls cluster with files", func(d *doc) { d.Upstreams[1].TLS = &TLS{Cluster: true, CAFile: "x"} }, "upstreams[1].tls.cluster", "must be empty"},
		{"tls cert without key", func(d *doc) { d.Upstreams[1].TLS = &TLS{CertFile: "x"} }, "upstreams[1].tls", "go together"},
		{"timeout negative", func(d *doc) { d.Upstreams[0].Timeouts.Idle = -time.Second }, "upstreams[0].timeouts.idle", "must be positive"},
		{"connect over total", func(d *doc) { d.Upstreams[0].Timeouts.Connect = time.Hour }, "upstreams[0].timeouts.connect", "longer than total"},
		{"retries high", func(d *doc) { d.Upstreams[0].Retries.Attempts = 6 }, "upstreams[0].retries.attempts", "0..5"},
		{"retries negative", func(d *doc) { d.Upstreams[0].Retries.Attempts = -1 }, "upstreams[0].retries.attempts", "0..5"},
		{"retry on", func(d *doc) { d.Upstreams[0].Retries.On = []string{"500"} }, "upstreams[0].retries.on[0]", `"500" is not one of`},
		{"error rate zero", func(d *doc) { d.Upstreams[0].CircuitBreaker = breaker(0) }, "upstreams[0].circuit_breaker.error_rate", "(0,1]"},
		{"error rate over 1", func(d *doc) { d.Upstreams[0].CircuitBreaker = breaker(1.5) }, "upstreams[0].circuit_breaker.error_rate", "(0,1]"},
		{"half open", func(d *doc) {
			d.Upstreams[0].CircuitBreaker = breaker(1)
			d.Upstreams[0].CircuitBreaker.HalfOpenRequests = 0
		}, "upstreams[0].circuit_breaker.half_open_requests", "at least 1"},
		{"outlier max below base", func(d *doc) {
			d.Upstreams[0].Outlier = &Outlier{ConsecutiveFailures: 1, BaseEjection: time.Minute, MaxEjection: time.Second, MaxEjectedPercent: 10}
		}, "upstreams[0].outlier.max_ejection", "shorter than base_ejection"},
		{"outlier percent", func(d *doc) {
			d.Upstreams[0].Outlier = &Outlier{ConsecutiveFailures: 1, BaseEjection: time.Second, MaxEjection: time.Second, MaxEjectedPercent: 101}
		}, "upstreams[0].outlier.max_ejected_percent", "1..100"},
		{"issuer", func(d *doc) { d.JWTProviders[0].Issuer = "" }, "jwt_providers[0].issuer", "is required"},
		{"no algorithms", func(d *doc) { d.JWTProviders[0].Algorithms = nil }, "jwt_providers[0].algorithms", "is required"},
		{"alg none", func(d *doc) { d.JWTProviders[0].Algorithms = []string{"HS256", "none"} }, "jwt_providers[0].algorithms[1]", `"none" is refused`},
		{"alg None", func(d *doc) { d.JWTProviders[0].Algorithms = []string{"HS256", "None"} }, "jwt_providers[0].algorithms[1]", `"none" is refused`},
		{"alg unknown", func(d *doc) { d.JWTProviders[0].Algorithms = []string{"HS1"} }, "jwt_providers[0].algorithms[0]", `"HS1" is not one of`},
		{"alg mixed", func(d *doc) { d.JWTProviders[0].Algorithms = []string{"HS256", "RS256"} }, "jwt_providers[0].algorithms", "mixes HMAC"},
		{"HS with public key", func(d *doc) { d.JWTProviders[0].Keys = []Key{{File: "k.pem"}} }, "jwt_providers[0].keys", "HMAC algorithms need secret keys"},
		{"HS with jwks", func(d *doc) { d.JWTProviders[0].JWKSURL = "https://x/j" }, "jwt_providers[0]", "not jwks_url"},
		{"HS without keys", func(d *doc) { d.JWTProviders[0].Keys = nil }, "jwt_providers[0].keys", "at least one secret"},
		{"RS with secret", func(d *doc) { d.JWTProviders[1].Keys = []Key{{Secret: d.JWTProviders[0].Keys[0].Secret}} }, "jwt_providers[1].keys", "need public keys"},
		{"RS without source", func(d *doc) { d.JWTProviders[1].JWKSURL = "" }, "jwt_providers[1]", "needs a key source"},
		{"short secret", func(d *doc) { d.JWTProviders[0].Keys[0].Secret = "c2hvcnQ=" }, "jwt_providers[0].keys[0].secret", "decodes to 5 bytes, at least 32"},
		{"secret not base64", func(d *doc) { d.JWTProviders[0].Keys[0].Secret = "!!" }, "jwt_providers[0].keys[0].secret", "not base64"},
		{"key two sources", func(d *doc) { d.JWTProviders[0].Keys[0].File = "x" }, "jwt_providers[0].keys[0]", "only one of"},
		{"key no source", func(d *doc) { d.JWTProviders[0].Keys[0].Secret = "" }, "jwt_providers[0].keys[0]", "needs one of file, pem or secret"},
		{"duplicate kid", func(d *doc) {
			k := d.JWTProviders[0].Keys[0]
			k.ID = "a"
			d.JWTProviders[0].Keys = []Key{k, k}
		}, "jwt_providers[0].keys[1].kid", "already the kid"},
		{"pem private key", func(d *doc) {
			d.JWTProviders[1].Keys = []Key{{PEM: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}}
		}, "jwt_providers[1].keys[0].pem", "never a private key"},
		{"pem garbage", func(d *doc) { d.JWTProviders[1].Keys = []Key{{PEM: "hello"}} }, "jwt_providers[1].keys[0].pem", "is not PEM"},
		{"jwks url", func(d *doc) { d.JWTProviders[1].JWKSURL = "file:///etc/jwks" }, "jwt_providers[1].jwks_url", "not an http(s) URL"},
		{"jwks refresh", func(d *doc) { d.JWTProviders[1].JWKSRefresh = time.Second }, "jwt_providers[1].jwks_refresh", "at least 10s"},
		{"leeway", func(d *doc) { d.JWTProviders[0].Leeway = 6 * time.Minute }, "jwt_providers[0].leeway", "0s..5m0s"},
		{"consumer scope", func(d *doc) { d.Consumers[0].Scopes = []string{"a", "a"} }, "consumers[0].scopes[1]", "listed twice"},
		{"route upstream missing", func(d *doc) { d.Routes[0].Upstream = "nope" }, "routes[0].upstream", `"nope" is not the name of an upstream`},
		{"route upstream and split", func(d *doc) { d.Routes[0].Split = []Split{{Upstream: "web", Weight: 1}} }, "routes[0]", "only one of upstream or split"},
		{"route no upstream", func(d *doc) { d.Routes[0].Upstream = "" }, "routes[0]", "needs one of upstream or split"},
		{"split upstream missing", func(d *doc) {
			d.Routes[0].Upstream = ""
			d.Routes[0].Split = []Split{{Upstream: "web", Weight: 1}, {Upstream: "x", Weight: 1}}
		}, "routes[0].split[1].upstream", "not the name of an upstream"},
		{"split weight", func(d *doc) {
			d.Routes[0].Upstream = ""
			d.Routes[0].Split = []Split{{Upstream: "web", Weight: 2000}}
		}, "routes[0].split[0].weight", "1..1000"},
		{"host with port", func(d *doc) { d.Routes[0].Match.Hosts = []string{"a.example:80"} }, "routes[0].match.hosts[0]", "without a port"},
		{"host star alone", func(d *doc) { d.Routes[0].Match.Hosts = []string{"*"} }, "routes[0].match.hosts[0]", "not a host name"},
		{"host middle wildcard", func(d *doc) { d.Routes[0].Match.Hosts = []string{"a.*.example"} }, "routes[0].match.hosts[0]", "not a host name"},
		{"path two kinds", func(d *doc) { d.Routes[0].Match.Paths[0].Exact = "/a" }, "routes[0].match.paths[0]", "sets exact and prefix: only one of exact, prefix or pattern"},
		{"path none", func(d *doc) { d.Routes[0].Match.Paths[0].Prefix = "" }, "routes[0].match.paths[0]", "needs one of exact, prefix or pattern"},
		{"prefix relative", func(d *doc) { d.Routes[0].Match.Paths[0].Prefix = "api" }, "routes[0].match.paths[0].prefix", "must start with /"},
		{"prefix trailing slash", func(d *doc) { d.Routes[0].Match.Paths[0].Prefix = "/api/" }, "routes[0].match.paths[0].prefix", "must not end with /"},
		{"exact dotdot", func(d *doc) { d.Routes[0].Match.Paths[0] = PathMatch{Exact: "/a/../b"} }, "routes[0].match.paths[0].exact", `".." is not allowed`},
		{"exact double slash", func(d *doc) { d.Routes[0].Match.Paths[0] = PathMatch{Exact: "/a//b"} }, "routes[0].match.paths[0].exact", "//"},
		{"exact query", func(d *doc) { d.Routes[0].Match.Paths[0] = PathMatch{Exact: "/a?b"} }, "routes[0].match.paths[0].exact", "not allowed in a path"},
		{"exact encoded unreserved", func(d *doc) { d.Routes[0].Match.Paths[0] = PathMatch{Exact: "/%61"} }, "routes[0].match.paths[0].exact", `write "a" instead of %61`},
		{"exact lower-case escape", func(d *doc) { d.Routes[0].Match.Paths[0] = PathMatch{Exact: "/a%2fb"} }, "routes[0].match.paths[0].exact", "write %2F with upper-case hex"},
		{"pattern bad", func(d *doc) { d.Routes[0].Match.Paths[0] = PathMatch{Pattern: "/a/{x...}/b"} }, "routes[0].match.paths[0].pattern", "must be the last segment"},
		{"method case", func(d *doc) { d.Routes[0].Match.Methods = []string{"get"} }, "routes[0].match.methods[0]", "upper-case"},
		{"method token", func(d *doc) { d.Routes[0].Match.Methods = []string{"GE T"} }, "routes[0].match.methods[0]", "upper-case method"},
		{"header name", func(d *doc) { d.Routes[0].Match.Headers = []HeaderMatch{{Name: "X A", Present: true}} }, "routes[0].match.headers[0].name", "not a valid header name"},
		{"header value crlf", func(d *doc) { d.Routes[0].Match.Headers = []HeaderMatch{{Name: "X", Value: "a\r\nb"}} }, "routes[0].match.headers[0].value", "CR, LF"},
		{"header no condition", func(d *doc) { d.Routes[0].Match.Headers = []HeaderMatch{{Name: "X"}} }, "routes[0].match.headers[0]", "needs one of value, present or absent"},
		{"header two conditions", func(d *doc) { d.Routes[0].Match.Headers = []HeaderMatch{{Name: "X", Present: true, Absent: true}} }, "routes[0].match.headers[0]", "only one of"},
		{"header twice", func(d *doc) {
			d.Routes[0].Match.Headers = []HeaderMatch{{Name: "x-a", Present: true}, {Name: "X-A", Value: "1"}}
		}, "routes[0].match.headers[1].name", "matched twice"},
		{"rewrite both", func(d *doc) { d.Routes[0].Rewrite = Rewrite{StripPrefix: "/api", Path: "/x"} }, "routes[0].rewrite", "sets strip_prefix and path"},
		{"rewrite unknown param", func(d *doc) { d.Routes[0].Rewrite = Rewrite{Path: "/x/{id}"} }, "routes[0].rewrite.path", "{id} is not a param of match.paths[0]"},
		{"rewrite unbalanced", func(d *doc) { d.Routes[0].Rewrite = Rewrite{Path: "/x/{id"} }, "routes[0].rewrite.path", "unmatched {"},
		{"transcode not grpc", func(d *doc) { d.Routes[0].Transcode = &Transcode{Service: "a.B"} }, "routes[0].transcode", "protocol grpc"},
		{"transcode service syntax", func(d *doc) {
			d.Routes[0].Upstream = "kv"
			d.Routes[0].Transcode = &Transcode{Service: "KVService"}
		}, "routes[0].transcode.service", "not a full gRPC service name"},
		{"auth unknown provider", func(d *doc) { d.Routes[0].Auth.JWT = []string{"nope"} }, "routes[0].auth.jwt[0]", "not the name of a jwt provider"},
		{"auth empty", func(d *doc) { d.Routes[0].Auth = &Auth{Optional: true} }, "routes[0].auth", "needs jwt providers or api_key"},
		{"authorize without auth", func(d *doc) {
			d.Routes[0].Auth = nil
			d.Routes[0].Authorize = &Authorize{Scopes: []string{"a"}}
		}, "routes[0].authorize", "needs auth"},
		{"authorize empty", func(d *doc) { d.Routes[0].Authorize = &Authorize{} }, "routes[0].authorize", "lists no scopes"},
		{"rate limit by", func(d *doc) { d.Routes[0].RateLimits = []RateLimit{rl("user", 1, time.Second)} }, "routes[0].rate_limits[0].by", `"user" is not one of`},
		{"rate limit consumer without auth", func(d *doc) {
			d.Routes[0].Auth = nil
			d.Routes[0].RateLimits = []RateLimit{rl("consumer", 1, time.Second)}
		}, "routes[0].rate_limits[0].by", "needs the route's auth"},
		{"rate limit zero", func(d *doc) { d.Routes[0].RateLimits = []RateLimit{rl("ip", 0, time.Second)} }, "routes[0].rate_limits[0].limit", "must be 1.."},
		{"rate limit per", func(d *doc) { d.Routes[0].RateLimits = []RateLimit{rl("ip", 1, time.Millisecond)} }, "routes[0].rate_limits[0].per", "must be at least 1s"},
		{"rate limit scope", func(d *doc) {
			r := rl("ip", 1, time.Second)
			r.Scope = "cluster"
			d.Routes[0].RateLimits = []RateLimit{r}
		}, "routes[0].rate_limits[0].scope", "not one of global or local"},
		{"transform hop-by-hop", func(d *doc) {
			d.Routes[0].Request = &Transform{Headers: HeaderEdits{Remove: []string{"connection"}}}
		}, "routes[0].request.headers.remove[0]", "managed by the proxy"},
		{"transform host", func(d *doc) {
			d.Routes[0].Request = &Transform{Headers: HeaderEdits{Add: map[string]string{"Host": "x"}}}
		}, "routes[0].request.headers.add.Host", "managed by the proxy"},
		{"transform value crlf", func(d *doc) {
			d.Routes[0].Response = &Transform{Headers: HeaderEdits{Add: map[string]string{"X-A": "a\nb"}}}
		}, "routes[0].response.headers.add.X-A", "CR, LF"},
		{"transform rename target", func(d *doc) {
			d.Routes[0].Request = &Transform{Headers: HeaderEdits{Rename: map[string]string{"X-A": "Upgrade"}}}
		}, "routes[0].request.headers.rename.X-A", "managed by the proxy"},
		{"response query", func(d *doc) {
			d.Routes[0].Response = &Transform{Query: HeaderEdits{Remove: []string{"a"}}}
		}, "routes[0].response.query", "requests only"},
		{"json path", func(d *doc) {
			d.Routes[0].Request = &Transform{JSON: &JSONEdits{Remove: []string{"a..b"}}}
		}, "routes[0].request.json.remove[0]", "not a dot path"},
		{"json add value", func(d *doc) {
			d.Routes[0].Request = &Transform{JSON: &JSONEdits{Add: map[string]any{"a": map[any]any{1: 2}}}}
		}, "routes[0].request.json.add.a", "not representable in JSON"},
		{"cache without GET", func(d *doc) {
			d.Routes[0].Match.Methods = []string{"POST"}
			d.Routes[0].Cache = &Cache{MaxBody: MiB}
		}, "routes[0].cache", "GET and HEAD responses only"},
		{"cache max body", func(d *doc) { d.Routes[0].Cache = &Cache{MaxBody: GiB} }, "routes[0].cache.max_body", "1B..64MiB"},
		{"cache key header", func(d *doc) { d.Routes[0].Cache = &Cache{MaxBody: 1, KeyHeaders: []string{"a b"}} }, "routes[0].cache.key_headers[0]", "not a valid header name"},
		{"fallback status", func(d *doc) { d.Routes[0].Fallback = &Fallback{Status: 99} }, "routes[0].fallback.status", "200..599"},
		{"fallback body", func(d *doc) { d.Routes[0].Fallback = &Fallback{Status: 503, Body: strings.Repeat("x", 65537)} }, "routes[0].fallback.body", "the limit is 65536"},
		{"route timeout", func(d *doc) { d.Routes[0].Timeout = -1 }, "routes[0].timeout", "must not be negative"},
		{"route max body", func(d *doc) { d.Routes[0].MaxBody = 2 * GiB }, "routes[0].max_body", "1B..1GiB, not 2GiB"},
		{"route headers", func(d *doc) { d.Routes[0].Headers = map[string]string{"Content-Length": "1"} }, "routes[0].headers.Content-Length", "managed by the proxy"},
		{"route header with odd name", func(d *doc) { d.Routes[0].Headers = map[string]string{"a b": "1"} }, `routes[0].headers["a b"]`, "not a valid header name"},
		{"too many routes", func(d *doc) { d.Routes = make([]Route, MaxRoutes+1) }, "routes", "has 1001 entries, the limit is 1000"},
		{"too many targets", func(d *doc) { d.Upstreams[0].Targets = make([]Target, MaxTargets+1) }, "upstreams[0].targets", "the limit is 1000"},
		{"too many consumers", func(d *doc) { d.Consumers = make([]Consumer, MaxConsumers+1) }, "consumers", "the limit is 10000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := base(t)
			c.change(d)
			err := d.Validate()
			var es Errors
			if !errors.As(err, &es) {
				t.Fatalf("Validate = %v, want Errors", err)
			}
			for _, e := range es {
				if e.Path == c.path && strings.Contains(e.Message, c.in) {
					return
				}
			}
			t.Errorf("no error at %s containing %q; got:\n%v", c.path, c.in, err)
		})
	}
}

func breaker(rate float64) *CircuitBreaker {
	return &CircuitBreaker{Window: time.Second, MinRequests: 1, ErrorRate: rate, OpenFor: time.Second, HalfOpenRequests: 1}
}

func rl(by string, limit int64, per time.Duration) RateLimit {
	return RateLimit{By: by, Limit: limit, Per: per, Burst: max(limit, 1), Scope: "global"}
}

// TestValidateAllErrorsSorted checks that Validate reports every problem
// at once, in natural path order.
func TestValidateAllErrorsSorted(t *testing.T) {
	d := base(t)
	for i := 0; i < 12; i++ {
		d.Routes = append(d.Routes, Route{Name: "r" + string(rune('a'+i)), Upstream: "nope", MaxBody: MiB})
	}
	d.Upstreams[0].Balance = "x"
	err := d.Validate()
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Validate = %v", err)
	}
	if len(es) != 13 {
		t.Fatalf("got %d errors, want 13:\n%v", len(es), err)
	}
	if es[0].Path != "routes[1].upstream" || es[9].Path != "routes[10].upstream" || es[12].Path != "upstreams[0].balance" {
		t.Errorf("order:\n%v", err)
	}
	for i := 1; i < len(es); i++ {
		if comparePaths(es[i-1].Path, es[i].Path) > 0 {
			t.Errorf("%s sorts after %s", es[i-1].Path, es[i].Path)
		}
	}
}

// TestValidateCapsErrors checks that a document with thousands of problems
// reports MaxErrors of them and a count of the rest.
func TestValidateCapsErrors(t *testing.T) {
	d := base(t)
	d.Consumers = make([]Consumer, 1000) // 1000 names missing
	var es Errors
	if !errors.As(d.Validate(), &es) || len(es) != MaxErrors+1 {
		t.Fatalf("got %d errors, want %d", len(es), MaxErrors+1)
	}
	if last := es[MaxErrors].Error(); last != "800 more problems not listed" {
		t.Errorf("last entry %q", last)
	}
}

// TestValidateGoDocument checks FillDefaults + Validate on a document built
// in Go.
func TestValidateGoDocument(t *testing.T) {
	d := &Document{
		Upstreams: []Upstream{{Name: "u", Targets: []Target{{Address: "10.0.0.1:80"}}}},
		Routes:    []Route{{Name: "r", Upstream: "u", RateLimits: []RateLimit{{By: "ip", Limit: 5, Per: time.Second}}}},
	}
	d.FillDefaults()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Routes[0].RateLimits[0].Burst != 5 || d.Routes[0].RateLimits[0].Scope != "global" || d.Upstreams[0].Targets[0].Weight != 1 {
		t.Errorf("defaults not filled: %+v", d)
	}
}

// A total timeout shorter than the phase defaults is valid alone: the
// unset phases take the total.
func TestShortTotalTimeoutAlone(t *testing.T) {
	doc, err := Parse([]byte("version: 1\nupstreams:\n  - name: a\n    targets: [{address: \"127.0.0.1:1\"}]\n    timeouts: {total: 1s}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := doc.Upstreams[0].Timeouts; got.ResponseHeader != time.Second || got.Connect != time.Second {
		t.Fatalf("phase timeouts %+v, want 1s each", got)
	}
}
