package streamchaos

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"cairn.dev/cairn/cluster/chaos"
)

// pos is a position in the topic: a partition and an offset.
type pos struct {
	part   string
	offset int64
}

func (p pos) String() string { return p.part + "/" + strconv.FormatInt(p.offset, 10) }

// indexed is a history sorted out for the checkers.
type indexed struct {
	sends     []chaos.Op            // KindSend, in id order
	sendOf    map[string]chaos.Op   // value -> its send
	dups      []chaos.Op            // sends of a value already sent
	delivers  []chaos.Op            // KindDeliver, in id order
	reads     map[string][]chaos.Op // partition -> KindRead events
	readEnds  map[string]chaos.Op   // partition -> KindReadEnd
	commits   []chaos.Op            // KindCommit
	committed map[string]chaos.Op   // partition -> KindCommitted
	parts     map[string]bool       // every partition mentioned
}

func index(ops []chaos.Op) *indexed {
	sorted := append([]chaos.Op(nil), ops...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	ix := &indexed{sendOf: map[string]chaos.Op{}, reads: map[string][]chaos.Op{}, readEnds: map[string]chaos.Op{},
		committed: map[string]chaos.Op{}, parts: map[string]bool{}}
	for _, op := range sorted {
		switch op.Kind {
		case KindSend:
			ix.sends = append(ix.sends, op)
			if _, dup := ix.sendOf[op.Value]; dup {
				ix.dups = append(ix.dups, op)
			} else {
				ix.sendOf[op.Value] = op
			}
		case KindDeliver:
			ix.delivers = append(ix.delivers, op)
		case KindRead:
			ix.reads[op.Key] = append(ix.reads[op.Key], op)
		case KindReadEnd:
			ix.readEnds[op.Key] = op
		case KindCommit:
			ix.commits = append(ix.commits, op)
		case KindCommitted:
			ix.committed[op.Key] = op
		default:
			continue
		}
		ix.parts[op.Key] = true
	}
	return ix
}

// partitions returns the partitions of the history in numeric order.
func (ix *indexed) partitions() []string {
	out := make([]string, 0, len(ix.parts))
	for p := range ix.parts {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.Atoi(out[i])
		b, _ := strconv.Atoi(out[j])
		return a < b
	})
	return out
}

// LogChecker is the log half of Jepsen's Kafka check, after the drain:
//
//   - lost writes: every acknowledged send is in the final read, at the
//     offset its ack named (an offset at or past the partition's high
//     watermark, or another value there, is a lost write);
//   - inconsistent offsets: no (partition, offset) carries two values across
//     every acknowledged send, every poll of the group and the final read;
//   - non-monotonic sends: the acknowledged sends of one producer to one
//     partition get increasing offsets in the order it sent them (it sends
//     one call at a time);
//   - unexpected records: every value polled or read was sent, by a send
//     invoked before it was seen that did not fail with an error saying it
//     was not applied;
//   - unseen records: every acknowledged send was delivered to the group by
//     some poll, once the group has drained every partition to its high
//     watermark.
//
// Duplicates (a value at two offsets of the final read, or delivered at two
// offsets) are counted, not violations: the client's idempotent producer
// should leave none, but a value whose send had an unknown outcome is never
// sent again by the workload.
type LogChecker struct {
	Workload *Stream
}

// Name implements chaos.Checker.
func (c *LogChecker) Name() string { return "log" }

// Check implements chaos.Checker: it drains, then judges the history.
func (c *LogChecker) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	c.Workload.Drain(ctx, env)
	return checkLog(env.History.Ops())
}

// checkLog is the pure part of LogChecker.
func checkLog(ops []chaos.Op) chaos.Verdict {
	v := chaos.Verdict{Checker: "log"}
	ix := index(ops)
	var errs []string
	final := map[pos]string{} // the final read
	for _, p := range ix.partitions() {
		e, ok := ix.readEnds[p]
		switch {
		case !ok:
			if len(ix.reads[p]) > 0 || hasSendTo(ix, p) {
				errs = append(errs, fmt.Sprintf("partition %s was not read at the end", p))
			}
		case !e.Found:
			errs = append(errs, fmt.Sprintf("the final read of partition %s did not reach the high watermark %d: %s", p, e.Rev, e.Err))
		}
		for _, r := range ix.reads[p] {
			final[pos{p, r.Rev}] = r.Value
		}
	}

	// Lost writes and non-monotonic sends.
	var okN, failN, unknownN, lost, nonmono int
	type prodPart struct {
		client int
		part   string
	}
	lastOffset := map[prodPart]chaos.Op{}
	for _, s := range ix.sends {
		switch s.Outcome {
		case chaos.OK:
			okN++
		case chaos.Fail:
			failN++
			continue
		default:
			unknownN++
			continue
		}
		at := pos{s.Key, s.Rev}
		if e, ok := ix.readEnds[s.Key]; ok && e.Found {
			switch got, read := final[at]; {
			case s.Rev >= e.Rev:
				lost++
				v.Violate("lost write: %s acknowledged at %v (op %d, returned %v), at or past the final high watermark %d", s.Value, at, s.ID, s.Return, e.Rev)
			case !read:
				lost++
				v.Violate("lost write: %s acknowledged at %v (op %d, returned %v); the final read has no record there", s.Value, at, s.ID, s.Return)
			case got != s.Value:
				lost++
				v.Violate("lost write: %s acknowledged at %v (op %d, returned %v); the final read has %s there", s.Value, at, s.ID, s.Return, got)
			}
		}
		k := prodPart{s.Client, s.Key}
		if prev, ok := lastOffset[k]; ok && s.Rev <= prev.Rev {
			nonmono++
			v.Violate("non-monotonic send: producer %d sent %s to partition %s after %s, and its ack named offset %d, not after %d (ops %d, %d)",
				s.Client, s.Value, s.Key, prev.Value, s.Rev, prev.Rev, prev.ID, s.ID)
		}
		lastOffset[k] = s
	}
	for _, s := range ix.dups {
		v.Violate("value %s was sent twice (ops %d and %d): the workload's values must be unique", s.Value, ix.sendOf[s.Value].ID, s.ID)
	}

	// Inconsistent offsets: every value seen at each position.
	values := map[pos]map[string]string{} // position -> value -> where first seen
	see := func(at pos, val, where string) {
		m := values[at]
		if m == nil {
			m = map[string]string{}
			values[at] = m
		}
		if _, ok := m[val]; !ok {
			m[val] = where
		}
	}
	for _, s := range ix.sends {
		if s.Outcome == chaos.OK {
			see(pos{s.Key, s.Rev}, s.Value, fmt.Sprintf("ack of op %d", s.ID))
		}
	}
	for _, d := range ix.delivers {
		see(pos{d.Key, d.Rev}, d.Value, fmt.Sprintf("poll by client %d (event %d)", d.Client, d.ID))
	}
	for at, val := range final {
		see(at, val, "final read")
	}
	positions := make([]pos, 0, len(values))
	for at, m := range values {
		if len(m) > 1 {
			positions = append(positions, at)
		}
	}
	sortPos(positions)
	for _, at := range positions {
		var seen []string
		for val, where := range values[at] {
			seen = append(seen, val+" ("+where+")")
		}
		sort.Strings(seen)
		v.Violate("inconsistent offset %v: %s", at, strings.Join(seen, ", "))
	}

	// Unexpected records, and where each value was seen.
	offsetsOf := map[string]map[pos]bool{} // value -> positions seen at
	seenAt := func(val string, at pos) {
		if offsetsOf[val] == nil {
			offsetsOf[val] = map[pos]bool{}
		}
		offsetsOf[val][at] = true
	}
	unexpected := 0
	check := func(op chaos.Op, what string) {
		s, sent := ix.sendOf[op.Value]
		switch {
		case !sent:
			unexpected++
			v.Violate("unexpected: %s %s at %s/%d was never sent", what, op.Value, op.Key, op.Rev)
		case s.Outcome == chaos.Fail:
			unexpected++
			v.Violate("unexpected: %s %s at %s/%d, though its send (op %d) failed with an error that says it was not applied: %s", what, op.Value, op.Key, op.Rev, s.ID, s.Err)
		case op.Call < s.Call:
			unexpected++
			v.Violate("unexpected: %s %s at %s/%d at %v, before its send was invoked (%v)", what, op.Value, op.Key, op.Rev, op.Call, s.Call)
		}
	}
	delivered := map[string]bool{}
	for _, d := range ix.delivers {
		check(d, "polled")
		delivered[d.Value] = true
		seenAt(d.Value, pos{d.Key, d.Rev})
	}
	for _, p := range ix.partitions() {
		for _, r := range ix.reads[p] {
			check(r, "read")
			seenAt(r.Value, pos{r.Key, r.Rev})
		}
	}
	duplicated := 0
	for _, ps := range offsetsOf {
		if len(ps) > 1 {
			duplicated++
		}
	}

	// Unseen: acknowledged, never delivered to the group.
	unseen := 0
	drainedAll := len(ix.committed) > 0
	for _, c := range ix.committed {
		drainedAll = drainedAll && c.Found
	}
	if !drainedAll {
		errs = append(errs, "the group did not drain every partition to its high watermark: unseen records cannot be told")
	} else {
		for _, s := range ix.sends {
			if s.Outcome == chaos.OK && !delivered[s.Value] {
				unseen++
				v.Violate("unseen: %s acknowledged at %s/%d (op %d) was never delivered to the group", s.Value, s.Key, s.Rev, s.ID)
			}
		}
	}
	recovered := 0
	for _, s := range ix.sends {
		if s.Outcome == chaos.Unknown && offsetsOf[s.Value] != nil {
			recovered++
		}
	}
	if len(errs) > 0 {
		v.Err = strings.Join(errs, "; ")
	}
	v.Summary = fmt.Sprintf("%d sends (%d acked, %d failed, %d unknown, %d of those seen); %d records in the final read, %d deliveries; lost %d, inconsistent offsets %d, non-monotonic sends %d, unexpected %d, unseen %d; duplicated %d",
		len(ix.sends), okN, failN, unknownN, recovered, len(final), len(ix.delivers), lost, len(positions), nonmono, unexpected, unseen, duplicated)
	return v
}

// hasSendTo reports whether an acknowledged send went to partition p.
func hasSendTo(ix *indexed, p string) bool {
	for _, s := range ix.sends {
		if s.Key == p && s.Outcome == chaos.OK {
			return true
		}
	}
	return false
}

func sortPos(ps []pos) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].part != ps[j].part {
			a, _ := strconv.Atoi(ps[i].part)
			b, _ := strconv.Atoi(ps[j].part)
			return a < b
		}
		return ps[i].offset < ps[j].offset
	})
}

// GroupChecker is the consumer-group half of Jepsen's Kafka check, after the
// drain:
//
//   - non-monotonic polls: within one epoch of a member (from a join to its
//     next join: the positions the join set), its successive polls of a
//     partition never return an offset at or below one they returned
//     before;
//   - poll skips: within one epoch, a member's successive polls of a
//     partition return consecutive offsets (streamd's offsets are dense: no
//     transactions, no compaction on the workload's topic), so a member
//     never jumps over a record;
//   - group skips: for each partition, the offsets delivered to the group
//     (by any member, in any epoch) cover [0, C) without a gap, where C is
//     the highest offset the group committed (acknowledged commits, and the
//     committed offset the drain found): a member that resumes after a
//     rebalance at the committed offset never jumps over records that no
//     member was given. The group starts at the log start, which is 0 (the
//     topic has no retention within a run);
//   - the group never commits past the partition's final high watermark.
//
// Rewinds (a member's new epoch starting below where its last one got, back
// to the committed offset) are counted, not violations: delivery is at least
// once.
type GroupChecker struct {
	Workload *Stream
}

// Name implements chaos.Checker.
func (c *GroupChecker) Name() string { return "group" }

// Check implements chaos.Checker: it drains, then judges the history.
func (c *GroupChecker) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	c.Workload.Drain(ctx, env)
	return checkGroup(env.History.Ops())
}

// checkGroup is the pure part of GroupChecker.
func checkGroup(ops []chaos.Op) chaos.Verdict {
	v := chaos.Verdict{Checker: "group"}
	ix := index(ops)
	type epochPart struct {
		client int
		epoch  uint64
		part   string
	}
	type clientPart struct {
		client int
		part   string
	}
	last := map[epochPart]chaos.Op{}
	lastEpoch := map[clientPart]chaos.Op{} // a member's last delivery of a partition, any epoch
	delivered := map[string]map[int64]bool{}
	var nonmono, skips, rewinds int
	for _, d := range ix.delivers {
		if delivered[d.Key] == nil {
			delivered[d.Key] = map[int64]bool{}
		}
		delivered[d.Key][d.Rev] = true
		cp := clientPart{d.Client, d.Key}
		if prev, ok := lastEpoch[cp]; ok && prev.Session != d.Session && d.Rev <= prev.Rev {
			rewinds++
		}
		lastEpoch[cp] = d
		k := epochPart{d.Client, d.Session, d.Key}
		prev, ok := last[k]
		last[k] = d
		if !ok {
			continue
		}
		switch {
		case d.Rev <= prev.Rev:
			nonmono++
			v.Violate("non-monotonic poll: client %d (epoch %d) polled %s/%d (%s, poll op %d) after %s/%d (%s, poll op %d)",
				d.Client, d.Session, d.Key, d.Rev, d.Value, d.Index, prev.Key, prev.Rev, prev.Value, prev.Index)
		case d.Rev > prev.Rev+1:
			skips++
			v.Violate("poll skip: client %d (epoch %d) polled %s/%d (poll op %d) right after %s/%d (poll op %d), skipping offsets %d..%d",
				d.Client, d.Session, d.Key, d.Rev, d.Index, prev.Key, prev.Rev, prev.Index, prev.Rev+1, d.Rev-1)
		}
	}

	// The group's highest commit of each partition.
	high := map[string]int64{}
	from := map[string]string{}
	for _, c := range ix.commits {
		if c.Outcome == chaos.OK && c.Rev > high[c.Key] {
			high[c.Key], from[c.Key] = c.Rev, fmt.Sprintf("commit op %d by client %d", c.ID, c.Client)
		}
	}
	if len(ix.committed) == 0 {
		v.Err = "the drain recorded no committed offsets"
	}
	for p, c := range ix.committed {
		if c.Rev > high[p] {
			high[p], from[p] = c.Rev, "the group's committed offset after the drain"
		}
	}
	groupSkips := 0
	for _, p := range ix.partitions() {
		c := high[p]
		var gaps []string
		for o := int64(0); o < c; o++ {
			if delivered[p][o] {
				continue
			}
			end := o
			for end+1 < c && !delivered[p][end+1] {
				end++
			}
			gaps = append(gaps, fmt.Sprintf("%d..%d", o, end))
			o = end
		}
		if len(gaps) > 0 {
			groupSkips += len(gaps)
			v.Violate("group skip: partition %s: offsets %s were never delivered to the group, which committed %d (%s)", p, strings.Join(gaps, ", "), c, from[p])
		}
		if e, ok := ix.readEnds[p]; ok && e.Found && c > e.Rev {
			v.Violate("partition %s: the group committed %d (%s), past the final high watermark %d", p, c, from[p], e.Rev)
		}
	}
	members := map[int]bool{}
	for _, d := range ix.delivers {
		members[d.Client] = true
	}
	v.Summary = fmt.Sprintf("%d deliveries to %d members; committed %s; non-monotonic polls %d, poll skips %d, group skips %d; rewinds after a rejoin %d",
		len(ix.delivers), len(members), committedSummary(ix, high), nonmono, skips, groupSkips, rewinds)
	return v
}

// committedSummary lists the highest commit of each partition.
func committedSummary(ix *indexed, high map[string]int64) string {
	var parts []string
	for _, p := range ix.partitions() {
		parts = append(parts, fmt.Sprintf("%s:%d", p, high[p]))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
