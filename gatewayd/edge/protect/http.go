package protect

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"time"
)

// Handler returns next behind the limiter: a request whose client (from
// RemoteAddr) is over its rate is answered by WriteTooManyRequests and does
// not reach next. A request without a parsable RemoteAddr passes.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ip, ok := remoteIP(r.RemoteAddr); ok {
			if allowed, retry := l.Allow(ip); !allowed {
				WriteTooManyRequests(w, retry)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// WriteTooManyRequests answers 429 with Retry-After: retryAfter in whole
// seconds, rounded up, at least 1.
func WriteTooManyRequests(w http.ResponseWriter, retryAfter time.Duration) {
	secs := int64(retryAfter / time.Second)
	if retryAfter%time.Second != 0 {
		secs++
	}
	h := w.Header()
	h.Set("Retry-After", strconv.FormatInt(max(1, secs), 10))
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooManyRequests)
	io.WriteString(w, "too many requests\n")
}

// remoteIP parses an http.Request.RemoteAddr ("ip:port" or a bare ip).
func remoteIP(s string) (netip.Addr, bool) {
	if h, _, err := net.SplitHostPort(s); err == nil {
		s = h
	}
	a, err := netip.ParseAddr(s)
	return a, err == nil
}
