package lockchaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	lockclient "cairn.dev/cairn/lockd/client"
	"cairn.dev/cairn/raftkv/client"

	"cairn.dev/cairn/cluster/chaos"
	"cairn.dev/cairn/cluster/chaos/kvchaos"
)

// The operation kinds recorded by the lockd workloads. Key is the lock or
// election name; Session and Token say whose grant an operation concerns.
const (
	// KindLockAcquire is a blocking Acquire; on OK, Session holds Key with Token.
	KindLockAcquire chaos.OpKind = "lock-acquire"
	// KindLockRelease is the Release of the grant Token. OK means the session
	// still held the lock when the release applied: it held it without a break
	// from the grant on (a healthy hold).
	KindLockRelease chaos.OpKind = "lock-release"
	// KindFencedWrite is a write to the fenced resource by the holder of Token:
	// a raftkv Txn that writes only if the resource has accepted no higher
	// token. Value is the write's id, Succeeded whether the resource accepted
	// it, Rev its raftkv revision.
	KindFencedWrite chaos.OpKind = "fenced-write"
	// KindFencedLate is the fenced write of a holder that stalled past its TTL
	// (see KindLockStall). Found records that the resource had accepted a higher
	// token before the write was sent, so the write must be refused.
	KindFencedLate chaos.OpKind = "fenced-late"
	// KindLockCrash records that the holder of Token dropped its connections
	// without releasing (its keep-alives stop, as if the process died).
	KindLockCrash chaos.OpKind = "lock-crash"
	// KindLockStall records that the holder of Token stopped its keep-alives
	// while still believing it holds the lock (as if SIGSTOPped); it writes
	// late (KindFencedLate) once the lock has moved on.
	KindLockStall chaos.OpKind = "lock-stall"
	// KindCampaign is a Campaign; on OK, Session leads Key with Token and Value.
	KindCampaign chaos.OpKind = "campaign"
	// KindProclaim is a Proclaim of Value by the leader Token.
	KindProclaim chaos.OpKind = "proclaim"
	// KindResign is a Resign of leadership Token; OK means it was held without
	// a break until then.
	KindResign chaos.OpKind = "resign"
	// KindCampaignStall records that the leader Token stopped its keep-alives.
	KindCampaignStall chaos.OpKind = "campaign-stall"
	// KindObserve is one response of an Observe stream: Client is the observer,
	// Via the node it streams from, Rev the stream's number (per observer),
	// Index the Raft index it reflects; Found says there is a leader, then
	// Session, Token and Value describe it.
	KindObserve chaos.OpKind = "observe"
)

// kinds classifies the lockd kinds for the framework; the workloads' Kinds
// return it.
var kinds = chaos.Kinds{
	KindLockAcquire: chaos.ClassWrite, KindLockRelease: chaos.ClassWrite,
	KindFencedWrite: chaos.ClassWrite, KindFencedLate: chaos.ClassWrite,
	KindCampaign: chaos.ClassWrite, KindProclaim: chaos.ClassWrite, KindResign: chaos.ClassWrite,
	KindLockCrash: chaos.ClassEvent, KindLockStall: chaos.ClassEvent,
	KindCampaignStall: chaos.ClassEvent, KindObserve: chaos.ClassEvent,
}

// lockdRequestTimeout bounds the non-blocking lockd calls of the workloads.
const lockdRequestTimeout = 2 * time.Second

// newLockdClient returns a lockd client over every lockd node of env.
func newLockdClient(env *chaos.Env) (*lockclient.Client, error) {
	return lockclient.New(lockclient.Config{
		Endpoints:      env.Cluster.State().Endpoints("lockd"),
		RequestTimeout: lockdRequestTimeout,
		DialTimeout:    2 * time.Second,
		TLS:            env.TLS,
	})
}

// newResourceClient returns a raftkv client for the fenced resource.
func newResourceClient(env *chaos.Env) (*client.Client, error) {
	eps := env.Cluster.State().Endpoints("raftkv")
	if len(eps) == 0 {
		return nil, errors.New("the scenario runs no raftkv nodes for the fenced resource (Scenario.Companions)")
	}
	return kvchaos.NewClient(env, 2*time.Second, eps...)
}

// Locks is the lock workload. Clients contend for Locks exclusive locks through
// lockd sessions (one lockd client per contender, so that a contender can
// crash or stall alone). A holder writes to the fenced resource of its lock
// (see Fence) one to Writes times, then releases — or, with probability Crash,
// drops its connections without releasing, or, with probability Stall, stops
// its keep-alives, waits until lockd has given the lock to someone else and the
// resource has accepted a newer token, and then writes late (KindFencedLate).
// A probe takes and releases a lock of its own every 200ms (see probe).
type Locks struct {
	// Clients is the number of contenders; default 8.
	Clients int
	// Locks is the number of lock names; default 2.
	Locks int
	// Prefix is put before the lock names (Prefix+"<n>"); default "chaos/lock/".
	Prefix string
	// Resource is the raftkv prefix of the fenced resources; default "fence/".
	Resource string
	// TTL is the session TTL; default 3s. Much shorter TTLs lose every session
	// on a leader kill (see docs/chaos.md, bugs found).
	TTL time.Duration
	// AcquireTimeout bounds each blocking Acquire; default 8s.
	AcquireTimeout time.Duration
	// Writes is the most fenced writes per hold; default 2.
	Writes int
	// Crash and Stall are the probabilities that a hold ends in a crash or a
	// stall instead of a release; defaults 0.05 and 0.05, negative disables.
	Crash, Stall float64
	// ClientBase is the first client number in the history; default 600.
	ClientBase int
}

// Name implements chaos.Workload.
func (w *Locks) Name() string { return "locks" }

// Kinds implements chaos.Workload.
func (w *Locks) Kinds() chaos.Kinds { return kinds }

func (w *Locks) withDefaults() Locks {
	out := *w
	if out.Clients <= 0 {
		out.Clients = 8
	}
	if out.Locks <= 0 {
		out.Locks = 2
	}
	if out.Prefix == "" {
		out.Prefix = "chaos/lock/"
	}
	if out.Resource == "" {
		out.Resource = "fence/"
	}
	if out.TTL <= 0 {
		out.TTL = 3 * time.Second
	}
	if out.AcquireTimeout <= 0 {
		out.AcquireTimeout = 8 * time.Second
	}
	if out.Writes <= 0 {
		out.Writes = 2
	}
	if out.Crash == 0 {
		out.Crash = 0.05
	}
	if out.Stall == 0 {
		out.Stall = 0.05
	}
	if out.ClientBase == 0 {
		out.ClientBase = 600
	}
	return out
}

func (w Locks) lockName(i int) string { return w.Prefix + strconv.Itoa(i) }

// Fence is the fenced resource of one lock in raftkv: Token holds the highest
// token accepted (zero-padded, then "/" and the id of the write) and each
// accepted write also creates Prefix+"w/<id>" = token/session, so that the
// order in which the resource accepted writes is their revisions.
type Fence struct {
	Prefix string
}

// Token is the key holding the highest accepted token.
func (f Fence) Token() string { return f.Prefix + "token" }

// Writes is the prefix of the per-write keys.
func (f Fence) Writes() string { return f.Prefix + "w/" }

func padToken(t uint64) string { return fmt.Sprintf("%020d", t) }

// storedToken parses the token at the start of a Fence.Token value.
func storedToken(v []byte) (uint64, error) {
	if len(v) < 20 {
		return 0, fmt.Errorf("fenced token %q too short", v)
	}
	return strconv.ParseUint(string(v[:20]), 10, 64)
}

// init creates the token record if it is missing.
func (f Fence) init(ctx context.Context, kv *client.Client) error {
	_, err := kv.Txn(ctx).
		If(client.Compare(client.CreateRevision(f.Token()), "=", 0)).
		Then(client.OpPut(f.Token(), padToken(0))).
		Commit()
	return err
}

// write is the fenced write: one transaction that writes only if the stored
// token is below token+1 (so one holder may write several times).
func (f Fence) write(ctx context.Context, kv *client.Client, token, session uint64, id string) (ok bool, rev int64, err error) {
	resp, err := kv.Txn(ctx).
		If(client.Compare(client.Value(f.Token()), "<", padToken(token+1))).
		Then(client.OpPut(f.Token(), padToken(token)+"/"+id),
			client.OpPut(f.Writes()+id, padToken(token)+"/"+strconv.FormatUint(session, 10))).
		Commit()
	if err != nil {
		return false, 0, err
	}
	return resp.GetSucceeded(), resp.GetHeader().GetRevision(), nil
}

// read returns the highest accepted token.
func (f Fence) read(ctx context.Context, kv *client.Client) (uint64, error) {
	resp, err := kv.Get(ctx, f.Token())
	if err != nil {
		return 0, err
	}
	if len(resp.GetKvs()) == 0 {
		return 0, nil
	}
	return storedToken(resp.GetKvs()[0].GetValue())
}

func (w Locks) fence(lock string) Fence { return Fence{Prefix: w.Resource + lock + "/"} }

// Run implements chaos.Workload.
func (w *Locks) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.withDefaults()
	kv, err := newResourceClient(env)
	if err != nil {
		return err
	}
	defer kv.Close()
	for i := range cfg.Locks {
		f := cfg.fence(cfg.lockName(i))
		if !retry(ctx, 30*time.Second, func(ctx context.Context) error { return f.init(ctx, kv) }) {
			return fmt.Errorf("could not create the fenced resource %s", f.Token())
		}
	}
	monitor, err := newLockdClient(env)
	if err != nil {
		return err
	}
	defer monitor.Close()
	var wg sync.WaitGroup
	wg.Go(func() { probe(ctx, env, cfg.ClientBase+99, cfg.Prefix+"probe") })
	for i := range cfg.Clients {
		id := cfg.ClientBase + i
		rng := env.Rand(chaos.Stream(w.Name(), id))
		wg.Go(func() { cfg.contender(ctx, env, id, rng, kv, monitor) })
	}
	wg.Wait()
	return nil
}

// retry runs fn with a per-try timeout until it succeeds, ctx ends or limit
// passes; it reports success.
func retry(ctx context.Context, limit time.Duration, fn func(context.Context) error) bool {
	deadline := time.Now().Add(limit)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := fn(rctx)
		cancel()
		if err == nil {
			return true
		}
		chaos.Hold(ctx, 100*time.Millisecond)
	}
	return false
}

// contender is the loop of one lock client.
type contender struct {
	cfg     Locks
	env     *chaos.Env
	id      int
	rng     *rand.Rand
	kv      *client.Client
	monitor *lockclient.Client

	cl   *lockclient.Client
	sess *lockclient.Session
	n    int // writes made, for unique write ids
}

func (w Locks) contender(ctx context.Context, env *chaos.Env, id int, rng *rand.Rand, kv *client.Client, monitor *lockclient.Client) {
	c := &contender{cfg: w, env: env, id: id, rng: rng, kv: kv, monitor: monitor}
	defer c.drop()
	for ctx.Err() == nil {
		if !c.ensureSession(ctx) {
			return
		}
		c.round(ctx)
	}
	if c.sess != nil {
		cctx, cancel := context.WithTimeout(context.Background(), lockdRequestTimeout)
		_ = c.sess.Close(cctx)
		cancel()
	}
}

// drop closes the contender's lockd client without closing its session: its
// keep-alives stop and its locks are released when the session expires.
func (c *contender) drop() {
	if c.cl != nil {
		c.cl.Close()
	}
	c.cl, c.sess = nil, nil
}

// abandon closes the session (best effort) and forgets it, after an outcome
// that leaves the session's grants unknown.
func (c *contender) abandon() {
	if c.sess != nil {
		cctx, cancel := context.WithTimeout(context.Background(), lockdRequestTimeout)
		_ = c.sess.Close(cctx)
		cancel()
	}
	c.sess = nil
}

func (c *contender) ensureSession(ctx context.Context) bool {
	for ctx.Err() == nil {
		if c.sess != nil {
			select {
			case <-c.sess.Done():
				c.sess = nil
			default:
				return true
			}
		}
		if c.cl == nil {
			cl, err := newLockdClient(c.env)
			if err != nil {
				c.env.Logger.Error("locks: new client", "client", c.id, "err", err)
				return false
			}
			c.cl = cl
		}
		rctx, cancel := context.WithTimeout(ctx, lockdRequestTimeout)
		s, err := c.cl.NewSession(rctx, c.cfg.TTL)
		cancel()
		if err == nil {
			c.sess = s
			return true
		}
		chaos.Hold(ctx, 100*time.Millisecond)
	}
	return false
}

// round acquires one lock, writes, and ends the hold.
func (c *contender) round(ctx context.Context) {
	h := c.env.History
	lock := c.cfg.lockName(c.rng.IntN(c.cfg.Locks))
	sid := c.sess.ID()
	// The wait ends with the run (an unknown outcome, which the checkers
	// ignore); the other requests are not tied to ctx.
	actx, cancel := context.WithTimeout(ctx, c.cfg.AcquireTimeout)
	op := h.Invoke(chaos.Op{Client: c.id, Kind: KindLockAcquire, Key: lock, Session: sid})
	l, err := c.sess.Acquire(actx, lock, []byte(strconv.Itoa(c.id)))
	cancel()
	if err != nil {
		out := chaos.Fail
		if lockclient.IsUnknownOutcome(err) {
			out = chaos.Unknown
		}
		h.Complete(op, out, err, nil)
		if out == chaos.Unknown {
			c.abandon() // it may hold the lock without knowing
		}
		chaos.Hold(ctx, 50*time.Millisecond)
		return
	}
	h.Complete(op, chaos.OK, nil, func(o *chaos.Op) { o.Token = l.Token })

	f := c.cfg.fence(lock)
	for range 1 + c.rng.IntN(c.cfg.Writes) {
		select {
		case <-c.sess.Done():
			return // lost: the lock went with the session
		default:
		}
		c.write(f, KindFencedWrite, lock, l.Token, sid, false)
		chaos.Hold(ctx, time.Duration(c.rng.IntN(20))*time.Millisecond) // work under the lock
	}

	switch r := c.rng.Float64(); {
	case r < c.cfg.Crash:
		h.Event(chaos.Op{Client: c.id, Kind: KindLockCrash, Key: lock, Session: sid, Token: l.Token})
		c.drop()
	case r < c.cfg.Crash+c.cfg.Stall:
		c.stall(ctx, f, lock, l.Token, sid)
	default:
		rctx, cancel := context.WithTimeout(context.Background(), lockdRequestTimeout)
		op := h.Invoke(chaos.Op{Client: c.id, Kind: KindLockRelease, Key: lock, Session: sid, Token: l.Token})
		err := c.sess.Release(rctx, lock)
		cancel()
		switch {
		case err == nil:
			h.Complete(op, chaos.OK, nil, nil)
		case lockclient.IsUnknownOutcome(err):
			h.Complete(op, chaos.Unknown, err, nil)
			c.abandon()
		default:
			h.Complete(op, chaos.Fail, err, nil)
			c.abandon()
		}
	}
}

// write makes one fenced write and records it.
func (c *contender) write(f Fence, kind chaos.OpKind, lock string, token, sid uint64, advanced bool) {
	h := c.env.History
	c.n++
	wid := fmt.Sprintf("c%d-%d", c.id, c.n)
	rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	op := h.Invoke(chaos.Op{Client: c.id, Kind: kind, Key: lock, Value: wid, Session: sid, Token: token, Found: advanced})
	ok, rev, err := f.write(rctx, c.kv, token, sid, wid)
	h.Complete(op, kvchaos.WriteOutcome(err), err, func(o *chaos.Op) { o.Succeeded, o.Rev = ok, rev })
}

// stall stops the holder's keep-alives while it still believes it holds the
// lock, waits (polling lockd and the resource) until another session holds the
// lock and the resource has accepted a newer token, then writes late.
func (c *contender) stall(ctx context.Context, f Fence, lock string, token, sid uint64) {
	h := c.env.History
	h.Event(chaos.Op{Client: c.id, Kind: KindLockStall, Key: lock, Session: sid, Token: token})
	c.drop()
	limit := 3*c.cfg.TTL + chaos.ReadyTimeout
	moved := chaos.WaitFor(limit, func() bool {
		if ctx.Err() != nil {
			return true
		}
		rctx, cancel := context.WithTimeout(context.Background(), lockdRequestTimeout)
		defer cancel()
		info, err := c.monitor.Describe(rctx, lock)
		if err != nil {
			return false
		}
		for _, hd := range info.GetHolders() {
			if hd.GetSessionId() == sid {
				return false
			}
		}
		return true
	})
	advanced := false
	if moved {
		advanced = chaos.WaitFor(2*c.cfg.TTL+c.cfg.AcquireTimeout, func() bool {
			if ctx.Err() != nil {
				return true
			}
			rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			t, err := f.read(rctx, c.kv)
			return err == nil && t > token
		}) && ctx.Err() == nil
	}
	c.write(f, KindFencedLate, lock, token, sid, advanced)
}

// probe shows that lockd serves writes: every 200ms it tries to take lock
// name with a session of its own and releases it (recorded as
// KindLockAcquire and KindLockRelease of client id), so that the run's
// recovery check does not depend on when the workload's holders happen to
// hand over. It returns when ctx ends.
func probe(ctx context.Context, env *chaos.Env, id int, name string) {
	h := env.History
	cl, err := newLockdClient(env)
	if err != nil {
		env.Logger.Error("lockd probe: new client", "err", err)
		return
	}
	defer cl.Close()
	var sess *lockclient.Session
	defer func() {
		if sess != nil {
			cctx, cancel := context.WithTimeout(context.Background(), lockdRequestTimeout)
			_ = sess.Close(cctx)
			cancel()
		}
	}()
	for ; ctx.Err() == nil; chaos.Hold(ctx, 200*time.Millisecond) {
		if sess != nil {
			select {
			case <-sess.Done():
				sess = nil
			default:
			}
		}
		if sess == nil {
			rctx, cancel := context.WithTimeout(ctx, lockdRequestTimeout)
			sess, err = cl.NewSession(rctx, 3*time.Second)
			cancel()
			if err != nil {
				sess = nil
				continue
			}
		}
		rctx, cancel := context.WithTimeout(context.Background(), lockdRequestTimeout)
		op := h.Invoke(chaos.Op{Client: id, Kind: KindLockAcquire, Key: name, Session: sess.ID()})
		l, err := sess.TryAcquire(rctx, name, nil)
		cancel()
		if err != nil {
			h.Complete(op, kvchaos.WriteOutcome(err), err, nil)
			continue
		}
		h.Complete(op, chaos.OK, nil, func(o *chaos.Op) { o.Token = l.Token })
		rctx, cancel = context.WithTimeout(context.Background(), lockdRequestTimeout)
		op = h.Invoke(chaos.Op{Client: id, Kind: KindLockRelease, Key: name, Session: sess.ID(), Token: l.Token})
		err = sess.Release(rctx, name)
		cancel()
		h.Complete(op, kvchaos.WriteOutcome(err), err, nil)
	}
}
