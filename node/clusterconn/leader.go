package clusterconn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/attributes"
	"google.golang.org/grpc/balancer"
	"google.golang.org/grpc/balancer/base"
)

// balancerName is the load-balancing policy of every Conn: the followed leader
// when there is one and it is connected, else round robin over the ready members.
const balancerName = "cairn_leader_first"

func init() {
	balancer.Register(base.NewBalancerBuilder(balancerName, pickerBuilder{}, base.Config{}))
}

// router is one Conn's routing state. It reaches the Conn's pickers through the
// BalancerAttributes of each address, so that the globally registered balancer
// serves every Conn with its own leader.
type router struct {
	leader atomic.Pointer[string] // endpoint of the member that said it leads; nil if none
	// markedOnly limits the leader to calls marked by ToLeader; see
	// FollowLeaderForMarked. Set before the first lookup, read-only after.
	markedOnly atomic.Bool
	// lost is signalled when a call finds the followed leader gone, so that
	// the lookup runs again at once; buffered, one pending signal.
	lost chan struct{}
}

// forget drops the followed leader and asks for a new lookup.
func (r *router) forget() {
	if r.leader.Swap(nil) == nil {
		return
	}
	select {
	case r.lost <- struct{}{}:
	default:
	}
}

// leaderKey marks, in a call's context, a call that goes to the followed
// leader under FollowLeaderForMarked.
type leaderKey struct{}

// ToLeader returns a context whose calls through a Conn that follows the
// leader for marked calls (FollowLeaderForMarked) go to the leader first.
func ToLeader(ctx context.Context) context.Context {
	return context.WithValue(ctx, leaderKey{}, true)
}

type routerKey struct{}

// endpointKey carries, in a call's context, the endpoint the call must go to.
type endpointKey struct{}

// WithEndpoint returns a context whose calls through a Conn go to endpoint (one
// of the configured endpoints) and no other. Such a call fails with Unavailable
// at once when endpoint is not connected, unless it waits for ready.
func WithEndpoint(ctx context.Context, endpoint string) context.Context {
	return context.WithValue(ctx, endpointKey{}, endpoint)
}

type pickerBuilder struct{}

func (pickerBuilder) Build(info base.PickerBuildInfo) balancer.Picker {
	if len(info.ReadySCs) == 0 {
		return base.NewErrPicker(balancer.ErrNoSubConnAvailable)
	}
	p := &picker{byAddr: make(map[string]balancer.SubConn, len(info.ReadySCs))}
	for sc, sci := range info.ReadySCs {
		p.ready = append(p.ready, sc)
		p.byAddr[sci.Address.Addr] = sc
		if r, ok := sci.Address.BalancerAttributes.Value(routerKey{}).(*router); ok {
			p.router = r
		}
	}
	p.next.Store(rand.Uint32())
	return p
}

// picker routes one ready set of subconnections.
type picker struct {
	ready  []balancer.SubConn
	byAddr map[string]balancer.SubConn
	router *router
	next   atomic.Uint32
}

func (p *picker) Pick(info balancer.PickInfo) (balancer.PickResult, error) {
	if ep, ok := info.Ctx.Value(endpointKey{}).(string); ok {
		if sc := p.byAddr[ep]; sc != nil {
			return balancer.PickResult{SubConn: sc}, nil
		}
		// Not a status error: a call that waits for ready waits for the
		// next picker, any other fails with Unavailable.
		return balancer.PickResult{}, fmt.Errorf("clusterconn: %s is not connected", ep)
	}
	if p.router != nil && (!p.router.markedOnly.Load() || info.Ctx.Value(leaderKey{}) != nil) {
		if l := p.router.leader.Load(); l != nil {
			if sc := p.byAddr[*l]; sc != nil {
				return balancer.PickResult{SubConn: sc}, nil
			}
			// The followed leader is not connected: it may be gone.
			p.router.forget()
		}
	}
	i := p.next.Add(1)
	return balancer.PickResult{SubConn: p.ready[int(i%uint32(len(p.ready)))]}, nil
}

// FollowLeader makes c send every call to the member that leads, as isLeader
// tells, instead of spreading calls over the members: a write sent to a follower
// costs a second hop, follower to leader. isLeader asks the member its context
// is pinned to (see WithEndpoint) whether it leads; FollowLeader asks every
// member at once, now and then every interval, and follows the first that says
// yes, or forgets the leader when none does within the dial timeout. Until a
// leader is known, while it is not connected and after it is forgotten, calls go
// round robin as before; a call that reaches a former leader is forwarded by it
// as any call to a follower is, so following is only ever a matter of speed.
//
// A call that finds the followed leader gone (it refused as not leading, its
// connection failed, or it is not connected) makes the Conn forget it and ask
// again at once, at most every minLeaderLookup, rather than at the next
// interval.
func (c *Conn) FollowLeader(isLeader func(ctx context.Context) (bool, error), interval time.Duration) {
	c.Go(func() {
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			select {
			case <-c.ctx.Done():
				return
			case <-t.C:
			case <-c.router.lost:
				// Let the lookups after a lost leader (an election) come
				// no closer together than minLeaderLookup.
				if !sleepCtx(c.ctx, minLeaderLookup) {
					return
				}
			}
			c.findLeader(isLeader)
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
			t.Reset(interval)
		}
	})
}

// FollowLeaderForMarked is FollowLeader for the calls whose context ToLeader
// marked (writes, say, which the leader must handle anyway); every other call
// keeps going round robin over the members, spreading the work that any
// member can do. Call at most one of FollowLeader and FollowLeaderForMarked,
// once.
func (c *Conn) FollowLeaderForMarked(isLeader func(ctx context.Context) (bool, error), interval time.Duration) {
	c.router.markedOnly.Store(true)
	c.FollowLeader(isLeader, interval)
}

// minLeaderLookup is the least time between two leader lookups that calls
// asked for (see FollowLeader).
const minLeaderLookup = 50 * time.Millisecond

// sleepCtx waits for d and returns true, or returns false when ctx ends first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// findLeader asks every member at once whether it leads and follows the first
// that says so. It returns once every question has been answered or cancelled.
func (c *Conn) findLeader(isLeader func(ctx context.Context) (bool, error)) {
	ctx, cancel := context.WithTimeout(c.ctx, c.cfg.DialTimeout)
	defer cancel()
	eps := c.cfg.Endpoints
	answers := make(chan string, len(eps)) // the endpoint, or "" for no
	for _, ep := range eps {
		go func() {
			if yes, err := isLeader(WithEndpoint(ctx, ep)); err != nil || !yes {
				ep = ""
			}
			answers <- ep
		}()
	}
	found := ""
	for range eps {
		if ep := <-answers; ep != "" && found == "" {
			found = ep
			c.router.leader.Store(&found)
			cancel() // the other questions end now
		}
	}
	if found == "" && c.ctx.Err() == nil {
		c.router.leader.Store(nil)
	}
}

// Leader returns the endpoint calls are sent to first, or "" when none.
func (c *Conn) Leader() string {
	if l := c.router.leader.Load(); l != nil {
		return *l
	}
	return ""
}

func routerAttributes(r *router) *attributes.Attributes {
	return attributes.New(routerKey{}, r)
}
