package lockchaos

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/cluster/chaos"
	"cairn.dev/cairn/cluster/chaos/kvchaos"
)

// grant is one lock (or leadership) grant as the workload saw it: the acquire
// that returned it and how the hold ended.
type grant struct {
	Lock    string
	Session uint64
	Token   uint64
	// Call and Return of the acquire (campaign).
	Call, Return time.Duration
	// Released is true when the release (resign) returned OK: the session held
	// the grant without a break until the release applied (a healthy hold).
	// ReleaseCall is when that release was invoked.
	Released    bool
	ReleaseCall time.Duration
	Op          int
}

// grantsOf collects the grants of ops (acquire and release kinds given) by
// lock name, each sorted by token.
func grantsOf(ops []chaos.Op, acquire, release chaos.OpKind) map[string][]*grant {
	out := map[string][]*grant{}
	type hk struct {
		lock          string
		session, tokn uint64
	}
	byHold := map[hk]*grant{}
	for _, op := range ops {
		if op.Kind != acquire || op.Outcome != chaos.OK {
			continue
		}
		k := hk{op.Key, op.Session, op.Token}
		if g, ok := byHold[k]; ok { // an idempotent re-acquire: the same grant
			g.Call, g.Return = min(g.Call, op.Call), min(g.Return, op.Return)
			continue
		}
		g := &grant{Lock: op.Key, Session: op.Session, Token: op.Token, Call: op.Call, Return: op.Return, Op: op.ID}
		byHold[k] = g
		out[op.Key] = append(out[op.Key], g)
	}
	for _, op := range ops {
		if op.Kind != release || op.Outcome != chaos.OK {
			continue
		}
		if g, ok := byHold[hk{op.Key, op.Session, op.Token}]; ok {
			g.Released, g.ReleaseCall = true, op.Call
		}
	}
	for _, gs := range out {
		sort.Slice(gs, func(i, j int) bool { return gs[i].Token < gs[j].Token })
	}
	return out
}

// checkGrants checks the grants of one name against each other (what "overlap"
// means is in LockChecker's documentation); what names the resource in
// messages ("lock", "election").
func checkGrants(v *chaos.Verdict, what, name string, gs []*grant) {
	for i, a := range gs {
		for _, b := range gs[i+1:] { // a.Token <= b.Token
			if a.Session == b.Session && a.Token == b.Token {
				continue
			}
			if a.Token == b.Token {
				v.Violate("%s %s: token %d granted to sessions %d (op %d) and %d (op %d)", what, name, a.Token, a.Session, a.Op, b.Session, b.Op)
				continue
			}
			// b was granted after a: it cannot have returned before a was invoked.
			if b.Return < a.Call {
				v.Violate("%s %s: token %d (session %d, returned %v) was granted before token %d (session %d, invoked %v)",
					what, name, b.Token, b.Session, b.Return, a.Token, a.Session, a.Call)
			}
			// a healthy hold ends before any later grant.
			if a.Released && b.Return < a.ReleaseCall {
				v.Violate("%s %s: grants overlap: session %d held token %d until its release at %v, but session %d was granted token %d at %v",
					what, name, a.Session, a.Token, a.ReleaseCall, b.Session, b.Token, b.Return)
			}
		}
	}
}

// LockChecker checks the Locks workload for mutual exclusion and fencing.
//
// Grants of one lock, from the acquires that returned OK (token and session):
//
//   - no token is granted to two sessions;
//   - tokens follow real time: an acquire that returned before another was
//     invoked has the lower token;
//   - no overlap. A hold is healthy when its release returned OK: the session
//     then held the lock without a break from the grant until the release
//     applied, so its interval [acquire returned, release invoked] lies inside
//     the interval the state machine granted it. A hold whose session was lost
//     (a crash, a stall past the TTL, keep-alives that failed through a fault)
//     has no known end: lockd may have expired it at any time, which is why
//     the resource is fenced. So: every grant with a higher token than a
//     healthy hold must have returned after that hold's release was invoked.
//
// The fenced resource, read at the end (the per-write keys in revision order):
//
//   - the tokens it accepted never decrease, and writes with the same token
//     come from the same session;
//   - it holds exactly the writes acknowledged as accepted, none acknowledged
//     as refused;
//   - a write of a healthy hold, made before its release, is never refused
//     (a refusal means a newer holder wrote meanwhile);
//   - a late write of a stalled holder sent after the resource was seen at a
//     newer token is refused.
type LockChecker struct {
	// Workload is the Locks workload of the run (its names and prefixes).
	Workload *Locks
}

// Name implements chaos.Checker.
func (c *LockChecker) Name() string { return "lock-mutex-fencing" }

// Check implements chaos.Checker.
func (c *LockChecker) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	cfg := c.Workload.withDefaults()
	kv, err := newResourceClient(env)
	if err != nil {
		v.Err = err.Error()
		return v
	}
	defer kv.Close()
	final := map[string][]acceptedWrite{}
	for i := range cfg.Locks {
		lock := cfg.lockName(i)
		f := cfg.fence(lock)
		kvs, _, err := kvchaos.ReadFinal(ctx, kv, f.Writes())
		if err != nil {
			v.Err = fmt.Sprintf("read the fenced resource %s: %v", f.Writes(), err)
			return v
		}
		ws, err := parseAccepted(f, kvs)
		if err != nil {
			v.Err = err.Error()
			return v
		}
		final[lock] = ws
	}
	return checkLocks(env.History.Ops(), final)
}

// acceptedWrite is one write the fenced resource accepted.
type acceptedWrite struct {
	ID      string
	Token   uint64
	Session uint64
	Rev     int64
}

// parseAccepted turns the per-write keys of f into writes sorted by revision.
func parseAccepted(f Fence, kvs map[string]kvchaos.Final) ([]acceptedWrite, error) {
	var out []acceptedWrite
	for k, kv := range kvs {
		tok, sess, ok := strings.Cut(kv.Value, "/")
		t, err1 := strconv.ParseUint(tok, 10, 64)
		s, err2 := strconv.ParseUint(sess, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("fenced write %s=%q is malformed", k, kv.Value)
		}
		out = append(out, acceptedWrite{ID: strings.TrimPrefix(k, f.Writes()), Token: t, Session: s, Rev: kv.Rev})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rev < out[j].Rev })
	return out, nil
}

// checkLocks is the pure part of LockChecker.
func checkLocks(ops []chaos.Op, final map[string][]acceptedWrite) chaos.Verdict {
	v := chaos.Verdict{Checker: "lock-mutex-fencing"}
	grants := grantsOf(ops, KindLockAcquire, KindLockRelease)
	healthy := 0
	for lock, gs := range grants {
		checkGrants(&v, "lock", lock, gs)
		for _, g := range gs {
			if g.Released {
				healthy++
			}
		}
	}

	// The resource's own order.
	accepted := map[string]acceptedWrite{}
	for lock, ws := range final {
		for i, w := range ws {
			accepted[w.ID] = w
			if i == 0 {
				continue
			}
			p := ws[i-1]
			switch {
			case w.Token < p.Token:
				v.Violate("resource %s accepted write %s with token %d (rev %d) after write %s with token %d (rev %d)",
					lock, w.ID, w.Token, w.Rev, p.ID, p.Token, p.Rev)
			case w.Token == p.Token && w.Session != p.Session:
				v.Violate("resource %s accepted token %d from sessions %d and %d", lock, w.Token, p.Session, w.Session)
			}
		}
	}

	// The clients' view of the writes.
	type hk struct {
		lock           string
		session, token uint64
	}
	holds := map[hk]*grant{}
	for lock, gs := range grants {
		for _, g := range gs {
			holds[hk{lock, g.Session, g.Token}] = g
		}
	}
	writes, refused, lateRefused, lateAccepted := 0, 0, 0, 0
	for _, op := range ops {
		if op.Kind != KindFencedWrite && op.Kind != KindFencedLate {
			continue
		}
		w, present := accepted[op.Value]
		if present && (w.Token != op.Token || w.Session != op.Session) {
			v.Violate("write %s (op %d) stored with token %d/session %d, sent with %d/%d", op.Value, op.ID, w.Token, w.Session, op.Token, op.Session)
		}
		if op.Outcome != chaos.OK {
			continue
		}
		writes++
		switch {
		case op.Succeeded && !present:
			v.Violate("write %s (op %d, token %d) acknowledged as accepted but missing from resource %s", op.Value, op.ID, op.Token, op.Key)
		case !op.Succeeded && present:
			v.Violate("write %s (op %d, token %d) acknowledged as refused but present in resource %s", op.Value, op.ID, op.Token, op.Key)
		}
		if !op.Succeeded {
			refused++
		}
		if op.Kind == KindFencedLate {
			if op.Succeeded {
				lateAccepted++
			} else {
				lateRefused++
			}
			if op.Found && op.Succeeded {
				v.Violate("late write %s (op %d) of stalled token %d accepted after resource %s had accepted a newer token",
					op.Value, op.ID, op.Token, op.Key)
			}
			continue
		}
		if g := holds[hk{op.Key, op.Session, op.Token}]; g != nil && g.Released && op.Return <= g.ReleaseCall && !op.Succeeded {
			v.Violate("write %s (op %d) of healthy hold token %d on %s refused: a newer holder wrote during the hold",
				op.Value, op.ID, op.Token, op.Key)
		}
	}
	n := 0
	for _, ws := range final {
		n += len(ws)
	}
	v.Summary = fmt.Sprintf("%d grants on %d locks (%d healthy holds); %d fenced writes answered (%d refused), %d accepted by the resources; late writes of stalled holders: %d refused, %d accepted",
		countGrants(grants), len(grants), healthy, writes, refused, n, lateRefused, lateAccepted)
	return v
}

func countGrants(m map[string][]*grant) int {
	n := 0
	for _, gs := range m {
		n += len(gs)
	}
	return n
}

// LockLivenessChecker checks that the Locks workload made progress through the
// faults:
//
//   - every acquire returned within its timeout and a margin (no waiter hangs);
//   - the lock of a holder that crashed or stalled was granted to the next
//     waiter (one that was already waiting when the holder went quiet and kept
//     waiting or got the lock) within TTL + one election timeout + Margin of
//     the crash. A fault that overlaps that window moves the bound to the time
//     the cluster was ready again plus the same allowance: a new lockd leader
//     gives every session a full TTL from its takeover.
type LockLivenessChecker struct {
	// Workload is the Locks workload of the run.
	Workload *Locks
	// ElectionTimeout is lockd's election timeout; default 1s.
	ElectionTimeout time.Duration
	// Margin covers the expiry tick, the grant's delivery and client retries;
	// default 2s.
	Margin time.Duration
}

// Name implements chaos.Checker.
func (c *LockLivenessChecker) Name() string { return "lock-liveness" }

// Check implements chaos.Checker.
func (c *LockLivenessChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	cfg := c.Workload.withDefaults()
	et, margin := c.ElectionTimeout, c.Margin
	if et <= 0 {
		et = time.Second
	}
	if margin <= 0 {
		margin = 2 * time.Second
	}
	return checkLockLiveness(env.History.Ops(), env.Timeline.Records(), cfg.TTL+et+margin, cfg.AcquireTimeout+margin)
}

// handoffBound returns when a lock quiet since t must have been handed over:
// t+allow, moved past every fault that overlaps the window to its ready time
// plus allow.
func handoffBound(t, allow time.Duration, faults []chaos.FaultRecord) time.Duration {
	d := t + allow
	for changed := true; changed; {
		changed = false
		for _, f := range faults {
			if f.Start < 0 {
				continue
			}
			end := f.Ready
			if end < 0 {
				end = f.End
			}
			if end < 0 {
				end = 1 << 62 // never healed: no bound
			}
			if f.Start <= d && end >= t-allow && end+allow > d {
				d, changed = end+allow, true
			}
		}
	}
	return d
}

// checkLockLiveness is the pure part of LockLivenessChecker: allow is TTL + election
// timeout + margin, maxWait the longest an acquire may take to return.
func checkLockLiveness(ops []chaos.Op, faults []chaos.FaultRecord, allow, maxWait time.Duration) chaos.Verdict {
	v := chaos.Verdict{Checker: "lock-liveness"}
	end := time.Duration(0)
	for _, op := range ops {
		end = max(end, op.Call, op.Return)
	}
	acquires := 0
	for _, op := range ops {
		if op.Kind != KindLockAcquire {
			continue
		}
		acquires++
		if !op.Done() {
			v.Violate("acquire of %s by session %d (op %d, invoked %v) never returned", op.Key, op.Session, op.ID, op.Call)
		} else if op.Return-op.Call > maxWait {
			v.Violate("acquire of %s by session %d (op %d) took %v (at most %v expected)", op.Key, op.Session, op.ID, op.Return-op.Call, maxWait)
		}
	}
	grants := grantsOf(ops, KindLockAcquire, KindLockRelease)
	var handoffs []time.Duration
	quiet := 0
	for _, q := range ops {
		if q.Kind != KindLockCrash && q.Kind != KindLockStall {
			continue
		}
		quiet++
		var next *grant
		for _, g := range grants[q.Key] {
			if g.Token > q.Token && (next == nil || g.Return < next.Return) {
				next = g
			}
		}
		if next != nil && next.Return <= q.Call+allow {
			handoffs = append(handoffs, max(0, next.Return-q.Call))
			continue
		}
		bound := handoffBound(q.Call, allow, faults)
		if next != nil && next.Return <= bound {
			handoffs = append(handoffs, next.Return-q.Call)
			continue
		}
		if bound > end {
			continue // the run ended first
		}
		// Late or missing: a violation if a waiter was queued when the holder
		// went quiet and kept waiting until the bound, or got the lock.
		waiter := false
		for _, op := range ops {
			if op.Kind == KindLockAcquire && op.Key == q.Key && op.Session != q.Session && op.Call <= q.Call &&
				(op.Outcome == chaos.OK && op.Return > q.Call || !op.Done() || op.Return >= bound) {
				waiter = true
				break
			}
		}
		switch {
		case !waiter:
		case next == nil:
			v.Violate("lock %s of quiet holder %d (token %d, %s at %v) was never granted again although a waiter was queued",
				q.Key, q.Session, q.Token, q.Kind, q.Call)
		default:
			v.Violate("lock %s of quiet holder %d (token %d, %s at %v) granted to session %d only at %v (bound %v)",
				q.Key, q.Session, q.Token, q.Kind, q.Call, next.Session, next.Return, bound)
		}
	}
	slices.Sort(handoffs)
	worst := time.Duration(0)
	if len(handoffs) > 0 {
		worst = handoffs[len(handoffs)-1]
	}
	v.Summary = fmt.Sprintf("%d acquires; %d crashed or stalled holders, %d of their locks granted again in time (slowest after %v)",
		acquires, quiet, len(handoffs), worst.Round(time.Millisecond))
	return v
}
