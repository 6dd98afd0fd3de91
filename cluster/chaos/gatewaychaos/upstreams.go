package gatewaychaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/cluster/faultproxy"
)

// Modes of an upstream.
const (
	modeOK   int32 = iota // 200 with the target's name
	modeFail              // 500
)

// arrival is one request an upstream received.
type arrival struct {
	Target    string
	RequestID string
	At        time.Duration // on the history's clock
	Status    int
}

// upstreams are the test process's HTTP servers the gateway routes to, each
// behind a fault proxy (which the gateway dials) so that it can be slowed.
type upstreams struct {
	now func() time.Duration

	mu       sync.Mutex // protects arrivals
	arrivals []arrival

	targets []*target
}

// target is one upstream server.
type target struct {
	name  string
	addr  string // the server's own address, kept across restarts
	proxy *faultproxy.Proxy
	mode  atomic.Int32

	mu  sync.Mutex // protects srv
	srv *http.Server
}

// startUpstreams starts n upstream servers named a, b, c, ….
func startUpstreams(n int, now func() time.Duration) (*upstreams, error) {
	u := &upstreams{now: now}
	for i := 0; i < n; i++ {
		t := &target{name: string(rune('a' + i))}
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			u.close()
			return nil, err
		}
		t.addr = lis.Addr().String()
		if t.proxy, err = faultproxy.Listen("127.0.0.1:0", t.addr, faultproxy.Options{}); err != nil {
			_ = lis.Close()
			u.close()
			return nil, err
		}
		u.targets = append(u.targets, t)
		t.serve(u, lis)
	}
	return u, nil
}

// serve runs the target's server on lis.
func (t *target) serve(u *upstreams, lis net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := http.StatusOK
		if t.mode.Load() == modeFail {
			status = http.StatusInternalServerError
		}
		u.record(arrival{Target: t.name, RequestID: r.Header.Get("X-Request-Id"), At: u.now(), Status: status})
		w.Header().Set("X-Target", t.name)
		w.WriteHeader(status)
		fmt.Fprintf(w, "%s %d\n", t.name, status)
	}), ReadHeaderTimeout: 5 * time.Second}
	t.mu.Lock()
	t.srv = srv
	t.mu.Unlock()
	go func() { _ = srv.Serve(lis) }()
}

// kill stops the target's server: connections to it are refused.
func (t *target) kill() {
	t.mu.Lock()
	srv := t.srv
	t.srv = nil
	t.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// restart serves the target again on its address, retrying the bind until
// ctx ends.
func (t *target) restart(ctx context.Context, u *upstreams) error {
	for {
		lis, err := net.Listen("tcp", t.addr)
		if err == nil {
			t.serve(u, lis)
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (u *upstreams) record(a arrival) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.arrivals = append(u.arrivals, a)
}

// log returns a copy of every arrival so far.
func (u *upstreams) log() []arrival {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]arrival(nil), u.arrivals...)
}

// close stops every server and proxy.
func (u *upstreams) close() {
	for _, t := range u.targets {
		t.kill()
		if t.proxy != nil {
			_ = t.proxy.Close()
		}
	}
}
