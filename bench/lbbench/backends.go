package lbbench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Body is every HTTP backend's answer: 64 bytes of text, a small API reply.
const Body = "lbbench: a fixed backend body, the same from every backend ok.\n"

// StatsPath answers a backend's request count as a decimal number; it is
// not counted itself.
const StatsPath = "/_lbbench/requests"

// Limits of a BackendsConfig.
const (
	MaxBackends  = 64
	MaxSlowDelay = 10 * time.Second
)

// Sentinel errors.
var (
	ErrClosed = errors.New("lbbench: backends already closed")
)

// BackendsConfig says which backends StartBackends starts.
type BackendsConfig struct {
	// Host is the IP every backend listens on; default 127.0.0.1.
	Host string
	// HTTP and TCP are the numbers of fast HTTP backends and of TCP sinks
	// (0..MaxBackends each).
	HTTP, TCP int
	// HTTPPort and TCPPort, when not 0, are the first ports: backend i
	// listens on port+i. 0 takes any free ports.
	HTTPPort, TCPPort int
	// SlowDelay, when not 0, adds one slow HTTP backend that waits this
	// long (at most MaxSlowDelay) before answering; it listens on
	// HTTPPort+HTTP when HTTPPort is set.
	SlowDelay time.Duration
}

// Validate reports every bad field.
func (c BackendsConfig) Validate() error {
	var errs []error
	if c.HTTP < 0 || c.HTTP > MaxBackends {
		errs = append(errs, fmt.Errorf("lbbench: http is %d, want 0..%d", c.HTTP, MaxBackends))
	}
	if c.TCP < 0 || c.TCP > MaxBackends {
		errs = append(errs, fmt.Errorf("lbbench: tcp is %d, want 0..%d", c.TCP, MaxBackends))
	}
	for name, p := range map[string]int{"http_port": c.HTTPPort, "tcp_port": c.TCPPort} {
		if p < 0 || p+MaxBackends+1 > 65535 {
			errs = append(errs, fmt.Errorf("lbbench: %s is %d, want 0..%d", name, p, 65535-MaxBackends-1))
		}
	}
	if c.SlowDelay < 0 || c.SlowDelay > MaxSlowDelay {
		errs = append(errs, fmt.Errorf("lbbench: slow_delay is %v, want 0..%v", c.SlowDelay, MaxSlowDelay))
	}
	if c.HTTP+c.TCP == 0 && c.SlowDelay == 0 {
		errs = append(errs, errors.New("lbbench: no backend to start (http, tcp and slow_delay are all 0)"))
	}
	return errors.Join(errs...)
}

// Backends are the running backends. Their methods are safe for concurrent
// use; Close stops them all.
type Backends struct {
	http []*httpBackend
	slow *httpBackend // nil without SlowDelay
	tcp  []*sink

	closed atomic.Bool
}

// StartBackends listens on every backend's address and serves until Close.
// On an error the backends already started are closed.
func StartBackends(cfg BackendsConfig) (*Backends, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	addr := func(port, i int) string {
		if port == 0 {
			return net.JoinHostPort(host, "0")
		}
		return net.JoinHostPort(host, strconv.Itoa(port+i))
	}
	b := &Backends{}
	fail := func(err error) (*Backends, error) {
		b.Close()
		return nil, err
	}
	for i := range cfg.HTTP {
		h, err := startHTTP(addr(cfg.HTTPPort, i), 0)
		if err != nil {
			return fail(err)
		}
		b.http = append(b.http, h)
	}
	if cfg.SlowDelay > 0 {
		h, err := startHTTP(addr(cfg.HTTPPort, cfg.HTTP), cfg.SlowDelay)
		if err != nil {
			return fail(err)
		}
		b.slow = h
	}
	for i := range cfg.TCP {
		s, err := startSink(addr(cfg.TCPPort, i))
		if err != nil {
			return fail(err)
		}
		b.tcp = append(b.tcp, s)
	}
	return b, nil
}

// HTTPAddrs are the fast HTTP backends' host:port, in order.
func (b *Backends) HTTPAddrs() []string {
	out := make([]string, len(b.http))
	for i, h := range b.http {
		out[i] = h.ln.Addr().String()
	}
	return out
}

// SlowAddr is the slow HTTP backend's host:port, "" when there is none.
func (b *Backends) SlowAddr() string {
	if b.slow == nil {
		return ""
	}
	return b.slow.ln.Addr().String()
}

// TCPAddrs are the TCP sinks' host:port, in order.
func (b *Backends) TCPAddrs() []string {
	out := make([]string, len(b.tcp))
	for i, s := range b.tcp {
		out[i] = s.ln.Addr().String()
	}
	return out
}

// HTTPRequests are the requests each fast HTTP backend served, in order,
// then the slow one's when there is one.
func (b *Backends) HTTPRequests() []int64 {
	var out []int64
	for _, h := range b.http {
		out = append(out, h.requests.Load())
	}
	if b.slow != nil {
		out = append(out, b.slow.requests.Load())
	}
	return out
}

// TCPBytes are the bytes each sink received, in order.
func (b *Backends) TCPBytes() []int64 {
	out := make([]int64, len(b.tcp))
	for i, s := range b.tcp {
		out[i] = s.bytes.Load()
	}
	return out
}

// Close stops every backend, closing their connections, and waits for
// their goroutines. A second Close returns ErrClosed.
func (b *Backends) Close() error {
	if !b.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	var errs []error
	for _, h := range b.http {
		errs = append(errs, h.close())
	}
	if b.slow != nil {
		errs = append(errs, b.slow.close())
	}
	for _, s := range b.tcp {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}

// httpBackend is one HTTP backend: Body after delay.
type httpBackend struct {
	srv      *http.Server
	ln       net.Listener
	delay    time.Duration
	requests atomic.Int64
	wg       sync.WaitGroup // the serving goroutine
}

var bodyLength = strconv.Itoa(len(Body))

func startHTTP(addr string, delay time.Duration) (*httpBackend, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("lbbench: http backend: %w", err)
	}
	h := &httpBackend{ln: ln, delay: delay}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute}
	h.wg.Go(func() { _ = h.srv.Serve(ln) }) // ErrServerClosed after close
	return h, nil
}

// ServeHTTP answers GET and HEAD with Body, after the backend's delay.
func (h *httpBackend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain")
	if r.URL.Path == StatsPath {
		_, _ = io.WriteString(w, strconv.FormatInt(h.requests.Load(), 10))
		return
	}
	h.requests.Add(1)
	if h.delay > 0 {
		t := time.NewTimer(h.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	hdr.Set("Content-Length", bodyLength)
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, Body)
	}
}

func (h *httpBackend) close() error {
	err := h.srv.Close()
	h.wg.Wait()
	return err
}

// sink is one TCP sink: it counts what each connection sends and answers
// the count when the client half-closes.
type sink struct {
	ln    net.Listener
	bytes atomic.Int64
	wg    sync.WaitGroup // the accept loop and every connection's goroutine

	mu    sync.Mutex            // guards conns and done
	conns map[net.Conn]struct{} // open connections, closed by close
	done  bool
}

func startSink(addr string) (*sink, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("lbbench: tcp sink: %w", err)
	}
	s := &sink{ln: ln, conns: map[net.Conn]struct{}{}}
	s.wg.Go(s.accept)
	return s, nil
}

func (s *sink) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		if s.done {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Go(func() { s.serve(c) }) // under mu: close's Wait cannot have started
		s.mu.Unlock()
	}
}

// serve discards what c sends and, at EOF, answers the count as a line.
func (s *sink) serve(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	buf := make([]byte, sinkBuffer)
	var n int64
	for {
		k, err := c.Read(buf)
		if k > 0 {
			n += int64(k)
			s.bytes.Add(int64(k))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return // reset or closed: no one to answer
		}
	}
	w := bufio.NewWriter(c)
	fmt.Fprintf(w, "%d\n", n)
	_ = w.Flush()
}

// sinkBuffer is a sink connection's read buffer: large, so that a fast
// sender costs the sink few reads.
const sinkBuffer = 256 << 10

func (s *sink) close() error {
	err := s.ln.Close()
	s.mu.Lock()
	s.done = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

// Wait blocks until ctx ends, then closes b (a helper for commands that
// serve until interrupted).
func (b *Backends) Wait(ctx context.Context) error {
	<-ctx.Done()
	return b.Close()
}
