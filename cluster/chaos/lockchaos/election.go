package lockchaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc"

	lockclient "cairn.dev/cairn/lockd/client"
	lockdv1 "cairn.dev/cairn/proto/cairn/lockd/v1"

	"cairn.dev/cairn/cluster/chaos"
	"cairn.dev/cairn/cluster/chaos/kvchaos"
)

// Election is the election workload: Campaigners campaign for one election
// through lockd sessions, proclaim a few values while they lead and resign —
// or, with probability Stall, stop their keep-alives so that their leadership
// ends by expiry. Observers follow the election with raw Observe streams, each
// pinned to one node and moved to the next node when it breaks, and record
// every response (KindObserve) with the stream it came on, so that the checker
// can hold each stream to "every change, in order". A probe takes and releases
// a lock of its own every 200ms, to show when lockd serves writes.
type Election struct {
	// Election is the election's name; default "chaos/election".
	Election string
	// Campaigners and Observers are the client counts; defaults 4 and 3.
	Campaigners, Observers int
	// TTL is the campaigners' session TTL; default 3s.
	TTL time.Duration
	// Stall is the probability that a leadership ends in a stall; default 0.15,
	// negative disables.
	Stall float64
	// ClientBase is the first client number in the history; default 700
	// (observers follow the campaigners).
	ClientBase int
}

// Name implements chaos.Workload.
func (w *Election) Name() string { return "election" }

// Kinds implements chaos.Workload.
func (w *Election) Kinds() chaos.Kinds { return kinds }

func (w *Election) withDefaults() Election {
	out := *w
	if out.Election == "" {
		out.Election = "chaos/election"
	}
	if out.Campaigners <= 0 {
		out.Campaigners = 4
	}
	if out.Observers <= 0 {
		out.Observers = 3
	}
	if out.TTL <= 0 {
		out.TTL = 3 * time.Second
	}
	if out.Stall == 0 {
		out.Stall = 0.15
	}
	if out.ClientBase == 0 {
		out.ClientBase = 700
	}
	return out
}

// Run implements chaos.Workload.
func (w *Election) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.withDefaults()
	var conns []*grpc.ClientConn
	defer func() {
		for _, cc := range conns {
			cc.Close()
		}
	}()
	nodes := env.Nodes()
	var wg sync.WaitGroup
	for i := range cfg.Observers {
		id := cfg.ClientBase + cfg.Campaigners + i
		var ecs []lockdv1.ElectionServiceClient
		for _, n := range nodes {
			cc, err := grpc.NewClient(env.Via(n), grpc.WithTransportCredentials(env.TransportCredentials()))
			if err != nil {
				return err
			}
			conns = append(conns, cc)
			ecs = append(ecs, lockdv1.NewElectionServiceClient(cc))
		}
		wg.Go(func() { cfg.observer(ctx, env, id, i, nodes, ecs) })
	}
	wg.Go(func() { probe(ctx, env, cfg.ClientBase+99, cfg.Election+"/probe") })
	for i := range cfg.Campaigners {
		id := cfg.ClientBase + i
		rng := env.Rand(chaos.Stream(w.Name(), id))
		wg.Go(func() { cfg.campaigner(ctx, env, id, rng) })
	}
	wg.Wait()
	return nil
}

// observer follows the election, one stream at a time, starting on node
// first and moving to the next node whenever a stream breaks.
func (w Election) observer(ctx context.Context, env *chaos.Env, id, first int, nodes []string, ecs []lockdv1.ElectionServiceClient) {
	h := env.History
	k := first % len(nodes)
	for streamNo := 1; ctx.Err() == nil; streamNo++ {
		sctx, cancel := context.WithCancel(ctx)
		st, err := ecs[k].Observe(sctx, &lockdv1.ObserveRequest{Election: w.Election})
		for err == nil {
			var resp *lockdv1.ObserveResponse
			if resp, err = st.Recv(); err != nil {
				break
			}
			op := chaos.Op{Client: id, Kind: KindObserve, Key: w.Election, Via: nodes[k], Rev: int64(streamNo), Index: resp.GetHeader().GetRaftIndex()}
			if l := resp.GetLeader(); l != nil {
				op.Found, op.Session, op.Token, op.Value = true, l.GetSessionId(), l.GetToken(), string(l.GetValue())
			}
			h.Event(op)
		}
		cancel()
		if ctx.Err() == nil {
			env.Logger.Debug("election: observe stream ended", "observer", id, "node", nodes[k], "stream", streamNo, "err", err)
		}
		k = (k + 1) % len(nodes)
		chaos.Hold(ctx, 100*time.Millisecond)
	}
}

// campaigner campaigns, leads for a while and resigns or stalls, in a loop.
func (w Election) campaigner(ctx context.Context, env *chaos.Env, id int, rng *rand.Rand) {
	h := env.History
	var (
		cl   *lockclient.Client
		sess *lockclient.Session
	)
	drop := func() {
		if cl != nil {
			cl.Close()
		}
		cl, sess = nil, nil
	}
	abandon := func() {
		if sess != nil {
			cctx, cancel := context.WithTimeout(context.Background(), lockdRequestTimeout)
			_ = sess.Close(cctx)
			cancel()
		}
		sess = nil
	}
	defer drop()
	defer abandon()
	for n := 0; ctx.Err() == nil; n++ {
		if sess != nil {
			select {
			case <-sess.Done():
				sess = nil
			default:
			}
		}
		if sess == nil {
			if cl == nil {
				var err error
				if cl, err = newLockdClient(env); err != nil {
					env.Logger.Error("election: new client", "client", id, "err", err)
					return
				}
			}
			rctx, cancel := context.WithTimeout(ctx, lockdRequestTimeout)
			s, err := cl.NewSession(rctx, w.TTL)
			cancel()
			if err != nil {
				chaos.Hold(ctx, 100*time.Millisecond)
				continue
			}
			sess = s
		}
		sid := sess.ID()
		val := fmt.Sprintf("c%d-%d", id, n)
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		op := h.Invoke(chaos.Op{Client: id, Kind: KindCampaign, Key: w.Election, Value: val, Session: sid})
		l, err := sess.Campaign(cctx, w.Election, []byte(val))
		cancel()
		if err != nil {
			out := chaos.Fail
			if lockclient.IsUnknownOutcome(err) {
				out = chaos.Unknown
			}
			h.Complete(op, out, err, nil)
			if out == chaos.Unknown {
				abandon()
			}
			chaos.Hold(ctx, 50*time.Millisecond)
			continue
		}
		h.Complete(op, chaos.OK, nil, func(o *chaos.Op) { o.Token = l.Token })

		for p := range rng.IntN(3) {
			pv := fmt.Sprintf("%s-p%d", val, p)
			rctx, cancel := context.WithTimeout(context.Background(), lockdRequestTimeout)
			op := h.Invoke(chaos.Op{Client: id, Kind: KindProclaim, Key: w.Election, Value: pv, Session: sid, Token: l.Token})
			_, err := sess.Proclaim(rctx, w.Election, []byte(pv))
			cancel()
			h.Complete(op, kvchaos.WriteOutcome(err), err, nil)
			chaos.Hold(ctx, time.Duration(30+rng.IntN(100))*time.Millisecond) // leading
		}
		if rng.Float64() < w.Stall {
			h.Event(chaos.Op{Client: id, Kind: KindCampaignStall, Key: w.Election, Session: sid, Token: l.Token})
			drop()
			continue
		}
		rctx, cancel := context.WithTimeout(context.Background(), lockdRequestTimeout)
		op = h.Invoke(chaos.Op{Client: id, Kind: KindResign, Key: w.Election, Session: sid, Token: l.Token})
		err = sess.Resign(rctx, w.Election)
		cancel()
		switch {
		case err == nil:
			h.Complete(op, chaos.OK, nil, nil)
		case lockclient.IsUnknownOutcome(err):
			h.Complete(op, chaos.Unknown, err, nil)
			abandon()
		default:
			h.Complete(op, chaos.Fail, err, nil)
			abandon()
		}
	}
}

// ElectionChecker checks the Election workload:
//
//   - at most one leader per token: every campaign and every observation
//     names the same session for a token;
//   - leaderships do not overlap (as LockChecker defines it, with Resign as
//     the release) and their tokens follow real time;
//   - every observation of an index shows the same leadership (all observers
//     see the same history);
//   - an observer never goes back: within a stream indexes strictly increase,
//     a new stream starts at or after the last index seen, and the leader's
//     token never decreases;
//   - a stream misses nothing: every change another stream saw at an index the
//     stream covered (after its first response, up to its last) appears in it,
//     and so does every leadership a campaign was granted in that range.
type ElectionChecker struct{}

// Name implements chaos.Checker.
func (c *ElectionChecker) Name() string { return "election" }

// Check implements chaos.Checker.
func (c *ElectionChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	return checkElection(env.History.Ops())
}

// leaderState is an observation's leadership, for comparisons.
func leaderState(op chaos.Op) string {
	if !op.Found {
		return "no leader"
	}
	return fmt.Sprintf("session %d token %d value %q", op.Session, op.Token, op.Value)
}

func checkElection(ops []chaos.Op) chaos.Verdict {
	v := chaos.Verdict{Checker: "election"}
	grants := grantsOf(ops, KindCampaign, KindResign)
	for name, gs := range grants {
		checkGrants(&v, "election", name, gs)
	}

	owner := map[uint64]uint64{} // token -> session
	claim := func(token, session uint64, what string, id int) {
		if s, ok := owner[token]; ok && s != session {
			v.Violate("election token %d led by session %d and by session %d (%s, op %d)", token, s, session, what, id)
			return
		}
		owner[token] = session
	}
	for _, gs := range grants {
		for _, g := range gs {
			claim(g.Token, g.Session, "campaign", g.Op)
		}
	}

	type streamKey struct {
		observer int
		stream   int64
	}
	streams := map[streamKey][]chaos.Op{}
	var order []streamKey
	atIndex := map[uint64]chaos.Op{} // any observation per index
	changes := map[uint64]chaos.Op{} // non-first observations per index
	last := map[int]chaos.Op{}       // per observer, its last observation
	lastToken := map[int]uint64{}    // per observer, the highest leader token seen
	observations := 0
	for _, op := range ops {
		if op.Kind != KindObserve {
			continue
		}
		observations++
		if op.Found {
			claim(op.Token, op.Session, "observation", op.ID)
		}
		if o, ok := atIndex[op.Index]; ok && leaderState(o) != leaderState(op) {
			v.Violate("index %d observed as %s (op %d) and as %s (op %d)", op.Index, leaderState(o), o.ID, leaderState(op), op.ID)
		} else if !ok {
			atIndex[op.Index] = op
		}
		k := streamKey{op.Client, op.Rev}
		if len(streams[k]) == 0 {
			order = append(order, k)
		} else {
			changes[op.Index] = op
		}
		if p, ok := last[op.Client]; ok {
			sameStream := p.Rev == op.Rev
			switch {
			case sameStream && op.Index <= p.Index:
				v.Violate("observer %d stream %d went from index %d to %d (op %d)", op.Client, op.Rev, p.Index, op.Index, op.ID)
			case !sameStream && op.Index < p.Index:
				v.Violate("observer %d went back from index %d to %d on a new stream (op %d)", op.Client, p.Index, op.Index, op.ID)
			}
		}
		if op.Found {
			if op.Token < lastToken[op.Client] {
				v.Violate("observer %d saw leader token %d after token %d (op %d)", op.Client, op.Token, lastToken[op.Client], op.ID)
			}
			lastToken[op.Client] = max(lastToken[op.Client], op.Token)
		}
		last[op.Client] = op
		streams[k] = append(streams[k], op)
	}

	changeIdx := make([]uint64, 0, len(changes))
	for i := range changes {
		changeIdx = append(changeIdx, i)
	}
	sort.Slice(changeIdx, func(i, j int) bool { return changeIdx[i] < changeIdx[j] })
	var grantTokens []uint64
	for _, gs := range grants {
		for _, g := range gs {
			grantTokens = append(grantTokens, g.Token)
		}
	}
	sort.Slice(grantTokens, func(i, j int) bool { return grantTokens[i] < grantTokens[j] })
	for _, k := range order {
		s := streams[k]
		a, b := s[0].Index, s[len(s)-1].Index
		seen := map[uint64]bool{}
		tokens := map[uint64]bool{}
		for _, op := range s {
			seen[op.Index] = true
			if op.Found {
				tokens[op.Token] = true
			}
		}
		for _, i := range changeIdx {
			if i > a && i <= b && !seen[i] {
				c := changes[i]
				v.Violate("observer %d stream %d (indexes %d..%d) missed the change at index %d to %s seen by observer %d (op %d)",
					k.observer, k.stream, a, b, i, leaderState(c), c.Client, c.ID)
			}
		}
		for _, t := range grantTokens {
			if t > a && t <= b && !tokens[t] {
				v.Violate("observer %d stream %d (indexes %d..%d) missed the leadership of token %d (session %d)",
					k.observer, k.stream, a, b, t, owner[t])
			}
		}
	}
	v.Summary = fmt.Sprintf("%d leaderships granted; %d observations on %d streams, %d distinct changes",
		countGrants(grants), observations, len(order), len(changes))
	return v
}
