package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("pgwire: server closed")

// Server serves the PostgreSQL protocol to the clients of its listeners.
// Serve may be called for several listeners; Shutdown and Close stop them all.
type Server struct {
	cfg     Config
	cfgErr  error
	eng     Engine
	log     *slog.Logger
	mockKey []byte        // derives the salts of mock SCRAM secrets
	closing chan struct{} // closed when Shutdown starts

	wg sync.WaitGroup // every goroutine the server started

	mu        sync.Mutex // protects the following fields
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	byPID     map[uint32]*conn // sessions by BackendKeyData process id
	sessions  int              // sessions counted against MaxConns
}

// NewServer returns a server of eng configured by cfg (zero fields take
// their defaults; an invalid cfg makes Serve fail with the reason).
func NewServer(cfg Config, eng Engine) *Server {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	c := cfg.withDefaults()
	return &Server{
		cfg:       c,
		cfgErr:    cfg.Validate(),
		eng:       eng,
		log:       c.Logger,
		mockKey:   key,
		closing:   make(chan struct{}),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		byPID:     make(map[uint32]*conn),
	}
}

// Serve accepts connections on l until Shutdown or Close, then returns
// ErrServerClosed; if l is closed by someone else it returns that error, and
// it retries other Accept errors with a backoff. l is closed when Serve
// returns.
func (s *Server) Serve(l net.Listener) error {
	if s.cfgErr != nil {
		return s.cfgErr
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		_ = l.Close()
	}()
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Anything else (EMFILE, a reset before accept) passes: retry.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("pgwire: accept", "err", err, "retry_in", backoff)
			select {
			case <-time.After(backoff):
			case <-s.closing:
			}
			continue
		}
		backoff = 0
		c := newConn(s, nc)
		ok, tracked := s.track(c)
		if !ok {
			_ = nc.Close()
			return ErrServerClosed
		}
		if !tracked {
			s.log.Warn("pgwire: too many connections, closing a new one", "remote", nc.RemoteAddr())
			_ = nc.Close()
			continue
		}
		go func() {
			defer s.wg.Done()
			defer s.untrack(c)
			c.serve()
		}()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track registers c and counts its goroutine; false after shutdown.
// Connections past twice MaxConns (sessions plus clients in their startup)
// are closed at once (tracked says so), so silent clients cannot pile up.
func (s *Server) track(c *conn) (ok, tracked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, false
	}
	if len(s.conns) >= 2*s.cfg.MaxConns+16 {
		return true, false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true, true
}

func (s *Server) untrack(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if c.pid != 0 && s.byPID[c.pid] == c {
		delete(s.byPID, c.pid)
	}
	if c.counted {
		s.sessions--
	}
}

// admit counts c's session against MaxConns and gives it a process id;
// false when the server is full.
func (s *Server) admit(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions >= s.cfg.MaxConns {
		return false
	}
	s.sessions++
	c.counted = true
	for {
		var b [4]byte
		_, _ = rand.Read(b[:])
		pid := binary.BigEndian.Uint32(b[:]) & 0x7fffffff // positive, as PIDs are
		if _, used := s.byPID[pid]; pid != 0 && !used {
			c.pid = pid
			s.byPID[pid] = c
			return true
		}
	}
}

// cancel handles a CancelRequest: the statement running on the session with
// pid and secret is cancelled. Mismatches are ignored, as PostgreSQL does.
func (s *Server) cancel(pid uint32, secret []byte) {
	s.mu.Lock()
	c := s.byPID[pid]
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare(c.secret[:], secret) != 1 {
		s.log.Debug("pgwire: cancel request for an unknown session", "pid", pid)
		return
	}
	c.cancelStatement()
}

// Shutdown stops accepting connections, closes idle sessions (with FATAL
// 57P01), lets running statements finish and closes their sessions after.
// When ctx ends first, it cancels the statements still running, closes
// their connections and returns ctx.Err() once every connection goroutine
// has returned (engines must honour their contexts).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	for l := range s.listeners {
		_ = l.Close()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for c := range s.conns {
		c.kill()
	}
	s.mu.Unlock()
	<-done
	return ctx.Err()
}

// Close stops the server at once: Shutdown with no grace period.
func (s *Server) Close() error {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
