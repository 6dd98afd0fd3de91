package l4

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// TCPConfig configures a TCPProxy. The zero value of each optional field takes
// the default documented beside it.
type TCPConfig struct {
	Name            string        // the frontend's name, for logs and stats
	Balancer        Balancer      // required
	ProxyProtocol   int           // 0 none, 1 or 2: send a PROXY header of that version to the backend first
	MaxConns        int           // 0 unlimited; at the limit the proxy stops accepting until one ends
	ConnectTimeout  time.Duration // per backend connect attempt, PROXY header included; default 3s
	ConnectAttempts int           // backends tried per connection; default 3
	IdleTimeout     time.Duration // 0 none: cut a connection idle both ways this long
	Logger          *slog.Logger  // nil: discard
}

// Defaults of TCPConfig.
const (
	DefaultConnectTimeout  = 3 * time.Second
	DefaultConnectAttempts = 3
)

// statsPeriod bounds how stale BytesIn/BytesOut may be for a connection that
// is moving data: each copy direction reports what it moved at least this often.
const statsPeriod = 5 * time.Second

// withDefaults validates c and returns it with defaults filled in.
func (c TCPConfig) withDefaults() (TCPConfig, error) {
	switch {
	case c.Balancer == nil:
		return c, fmt.Errorf("%w: TCPConfig.Balancer is nil", ErrConfig)
	case c.ProxyProtocol < 0 || c.ProxyProtocol > 2:
		return c, fmt.Errorf("%w: TCPConfig.ProxyProtocol is %d, want 0 (none), 1 or 2", ErrConfig, c.ProxyProtocol)
	case c.MaxConns < 0:
		return c, fmt.Errorf("%w: TCPConfig.MaxConns is %d, want ≥ 0 (0 = unlimited)", ErrConfig, c.MaxConns)
	case c.ConnectTimeout < 0:
		return c, fmt.Errorf("%w: TCPConfig.ConnectTimeout is %v, want ≥ 0 (0 = %v)", ErrConfig, c.ConnectTimeout, DefaultConnectTimeout)
	case c.ConnectAttempts < 0:
		return c, fmt.Errorf("%w: TCPConfig.ConnectAttempts is %d, want ≥ 0 (0 = %d)", ErrConfig, c.ConnectAttempts, DefaultConnectAttempts)
	case c.IdleTimeout < 0:
		return c, fmt.Errorf("%w: TCPConfig.IdleTimeout is %v, want ≥ 0 (0 = none)", ErrConfig, c.IdleTimeout)
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.ConnectAttempts == 0 {
		c.ConnectAttempts = DefaultConnectAttempts
	}
	c.Logger = orDiscard(c.Logger).With("frontend", c.Name)
	return c, nil
}

// TCPProxy relays TCP connections from its listeners to backends chosen by a
// Balancer. Its methods are safe for concurrent use. Each connection is served
// by three goroutines the proxy owns (a watcher and one copier per direction);
// Close and Shutdown return only after every one of them has ended.
type TCPProxy struct {
	cfg    TCPConfig
	log    *slog.Logger
	slots  chan struct{} // MaxConns tokens, one per open connection; nil when unlimited
	dialer net.Dialer

	// stop is closed when Shutdown or Close begins: accept loops return.
	stop     chan struct{}
	stopOnce sync.Once
	// cutCtx is cancelled when connections must be cut at once (Close, or
	// Shutdown's deadline): dials abort and watchers close both sides.
	cutCtx context.Context
	cut    context.CancelFunc

	mu        sync.Mutex                // protects stopped, listeners and serving.Add
	stopped   bool                      // stop is closed; Serve refuses
	listeners map[net.Listener]struct{} // listeners of running Serve calls
	serving   sync.WaitGroup            // running Serve calls

	conns sync.WaitGroup // connection goroutines (watchers and copiers)
	stats counters
}

// NewTCP returns a proxy for cfg; it serves once Serve is given a listener.
func NewTCP(cfg TCPConfig) (*TCPProxy, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &TCPProxy{
		cfg:       cfg,
		log:       cfg.Logger,
		stop:      make(chan struct{}),
		listeners: make(map[net.Listener]struct{}),
	}
	p.dialer.Timeout = cfg.ConnectTimeout
	p.cutCtx, p.cut = context.WithCancel(context.Background())
	if cfg.MaxConns > 0 {
		p.slots = make(chan struct{}, cfg.MaxConns)
	}
	return p, nil
}

// Stats returns a snapshot of the proxy's counters. Bytes of connections still
// open are counted as they flow, at worst a few seconds late.
func (p *TCPProxy) Stats() Stats { return p.stats.snapshot() }

// Serve accepts connections on ln and proxies each until it ends. It may be
// called for several listeners at once. The proxy owns ln from then on: it
// closes ln when Shutdown or Close begins. Serve returns nil after
// Shutdown/Close or when ln is closed, ErrClosed when the proxy was stopped
// before the call, or the error that made Accept fail for good.
func (p *TCPProxy) Serve(ln net.Listener) error {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	p.listeners[ln] = struct{}{}
	p.serving.Add(1)
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.listeners, ln)
		p.mu.Unlock()
		p.serving.Done()
	}()

	p.log.Info("l4: serving tcp", "addr", ln.Addr().String())
	var backoff time.Duration
	for {
		if p.slots != nil {
			select {
			case p.slots <- struct{}{}:
			case <-p.stop:
				return nil
			}
		}
		c, err := ln.Accept()
		if err != nil {
			p.release()
			select {
			case <-p.stop:
				return nil
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if !retryableAccept(err) {
				p.log.Error("l4: accept failed", "err", err)
				return err
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			p.log.Warn("l4: accept failed, retrying", "err", err, "in", backoff)
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-p.stop:
				t.Stop()
				return nil
			}
			continue
		}
		backoff = 0
		p.stats.accepted.Add(1)
		p.stats.active.Add(1)
		p.conns.Go(func() {
			defer p.release()
			defer p.stats.active.Add(-1)
			p.handle(c)
		})
	}
}

// release returns a MaxConns token.
func (p *TCPProxy) release() {
	if p.slots != nil {
		<-p.slots
	}
}

// retryableAccept reports whether an Accept error is a passing shortage
// (descriptors, buffers) or an aborted handshake rather than a dead listener.
func retryableAccept(err error) bool {
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// beginStop closes stop and the listeners, once: no new connection is accepted.
func (p *TCPProxy) beginStop() {
	p.stopOnce.Do(func() {
		p.mu.Lock()
		p.stopped = true
		close(p.stop)
		for ln := range p.listeners {
			ln.Close()
		}
		p.mu.Unlock()
	})
}

// Shutdown stops accepting (closing the listeners), then waits for open
// connections to end by themselves until ctx is done, and then cuts the rest.
// It returns after every goroutine of the proxy has ended: nil if the
// connections ended by themselves, ctx's error if some were cut.
func (p *TCPProxy) Shutdown(ctx context.Context) error {
	p.beginStop()
	done := make(chan struct{})
	go func() { // ends before Shutdown returns: both branches below wait for it
		p.serving.Wait()
		p.conns.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		p.log.Info("l4: shutdown deadline passed, cutting connections", "active", p.stats.active.Load())
		p.cut()
		<-done
		return ctx.Err()
	}
}

// Close stops accepting and cuts every connection at once, and returns after
// every goroutine of the proxy has ended.
func (p *TCPProxy) Close() error {
	p.beginStop()
	p.cut()
	p.serving.Wait()
	p.conns.Wait()
	return nil
}
