package clusterconn

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/connectivity"

	"cairn.dev/cairn/node/rpcerr"
)

// reach records the outcome of the latest connection attempt to each
// endpoint, so that a call can tell "no member accepts a connection" (fail at
// once, nothing sent) from "members are connecting" (wait).
type reach struct {
	mu      sync.Mutex       // protects the fields below
	last    map[string]error // endpoint -> error of its latest finished dial; nil for success
	changed chan struct{}    // closed and replaced whenever last changes
}

func newReach() *reach {
	return &reach{last: map[string]error{}, changed: make(chan struct{})}
}

// dialer is the connection's context dialer: a plain TCP dial whose outcome it
// records.
func (r *reach) dialer(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil && ctx.Err() != nil {
		// Our own cancellation (the connection is closing, or a faster
		// attempt won) says nothing about the endpoint.
		return nil, err
	}
	r.mu.Lock()
	r.last[addr] = err
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	return conn, err
}

// failures returns, when the latest finished dial of every endpoint failed,
// those errors in endpoint order; otherwise nil, and a channel closed at the
// next change.
func (r *reach) failures(endpoints []string) ([]error, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	errs := make([]error, len(endpoints))
	for i, ep := range endpoints {
		err, tried := r.last[ep]
		if !tried || err == nil {
			return nil, r.changed
		}
		errs[i] = err
	}
	return errs, r.changed
}

// awaitReachable returns nil at once when c's connection is ready. Otherwise it
// asks it to connect and waits until it is ready (nil), until every endpoint
// has failed its latest connection attempt (an Unavailable status with reason
// rpcerr.Unreachable listing each endpoint and its error), or until ctx ends
// (nil: the call itself then waits for ready and fails on its deadline).
func (c *Conn) awaitReachable(ctx context.Context) error {
	st := c.cc.GetState()
	if st == connectivity.Ready || st == connectivity.Shutdown {
		return nil
	}
	c.cc.Connect()
	for {
		// A closed connection fails the call itself.
		if st = c.cc.GetState(); st == connectivity.Ready || st == connectivity.Shutdown {
			return nil
		}
		errs, changed := c.reach.failures(c.cfg.Endpoints)
		if errs != nil {
			return unreachableError(c.cfg.Endpoints, errs)
		}
		// Dials report through changed; the state change covers the rest
		// (a handshake that completes). Poll as a backstop.
		wctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		go func() {
			select {
			case <-changed:
				cancel()
			case <-wctx.Done():
			}
		}()
		c.cc.WaitForStateChange(wctx, st)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
	}
}

// unreachableError lists each endpoint with the error of its latest dial.
func unreachableError(endpoints []string, errs []error) error {
	parts := make([]string, len(endpoints))
	for i, ep := range endpoints {
		parts[i] = ep + ": " + dialReason(errs[i])
	}
	return rpcerr.Error(rpcerr.Unreachable, "no member reachable: "+strings.Join(parts, "; "),
		map[string]string{rpcerr.KeyEndpoints: strings.Join(endpoints, ",")})
}

// dialReason is the gist of a dial error: "connection refused" rather than
// "dial tcp 127.0.0.1:7000: connect: connection refused".
func dialReason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
		var sys *os.SyscallError
		if errors.As(err, &sys) {
			err = sys.Err
		}
	}
	return err.Error()
}
