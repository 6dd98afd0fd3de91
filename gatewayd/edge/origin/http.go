package origin

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"cairn.dev/cairn/node/httpproxy"
)

// HTTPOptions tunes an HTTP origin. Zero fields take the defaults named.
type HTTPOptions struct {
	// Host is the Host header sent to the origin; "" sends the base URL's
	// host, unless PreserveHost is set.
	Host string
	// PreserveHost sends the client's Host header instead (an origin that
	// serves several sites by name). Exclusive with Host.
	PreserveHost bool
	// Header is added to every request to the origin (replacing a client's
	// header of the same name): an origin's credentials, say.
	Header http.Header
	// DialTimeout bounds the TCP connect; default 2s.
	DialTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for the response headers once
	// the request is written; 0 means none (the caller's ctx still bounds
	// the fetch).
	ResponseHeaderTimeout time.Duration
	// Transport replaces the httpproxy.Transport NewHTTP builds (tests,
	// or a transport shared with other users); TLS and the timeouts above
	// are then the transport's business.
	Transport http.RoundTripper
}

// HTTP is an origin reached over HTTP(S) at a base URL: a request for
// /p?q goes to <base path>/p?q on the base's host with the client's
// end-to-end headers (hop-by-hop headers and the shield headers dropped),
// its method and body. The answer is returned as the origin gave it, less
// its hop-by-hop headers; a transport failure is an error. HTTP is safe for
// concurrent use.
type HTTP struct {
	base         *url.URL
	host         string
	preserveHost bool
	header       http.Header
	rt           http.RoundTripper
}

// NewHTTP returns an origin at base (scheme http or https, a host, an
// optional path prefix; no query, fragment or user info). tlsConf, for an
// https base, configures the TLS client (nil: the system roots).
func NewHTTP(base *url.URL, tlsConf *tls.Config, opts HTTPOptions) (*HTTP, error) {
	if base == nil {
		return nil, fmt.Errorf("%w: origin URL: missing", ErrBadConfig)
	}
	switch {
	case base.Scheme != "http" && base.Scheme != "https":
		return nil, fmt.Errorf("%w: origin URL %q: the scheme must be http or https", ErrBadConfig, base.Redacted())
	case base.Host == "":
		return nil, fmt.Errorf("%w: origin URL %q: no host", ErrBadConfig, base.Redacted())
	case base.User != nil:
		return nil, fmt.Errorf("%w: origin URL %q: user info is not supported (set an Authorization header in HTTPOptions.Header)", ErrBadConfig, base.Redacted())
	case base.RawQuery != "" || base.ForceQuery || base.Fragment != "":
		return nil, fmt.Errorf("%w: origin URL %q: no query or fragment allowed", ErrBadConfig, base.Redacted())
	case opts.Host != "" && opts.PreserveHost:
		return nil, fmt.Errorf("%w: origin Host %q and PreserveHost: set one of them", ErrBadConfig, opts.Host)
	case opts.DialTimeout < 0 || opts.ResponseHeaderTimeout < 0:
		return nil, fmt.Errorf("%w: origin timeouts must not be negative", ErrBadConfig)
	}
	for k, vv := range opts.Header {
		if !validHeaderName(k) {
			return nil, fmt.Errorf("%w: origin header name %q is not a valid token", ErrBadConfig, k)
		}
		for _, v := range vv {
			if !validHeaderValue(v) {
				return nil, fmt.Errorf("%w: origin header %q: the value holds control characters", ErrBadConfig, k)
			}
		}
	}
	h := &HTTP{base: base, host: opts.Host, preserveHost: opts.PreserveHost, header: opts.Header.Clone(), rt: opts.Transport}
	if h.host == "" && !h.preserveHost {
		h.host = base.Host
	}
	if h.rt == nil {
		var tc *tls.Config
		if base.Scheme == "https" {
			tc = tlsConf
		}
		h.rt = httpproxy.NewTransport(httpproxy.TransportConfig{
			Protocol: httpproxy.ProtocolHTTP1, TLS: tc,
			DialTimeout: opts.DialTimeout, ResponseHeaderTimeout: opts.ResponseHeaderTimeout,
		})
	}
	return h, nil
}

// Base is the origin's base URL.
func (h *HTTP) Base() *url.URL { u := *h.base; return &u }

// Fetch sends r to the origin; see HTTP.
func (h *HTTP) Fetch(ctx context.Context, r *http.Request) (*http.Response, error) {
	out, err := h.outgoing(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := h.rt.RoundTrip(out)
	if err != nil {
		return nil, fmt.Errorf("origin: %s %s%s: %w", r.Method, h.base.Redacted(), r.URL.EscapedPath(), err)
	}
	stripHopByHop(resp.Header)
	return resp, nil
}

// outgoing builds the request to the origin for r.
func (h *HTTP) outgoing(ctx context.Context, r *http.Request) (*http.Request, error) {
	u := &url.URL{Scheme: h.base.Scheme, Host: h.base.Host}
	path, rawPath := r.URL.Path, r.URL.RawPath
	if !strings.HasPrefix(path, "/") {
		path, rawPath = "/"+path, ""
	}
	if bp := strings.TrimSuffix(h.base.Path, "/"); bp != "" {
		path = bp + path
		if rawPath != "" {
			rawPath = strings.TrimSuffix(h.base.EscapedPath(), "/") + rawPath
		}
	}
	u.Path, u.RawPath, u.RawQuery = path, rawPath, r.URL.RawQuery
	out, err := http.NewRequestWithContext(ctx, r.Method, u.String(), r.Body)
	if err != nil {
		return nil, fmt.Errorf("origin: request for %q: %w", r.URL.Path, err)
	}
	out.ContentLength = r.ContentLength
	if r.Body == nil || r.Body == http.NoBody {
		out.Body, out.ContentLength = http.NoBody, 0
	}
	out.Header = endToEnd(r.Header)
	for k, vv := range h.header {
		out.Header[k] = vv
	}
	out.Host = h.host
	if h.preserveHost {
		out.Host = r.Host
	}
	return out, nil
}
