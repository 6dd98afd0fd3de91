package httpproxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// errStaleConn marks a reused connection that failed before any response
// byte: the upstream closed it while idle, so the request was not handled.
// classify reports it as Connect.
var errStaleConn = errors.New("httpproxy: reused upstream connection closed before answering")

// maxDrain is the largest body remainder read to keep a connection whose
// response body was closed early.
const maxDrain = 64 << 10

// h1Client is the plain-TCP HTTP/1.1 upstream client behind a Transport of
// ProtocolHTTP1: a pool of persistent connections per target, and round
// trips run on the caller's goroutine (no reader or writer goroutine per
// connection). It is safe for concurrent use.
type h1Client struct {
	dialer        net.Dialer
	headerTimeout time.Duration // 0: none
	idleTimeout   time.Duration
	maxIdlePer    int
	maxIdle       int

	mu    sync.Mutex // protects idle, nIdle, sweep
	idle  map[string][]*h1Conn
	nIdle int
	sweep *time.Timer // armed while connections are idle
}

func newH1Client(cfg TransportConfig) *h1Client {
	return &h1Client{
		dialer:        net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: cfg.KeepAlive},
		headerTimeout: cfg.ResponseHeaderTimeout,
		idleTimeout:   cfg.IdleConnTimeout,
		maxIdlePer:    cfg.MaxIdleConnsPerHost,
		maxIdle:       cfg.MaxIdleConns,
		idle:          map[string][]*h1Conn{},
	}
}

// handles reports whether r goes through the h1Client: plain http, not an
// upgrade (those need http.Transport's writable 101 body).
func (c *h1Client) handles(r *http.Request) bool {
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		return false
	}
	_, up := r.Header[headerUpgrade]
	return !up
}

// roundTrip sends r over a pooled or new connection and reads the answer.
// The response body returns the connection to the pool at EOF. A reused
// connection that fails before any response byte is retried once on a new
// connection when r is idempotent and bodiless; otherwise that failure is
// errStaleConn.
func (c *h1Client) roundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	target := r.URL.Host
	pc := c.get(target)
	for {
		reused := pc != nil
		if !reused {
			var err error
			if pc, err = c.dial(ctx, target); err != nil {
				return nil, err
			}
		}
		resp, err, stale := pc.exchange(c, r)
		if err == nil {
			return resp, nil
		}
		pc.close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		if !reused || !stale {
			return nil, err
		}
		if (r.Body != nil && r.Body != http.NoBody) || !idempotent(r.Method) {
			return nil, errors.Join(errStaleConn, err)
		}
		pc = nil // once, on a fresh connection
	}
}

// dial opens a new connection to target.
func (c *h1Client) dial(ctx context.Context, target string) (*h1Conn, error) {
	nc, err := c.dialer.DialContext(ctx, "tcp", target)
	if err != nil {
		return nil, err
	}
	return newH1Conn(nc, target), nil
}

// get takes the most recently used idle connection to target, nil if none.
func (c *h1Client) get(target string) *h1Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	list := c.idle[target]
	if len(list) == 0 {
		return nil
	}
	pc := list[len(list)-1]
	list[len(list)-1] = nil
	c.idle[target] = list[:len(list)-1]
	c.nIdle--
	return pc
}

// put returns pc to the pool, or closes it when the pool is full.
func (c *h1Client) put(pc *h1Conn) {
	pc.idleSince = time.Now()
	c.mu.Lock()
	list := c.idle[pc.target]
	if len(list) >= c.maxIdlePer || c.nIdle >= c.maxIdle {
		c.mu.Unlock()
		pc.close()
		return
	}
	c.idle[pc.target] = append(list, pc)
	c.nIdle++
	if c.sweep == nil {
		c.sweep = time.AfterFunc(c.idleTimeout, c.expire)
	}
	c.mu.Unlock()
}

// expire closes the connections idle for longer than the idle timeout
// and re-arms itself while any stay idle.
func (c *h1Client) expire() {
	cutoff := time.Now().Add(-c.idleTimeout)
	var old []*h1Conn
	c.mu.Lock()
	for target, list := range c.idle {
		n := 0 // oldest first: the stale ones form a prefix
		for n < len(list) && list[n].idleSince.Before(cutoff) {
			n++
		}
		if n == 0 {
			continue
		}
		old = append(old, list[:n]...)
		rest := append(list[:0], list[n:]...)
		clear(list[len(rest):])
		c.nIdle -= n
		if len(rest) == 0 {
			delete(c.idle, target)
		} else {
			c.idle[target] = rest
		}
	}
	c.sweep = nil
	if c.nIdle > 0 {
		c.sweep = time.AfterFunc(c.idleTimeout/2, c.expire)
	}
	c.mu.Unlock()
	for _, pc := range old {
		pc.close()
	}
}

// closeIdle closes every idle connection.
func (c *h1Client) closeIdle() {
	c.mu.Lock()
	all := c.idle
	c.idle = map[string][]*h1Conn{}
	c.nIdle = 0
	if c.sweep != nil {
		c.sweep.Stop()
		c.sweep = nil
	}
	c.mu.Unlock()
	for _, list := range all {
		for _, pc := range list {
			pc.close()
		}
	}
}

// idleCount returns the number of idle connections to target (tests).
func (c *h1Client) idleCount(target string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.idle[target])
}
