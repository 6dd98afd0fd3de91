package httpproxy

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Config configures a Proxy. Every field is optional.
type Config struct {
	// Metrics, when set, receives upstream errors and retries (requests and
	// latency are the caller's to record, see Metrics.ObserveRequest).
	Metrics *Metrics
	// Logger receives upstream failures at debug level; nil discards.
	Logger *slog.Logger
	// Transport is used for Upstreams without one; nil means a
	// NewTransport(TransportConfig{}) owned by the Proxy.
	Transport http.RoundTripper
}

// Upstream is where one attempt of a request goes.
type Upstream struct {
	// Name is the upstream's name (metric label).
	Name string
	// Route is the route's name (metric label).
	Route string
	// Target is the host:port dialed.
	Target string
	// Scheme is "http" (default; also for h2c) or "https".
	Scheme string
	// Transport carries the request; nil uses the Proxy's.
	Transport http.RoundTripper
	// Path replaces the request path when not empty: a rewritten or cleaned
	// path in its escaped form (as url.URL.EscapedPath gives it), sent as
	// is; the query is kept.
	Path string
	// Host is the Host header sent upstream; "" keeps the client's.
	Host string
	// Timeout bounds the whole exchange, body included; 0 means none. For
	// upgrades it bounds only the wait for the upstream's answer.
	Timeout time.Duration
	// ModifyResponse, when set, may edit the response before it is relayed;
	// an error discards it and answers 502.
	ModifyResponse func(*http.Response) error
}

// Proxy forwards requests to upstreams. It is safe for concurrent use.
// Close ends spliced upgrade connections; plain exchanges end with their
// handlers.
type Proxy struct {
	metrics   *Metrics
	logger    *slog.Logger
	transport http.RoundTripper
	owned     *Transport // the default Transport when the Proxy made it

	mu       sync.Mutex // protects closed and tunnels
	closed   bool
	tunnels  map[*tunnel]struct{}
	tunnelWG sync.WaitGroup // one per splice in progress
}

// New returns a Proxy for cfg.
func New(cfg Config) *Proxy {
	p := &Proxy{metrics: cfg.Metrics, logger: cfg.Logger, transport: cfg.Transport, tunnels: map[*tunnel]struct{}{}}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if p.transport == nil {
		p.owned = NewTransport(TransportConfig{})
		p.transport = p.owned
	}
	return p
}

// Close closes every spliced upgrade connection, waits for their splices
// to end, and closes the idle connections of the Proxy's own Transport.
// Later upgrades are refused; plain forwarding keeps working.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for t := range p.tunnels {
		t.close()
	}
	p.mu.Unlock()
	p.tunnelWG.Wait()
	if p.owned != nil {
		p.owned.CloseIdleConnections()
	}
	return nil
}

// sent is an upstream's answer (or failure) not yet relayed.
type sent struct {
	resp    *http.Response
	cancel  context.CancelFunc
	kind    FailureKind
	err     error
	upgrade bool
}

// status is the upstream's status, 0 without a response.
func (s *sent) status() int {
	if s.resp == nil {
		return 0
	}
	return s.resp.StatusCode
}

// discard drops an answer that will not be relayed.
func (s *sent) discard() {
	if s.resp != nil {
		_, _ = io.CopyN(io.Discard, s.resp.Body, 16<<10) // lets a short body keep its connection
		_ = s.resp.Body.Close()
	}
	if s.cancel != nil {
		s.cancel()
	}
}

// Forward sends r to up and relays the answer to w: the response, or a
// JSON error (502 on connect failure or reset, 504 on timeout) when the
// upstream failed before any byte was written. r's body is consumed. r's
// X-Request-Id is ensured first (see RequestID). It does not retry.
func (p *Proxy) Forward(w http.ResponseWriter, r *http.Request, up Upstream) Outcome {
	start := time.Now()
	s := p.send(r, &up, requestBody(r))
	o := p.finish(w, r, &up, &s)
	o.Attempts = 1
	o.Duration = time.Since(start)
	return o
}

// requestBody returns the body to send for r, nil when it has none.
func requestBody(r *http.Request) io.ReadCloser {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	return r.Body
}

// isUpgrade reports whether r asks for a protocol switch.
func isUpgrade(r *http.Request) bool {
	if r.ProtoMajor != 1 {
		return false
	}
	_, ok := r.Header[headerUpgrade]
	return ok && hasToken(r.Header[headerConnection], "upgrade")
}

// outboundMem holds what an outbound request needs beside the request
// itself, allocated at once.
type outboundMem struct {
	url  url.URL
	vals [4]string
}

// send performs the round trip of one attempt.
func (p *Proxy) send(r *http.Request, up *Upstream, body io.ReadCloser) sent {
	rid := RequestID(r)
	upgrade := isUpgrade(r)
	ctx := r.Context()
	var cancel context.CancelFunc
	var timer *time.Timer
	switch {
	case upgrade:
		// The deadline covers the answer only: a spliced tunnel lives on.
		ctx, cancel = context.WithCancel(ctx)
		if up.Timeout > 0 {
			timer = time.AfterFunc(up.Timeout, cancel)
		}
	case up.Timeout > 0:
		ctx, cancel = context.WithTimeout(ctx, up.Timeout)
	}
	out := r.WithContext(ctx)
	scheme := up.Scheme
	if scheme == "" {
		scheme = "http"
	}
	mem := new(outboundMem)
	u := &mem.url
	*u = url.URL{Scheme: scheme, Host: up.Target, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	if up.Path != "" {
		if p, err := url.PathUnescape(up.Path); err == nil {
			u.Path, u.RawPath = p, up.Path
		} else {
			u.Path, u.RawPath = up.Path, ""
		}
	}
	out.URL = u
	out.Host = r.Host
	if up.Host != "" {
		out.Host = up.Host
	}
	out.RequestURI = ""
	out.Header = outboundHeader(r, rid, upgrade, &mem.vals)
	out.Body = body
	out.GetBody = nil
	if body == nil {
		out.ContentLength = 0
	}
	out.TransferEncoding = nil
	out.Close = false
	out.Proto, out.ProtoMajor, out.ProtoMinor = "HTTP/1.1", 1, 1
	rt := up.Transport
	if rt == nil {
		rt = p.transport
	}
	resp, err := rt.RoundTrip(out)
	if timer != nil {
		if !timer.Stop() && err == nil {
			err = context.DeadlineExceeded // fired as the answer came
			_ = resp.Body.Close()
			resp = nil
		}
	}
	if err != nil {
		if cancel != nil {
			cancel()
		}
		if upgrade && ctx.Err() != nil && r.Context().Err() == nil {
			err = context.DeadlineExceeded
		}
		kind := classify(err, r.Context())
		p.upstreamError(up, kind, err)
		return sent{kind: kind, err: err}
	}
	s := sent{resp: resp, cancel: cancel, upgrade: upgrade}
	if resp.StatusCode >= 500 {
		s.kind = Status5xx
		p.upstreamError(up, Status5xx, nil)
	}
	return s
}

// upstreamError records a failed attempt.
func (p *Proxy) upstreamError(up *Upstream, kind FailureKind, err error) {
	if kind == None || kind == ClientGone {
		return
	}
	if p.metrics != nil {
		p.metrics.upstreamError(up.Route, up.Name, kind)
	}
	if err != nil && p.logger.Enabled(context.Background(), slog.LevelDebug) {
		p.logger.Debug("upstream failed", "route", up.Route, "upstream", up.Name, "target", up.Target, "kind", kind.String(), "err", err)
	}
}

// finish relays s to w and returns the outcome (Attempts and Duration are
// the caller's).
func (p *Proxy) finish(w http.ResponseWriter, r *http.Request, up *Upstream, s *sent) Outcome {
	if s.resp == nil {
		return writeFailure(w, r, s.kind, s.err)
	}
	if s.upgrade && s.resp.StatusCode == http.StatusSwitchingProtocols {
		return p.splice(w, r, s) // owns s.cancel
	}
	if s.cancel != nil {
		defer s.cancel()
	}
	if up.ModifyResponse != nil {
		if err := up.ModifyResponse(s.resp); err != nil {
			s.discard()
			o := writeFailure(w, r, Reset, err)
			o.Kind = None
			return o
		}
	}
	o := relay(w, r, s.resp)
	if o.Kind == None {
		o.Kind = s.kind // Status5xx stays visible
	} else {
		p.upstreamError(up, o.Kind, o.Err)
	}
	return o
}

// writeFailure answers a failure that happened before any response byte.
func writeFailure(w http.ResponseWriter, r *http.Request, kind FailureKind, err error) Outcome {
	status := failureStatus(kind)
	o := Outcome{Status: status, Kind: kind, Err: err, Started: true}
	msg := "upstream connection failed"
	switch kind {
	case Timeout:
		msg = "upstream timed out"
	case Reset:
		msg = "upstream connection broken"
	case ClientGone:
		// Most likely nobody reads this; but a client that only half-closed
		// its side must not get net/http's default empty 200.
		status, msg = http.StatusBadGateway, "client closed the request"
	}
	WriteError(w, r, status, errorCode(status), msg)
	return o
}

// isStreaming reports whether resp's bytes must reach the client as soon as
// they arrive: unknown length, server-sent events or gRPC.
func isStreaming(resp *http.Response) bool {
	if resp.ContentLength < 0 {
		return true
	}
	ct := resp.Header["Content-Type"]
	if len(ct) == 0 {
		return false
	}
	return hasPrefixFold(ct[0], "text/event-stream") || hasPrefixFold(ct[0], "application/grpc")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
