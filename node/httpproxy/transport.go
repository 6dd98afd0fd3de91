package httpproxy

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Upstream protocols a Transport speaks.
const (
	ProtocolHTTP1 = "http1" // HTTP/1.1 (over TLS when the scheme is https)
	ProtocolH2C   = "h2c"   // HTTP/2 cleartext with prior knowledge
	ProtocolH2    = "h2"    // HTTP/2 over TLS, ALPN h2 only
	ProtocolAuto  = "auto"  // TLS with ALPN choosing h2 or HTTP/1.1
)

// TransportConfig tunes a Transport. Zero fields take the defaults named.
type TransportConfig struct {
	// Protocol is one of the Protocol constants; "" means ProtocolHTTP1.
	Protocol string
	// TLS is the client TLS configuration for https targets; nil uses the
	// system roots. Its NextProtos are set from Protocol.
	TLS *tls.Config
	// DialTimeout bounds the TCP connect; default 2s.
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake; default 5s.
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the response headers after
	// the request was written; 0 means no bound (the Upstream's total
	// Timeout still applies). Leave it 0 for gRPC streams, whose headers may
	// come late.
	ResponseHeaderTimeout time.Duration
	// IdleConnTimeout closes pooled connections idle that long; default 90s.
	IdleConnTimeout time.Duration
	// MaxIdleConnsPerHost is the pool size per target; default 256.
	MaxIdleConnsPerHost int
	// MaxIdleConns bounds the pool over all targets; default 4096.
	MaxIdleConns int
	// MaxConnsPerHost bounds connections per target; 0 means no bound.
	MaxConnsPerHost int
	// KeepAlive is the TCP keep-alive period; default 30s.
	KeepAlive time.Duration
}

// Transport is an http.RoundTripper to upstreams with pooled keep-alive
// connections. It never adds Accept-Encoding nor decompresses (bodies pass
// through as the upstream sent them). It is safe for concurrent use; one
// Transport should serve every target of an upstream so connections are
// shared.
//
// For ProtocolHTTP1 over plain TCP, requests other than upgrades go through
// the package's own HTTP/1.1 client: the round trip runs on the caller's
// goroutine (no reader/writer goroutines per connection), a reused
// connection that fails before answering is retried once for idempotent
// bodiless requests (else reported as a Connect failure), and the request
// body is written whole before the response is read (no full-duplex
// HTTP/1.1 exchanges). TLS, HTTP/2, upgrades and a set MaxConnsPerHost use
// a tuned http.Transport.
type Transport struct {
	rt       *http.Transport
	h1       *h1Client // nil unless ProtocolHTTP1 without MaxConnsPerHost
	protocol string
}

// NewTransport returns a Transport for cfg. An unknown Protocol is treated
// as ProtocolHTTP1; ValidateProtocol checks it beforehand.
func NewTransport(cfg TransportConfig) *Transport {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.DialTimeout, 2*time.Second)
	def(&cfg.TLSHandshakeTimeout, 5*time.Second)
	def(&cfg.IdleConnTimeout, 90*time.Second)
	def(&cfg.KeepAlive, 30*time.Second)
	if cfg.MaxIdleConnsPerHost <= 0 {
		cfg.MaxIdleConnsPerHost = 256
	}
	if cfg.MaxIdleConns <= 0 {
		cfg.MaxIdleConns = 4096
	}
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: cfg.KeepAlive}
	rt := &http.Transport{
		Proxy:                  nil, // never via an environment proxy
		DialContext:            dialer.DialContext,
		TLSHandshakeTimeout:    cfg.TLSHandshakeTimeout,
		ResponseHeaderTimeout:  cfg.ResponseHeaderTimeout,
		IdleConnTimeout:        cfg.IdleConnTimeout,
		MaxIdleConns:           cfg.MaxIdleConns,
		MaxIdleConnsPerHost:    cfg.MaxIdleConnsPerHost,
		MaxConnsPerHost:        cfg.MaxConnsPerHost,
		DisableCompression:     true,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		WriteBufferSize:        32 << 10,
		ReadBufferSize:         32 << 10,
	}
	if cfg.TLS != nil {
		rt.TLSClientConfig = cfg.TLS.Clone()
	} else {
		rt.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	var p http.Protocols
	switch cfg.Protocol {
	case ProtocolH2C:
		p.SetUnencryptedHTTP2(true)
	case ProtocolH2:
		p.SetHTTP2(true)
		rt.TLSClientConfig.NextProtos = []string{"h2"}
	case ProtocolAuto:
		p.SetHTTP1(true)
		p.SetHTTP2(true)
		rt.ForceAttemptHTTP2 = true
		rt.TLSClientConfig.NextProtos = []string{"h2", "http/1.1"}
	default:
		cfg.Protocol = ProtocolHTTP1
		p.SetHTTP1(true)
		rt.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	rt.Protocols = &p
	t := &Transport{rt: rt, protocol: cfg.Protocol}
	if cfg.Protocol == ProtocolHTTP1 && cfg.MaxConnsPerHost <= 0 {
		t.h1 = newH1Client(cfg)
	}
	return t
}

// ValidateProtocol reports whether p names a protocol NewTransport knows.
func ValidateProtocol(p string) error {
	switch p {
	case "", ProtocolHTTP1, ProtocolH2C, ProtocolH2, ProtocolAuto:
		return nil
	}
	return fmt.Errorf("%w: unknown protocol %q", ErrBadConfig, p)
}

// Protocol returns the protocol the Transport speaks.
func (t *Transport) Protocol() string { return t.protocol }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.h1 != nil && t.h1.handles(r) {
		return t.h1.roundTrip(r)
	}
	return t.rt.RoundTrip(r)
}

// CloseIdleConnections closes the pooled connections not in use; call it
// when the Transport is dropped (e.g. after a configuration reload).
func (t *Transport) CloseIdleConnections() {
	t.rt.CloseIdleConnections()
	if t.h1 != nil {
		t.h1.closeIdle()
	}
}
