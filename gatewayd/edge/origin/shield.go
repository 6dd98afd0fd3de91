package origin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/node/httpproxy"
)

// Shield headers.
const (
	// HeaderShield marks a request one edge node forwards to the key's
	// owner; its value is the sender's node name.
	HeaderShield = "Cairn-Shield"
	// HeaderShieldOwner marks a 5xx answer an owner relays from the origin
	// (or makes for an origin it could not reach): the origin failed, not
	// the owner, so the sender does not eject the owner for it. Its value
	// is the owner's name. The sender removes it.
	HeaderShieldOwner = "Cairn-Shield-Owner"
)

// IsShieldHop reports whether r was forwarded by another edge node's
// Shield: its handler must answer it from its cache or the origin, never
// forward it again (Shield.Fetch does so by itself).
func IsShieldHop(r *http.Request) bool { return r.Header.Get(HeaderShield) != "" }

// RequestKey is the default key a Shield hashes: the lowercased Host and
// the request URI (path and query).
func RequestKey(r *http.Request) string {
	return strings.ToLower(r.Host) + r.URL.RequestURI()
}

// ShieldNode is one edge node of the shield tier: its name (unique; the
// hash input) and the host:port of its HTTP(S) listener.
type ShieldNode struct {
	Name, Addr string
}

// ShieldOptions tunes a Shield. Zero fields take the defaults named.
type ShieldOptions struct {
	// Key is what the owner is chosen by; default RequestKey.
	Key func(r *http.Request) string
	// EjectBase is how long an owner is ejected after a failure; it
	// doubles with each failure in a row. Default 1s.
	EjectBase time.Duration
	// EjectMax caps the ejection; default 30s.
	EjectMax time.Duration
	// DialTimeout bounds the connect to an owner; default 3s (a dropped
	// SYN is retried after 1s: one loss does not eject a healthy owner).
	DialTimeout time.Duration
	// Transport replaces the httpproxy.Transport to the owners (tests).
	Transport http.RoundTripper
	// Now is the clock of ejections; nil: time.Now.
	Now func() time.Time
	// Logger logs ejections; nil: slog.Default().
	Logger *slog.Logger
}

// ShieldStats counts a Shield's fetches.
type ShieldStats struct {
	// Forwarded: misses answered by their owner.
	Forwarded int64
	// Direct: misses this node fetched from the origin (it owns the key,
	// the owner is ejected, or the request is no shieldable GET/HEAD).
	Direct int64
	// Failovers: forwards that failed (the owner then ejected) and went to
	// the origin.
	Failovers int64
	// HopsServed: requests other nodes forwarded here, fetched from the
	// origin.
	HopsServed int64
}

// Shield routes an edge's misses through the shield tier; see the package
// documentation. It is safe for concurrent use.
type Shield struct {
	self   string
	origin Origin
	scheme string
	rt     http.RoundTripper
	key    func(*http.Request) string
	ej     *ejector
	logger *slog.Logger

	forwarded, direct, failovers, hopsServed atomic.Int64

	mu      sync.RWMutex // protects members
	members []member
}

// NewShield returns the Shield of node self over nodes (self among them,
// or not: then it never owns a key), fetching from origin. tlsConf, when
// set, makes the hops HTTPS with that client configuration (the owners'
// listeners serve TLS); nil means plain HTTP.
func NewShield(self string, nodes []ShieldNode, origin Origin, tlsConf *tls.Config, opts ShieldOptions) (*Shield, error) {
	switch {
	case self == "":
		return nil, fmt.Errorf("%w: shield self: empty node name", ErrBadConfig)
	case origin == nil:
		return nil, fmt.Errorf("%w: shield origin: missing", ErrBadConfig)
	case opts.EjectBase < 0 || opts.EjectMax < 0 || opts.DialTimeout < 0:
		return nil, fmt.Errorf("%w: shield EjectBase, EjectMax and DialTimeout must not be negative", ErrBadConfig)
	}
	if opts.EjectBase == 0 {
		opts.EjectBase = time.Second
	}
	if opts.EjectMax == 0 {
		opts.EjectMax = 30 * time.Second
	}
	if opts.EjectMax < opts.EjectBase {
		return nil, fmt.Errorf("%w: shield EjectMax %v is less than EjectBase %v", ErrBadConfig, opts.EjectMax, opts.EjectBase)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 3 * time.Second
	}
	if opts.Key == nil {
		opts.Key = RequestKey
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Shield{
		self: self, origin: origin, scheme: "http", rt: opts.Transport, key: opts.Key,
		ej: newEjector(opts.EjectBase, opts.EjectMax, opts.Now), logger: opts.Logger,
	}
	if tlsConf != nil {
		s.scheme = "https"
	}
	if s.rt == nil {
		s.rt = httpproxy.NewTransport(httpproxy.TransportConfig{Protocol: httpproxy.ProtocolHTTP1, TLS: tlsConf, DialTimeout: opts.DialTimeout})
	}
	if err := s.SetNodes(nodes); err != nil {
		return nil, err
	}
	return s, nil
}

// SetNodes replaces the shield nodes (a node joined or left). Names must be
// unique and non-empty, addresses host:port. Keys move only to or from the
// nodes that changed; failure records of nodes that left are dropped.
func (s *Shield) SetNodes(nodes []ShieldNode) error {
	members := make([]member, 0, len(nodes))
	names := map[string]bool{}
	for i, n := range nodes {
		if n.Name == "" {
			return fmt.Errorf("%w: shield nodes[%d].name: empty", ErrBadConfig, i)
		}
		if names[n.Name] {
			return fmt.Errorf("%w: shield nodes[%d].name: %q named twice", ErrBadConfig, i, n.Name)
		}
		if _, port, err := net.SplitHostPort(n.Addr); err != nil || port == "" {
			return fmt.Errorf("%w: shield nodes[%d].addr: want host:port, got %q", ErrBadConfig, i, n.Addr)
		}
		names[n.Name] = true
		members = append(members, member{ShieldNode: n, hash: hashString(n.Name)})
	}
	s.mu.Lock()
	s.members = members
	s.mu.Unlock()
	s.ej.keep(names)
	return nil
}

// Nodes returns the shield nodes.
func (s *Shield) Nodes() []ShieldNode {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]ShieldNode, len(s.members))
	for i, m := range s.members {
		out[i] = m.ShieldNode
	}
	return out
}

// Owner returns the name of the node owning key ("" without nodes),
// whether or not it is ejected.
func (s *Shield) Owner(key string) string {
	n, _ := s.owner(key)
	return n.Name
}

func (s *Shield) owner(key string) (ShieldNode, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	i := ownerOf(s.members, key)
	if i < 0 {
		return ShieldNode{}, false
	}
	return s.members[i].ShieldNode, true
}

// isPeer reports whether name is a shield node other than this one.
func (s *Shield) isPeer(name string) bool {
	if name == s.self {
		return false
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, m := range s.members {
		if m.Name == name {
			return true
		}
	}
	return false
}

// Ejected returns the nodes ejected now, with the end of each ejection.
func (s *Shield) Ejected() map[string]time.Time { return s.ej.ejected() }

// Stats returns the counters.
func (s *Shield) Stats() ShieldStats {
	return ShieldStats{Forwarded: s.forwarded.Load(), Direct: s.direct.Load(), Failovers: s.failovers.Load(), HopsServed: s.hopsServed.Load()}
}

// Fetch answers a miss: a hop from another shield node, a request that is
// not a bodiless GET or HEAD, or a key this node owns goes to the origin;
// any other to the key's owner unless it is ejected. An owner that cannot
// be reached or answers 502, 503 or 504 without HeaderShieldOwner is
// ejected and the request goes to the origin. A hop header naming no
// other shield node is removed and the request treated as a client's.
func (s *Shield) Fetch(ctx context.Context, r *http.Request) (*http.Response, error) {
	if from := r.Header.Get(HeaderShield); from != "" {
		if s.isPeer(from) {
			s.hopsServed.Add(1)
			return s.serveHop(ctx, r)
		}
		r = r.Clone(r.Context())
		r.Header.Del(HeaderShield)
	}
	bodiless := r.ContentLength == 0 && (r.Body == nil || r.Body == http.NoBody)
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || !bodiless {
		s.direct.Add(1)
		return s.origin.Fetch(ctx, r)
	}
	owner, ok := s.owner(s.key(r))
	if !ok || owner.Name == s.self || s.ej.down(owner.Name) {
		s.direct.Add(1)
		return s.origin.Fetch(ctx, r)
	}
	resp, err := s.forward(ctx, r, owner)
	if err == nil {
		s.forwarded.Add(1)
		s.ej.ok(owner.Name)
		return resp, nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("origin: shield %s: %w", owner.Name, cerr)
	}
	d := s.ej.fail(owner.Name)
	s.failovers.Add(1)
	s.logger.Warn("shield: owner failed; ejected, fetching from the origin", "owner", owner.Name, "addr", owner.Addr, "for", d, "err", err)
	return s.origin.Fetch(ctx, r)
}

// errOwnerFailed is a 502/503/504 of the owner's own.
var errOwnerFailed = errors.New("origin: shield owner failed")

// forward sends r to owner. An error means the owner failed: it could not
// be reached, or answered 502, 503 or 504 of its own.
func (s *Shield) forward(ctx context.Context, r *http.Request, owner ShieldNode) (*http.Response, error) {
	u := &url.URL{Scheme: s.scheme, Host: owner.Addr, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	if u.Path == "" {
		u.Path = "/"
	}
	out, err := http.NewRequestWithContext(ctx, r.Method, u.String(), nil)
	if err != nil {
		return nil, err
	}
	out.Header = endToEnd(r.Header)
	out.Header.Set(HeaderShield, s.self)
	out.Host = r.Host
	resp, err := s.rt.RoundTrip(out)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if resp.Header.Get(HeaderShieldOwner) == "" {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
			return nil, fmt.Errorf("%w: %s answered %d", errOwnerFailed, owner.Name, resp.StatusCode)
		}
	}
	stripHopByHop(resp.Header)
	resp.Header.Del(HeaderShieldOwner)
	return resp, nil
}

// serveHop fetches a hop's request from the origin, without the hop
// header. A 5xx answer is marked with HeaderShieldOwner; an origin that
// cannot be reached becomes a marked 502 (504 on a timeout) so that the
// sender does not take it for this node's failure.
func (s *Shield) serveHop(ctx context.Context, r *http.Request) (*http.Response, error) {
	from := r.Header.Get(HeaderShield)
	r = r.Clone(r.Context())
	r.Header.Del(HeaderShield)
	resp, err := s.origin.Fetch(ctx, r)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, err
		}
		code := http.StatusBadGateway
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			code = http.StatusGatewayTimeout
		}
		s.logger.Warn("shield: origin failed for a hop", "from", from, "path", r.URL.Path, "err", err)
		resp = TextResponse(r, code, "origin unreachable from shield "+s.self)
	}
	if resp.StatusCode >= 500 {
		resp.Header.Set(HeaderShieldOwner, s.self)
	}
	return resp, nil
}
