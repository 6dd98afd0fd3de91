package lbd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/lbd/l4"
	"cairn.dev/cairn/lbd/l7"
	"cairn.dev/cairn/lbd/lbconfig"
	"cairn.dev/cairn/lbd/pool"
	"cairn.dev/cairn/node/httpproxy"
)

// bindRetry is how often a frontend retries a bind that failed (the
// virtual address still held by the previous active node, a port in use).
const bindRetry = 100 * time.Millisecond

// frontend is one listening address of the node.
type frontend struct {
	s        *Server
	spec     lbconfig.Frontend
	poolName atomic.Pointer[string] // tcp and udp: the pool, changed by reloads

	tcp  *l4.TCPProxy // tcp
	http *l7.Handler  // http

	mu        sync.Mutex // guards udp
	udp       *l4.UDPProxy
	listening atomic.Bool
	removed   atomic.Bool            // a reload removed or replaced it: finish its connections
	bound     atomic.Pointer[string] // the bound address, once listening
	accepted  atomic.Int64           // udp sessions and tcp connections of earlier runs
}

func (s *Server) newFrontend(spec lbconfig.Frontend) (*frontend, error) {
	f := &frontend{s: s, spec: spec}
	name := spec.Pool
	f.poolName.Store(&name)
	switch spec.Mode {
	case lbconfig.ModeTCP:
		tcp, err := l4.NewTCP(l4.TCPConfig{
			Name:          spec.Name,
			Balancer:      f,
			ProxyProtocol: spec.ProxyProtocol,
			MaxConns:      spec.MaxConns,
			IdleTimeout:   spec.IdleTimeout,
			Logger:        s.logger,
		})
		if err != nil {
			return nil, fmt.Errorf("lbd: frontend %s: %w", spec.Name, err)
		}
		f.tcp = tcp
	case lbconfig.ModeHTTP:
		f.http = l7.New(l7.Config{
			Name: spec.Name, Routes: spec.Routes, DefaultPool: spec.Pool,
			Pools: s.pool, Proxy: s.proxy, Metrics: s.metrics, Access: s.access,
		})
	}
	return f, nil
}

// onVIP reports whether the frontend listens on the virtual address.
func (f *frontend) onVIP(vip string) bool {
	if vip == "" {
		return false
	}
	host, _, _ := net.SplitHostPort(f.spec.Listen)
	a, err1 := netip.ParseAddr(host)
	v, err2 := netip.ParseAddr(vip)
	return err1 == nil && err2 == nil && a == v
}

// reconfigure applies a reloaded spec of the frontend whose listener did
// not change (see sameListener): its pool and routes.
func (f *frontend) reconfigure(spec lbconfig.Frontend) {
	name := spec.Pool
	f.poolName.Store(&name)
	if f.http != nil {
		f.http.SetRoutes(spec.Routes, spec.Pool)
	}
}

// Pick implements l4.Balancer over the frontend's pool.
func (f *frontend) Pick(client netip.AddrPort, tried []string) (l4.Lease, error) {
	p := f.s.pool(*f.poolName.Load())
	if p == nil {
		return nil, fmt.Errorf("%w: pool %q is gone", l4.ErrNoBackend, *f.poolName.Load())
	}
	var key uint64
	if p.Hashing() {
		key = pool.IPKey(client.Addr().Unmap())
	}
	l, err := p.Pick(key, tried)
	// A tcp connection waits for a member (queue_timeout); a udp datagram
	// does not (its reader serves every session).
	if err != nil && len(tried) == 0 && f.spec.Mode == lbconfig.ModeTCP && p.WaitEligible(f.s.ctx, p.Spec().QueueTimeout) {
		l, err = p.Pick(key, tried)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", l4.ErrNoBackend, err)
	}
	return l, nil
}

// run binds the frontend's address (retrying while it is taken) and serves
// until ctx ends.
func (f *frontend) run(ctx context.Context) {
	switch f.spec.Mode {
	case lbconfig.ModeTCP:
		f.runTCP(ctx)
	case lbconfig.ModeUDP:
		f.runUDP(ctx)
	case lbconfig.ModeHTTP:
		f.runHTTP(ctx)
	}
}

// bind calls listen until it succeeds or ctx ends; listen returns what it
// bound and the bound address.
func bind[T any](ctx context.Context, f *frontend, listen func() (T, string, error)) (T, bool) {
	logged := false
	for {
		v, addr, err := listen()
		if err == nil {
			f.bound.Store(&addr)
			f.listening.Store(true)
			f.s.logger.Info("frontend listening", "frontend", f.spec.Name, "mode", f.spec.Mode, "addr", addr)
			return v, true
		}
		if !logged {
			f.s.logger.Warn("frontend cannot bind yet; retrying", "frontend", f.spec.Name, "addr", f.spec.Listen, "err", err)
			logged = true
		}
		t := time.NewTimer(bindRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			var zero T
			return zero, false
		case <-t.C:
		}
	}
}

func (f *frontend) runTCP(ctx context.Context) {
	ln, ok := bind(ctx, f, func() (net.Listener, string, error) {
		ln, err := net.Listen("tcp", f.spec.Listen)
		if err != nil {
			return nil, "", err
		}
		return ln, ln.Addr().String(), nil
	})
	if !ok {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := f.tcp.Serve(ln); err != nil {
			f.s.logger.Error("tcp frontend stopped", "frontend", f.spec.Name, "err", err)
		}
	}()
	<-ctx.Done()
	f.listening.Store(false)
	_ = ln.Close()
	<-done
	if f.s.ctx.Err() != nil || f.removed.Load() { // the node stops or the frontend left: finish connections within the shutdown timeout
		sctx, cancel := context.WithTimeout(context.Background(), f.s.cfg.Server.ShutdownTimeout)
		defer cancel()
		_ = f.tcp.Shutdown(sctx)
	}
}

func (f *frontend) runUDP(ctx context.Context) {
	pc, ok := bind(ctx, f, func() (net.PacketConn, string, error) {
		pc, err := net.ListenPacket("udp", f.spec.Listen)
		if err != nil {
			return nil, "", err
		}
		return pc, pc.LocalAddr().String(), nil
	})
	if !ok {
		return
	}
	udp, err := l4.NewUDP(l4.UDPConfig{Name: f.spec.Name, Balancer: f, SessionTimeout: f.spec.IdleTimeout, MaxSessions: f.spec.MaxConns, Logger: f.s.logger})
	if err != nil {
		f.s.logger.Error("udp frontend", "frontend", f.spec.Name, "err", err)
		_ = pc.Close()
		return
	}
	f.mu.Lock()
	f.udp = udp
	f.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := udp.Serve(pc); err != nil && !errors.Is(err, net.ErrClosed) {
			f.s.logger.Error("udp frontend stopped", "frontend", f.spec.Name, "err", err)
		}
	}()
	<-ctx.Done()
	f.listening.Store(false)
	_ = pc.Close()
	_ = udp.Close()
	<-done
	f.mu.Lock()
	f.accepted.Add(int64(udp.Stats().Accepted))
	f.udp = nil
	f.mu.Unlock()
}

func (f *frontend) runHTTP(ctx context.Context) {
	cfg := httpproxy.ServerConfig{
		Addr:            f.spec.Listen,
		IdleTimeout:     f.spec.IdleTimeout,
		ShutdownTimeout: f.s.cfg.Server.ShutdownTimeout,
		H2C:             true,
	}
	switch f.spec.TLS {
	case "cluster":
		cfg.TLS = f.s.certs
	case "files":
		certs, err := httpproxy.NewCertStore([]httpproxy.CertPair{{CertFile: f.spec.CertFile, KeyFile: f.spec.KeyFile}})
		if err != nil {
			f.s.logger.Error("http frontend certificate", "frontend", f.spec.Name, "err", err)
			return
		}
		cfg.TLS = certs
	}
	if cfg.TLS != nil {
		cfg.H2C = false
	}
	srv, ok := bind(ctx, f, func() (*httpproxy.Server, string, error) {
		srv, err := httpproxy.Listen(f.spec.Name, cfg, f.http, f.s.logger)
		if err != nil {
			return nil, "", err
		}
		return srv, srv.Addr(), nil
	})
	if !ok {
		return
	}
	if err := srv.Serve(ctx); err != nil {
		f.s.logger.Error("http frontend stopped", "frontend", f.spec.Name, "err", err)
	}
	f.listening.Store(false)
}

// addr is the frontend's bound address (its configured one before it
// first listened).
func (f *frontend) addr() string {
	if a := f.bound.Load(); a != nil {
		return *a
	}
	return f.spec.Listen
}

// counters reports the frontend's activity.
func (f *frontend) counters() (active, accepted, requests, failed int64) {
	switch {
	case f.tcp != nil:
		st := f.tcp.Stats()
		return st.Active, int64(st.Accepted), int64(st.Accepted), int64(st.Failed)
	case f.http != nil:
		requests, failed = f.http.Counters()
		return 0, 0, requests, failed
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	accepted = f.accepted.Load()
	if f.udp != nil {
		st := f.udp.Stats()
		active, accepted, failed = st.Active, accepted+int64(st.Accepted), int64(st.Failed)
	}
	return active, accepted, accepted, failed
}
