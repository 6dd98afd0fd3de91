package edgechaos

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// never stands for a window that did not end.
const never = time.Duration(1 << 62)

// downWindows returns, per edge, the intervals during which the nemesis
// had it down: from the kill to the cluster's readiness (its heal, or
// never, when it was not recorded).
func downWindows(recs []chaos.FaultRecord) map[string][][2]time.Duration {
	out := map[string][][2]time.Duration{}
	for _, r := range recs {
		if r.Start < 0 {
			continue
		}
		end := r.Ready
		if end < 0 {
			end = r.End
		}
		if end < 0 {
			end = never
		}
		for _, n := range r.Nodes {
			out[n] = append(out[n], [2]time.Duration{r.Start, end})
		}
	}
	return out
}

// overlaps reports whether [from, to] meets any of ws.
func overlaps(ws [][2]time.Duration, from, to time.Duration) bool {
	for _, w := range ws {
		if from <= w[1] && to >= w[0] {
			return true
		}
	}
	return false
}

// originWindows returns the [start, heal] intervals of the origin fault
// key ("down", "slow") from the history's KindOrigin events; a fault never
// healed ends never.
func originWindows(ops []chaos.Op, key string) [][2]time.Duration {
	var out [][2]time.Duration
	for _, o := range ops {
		if o.Kind != KindOrigin || o.Key != key {
			continue
		}
		switch {
		case !o.Delete:
			out = append(out, [2]time.Duration{o.Call, never})
		case len(out) > 0 && out[len(out)-1][1] == never:
			out[len(out)-1][1] = o.Call
		}
	}
	return out
}

// returned is when o returned, never when it did not.
func returned(o chaos.Op) time.Duration {
	if o.Return < 0 {
		return never
	}
	return o.Return
}

// stopped reports whether o ended because the workload stopped.
func stopped(o chaos.Op) bool { return strings.Contains(o.Err, "workload stopped") }

// StaleIfErrorChecker: while the origin is down, an edge that answered a
// /sie object 200 with its content before the origin died, and was not
// killed since, answers every request for it 200 with its content: the
// object's stale-if-error window (60 s) covers the outage (at most
// maxOutage), and the edges' grace (1 s) is too short to do it instead.
// A request is judged when it was sent within the outage and less than
// sieJudged after the edge's last success before it (its copy is then
// less than sieJudged + its max-age and Age stale).
type StaleIfErrorChecker struct{}

// sieJudged bounds the time from an edge's last success with an object
// before the outage to a judged request, well inside the 60 s window
// (the copy was at most a few seconds old then).
const sieJudged = 45 * time.Second

// Name implements chaos.Checker.
func (c *StaleIfErrorChecker) Name() string { return "stale-if-error" }

// Check implements chaos.Checker.
func (c *StaleIfErrorChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	return judgeStale(env.History.Ops(), downWindows(env.Timeline.Records()))
}

func judgeStale(ops []chaos.Op, down map[string][][2]time.Duration) chaos.Verdict {
	v := chaos.Verdict{Checker: "stale-if-error"}
	outages := originWindows(ops, "down")
	if len(outages) == 0 {
		v.Err = "the origin was never down"
		return v
	}
	// Successful /sie answers per edge and path, in return order.
	type key struct{ via, path string }
	good := map[key][]time.Duration{}
	for _, o := range ops {
		if o.Kind == KindGet && isSie(o.Key) && o.Outcome == chaos.OK && o.Rev == 200 && field(o.Value, "ok") == "1" {
			k := key{o.Via, o.Key}
			good[k] = append(good[k], o.Return)
		}
	}
	for _, ts := range good {
		slices.Sort(ts)
	}
	judged, answered, skipped := map[string]int{}, map[string]int{}, 0
	for _, w := range outages {
		for _, o := range ops {
			if o.Kind != KindGet || !isSie(o.Key) || o.Call < w[0] || o.Call > w[1] || stopped(o) {
				continue
			}
			ts := good[key{o.Via, o.Key}]
			i := sort.Search(len(ts), func(i int) bool { return ts[i] >= w[0] })
			if i == 0 {
				skipped++ // never served by this edge before the outage
				continue
			}
			prev := ts[i-1]
			if overlaps(down[o.Via], prev, returned(o)) || o.Call-prev > sieJudged {
				skipped++ // restarted since (its memory tier is gone), or too long ago
				continue
			}
			judged[o.Via]++
			switch {
			case o.Outcome != chaos.OK:
				v.Violate("%s %s sent at %v (origin down since %v, served at %v): no answer: %s", o.Via, o.Key, o.Call, w[0], prev, o.Err)
			case o.Rev != 200:
				v.Violate("%s %s sent at %v (origin down since %v, served at %v): status %d (%s), want 200 within stale-if-error", o.Via, o.Key, o.Call, w[0], prev, o.Rev, o.Value)
			case field(o.Value, "ok") != "1":
				v.Violate("%s %s sent at %v: wrong content: %s", o.Via, o.Key, o.Call, o.Err)
			default:
				answered[o.Via]++
			}
		}
	}
	total := 0
	for _, n := range judged {
		total += n
	}
	if total == 0 {
		v.Err = fmt.Sprintf("no request for a /sie object during the outages %v could be judged", outages)
		return v
	}
	v.Summary = fmt.Sprintf("origin down %v: per edge, stale answers 200 with the content / requests judged: %s; %d requests not judged (edge restarted or never served it before)",
		outages, perEdge(answered, judged), skipped)
	return v
}

// perEdge formats "edge-1 12/12, edge-2 …".
func perEdge(ok, all map[string]int) string {
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d/%d", n, ok[n], all[n])
	}
	return strings.Join(parts, ", ")
}

// PrivacyChecker: no 200 answer to a /priv (private) or /nostore
// (no-store) URL names another client, or another request of the same
// client — a shared cache must store neither, nor hand a coalesced
// follower the leader's answer — and every such answer is the origin's
// answer for that URL.
type PrivacyChecker struct{}

// Name implements chaos.Checker.
func (c *PrivacyChecker) Name() string { return "privacy" }

// Check implements chaos.Checker.
func (c *PrivacyChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	return judgePrivacy(env.History.Ops())
}

func judgePrivacy(ops []chaos.Op) chaos.Verdict {
	v := chaos.Verdict{Checker: "privacy"}
	judged, other := 0, 0
	for _, o := range ops {
		if o.Kind != KindGet || !isPrivate(o.Key) || o.Outcome != chaos.OK {
			continue
		}
		if o.Rev != 200 {
			other++
			continue
		}
		judged++
		rid, got := field(o.Value, "rid"), field(o.Value, "got")
		switch {
		case field(o.Value, "bad") == "1" || got == "":
			v.Violate("%s %s for %s at %v: the body is not the origin's private answer: %s", o.Via, o.Key, rid, o.Call, o.Err)
		case clientOf(got) != clientOf(rid):
			v.Violate("%s %s for %s at %v: answered with the body of ANOTHER CLIENT's request %s (%s)", o.Via, o.Key, rid, o.Call, got, o.Value)
		case got != rid:
			v.Violate("%s %s for %s at %v: answered with the body of an earlier request %s: a shared cache stored it (%s)", o.Via, o.Key, rid, o.Call, got, o.Value)
		}
	}
	if judged == 0 {
		v.Err = "no private or no-store request was answered 200"
		return v
	}
	v.Summary = fmt.Sprintf("%d private/no-store answers 200 judged, each naming its own request (%d other statuses)", judged, other)
	return v
}

// PurgeChecker: an acknowledged purge (PurgeAll returned with no edge
// pending) binds every edge known to have applied it — named applied by
// it or by a later acknowledged purge (edges apply purges in seq order) —
// from that acknowledgement on: a request it answers 200 for an object
// the purge covered holds at least the version the origin had when the
// purge was sent. At the end every edge caught up with the last purge,
// and answers every /pv object, in both encodings, with its latest
// version, whose purge was acknowledged.
type PurgeChecker struct{}

// Name implements chaos.Checker.
func (c *PurgeChecker) Name() string { return "purges" }

// Check implements chaos.Checker.
func (c *PurgeChecker) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	return judgePurges(env.History.Ops(), env.Nodes())
}

// purgeOp is a purge of the history, parsed.
type purgeOp struct {
	op       chaos.Op
	versions map[string]int64
	applied  []string
}

// parsePurge reads a KindPurge op's Value "<path>=<ver>,…|<applied>|<pending>".
func parsePurge(o chaos.Op) (purgeOp, error) {
	p := purgeOp{op: o, versions: map[string]int64{}}
	parts := strings.Split(o.Value, "|")
	if len(parts) != 3 {
		return p, fmt.Errorf("purge op %d: value %q is not versions|applied|pending", o.ID, o.Value)
	}
	for _, pv := range strings.Split(parts[0], ",") {
		path, ver, ok := strings.Cut(pv, "=")
		n, err := strconv.ParseInt(ver, 10, 64)
		if !ok || err != nil {
			return p, fmt.Errorf("purge op %d: bad version %q", o.ID, pv)
		}
		p.versions[path] = n
	}
	p.applied = nodesOf(parts[1])
	return p, nil
}

// level is when an edge is known to have applied purges up to a seq.
type level struct {
	at  time.Duration
	seq int64
}

func judgePurges(ops []chaos.Op, nodes []string) chaos.Verdict {
	v := chaos.Verdict{Checker: "purges"}
	latest, lastAcked := map[string]int64{}, map[string]int64{}
	for _, p := range pvPaths() {
		latest[p], lastAcked[p] = firstVersion, firstVersion
	}
	var acked []purgeOp
	levels := map[string][]level{}
	purges := 0
	for _, o := range ops {
		if o.Kind != KindPurge {
			continue
		}
		purges++
		p, err := parsePurge(o)
		if err != nil {
			v.Err = err.Error()
			return v
		}
		for path, ver := range p.versions {
			latest[path] = max(latest[path], ver)
		}
		if o.Outcome != chaos.OK {
			continue
		}
		acked = append(acked, p)
		for path, ver := range p.versions {
			lastAcked[path] = max(lastAcked[path], ver)
		}
		for _, n := range p.applied {
			levels[n] = append(levels[n], level{o.Return, o.Rev})
		}
	}
	if len(acked) == 0 {
		v.Err = "no purge was acknowledged"
		return v
	}
	for n, ls := range levels {
		sort.Slice(ls, func(i, j int) bool { return ls[i].at < ls[j].at })
		for i := 1; i < len(ls); i++ {
			ls[i].seq = max(ls[i].seq, ls[i-1].seq)
		}
		levels[n] = ls
	}
	applied := func(node string, t time.Duration) int64 {
		ls := levels[node]
		i := sort.Search(len(ls), func(i int) bool { return ls[i].at > t })
		if i == 0 {
			return 0
		}
		return ls[i-1].seq
	}
	reads, bound := 0, 0
	type finalKey struct{ node, path, enc string }
	finals := map[finalKey]chaos.Op{}
	// The last fetch (a MISS) of each edge, object and encoding, in
	// invocation order: what stored the version a HIT serves.
	fetched := map[finalKey]chaos.Op{}
	for _, o := range ops {
		if (o.Kind != KindGet && o.Kind != KindFinal) || !isPv(o.Key) {
			continue
		}
		fk := finalKey{o.Via, o.Key, field(o.Value, "enc")}
		storedBy, hasStore := fetched[fk]
		if o.Outcome == chaos.OK && o.Rev == 200 && field(o.Value, "xc") == "MISS" {
			fetched[fk] = o
		}
		if o.Kind == KindFinal {
			finals[finalKey{o.Via, o.Key, field(o.Value, "enc")}] = o
		}
		if o.Outcome != chaos.OK || o.Rev != 200 {
			continue
		}
		reads++
		if field(o.Value, "bad") == "1" {
			v.Violate("%s %s at %v: corrupt body: %s", o.Via, o.Key, o.Call, o.Err)
			continue
		}
		ver, err := strconv.ParseInt(field(o.Value, "ver"), 10, 64)
		if err != nil {
			v.Violate("%s %s at %v: no version in %q", o.Via, o.Key, o.Call, o.Value)
			continue
		}
		lvl := applied(o.Via, o.Call)
		var by *purgeOp
		for i := range acked {
			p := &acked[i]
			if p.op.Return > o.Call || p.op.Rev > lvl {
				continue
			}
			if want, ok := p.versions[o.Key]; ok && ver < want && (by == nil || want > by.versions[o.Key]) {
				by = p
			}
		}
		if by != nil {
			bound++
			from := ""
			if hasStore && field(o.Value, "xc") != "MISS" {
				from = fmt.Sprintf("; its last MISS there was sent at %v..%v (%s)", storedBy.Call, storedBy.Return, storedBy.Value)
			}
			v.Violate("%s %s sent at %v answered version %d (%s), but purge seq %d (%s, sent at %v, acknowledged at %v, %s applied up to seq %d) was published for version %d%s",
				o.Via, o.Key, o.Call, ver, o.Value, by.op.Rev, by.op.Key, by.op.Call, by.op.Return, o.Via, lvl, by.versions[o.Key], from)
		}
	}
	for _, o := range ops {
		if o.Kind == KindCaughtUp && o.Outcome != chaos.OK {
			v.Violate("%s did not catch up with the purges: %s", o.Via, o.Err)
		}
	}
	nfinal := 0
	for _, path := range pvPaths() {
		if lastAcked[path] < latest[path] {
			v.Violate("%s: the purge after its bump to version %d was never acknowledged (last acknowledged: version %d)", path, latest[path], lastAcked[path])
		}
		for _, n := range nodes {
			for _, enc := range []string{"identity", "gzip"} {
				o, ok := finals[finalKey{n, path, enc}]
				switch {
				case !ok:
					v.Violate("%s %s (%s): no final read", n, path, enc)
				case o.Outcome != chaos.OK || o.Rev != 200:
					v.Violate("%s %s (%s): final read failed: status %d %s", n, path, enc, o.Rev, o.Err)
				case field(o.Value, "ver") != strconv.FormatInt(latest[path], 10):
					v.Violate("%s %s (%s): final read answered %q, want the latest version %d", n, path, enc, o.Value, latest[path])
				default:
					nfinal++
				}
			}
		}
	}
	v.Summary = fmt.Sprintf("%d of %d purges acknowledged; %d answers of /pv objects judged against them; %d final reads with the latest version",
		len(acked), purges, reads, nfinal)
	return v
}
