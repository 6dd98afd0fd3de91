package queuechaos

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

// clockMargin is taken off the earliest time a delivery's visibility can end
// (the receive's call time plus the timeout): the history's clock is
// monotonic, the servers stamp deliveries with the wall clock, and the two
// may drift apart by a few milliseconds over a run.
const clockMargin = 100 * time.Millisecond

// receipt names one delivery: a message (by body) in a queue, and the
// receive_count the delivery carried.
type receipt struct {
	queue, body string
	count       int64
}

// msgKey names a message in a queue.
type msgKey struct{ queue, body string }

// deliv is one recorded delivery with the call and return times of the
// receive that returned it: the delivery took effect between them.
type deliv struct {
	receipt
	id        int // the KindDeliver event
	recv      int // the KindReceive operation
	call, ret time.Duration
	via       string
}

// indexed is a history sorted out for the checkers.
type indexed struct {
	sends    map[string]chaos.Op // body -> its send (the first, if several)
	extra    []chaos.Op          // sends of a body already sent
	receives []chaos.Op          // KindReceive operations
	dels     []deliv             // in history order
	byMsg    map[msgKey][]deliv  // deliveries of each message of each queue
	acks     map[receipt][]chaos.Op
	drains   []chaos.Op
	drops    int
}

func index(ops []chaos.Op) *indexed {
	ix := &indexed{sends: map[string]chaos.Op{}, byMsg: map[msgKey][]deliv{}, acks: map[receipt][]chaos.Op{}}
	recvs := map[int]chaos.Op{}
	for _, op := range ops {
		switch op.Kind {
		case KindSend:
			if _, dup := ix.sends[op.Key]; dup {
				ix.extra = append(ix.extra, op)
			} else {
				ix.sends[op.Key] = op
			}
		case KindReceive:
			recvs[op.ID] = op
			ix.receives = append(ix.receives, op)
		case KindAck:
			r := receipt{op.Value, op.Key, op.Rev}
			ix.acks[r] = append(ix.acks[r], op)
		case KindDrop:
			ix.drops++
		case KindDrainEnd:
			ix.drains = append(ix.drains, op)
		}
	}
	for _, op := range ops {
		if op.Kind != KindDeliver {
			continue
		}
		d := deliv{receipt: receipt{op.Value, op.Key, op.Rev}, id: op.ID, recv: int(op.Index), call: op.Call, ret: op.Return, via: op.Via}
		if r, ok := recvs[int(op.Index)]; ok {
			d.call, d.ret = r.Call, r.Return
		}
		ix.dels = append(ix.dels, d)
		k := msgKey{d.queue, d.body}
		ix.byMsg[k] = append(ix.byMsg[k], d)
	}
	return ix
}

// inFlight returns the interval in which delivery d was certainly in flight
// (received and neither acked nor past its visibility deadline), given the
// visibility timeout vis: from the return of its receive (the delivery took
// effect before) to the earlier of the call of its receive plus vis (less
// clockMargin; the deadline was set from a later time) and the call of the
// first ack of it that may have been applied. The interval is empty when
// end <= start.
func (ix *indexed) inFlight(d deliv, vis time.Duration) (start, end time.Duration) {
	start, end = d.ret, d.call+vis-clockMargin
	for _, a := range ix.acks[d.receipt] {
		if a.Outcome != chaos.Fail {
			end = min(end, a.Call)
		}
	}
	return start, end
}

// TotalQueue is Jepsen's total-queue check over the Queue workload, after its
// drain: every message whose send was acknowledged was received at least once
// (lost must be 0); every message received was sent, by a send invoked before
// it was received (unexpected must be 0); a message whose send failed with an
// error that says it was not applied is never received. Duplicates (messages
// received more than once) are counted and allowed (delivery is at least
// once); recovered counts messages whose send had an unknown outcome and that
// were received, also fine. The drain must have found every queue empty for
// its quiet period, and GetQueue must then report no message left.
type TotalQueue struct {
	Workload *Queue
}

// Name implements chaos.Checker.
func (c *TotalQueue) Name() string { return "total-queue" }

// Check implements chaos.Checker: it drains the queues, then judges the
// history.
func (c *TotalQueue) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	c.Workload.Drain(ctx, env)
	return checkTotalQueue(env.History.Ops())
}

// checkTotalQueue is the pure part of TotalQueue.
func checkTotalQueue(ops []chaos.Op) chaos.Verdict {
	v := chaos.Verdict{Checker: "total-queue"}
	ix := index(ops)
	first := map[string]deliv{} // body -> its earliest delivery (by receive return), any queue
	deliveries := map[string]int{}
	for _, d := range ix.dels {
		deliveries[d.body]++
		if f, ok := first[d.body]; !ok || d.ret < f.ret {
			first[d.body] = d
		}
	}
	var okN, failN, unknownN, lost, recovered, unexpected, duplicated, extra int
	bodies := make([]string, 0, len(ix.sends))
	for b := range ix.sends {
		bodies = append(bodies, b)
	}
	sort.Strings(bodies)
	for _, b := range bodies {
		s := ix.sends[b]
		_, got := first[b]
		switch s.Outcome {
		case chaos.OK:
			okN++
			if !got {
				lost++
				v.Violate("lost: %s sent to %s (op %d, acknowledged at %v) was never received", b, s.Value, s.ID, s.Return)
			}
		case chaos.Fail:
			failN++
			if got {
				v.Violate("%s was received, though its send (op %d) failed with an error that says it was not applied: %s", b, s.ID, s.Err)
			}
		default:
			unknownN++
			if got {
				recovered++
			}
		}
	}
	for _, s := range ix.extra {
		v.Violate("%s was sent twice (ops %d and %d): the workload's bodies must be unique", s.Key, ix.sends[s.Key].ID, s.ID)
	}
	received := make([]string, 0, len(first))
	for b := range first {
		received = append(received, b)
	}
	sort.Strings(received)
	for _, b := range received {
		d := first[b]
		s, sent := ix.sends[b]
		switch {
		case !sent:
			unexpected++
			v.Violate("unexpected: %s received from %s (delivery %d via %s) was never sent", b, d.queue, d.id, d.via)
		case d.ret < s.Call:
			unexpected++
			v.Violate("unexpected: %s received from %s (receive returned at %v) before its send was invoked (%v)", b, d.queue, d.ret, s.Call)
		}
		if n := deliveries[b]; n > 1 {
			duplicated++
			extra += n - 1
		}
	}
	if len(ix.drains) == 0 {
		v.Err = "no drain ended: the checker cannot tell lost messages from messages still queued"
	}
	for _, d := range ix.drains {
		switch {
		case !d.Found:
			v.Violate("the drain of %s did not find it empty for its quiet period before its deadline", d.Value)
		case d.Rev < 0:
			v.Violate("after the drain GetQueue of %s did not answer: %s", d.Value, d.Err)
		case d.Rev > 0:
			v.Violate("after the drain %s still holds %d messages (visible, in flight or delayed)", d.Value, d.Rev)
		}
	}
	v.Summary = fmt.Sprintf("%d sends (%d ok, %d failed, %d unknown); %d messages received in %d deliveries; lost %d, unexpected %d; duplicated %d (%d extra deliveries, %d drops by crashing consumers); recovered %d of %d unknown",
		len(ix.sends), okN, failN, unknownN, len(first), len(ix.dels), lost, unexpected, duplicated, extra, ix.drops, recovered, unknownN)
	return v
}

// Deliveries checks how each message was delivered, per queue, so that
// duplicates come only from redelivery:
//
//   - its deliveries carry distinct receive counts, increasing in real time (a
//     receive that returned before another was invoked has the lower count): a
//     repeated count means a committed delivery was forgotten, or the message
//     was enqueued twice;
//   - it is never delivered while it is certainly in flight from an earlier
//     delivery (see inFlight);
//   - it is never delivered again after an ack of one of its deliveries
//     returned OK.
type Deliveries struct {
	Workload *Queue
}

// Name implements chaos.Checker.
func (c *Deliveries) Name() string { return "deliveries" }

// Check implements chaos.Checker: it drains the queues, then judges the
// history.
func (c *Deliveries) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	c.Workload.Drain(ctx, env)
	return checkDeliveries(env.History.Ops(), c.Workload.config().visibility)
}

// checkDeliveries is the pure part of Deliveries; vis is the visibility
// timeout of every receive.
func checkDeliveries(ops []chaos.Op, vis time.Duration) chaos.Verdict {
	v := chaos.Verdict{Checker: "deliveries"}
	ix := index(ops)
	keys := make([]msgKey, 0, len(ix.byMsg))
	for k := range ix.byMsg {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].queue != keys[j].queue {
			return keys[i].queue < keys[j].queue
		}
		return keys[i].body < keys[j].body
	})
	redelivered := 0
	for _, k := range keys {
		ds := ix.byMsg[k]
		if len(ds) > 1 {
			redelivered++
		}
		for i, a := range ds {
			aStart, aEnd := ix.inFlight(a, vis)
			for _, b := range ds[i+1:] {
				if a.count == b.count {
					v.Violate("%s in %s was delivered twice with receive_count %d (deliveries %d and %d)", k.body, k.queue, a.count, a.id, b.id)
					continue
				}
				switch {
				case a.ret < b.call && a.count > b.count:
					v.Violate("%s in %s: delivery %d (receive_count %d) came after delivery %d (receive_count %d) had returned", k.body, k.queue, b.id, b.count, a.id, a.count)
				case b.ret < a.call && b.count > a.count:
					v.Violate("%s in %s: delivery %d (receive_count %d) came after delivery %d (receive_count %d) had returned", k.body, k.queue, a.id, a.count, b.id, b.count)
				}
				bStart, bEnd := ix.inFlight(b, vis)
				if max(aStart, bStart) < min(aEnd, bEnd) {
					v.Violate("%s in %s was delivered again (delivery %d, receive returned at %v) while certainly in flight from delivery %d (%v–%v)", k.body, k.queue, b.id, b.ret, a.id, aStart, aEnd)
				}
			}
			for _, ack := range ix.acks[a.receipt] {
				if ack.Outcome != chaos.OK {
					continue
				}
				for _, b := range ds {
					if b.call > ack.Return {
						v.Violate("%s in %s was delivered again (delivery %d, receive invoked at %v) after the ack of delivery %d returned OK at %v", k.body, k.queue, b.id, b.call, a.id, ack.Return)
					}
				}
			}
		}
	}
	v.Summary = fmt.Sprintf("%d deliveries of %d messages, %d messages redelivered; visibility %v", len(ix.dels), len(ix.byMsg), redelivered, vis)
	return v
}

// FIFOChecker judges a FIFO queue (the Queue workload with FIFO set), after
// the drain, per message group (the group of a body "<group>/<n>"):
//
//   - order: if the send of x was acknowledged before the send of y (same
//     group) was invoked, x is never delivered after y was: no receive that
//     returned x was invoked after a receive that returned y had returned. (x
//     is the head of the group until it is acked, and once acked it is gone.)
//     In particular the first receipts of a group follow the send order of its
//     acknowledged sends. A send with an unknown outcome orders nothing
//     before it: it may be committed late.
//   - one in flight: no two messages of a group are certainly in flight at
//     once (see inFlight: received, not acked, visibility not expired, judged
//     conservatively from the recorded times);
//   - no receive returns two messages of one group.
type FIFOChecker struct {
	Workload *Queue
}

// Name implements chaos.Checker.
func (c *FIFOChecker) Name() string { return "fifo" }

// Check implements chaos.Checker: it drains the queues, then judges the
// history.
func (c *FIFOChecker) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	c.Workload.Drain(ctx, env)
	cfg := c.Workload.config()
	return checkFIFO(env.History.Ops(), cfg.name, cfg.visibility)
}

// checkFIFO is the pure part of FIFOChecker, for queue queue whose receives
// use visibility timeout vis.
func checkFIFO(ops []chaos.Op, queue string, vis time.Duration) chaos.Verdict {
	v := chaos.Verdict{Checker: "fifo"}
	ix := index(ops)
	type span struct{ firstRet, lastCall time.Duration } // of a message's deliveries
	spans := map[string]span{}
	groups := map[string][]chaos.Op{} // group -> its sends to queue
	var dels []deliv                  // deliveries from queue
	for _, d := range ix.dels {
		if d.queue != queue {
			continue
		}
		dels = append(dels, d)
		s, ok := spans[d.body]
		if !ok {
			s = span{firstRet: d.ret, lastCall: d.call}
		}
		s.firstRet, s.lastCall = min(s.firstRet, d.ret), max(s.lastCall, d.call)
		spans[d.body] = s
	}
	for _, s := range ix.sends {
		if s.Value == queue {
			groups[groupOf(s.Key)] = append(groups[groupOf(s.Key)], s)
		}
	}
	names := make([]string, 0, len(groups))
	for g, sends := range groups {
		names = append(names, g)
		sort.Slice(sends, func(i, j int) bool { return sends[i].Call < sends[j].Call })
	}
	sort.Strings(names)

	// Order. For each y, the acknowledged sends x that returned before y was
	// invoked are a prefix of the acknowledged sends sorted by return; keep the
	// latest delivery call over that prefix.
	for _, g := range names {
		sends := groups[g]
		var acked []chaos.Op
		for _, s := range sends {
			if s.Outcome == chaos.OK {
				acked = append(acked, s)
			}
		}
		sort.Slice(acked, func(i, j int) bool { return acked[i].Return < acked[j].Return })
		latest := make([]string, len(acked)) // latest[i]: body of acked[:i+1] delivered last (by call), "" if none
		for i, x := range acked {
			if i > 0 {
				latest[i] = latest[i-1]
			}
			if sx, ok := spans[x.Key]; ok && (latest[i] == "" || sx.lastCall > spans[latest[i]].lastCall) {
				latest[i] = x.Key
			}
		}
		for _, y := range sends {
			sy, ok := spans[y.Key]
			if !ok {
				continue
			}
			n := sort.Search(len(acked), func(i int) bool { return acked[i].Return >= y.Call })
			if n == 0 || latest[n-1] == "" {
				continue
			}
			if x := latest[n-1]; spans[x].lastCall > sy.firstRet {
				v.Violate("group %s: %s, sent after %s was acknowledged, was delivered (receive returned at %v) before %s was delivered again (receive invoked at %v)",
					g, y.Key, x, sy.firstRet, x, spans[x].lastCall)
			}
		}
	}

	// One in flight per group.
	byGroup := map[string][]deliv{}
	for _, d := range dels {
		byGroup[groupOf(d.body)] = append(byGroup[groupOf(d.body)], d)
	}
	type iv struct {
		d          deliv
		start, end time.Duration
	}
	for _, g := range names {
		var ivs []iv
		for _, d := range byGroup[g] {
			if s, e := ix.inFlight(d, vis); s < e {
				ivs = append(ivs, iv{d, s, e})
			}
		}
		sort.Slice(ivs, func(i, j int) bool { return ivs[i].start < ivs[j].start })
		for i, a := range ivs {
			for _, b := range ivs[i+1:] {
				if b.start >= a.end {
					break
				}
				if b.d.body != a.d.body {
					v.Violate("group %s: %s (delivery %d) and %s (delivery %d) were both in flight during %v–%v",
						g, a.d.body, a.d.id, b.d.body, b.d.id, b.start, min(a.end, b.end))
				}
			}
		}
	}

	// One message per group per receive.
	perRecv := map[int]map[string]string{} // receive -> group -> body
	for _, d := range dels {
		g := groupOf(d.body)
		if perRecv[d.recv] == nil {
			perRecv[d.recv] = map[string]string{}
		}
		if other, ok := perRecv[d.recv][g]; ok {
			v.Violate("group %s: receive %d returned both %s and %s", g, d.recv, other, d.body)
		}
		perRecv[d.recv][g] = d.body
	}
	v.Summary = fmt.Sprintf("%d groups, %d messages delivered in %d deliveries from %s; visibility %v", len(groups), len(spans), len(dels), queue, vis)
	return v
}

// DeadLetter judges the Queue workload with a dead letter queue, after the
// drain: no message is delivered from the source queue more than MaxReceives
// times; every poison message (never acked) whose send was acknowledged, or
// that was received, reaches the dead letter queue after exactly MaxReceives
// deliveries: its deliveries from the source carry receive counts within
// 1..MaxReceives, those not seen are accounted for by receives of unknown
// outcome, and its first delivery from the dead letter queue carries
// MaxReceives+1 (the copy keeps the count, and that delivery adds one). Any
// other message found in the dead letter queue must carry MaxReceives+1 too.
type DeadLetter struct {
	Workload *Queue
}

// Name implements chaos.Checker.
func (c *DeadLetter) Name() string { return "dead-letter" }

// Check implements chaos.Checker: it drains the queues, then judges the
// history.
func (c *DeadLetter) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	c.Workload.Drain(ctx, env)
	cfg := c.Workload.config()
	if cfg.deadLetter == "" {
		return chaos.Verdict{Err: "the workload has no dead letter queue"}
	}
	return checkDeadLetter(env.History.Ops(), cfg.name, cfg.deadLetter, cfg.maxReceives)
}

// checkDeadLetter is the pure part of DeadLetter: source sends messages to
// dlq after maxReceives deliveries.
func checkDeadLetter(ops []chaos.Op, source, dlq string, maxReceives int) chaos.Verdict {
	v := chaos.Verdict{Checker: "dead-letter"}
	ix := index(ops)
	limit := int64(maxReceives)
	bodies := map[string]bool{}
	for k := range ix.byMsg {
		bodies[k.body] = true
	}
	for b, s := range ix.sends {
		if s.Value == source {
			bodies[b] = true
		}
	}
	sorted := make([]string, 0, len(bodies))
	for b := range bodies {
		sorted = append(sorted, b)
	}
	sort.Strings(sorted)
	var poison, arrived, hidden, others int
	for _, b := range sorted {
		src, dead := ix.byMsg[msgKey{source, b}], ix.byMsg[msgKey{dlq, b}]
		counts := map[int64]bool{}
		for _, d := range src {
			counts[d.count] = true
			if d.count > limit || d.count < 1 {
				v.Violate("%s was delivered from %s with receive_count %d (delivery %d); max_receives is %d", b, source, d.count, d.id, limit)
			}
		}
		var firstDead *deliv
		for i := range dead {
			if firstDead == nil || dead[i].ret < firstDead.ret {
				firstDead = &dead[i]
			}
		}
		if firstDead != nil && firstDead.count != limit+1 {
			v.Violate("%s arrived in %s with receive_count %d at its first delivery there (delivery %d), want %d: max_receives deliveries from %s, then this one",
				b, dlq, firstDead.count, firstDead.id, limit+1, source)
		}
		if !isPoison(b) {
			if firstDead != nil {
				others++
			}
			continue
		}
		s, sent := ix.sends[b]
		if !sent || s.Outcome != chaos.OK && len(src) == 0 && len(dead) == 0 {
			continue // never enqueued, as far as anyone can tell
		}
		poison++
		for _, d := range src {
			if acks := ix.acks[d.receipt]; len(acks) > 0 {
				v.Violate("poison message %s was acked in %s (op %d): the workload must never ack it there", b, source, acks[0].ID)
			}
		}
		if firstDead == nil {
			v.Violate("poison message %s (sent at %v, %d deliveries from %s seen) never reached %s", b, s.Call, len(src), source, dlq)
			continue
		}
		arrived++
		missing := int(limit) - len(counts)
		if missing <= 0 {
			continue
		}
		// Deliveries not seen: receives of the source with an unknown outcome,
		// invoked after the send and before the message was received from the
		// dead letter queue, may have made them.
		unknown := 0
		for _, r := range ix.receives {
			if r.Value == source && r.Outcome == chaos.Unknown && r.Call >= s.Call && r.Call < firstDead.ret {
				unknown++
			}
		}
		if unknown < missing {
			v.Violate("poison message %s reached %s after %d deliveries from %s seen (receive counts %v); only %d receives of unknown outcome could account for the %d missing",
				b, dlq, len(counts), source, sortedCounts(counts), unknown, missing)
		} else {
			hidden++
		}
	}
	if poison == 0 {
		v.Err = "no poison message was enqueued: nothing to judge"
	}
	v.Summary = fmt.Sprintf("%d poison messages, %d in %s after exactly %d deliveries (%d with deliveries hidden by receives of unknown outcome); %d other messages dead-lettered",
		poison, arrived, dlq, limit, hidden, others)
	return v
}

// sortedCounts lists the receive counts of m in order, comma-separated.
func sortedCounts(m map[int64]bool) string {
	cs := make([]int64, 0, len(m))
	for c := range m {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = strconv.FormatInt(c, 10)
	}
	return strings.Join(out, ",")
}
