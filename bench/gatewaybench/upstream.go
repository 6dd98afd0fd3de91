package gatewaybench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Body is the upstream's answer to every benchmark request: 100 bytes of
// JSON, about the size of a small API response.
const Body = `{"service":"gatewaybench","status":"ok","items":[1,2,3,4,5,6,7,8,9],"note":"a fixed upstream body."}`

// CacheablePath ends the paths whose answers carry CacheControl.
const CacheablePath = "/cacheable"

// CacheControl is the caching header of the answers under CacheablePath.
const CacheControl = "public, max-age=60"

// RequestsPath answers the number of benchmark requests served so far, as
// a decimal number; it is not counted itself.
const RequestsPath = "/_upstream/requests"

// ErrUpstreamClosed is returned by Upstream.Close when called twice.
var ErrUpstreamClosed = errors.New("gatewaybench: upstream already closed")

// Upstream is the fixed HTTP/1.1 server the benchmark proxies to. It is safe
// for concurrent use; Close stops it.
type Upstream struct {
	srv      *http.Server
	ln       net.Listener
	requests atomic.Int64
	wg       sync.WaitGroup // the serving goroutine
	closed   atomic.Bool
}

// StartUpstream listens on addr ("127.0.0.1:0" for any free port) and serves
// until Close.
func StartUpstream(addr string) (*Upstream, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("gatewaybench: upstream: %w", err)
	}
	u := &Upstream{ln: ln}
	u.srv = &http.Server{
		Handler:           u,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		_ = u.srv.Serve(ln) // ErrServerClosed after Close
	}()
	return u, nil
}

// Addr is the host:port the upstream listens on.
func (u *Upstream) Addr() string { return u.ln.Addr().String() }

// Requests is the number of benchmark requests (every path but RequestsPath)
// served so far.
func (u *Upstream) Requests() int64 { return u.requests.Load() }

// Close stops accepting, closes every connection and waits for the serving
// goroutine.
func (u *Upstream) Close() error {
	if !u.closed.CompareAndSwap(false, true) {
		return ErrUpstreamClosed
	}
	err := u.srv.Close()
	u.wg.Wait()
	return err
}

// Shutdown stops the upstream gracefully: requests in flight finish (until
// ctx ends), then it closes as Close does.
func (u *Upstream) Shutdown(ctx context.Context) error {
	if !u.closed.CompareAndSwap(false, true) {
		return ErrUpstreamClosed
	}
	err := u.srv.Shutdown(ctx)
	if err != nil {
		_ = u.srv.Close()
	}
	u.wg.Wait()
	return err
}

// ServeHTTP answers GET and HEAD with Body (405 otherwise).
func (u *Upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	if r.URL.Path == RequestsPath {
		h.Set("Content-Type", "text/plain")
		h.Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(strconv.FormatInt(u.requests.Load(), 10)))
		return
	}
	u.requests.Add(1)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", bodyLength)
	if strings.HasSuffix(r.URL.Path, CacheablePath) {
		h.Set("Cache-Control", CacheControl)
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(bodyBytes)
}

var (
	bodyBytes  = []byte(Body)
	bodyLength = strconv.Itoa(len(Body))
)
