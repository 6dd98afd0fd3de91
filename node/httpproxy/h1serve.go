package httpproxy

import (
	"context"
	"crypto/tls"
	"time"
)

// newConnGrace is how long a connection that has not sent its first
// request is waited for by a graceful stop (as net/http).
const newConnGrace = 5 * time.Second

// serveOwn is Serve with the package's HTTP/1.1 loop: connections are
// accepted here; h2 and h2c ones go on to s.srv through s.handoff.
func (s *Server) serveOwn(ctx context.Context) error {
	if s.cfg.TLS != nil || s.cfg.H2C {
		s.fallbackWG.Add(1)
		go func() { // owned: Serve waits for it through fallbackWG
			defer s.fallbackWG.Done()
			_ = s.srv.Serve(s.handoff)
		}()
	}
	acceptErr := make(chan error, 1)
	go func() { acceptErr <- s.acceptLoop() }() // owned: Serve waits for it on every path
	select {
	case err := <-acceptErr:
		s.mu.Lock()
		closed := s.closed
		s.mu.Unlock()
		if !closed {
			_ = s.Close()
		}
		s.fallbackWG.Wait()
		if closed {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	s.shutdown()
	<-acceptErr
	s.fallbackWG.Wait()
	return nil
}

// acceptLoop accepts until the listener closes; temporary errors (out of
// descriptors) are retried with a growing pause.
func (s *Server) acceptLoop() error {
	var pause time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if s.shutting.Load() {
				return nil
			}
			if te, ok := err.(interface{ Temporary() bool }); ok && te.Temporary() {
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				s.logger.Warn("accept failed; retrying", "err", err, "pause", pause)
				t := time.NewTimer(pause)
				<-t.C
				continue
			}
			return err
		}
		pause = 0
		if s.tlsCfg != nil {
			nc = tls.Server(nc, s.tlsCfg)
		}
		c := s.newSrvConn(nc)
		if !s.track(c) {
			_ = nc.Close()
			continue
		}
		go c.serve() // owned: tracked in s.conns, waited for by connWG
	}
}

// track registers c; false once the server stops.
func (s *Server) track(c *srvConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.shutting.Load() {
		return false
	}
	s.conns[c] = struct{}{}
	s.connWG.Add(1)
	return true
}

func (s *Server) untrack(c *srvConn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

// closeConns closes idle connections (and new ones silent for
// newConnGrace), or with all every connection but hijacked ones, and
// returns how many are still serving.
func (s *Server) closeConns(all bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.conns {
		st := c.state.Load()
		switch {
		case st == stateHijacked || st == stateClosed:
		case all:
			_ = c.nc.Close()
			c.cancelRequest()
		case st == stateIdle && c.state.CompareAndSwap(stateIdle, stateClosed):
			_ = c.nc.Close()
		case st == stateNew && time.Since(c.accepted) > newConnGrace && c.state.CompareAndSwap(stateNew, stateClosed):
			_ = c.nc.Close()
		default:
			n++
		}
	}
	return n
}

// shutdown is the graceful stop: no more accepts, idle connections closed
// at once, active ones closed after their answer, and everything closed
// after ShutdownTimeout.
func (s *Server) shutdown() {
	s.shutting.Store(true)
	_ = s.ln.Close()
	deadline := time.Now().Add(s.cfg.ShutdownTimeout)
	fallbackDone := make(chan struct{})
	go func() { // owned: shutdown waits for it below
		defer close(fallbackDone)
		sctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		if err := s.srv.Shutdown(sctx); err != nil {
			_ = s.srv.Close()
		}
	}()
	_ = s.handoff.Close()
	poll := time.Millisecond
	for s.closeConns(false) > 0 {
		left := time.Until(deadline)
		if left <= 0 {
			s.logger.Warn("graceful stop timed out; closing connections")
			s.closeConns(true)
			break
		}
		t := time.NewTimer(min(poll, left))
		<-t.C
		poll = min(2*poll, 100*time.Millisecond)
	}
	<-fallbackDone
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.stopBase()
}
