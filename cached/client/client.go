package client

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/cached/ring"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// maxReconnectDelay caps gRPC's backoff between connection attempts to a
// node, so that a restarted node is used again quickly.
const maxReconnectDelay = time.Second

// Client is a smart client of a cached cluster: it routes every key straight
// to its owner on the ring. It is safe for concurrent use. Close stops its
// goroutines and closes its connections.
type Client struct {
	cfg Config

	// view is the current ring; it is replaced, never modified.
	view atomic.Pointer[view]

	// ctx is canceled by Close; every goroutine the client starts stops on it.
	ctx    context.Context
	cancel context.CancelFunc
	// refreshNow asks the refresher for a ring fetch now (capacity 1).
	refreshNow chan struct{}
	// loads deduplicates the loads of GetOrLoad.
	loads flightGroup[[]byte]

	mu     sync.Mutex // protects the fields below; never held during an RPC
	closed bool
	conns  map[string]*grpc.ClientConn // by address: ring members and seeds
	wg     sync.WaitGroup              // goroutines started by goFunc
	// refreshMu serialises ring fetches and swaps (lock order: refreshMu, then mu).
	refreshMu sync.Mutex
}

// view is one ring as a node reported it.
type view struct {
	ring     *ring.Ring
	replicas int
	epoch    uint64
	shares   map[string]float64
	// changed is closed when this view is replaced.
	changed chan struct{}
}

// New returns a Client for cfg. It fetches the ring from the endpoints (trying
// each in turn, for at most Config.DialTimeout in all) and fails with an error
// matching ErrNoRing if none answers with a ring of at least one member. It
// then refreshes the ring every Config.RefreshInterval and whenever a call
// finds a node unreachable. The caller must Close the client.
func New(cfg Config) (*Client, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, conns: map[string]*grpc.ClientConn{}, refreshNow: make(chan struct{}, 1)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	ctx, cancel := context.WithTimeout(c.ctx, cfg.DialTimeout)
	defer cancel()
	if err := c.refresh(ctx); err != nil {
		c.Close()
		return nil, err
	}
	c.goFunc(c.refreshLoop)
	return c, nil
}

// Close stops the refresher and the loads of GetOrLoad, waits for them and
// closes every connection; calls in flight fail. Close near caches and
// write-behind queues built on the client first. Close is idempotent.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for addr, cc := range c.conns {
		cc.Close()
		delete(c.conns, addr)
	}
	return nil
}

// goFunc runs f in a goroutine owned by c and returns true, or returns false
// once Close has begun. f must return soon after c.ctx is done.
func (c *Client) goFunc(f func()) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
	return true
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// conn returns the connection to addr, dialing it on first use.
func (c *Client) conn(addr string) (*grpc.ClientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if cc, ok := c.conns[addr]; ok {
		return cc, nil
	}
	creds := insecure.NewCredentials()
	if c.cfg.TLS != nil {
		tc := c.cfg.TLS.Clone()
		if tc.ServerName == "" {
			tc.ServerName, _, _ = net.SplitHostPort(addr)
		}
		creds = credentials.NewTLS(tc)
	}
	bc := backoff.DefaultConfig
	bc.MaxDelay = maxReconnectDelay
	cc, err := grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: c.cfg.DialTimeout}))
	if err != nil {
		return nil, fmt.Errorf("cached client: dial %s: %w", addr, err)
	}
	c.conns[addr] = cc
	return cc, nil
}

// cache returns the CacheService of member m.
func (c *Client) cache(m ring.Member) (cachedv1.CacheServiceClient, error) {
	cc, err := c.conn(m.Addr)
	if err != nil {
		return nil, err
	}
	return cachedv1.NewCacheServiceClient(cc), nil
}

// current returns the current view, or ErrClosed.
func (c *Client) current() (*view, error) {
	if c.isClosed() {
		return nil, ErrClosed
	}
	return c.view.Load(), nil
}

// withTimeout bounds ctx by RequestTimeout if it has no deadline.
func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.cfg.RequestTimeout)
}

// requestRefresh asks the refresher to fetch the ring now; it never blocks.
func (c *Client) requestRefresh() {
	select {
	case c.refreshNow <- struct{}{}:
	default:
	}
}

// refreshLoop fetches the ring every RefreshInterval and on request, until
// Close.
func (c *Client) refreshLoop() {
	t := time.NewTicker(c.cfg.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-t.C:
		case <-c.refreshNow:
		}
		ctx, cancel := context.WithTimeout(c.ctx, c.cfg.DialTimeout)
		if err := c.refresh(ctx); err != nil && c.ctx.Err() == nil {
			c.cfg.Logger.Warn("cached client: ring refresh failed", "err", err)
		}
		cancel()
	}
}

// refresh fetches the ring from the current members (in random order), then
// from the configured endpoints, and installs it unless it is older than the
// current one (a lower epoch).
func (c *Client) refresh(ctx context.Context) error {
	c.refreshMu.Lock()
	defer c.refreshMu.Unlock()
	resp, err := c.fetchRing(ctx)
	if err != nil {
		return err
	}
	c.install(resp)
	return nil
}

// awaitSettled asks cc to connect and waits, within ctx, until it is ready or
// has failed a connection attempt; it reports whether it failed.
func awaitSettled(ctx context.Context, cc *grpc.ClientConn) bool {
	cc.Connect()
	for {
		switch st := cc.GetState(); st {
		case connectivity.Ready:
			return false
		case connectivity.TransientFailure, connectivity.Shutdown:
			return true
		default:
			if !cc.WaitForStateChange(ctx, st) {
				return false
			}
		}
	}
}

// connReason is the gist of a failed call for a list of endpoints: "connection
// refused" rather than gRPC's whole "connection error: desc = …" chain.
func connReason(err error) string {
	msg := status.Convert(err).Message()
	if i := strings.LastIndex(msg, "connect: "); i >= 0 {
		return strings.Trim(msg[i+len("connect: "):], `"`)
	}
	return msg
}

// fetchRing asks the candidates in turn for the ring; each attempt waits for
// its connection for a share of ctx's remaining time.
func (c *Client) fetchRing(ctx context.Context) (*cachedv1.RingResponse, error) {
	var addrs []string
	if v := c.view.Load(); v != nil {
		for _, m := range v.ring.Members() {
			addrs = append(addrs, m.Addr)
		}
		rand.Shuffle(len(addrs), func(i, j int) { addrs[i], addrs[j] = addrs[j], addrs[i] })
	}
	for _, ep := range c.cfg.Endpoints {
		if !slices.Contains(addrs, ep) {
			addrs = append(addrs, ep)
		}
	}
	var errs []string
	for i, addr := range addrs {
		cc, err := c.conn(addr)
		if err != nil {
			return nil, err
		}
		actx, cancel := ctx, context.CancelFunc(func() {})
		if dl, ok := ctx.Deadline(); ok {
			// Leave time for the others: a down node must not use it all.
			actx, cancel = context.WithTimeout(ctx, time.Until(dl)/time.Duration(len(addrs)-i))
		}
		// Wait for ready only while the connection may become ready: one that
		// failed its attempt (connection refused) fails the call at once.
		resp, err := cachedv1.NewRingServiceClient(cc).Ring(actx, &cachedv1.RingRequest{}, grpc.WaitForReady(!awaitSettled(actx, cc)))
		cancel()
		if err == nil && len(resp.GetMembers()) > 0 {
			return resp, nil
		}
		if err == nil {
			err = fmt.Errorf("reported a ring without members")
		}
		errs = append(errs, addr+": "+connReason(err))
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("%w: no member reachable: %s", ErrNoRing, strings.Join(errs, "; "))
}

// install makes resp the current view if it is new, and closes connections to
// nodes that left (other than the configured endpoints). Calls in flight on a
// closed connection fail and count as unreachable.
func (c *Client) install(resp *cachedv1.RingResponse) {
	old := c.view.Load()
	members := make([]ring.Member, 0, len(resp.GetMembers()))
	shares := make(map[string]float64, len(resp.GetMembers()))
	for _, m := range resp.GetMembers() {
		members = append(members, ring.Member{ID: m.GetId(), Addr: m.GetAddr(), RESPAddr: m.GetRespAddr()})
		shares[m.GetId()] = m.GetShare()
	}
	if old != nil {
		if resp.GetEpoch() < old.epoch {
			return
		}
		if resp.GetEpoch() == old.epoch && int(resp.GetVnodes()) == old.ring.VNodes() &&
			max(int(resp.GetReplicas()), 1) == old.replicas && sameMembers(old.ring, members) {
			return
		}
	}
	r := ring.New(members, int(resp.GetVnodes()))
	for id, s := range r.Shares() {
		if shares[id] == 0 {
			shares[id] = s
		}
	}
	v := &view{ring: r, replicas: max(int(resp.GetReplicas()), 1), epoch: resp.GetEpoch(), shares: shares, changed: make(chan struct{})}
	c.view.Store(v)
	if old != nil {
		close(old.changed)
		c.cfg.Logger.Info("cached client: ring changed", "epoch", v.epoch, "members", r.Len())
	}

	keep := map[string]bool{}
	for _, m := range r.Members() {
		keep[m.Addr] = true
	}
	for _, ep := range c.cfg.Endpoints {
		keep[ep] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for addr, cc := range c.conns {
		if !keep[addr] {
			cc.Close()
			delete(c.conns, addr)
		}
	}
}

// sameMembers reports whether r has exactly members (in any order).
func sameMembers(r *ring.Ring, members []ring.Member) bool {
	if r.Len() != len(members) {
		return false
	}
	for _, m := range members {
		if got, ok := r.Member(m.ID); !ok || got != m {
			return false
		}
	}
	return true
}
