package health

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxBodyBytes is how much of an HTTP check's answer is read to look for
// HTTPCheck.Body.
const MaxBodyBytes = 64 << 10

// maxExpectRanges bounds how many comma-separated items Expect may hold.
const maxExpectRanges = 32

// HTTPCheck describes an HTTP health check.
type HTTPCheck struct {
	Path   string      // request path and query, starting with "/"; default "/"
	Host   string      // Host header; default the backend's address
	Method string      // GET or HEAD; default GET
	Expect string      // status codes that pass: "200-399" (default), "200", "200,204", "200-299,304"
	Body   string      // text the body (its first MaxBodyBytes) must contain; "" = any; not with HEAD
	TLS    *tls.Config // nil = plain HTTP; with TLS and no ServerName, the Host header's host name is used for SNI and verification
}

// HTTPProbe validates c and returns a Probe that sends one request per check
// on a new connection (no keep-alive, no redirects followed, no proxy) and
// passes when the status is in Expect and the body holds Body.
func HTTPProbe(c HTTPCheck) (Probe, error) {
	if c.Path == "" {
		c.Path = "/"
	}
	if !strings.HasPrefix(c.Path, "/") {
		return nil, fmt.Errorf("%w: HTTPCheck.Path %q must start with \"/\"", ErrInvalidConfig, c.Path)
	}
	if _, err := url.ParseRequestURI(c.Path); err != nil {
		return nil, fmt.Errorf("%w: HTTPCheck.Path %q: %v", ErrInvalidConfig, c.Path, err)
	}
	switch c.Method {
	case "":
		c.Method = http.MethodGet
	case http.MethodGet, http.MethodHead:
	default:
		return nil, fmt.Errorf("%w: HTTPCheck.Method %q, must be GET or HEAD", ErrInvalidConfig, c.Method)
	}
	if c.Method == http.MethodHead && c.Body != "" {
		return nil, fmt.Errorf("%w: HTTPCheck.Body is set but a HEAD answer has no body", ErrInvalidConfig)
	}
	if len(c.Body) > MaxBodyBytes {
		return nil, fmt.Errorf("%w: HTTPCheck.Body is %d bytes, the limit is %d", ErrInvalidConfig, len(c.Body), MaxBodyBytes)
	}
	expect, err := parseExpect(c.Expect)
	if err != nil {
		return nil, err
	}
	scheme := "http"
	if c.TLS != nil {
		scheme = "https"
	}
	p := &httpProbe{check: c, scheme: scheme, expect: expect}
	return p, nil
}

type httpProbe struct {
	check  HTTPCheck
	scheme string
	expect statusRanges
}

func (p *httpProbe) Check(ctx context.Context, addr string) error {
	req, err := http.NewRequestWithContext(ctx, p.check.Method, p.scheme+"://"+addr+p.check.Path, nil)
	if err != nil {
		return fmt.Errorf("http check of %s: %w", addr, err)
	}
	if p.check.Host != "" {
		req.Host = p.check.Host
	}
	req.Header.Set("User-Agent", "cairn-lbd-health")
	// A transport per check: nothing (idle connections, their goroutines)
	// outlives the check, and every check proves that a connection opens.
	tr := &http.Transport{
		Proxy:             nil, // never the environment's proxy: the check is of the backend
		DisableKeepAlives: true,
		DialContext:       (&net.Dialer{}).DialContext,
	}
	if p.check.TLS != nil {
		tc := p.check.TLS.Clone()
		if tc.ServerName == "" && p.check.Host != "" {
			tc.ServerName = hostOnly(p.check.Host)
		}
		tr.TLSClientConfig = tc
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("http check of %s: %w", addr, err)
	}
	defer resp.Body.Close()
	if !p.expect.contains(resp.StatusCode) {
		return fmt.Errorf("%w %d from %s%s, want %s", ErrUnexpectedStatus, resp.StatusCode, addr, p.check.Path, p.expect)
	}
	if p.check.Body == "" {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
	if err != nil {
		return fmt.Errorf("http check of %s: reading the body: %w", addr, err)
	}
	if !bytes.Contains(body, []byte(p.check.Body)) {
		return fmt.Errorf("%w: %q not in the first %d bytes from %s%s", ErrBodyMismatch, p.check.Body, len(body), addr, p.check.Path)
	}
	return nil
}

// hostOnly strips a port from a Host header value.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.Trim(host, "[]")
}

// statusRange is an inclusive range of HTTP status codes.
type statusRange struct{ lo, hi int }

// statusRanges is a parsed HTTPCheck.Expect.
type statusRanges []statusRange

func (s statusRanges) contains(code int) bool {
	for _, r := range s {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// String writes s back in Expect's syntax.
func (s statusRanges) String() string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(r.lo))
		if r.hi != r.lo {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(r.hi))
		}
	}
	return b.String()
}

// parseExpect parses HTTPCheck.Expect: comma-separated items, each a status
// code ("204") or an inclusive range ("200-399") of codes in 100..599, with
// optional spaces around items; "" means "200-399".
func parseExpect(s string) (statusRanges, error) {
	if strings.TrimSpace(s) == "" {
		return statusRanges{{200, 399}}, nil
	}
	items := strings.Split(s, ",")
	if len(items) > maxExpectRanges {
		return nil, fmt.Errorf("%w: HTTPCheck.Expect has %d items, the limit is %d", ErrInvalidConfig, len(items), maxExpectRanges)
	}
	out := make(statusRanges, 0, len(items))
	for _, item := range items {
		item = strings.TrimSpace(item)
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := parseStatus(lo)
		if err != nil {
			return nil, fmt.Errorf("%w: HTTPCheck.Expect %q: %v", ErrInvalidConfig, s, err)
		}
		b := a
		if isRange {
			if b, err = parseStatus(hi); err != nil {
				return nil, fmt.Errorf("%w: HTTPCheck.Expect %q: %v", ErrInvalidConfig, s, err)
			}
			if b < a {
				return nil, fmt.Errorf("%w: HTTPCheck.Expect %q: range %q ends before it starts", ErrInvalidConfig, s, item)
			}
		}
		out = append(out, statusRange{a, b})
	}
	return out, nil
}

// parseStatus parses one status code of three digits in 100..599.
func parseStatus(s string) (int, error) {
	s = strings.TrimSpace(s)
	if len(s) != 3 {
		return 0, fmt.Errorf("status %q is not a three-digit code", s)
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("status %q is not a three-digit code", s)
		}
		n = n*10 + int(c-'0')
	}
	if n < 100 || n > 599 {
		return 0, fmt.Errorf("status %d is outside 100..599", n)
	}
	return n, nil
}
