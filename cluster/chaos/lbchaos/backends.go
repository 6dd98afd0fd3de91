package lbchaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Modes of a backend (backend.mode).
const (
	modeUp     = iota // answers
	modePaused        // takes connections and requests, answers nothing until resumed
	modeSlow          // answers client requests slowDelay late (health checks on time)
)

// arrival is one request a backend received (health checks included).
type arrival struct {
	Backend   string
	RequestID string // the client's X-Request-Id ("" for lbd's health checks)
	Path      string
	At        time.Duration // when the handler began, on the history's clock
	End       time.Duration // when it answered or gave up; -1 if it never did
	Status    int           // 200, or 0 when it did not answer (paused, cut)
}

// backends are the workload's HTTP servers, run in the test process and
// registered in the cluster's raftkv registry, which lbd's pool follows.
// A backend keeps its address across a kill and restart, so that its
// registration stays valid: lbd must notice the death by its checks, not by
// the registry.
type backends struct {
	now func() time.Duration

	mu       sync.Mutex // protects arrivals
	arrivals []arrival

	list []*backend
}

// backend is one HTTP server.
type backend struct {
	name string
	addr string // kept across restarts

	mu      sync.Mutex    // protects the fields below
	srv     *http.Server  // nil while killed
	mode    int           // modeUp, modePaused, modeSlow
	resumed chan struct{} // closed when a pause ends
}

// startBackends starts n backends named backend-1 … backend-n on loopback.
func startBackends(n int, now func() time.Duration) (*backends, error) {
	bs := &backends{now: now}
	for i := 1; i <= n; i++ {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			bs.close()
			return nil, err
		}
		b := &backend{name: "backend-" + strconv.Itoa(i), addr: lis.Addr().String(), resumed: make(chan struct{})}
		bs.list = append(bs.list, b)
		b.serve(bs, lis)
	}
	return bs, nil
}

// byName returns the backend called name, nil if there is none.
func (bs *backends) byName(name string) *backend {
	for _, b := range bs.list {
		if b.name == name {
			return b
		}
	}
	return nil
}

// serve runs the backend's server on lis.
func (b *backend) serve(bs *backends, lis net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.handle(bs, w, r)
	}), ReadHeaderTimeout: 5 * time.Second}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	go func() { _ = srv.Serve(lis) }()
}

// handle answers one request: its name, after the delay its mode and the
// path ask for (/slow?ms=N sleeps N ms); a paused backend answers nothing
// until resumed, and gives up when the client (lbd) does.
func (b *backend) handle(bs *backends, w http.ResponseWriter, r *http.Request) {
	idx := bs.record(arrival{Backend: b.name, RequestID: r.Header.Get("X-Request-Id"), Path: r.URL.Path, At: bs.now(), End: -1})
	status := 0
	defer func() { bs.finish(idx, status) }()
	b.mu.Lock()
	mode, resumed := b.mode, b.resumed
	b.mu.Unlock()
	health := r.URL.Path == "/healthz"
	if mode == modePaused {
		select {
		case <-resumed:
		case <-r.Context().Done():
			return
		}
	}
	delay := time.Duration(0)
	if !health {
		if ms, err := strconv.Atoi(r.URL.Query().Get("ms")); err == nil && ms > 0 && ms <= 10000 {
			delay = time.Duration(ms) * time.Millisecond
		}
		if mode == modeSlow {
			delay += slowDelay
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	w.Header().Set("X-Backend", b.name)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if _, err := fmt.Fprintln(w, b.name); err == nil {
		status = http.StatusOK
	}
}

// setMode switches the backend's mode; leaving modePaused releases the
// requests it held.
func (b *backend) setMode(mode int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mode == modePaused && mode != modePaused {
		close(b.resumed)
		b.resumed = make(chan struct{})
	}
	b.mode = mode
}

// kill closes the backend's listener and every connection: connects to it
// are refused and requests in flight are cut.
func (b *backend) kill() {
	b.mu.Lock()
	srv := b.srv
	b.srv = nil
	b.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// restart serves the backend again on its address, retrying the bind until
// ctx ends.
func (b *backend) restart(ctx context.Context, bs *backends) error {
	for {
		lis, err := net.Listen("tcp", b.addr)
		if err == nil {
			b.serve(bs, lis)
			return nil
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(ctx.Err(), err)
		case <-t.C:
		}
	}
}

func (bs *backends) record(a arrival) int {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	bs.arrivals = append(bs.arrivals, a)
	return len(bs.arrivals) - 1
}

func (bs *backends) finish(idx, status int) {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	bs.arrivals[idx].End = bs.now()
	bs.arrivals[idx].Status = status
}

// log returns a copy of every arrival so far.
func (bs *backends) log() []arrival {
	bs.mu.Lock()
	defer bs.mu.Unlock()
	return append([]arrival(nil), bs.arrivals...)
}

// inflight returns the client requests (not health checks) backend name is
// handling now that began at least minAge ago.
func (bs *backends) inflight(name string, minAge time.Duration) []arrival {
	now := bs.now()
	bs.mu.Lock()
	defer bs.mu.Unlock()
	var out []arrival
	for _, a := range bs.arrivals {
		if a.Backend == name && a.End < 0 && a.Path != "/healthz" && a.RequestID != "" && now-a.At >= minAge {
			out = append(out, a)
		}
	}
	return out
}

// close stops every server and releases paused handlers.
func (bs *backends) close() {
	for _, b := range bs.list {
		b.setMode(modeUp)
		b.kill()
	}
}
