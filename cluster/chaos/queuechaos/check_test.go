package queuechaos

import (
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// ms is a duration in milliseconds, for compact tables.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// hist builds histories for the checker tests: each method appends one
// operation (ids in order) and returns the builder.
type hist struct{ ops []chaos.Op }

func (h *hist) add(op chaos.Op) int {
	op.ID = len(h.ops)
	h.ops = append(h.ops, op)
	return op.ID
}

func (h *hist) send(body, queue string, call, ret int, out chaos.Outcome) *hist {
	h.add(chaos.Op{Kind: KindSend, Key: body, Value: queue, Call: ms(call), Return: ms(ret), Outcome: out})
	return h
}

// got is a message a receive returned: body and receive count.
type got struct {
	body  string
	count int64
}

func (h *hist) recv(queue string, call, ret int, msgs ...got) *hist {
	r := h.add(chaos.Op{Kind: KindReceive, Value: queue, Call: ms(call), Return: ms(ret), Outcome: chaos.OK, Rev: int64(len(msgs))})
	for _, m := range msgs {
		h.add(chaos.Op{Kind: KindDeliver, Key: m.body, Value: queue, Rev: m.count, Index: uint64(r), Call: ms(ret), Return: ms(ret), Outcome: chaos.OK})
	}
	return h
}

func (h *hist) recvUnknown(queue string, call int) *hist {
	h.add(chaos.Op{Kind: KindReceive, Value: queue, Call: ms(call), Return: ms(call + 4000), Outcome: chaos.Unknown})
	return h
}

func (h *hist) ack(queue, body string, count int64, call, ret int, out chaos.Outcome) *hist {
	h.add(chaos.Op{Kind: KindAck, Key: body, Value: queue, Rev: count, Call: ms(call), Return: ms(ret), Outcome: out})
	return h
}

func (h *hist) drained(queue string, found bool, left int64) *hist {
	h.add(chaos.Op{Kind: KindDrainEnd, Value: queue, Found: found, Rev: left, Call: ms(99000), Return: ms(99000), Outcome: chaos.OK})
	return h
}

// wantVerdict checks a verdict: pass, or exactly n violations the first of
// which contains sub.
func wantVerdict(t *testing.T, v chaos.Verdict, n int, sub string) {
	t.Helper()
	if v.Err != "" {
		t.Fatalf("verdict error %q (summary %s)", v.Err, v.Summary)
	}
	if v.Count != n {
		t.Fatalf("%d violations, want %d: %q (summary %s)", v.Count, n, v.Violations, v.Summary)
	}
	if n > 0 && !strings.Contains(v.Violations[0], sub) {
		t.Fatalf("violation %q does not mention %q", v.Violations[0], sub)
	}
}

func TestCheckTotalQueue(t *testing.T) {
	const q = "q"
	for _, tc := range []struct {
		name    string
		h       *hist
		n       int    // violations
		sub     string // in the first violation
		summary string // in the summary
	}{
		{
			name: "clean",
			h: (&hist{}).send("p1/0", q, 0, 10, chaos.OK).send("p1/1", q, 10, 20, chaos.OK).
				recv(q, 5, 30, got{"p1/0", 1}, got{"p1/1", 1}).ack(q, "p1/0", 1, 31, 35, chaos.OK).ack(q, "p1/1", 1, 31, 35, chaos.OK).
				drained(q, true, 0),
			summary: "lost 0, unexpected 0",
		},
		{
			name:    "ack-ok send never received is lost",
			h:       (&hist{}).send("p1/0", q, 0, 10, chaos.OK).drained(q, true, 0),
			n:       1,
			sub:     "lost: p1/0",
			summary: "lost 1",
		},
		{
			name:    "received body never attempted is unexpected",
			h:       (&hist{}).recv(q, 0, 10, got{"p9/7", 1}).drained(q, true, 0),
			n:       1,
			sub:     "unexpected: p9/7",
			summary: "unexpected 1",
		},
		{
			name:    "received before its send was invoked is unexpected",
			h:       (&hist{}).recv(q, 0, 10, got{"p1/0", 1}).send("p1/0", q, 20, 30, chaos.OK).drained(q, true, 0),
			n:       1,
			sub:     "before its send was invoked",
			summary: "unexpected 1",
		},
		{
			name:    "unknown send received is recovered",
			h:       (&hist{}).send("p1/0", q, 0, 3000, chaos.Unknown).recv(q, 10, 3100, got{"p1/0", 1}).drained(q, true, 0),
			summary: "recovered 1 of 1 unknown",
		},
		{
			name:    "unknown send never received is fine",
			h:       (&hist{}).send("p1/0", q, 0, 3000, chaos.Unknown).drained(q, true, 0),
			summary: "lost 0, unexpected 0",
		},
		{
			name: "a send that never returned counts as unknown",
			h: (&hist{}).add2(chaos.Op{Kind: KindSend, Key: "p1/0", Value: q, Call: 0, Return: -1, Outcome: chaos.Unknown}).
				recv(q, 10, 20, got{"p1/0", 1}).drained(q, true, 0),
			summary: "recovered 1 of 1 unknown",
		},
		{
			name:    "failed send received contradicts the error",
			h:       (&hist{}).send("p1/0", q, 0, 10, chaos.Fail).recv(q, 10, 20, got{"p1/0", 1}).drained(q, true, 0),
			n:       1,
			sub:     "not applied",
			summary: "1 failed",
		},
		{
			name: "duplicates are counted, not violations",
			h: (&hist{}).send("p1/0", q, 0, 10, chaos.OK).recv(q, 10, 20, got{"p1/0", 1}).
				recv(q, 2100, 2110, got{"p1/0", 2}).recv(q, 4200, 4210, got{"p1/0", 3}).drained(q, true, 0),
			summary: "duplicated 1 (2 extra deliveries",
		},
		{
			name:    "drain that never emptied the queue",
			h:       (&hist{}).send("p1/0", q, 0, 10, chaos.OK).recv(q, 10, 20, got{"p1/0", 1}).drained(q, false, 3),
			n:       1,
			sub:     "did not find it empty",
			summary: "lost 0",
		},
		{
			name:    "messages left after the drain",
			h:       (&hist{}).drained(q, true, 2),
			n:       1,
			sub:     "still holds 2 messages",
			summary: "0 sends",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := checkTotalQueue(tc.h.ops)
			wantVerdict(t, v, tc.n, tc.sub)
			if !strings.Contains(v.Summary, tc.summary) {
				t.Fatalf("summary %q does not mention %q", v.Summary, tc.summary)
			}
		})
	}
	if v := checkTotalQueue((&hist{}).send("p1/0", q, 0, 10, chaos.OK).ops); v.Err == "" {
		t.Fatalf("no drain: verdict %+v, want an error", v)
	}
}

// add2 is add for building a chain.
func (h *hist) add2(op chaos.Op) *hist {
	h.add(op)
	return h
}

func TestCheckDeliveries(t *testing.T) {
	const q = "q"
	vis := 2 * time.Second
	base := func() *hist { return (&hist{}).send("p1/0", q, 0, 10, chaos.OK) }
	for _, tc := range []struct {
		name string
		h    *hist
		n    int
		sub  string
	}{
		{
			name: "redelivery after the visibility timeout",
			h:    base().recv(q, 100, 110, got{"p1/0", 1}).recv(q, 2200, 2210, got{"p1/0", 2}).ack(q, "p1/0", 2, 2220, 2230, chaos.OK),
		},
		{
			name: "redelivery after an ack of unknown outcome",
			h: base().recv(q, 100, 110, got{"p1/0", 1}).ack(q, "p1/0", 1, 120, 3120, chaos.Unknown).
				recv(q, 2200, 2210, got{"p1/0", 2}),
		},
		{
			name: "redelivery right after an ack that may have failed",
			h: base().recv(q, 100, 110, got{"p1/0", 1}).ack(q, "p1/0", 1, 120, 130, chaos.Unknown).
				recv(q, 140, 150, got{"p1/0", 2}),
		},
		{
			name: "redelivered while in flight",
			h:    base().recv(q, 100, 110, got{"p1/0", 1}).recv(q, 500, 510, got{"p1/0", 2}),
			n:    1,
			sub:  "while certainly in flight",
		},
		{
			name: "a failed ack does not end the flight",
			h: base().recv(q, 100, 110, got{"p1/0", 1}).ack(q, "p1/0", 1, 120, 130, chaos.Fail).
				recv(q, 500, 510, got{"p1/0", 2}),
			n:   1,
			sub: "while certainly in flight",
		},
		{
			name: "same receive count twice",
			h:    base().recv(q, 100, 110, got{"p1/0", 1}).recv(q, 2200, 2210, got{"p1/0", 1}),
			n:    1,
			sub:  "twice with receive_count 1",
		},
		{
			name: "receive count going back",
			h:    base().recv(q, 100, 110, got{"p1/0", 3}).recv(q, 2200, 2210, got{"p1/0", 2}),
			n:    1,
			sub:  "came after",
		},
		{
			name: "concurrent receives need no order",
			h:    base().recv(q, 100, 3000, got{"p1/0", 3}).recv(q, 200, 2900, got{"p1/0", 2}),
		},
		{
			name: "delivered again after an acknowledged ack",
			h: base().recv(q, 100, 110, got{"p1/0", 1}).ack(q, "p1/0", 1, 120, 130, chaos.OK).
				recv(q, 2200, 2210, got{"p1/0", 2}),
			n:   1,
			sub: "after the ack of delivery",
		},
		{
			name: "queues are judged apart",
			h:    base().recv(q, 100, 110, got{"p1/0", 3}).recv("dlq", 150, 160, got{"p1/0", 3}),
		},
	} {
		t.Run(tc.name, func(t *testing.T) { wantVerdict(t, checkDeliveries(tc.h.ops, vis), tc.n, tc.sub) })
	}
}

func TestCheckFIFO(t *testing.T) {
	const q = "f"
	vis := 2 * time.Second
	// Group p1 sends a, b, c in order (each acknowledged before the next);
	// group p2 sends x.
	sends := func() *hist {
		return (&hist{}).send("p1/a", q, 0, 10, chaos.OK).send("p1/b", q, 20, 30, chaos.OK).
			send("p1/c", q, 40, 50, chaos.OK).send("p2/x", q, 0, 10, chaos.OK)
	}
	for _, tc := range []struct {
		name string
		h    *hist
		n    int
		sub  string
	}{
		{
			name: "in order, one in flight per group, groups in parallel",
			h: sends().recv(q, 100, 110, got{"p1/a", 1}, got{"p2/x", 1}).ack(q, "p1/a", 1, 120, 130, chaos.OK).
				recv(q, 140, 150, got{"p1/b", 1}).ack(q, "p1/b", 1, 160, 170, chaos.OK).
				recv(q, 180, 190, got{"p1/c", 1}).ack(q, "p1/c", 1, 200, 210, chaos.OK),
		},
		{
			name: "a dropped head comes back before the rest of its group",
			h: sends().recv(q, 100, 110, got{"p1/a", 1}).
				recv(q, 2200, 2210, got{"p1/a", 2}).ack(q, "p1/a", 2, 2220, 2230, chaos.OK).
				recv(q, 2240, 2250, got{"p1/b", 1}).ack(q, "p1/b", 1, 2260, 2270, chaos.OK),
		},
		{
			name: "out of order",
			h: sends().recv(q, 100, 110, got{"p1/b", 1}).ack(q, "p1/b", 1, 120, 130, chaos.OK).
				recv(q, 140, 150, got{"p1/a", 1}).ack(q, "p1/a", 1, 160, 170, chaos.OK),
			n:   1,
			sub: "p1/b, sent after p1/a was acknowledged, was delivered",
		},
		{
			name: "an earlier message delivered again after a later one",
			h: sends().recv(q, 100, 110, got{"p1/a", 1}).ack(q, "p1/a", 1, 120, 130, chaos.Unknown).
				recv(q, 140, 150, got{"p1/b", 1}).ack(q, "p1/b", 1, 160, 170, chaos.OK).
				recv(q, 2200, 2210, got{"p1/a", 2}),
			n:   1,
			sub: "before p1/a was delivered again",
		},
		{
			name: "an unknown send orders nothing",
			h: (&hist{}).send("p1/a", q, 0, 3000, chaos.Unknown).send("p1/b", q, 3010, 3020, chaos.OK).
				recv(q, 3100, 3110, got{"p1/b", 1}).ack(q, "p1/b", 1, 3120, 3130, chaos.OK).
				recv(q, 3140, 3150, got{"p1/a", 1}),
		},
		{
			name: "two of a group in flight",
			h: sends().recv(q, 100, 110, got{"p1/a", 1}).
				recv(q, 140, 150, got{"p1/b", 1}).ack(q, "p1/b", 1, 160, 170, chaos.OK),
			n:   1,
			sub: "were both in flight",
		},
		{
			name: "the next of a group after the head's visibility expired",
			h: sends().recv(q, 100, 110, got{"p1/a", 1}).ack(q, "p1/a", 1, 2300, 2310, chaos.Fail).
				recv(q, 2200, 2210, got{"p1/a", 2}).ack(q, "p1/a", 2, 2220, 2230, chaos.OK).
				recv(q, 2240, 2250, got{"p1/b", 1}),
		},
		{
			name: "two of a group in one receive",
			h:    sends().recv(q, 100, 110, got{"p1/a", 1}, got{"p1/b", 1}),
			n:    2,
			sub:  "were both in flight",
		},
	} {
		t.Run(tc.name, func(t *testing.T) { wantVerdict(t, checkFIFO(tc.h.ops, q, vis), tc.n, tc.sub) })
	}
}

func TestCheckDeadLetter(t *testing.T) {
	const src, dlq = "q", "q-dlq"
	// poison/0 is delivered 3 times from src, 2.1 s apart, then once from the
	// dead letter queue.
	clean := func() *hist {
		return (&hist{}).send("poison/0", src, 0, 10, chaos.OK).
			recv(src, 100, 110, got{"poison/0", 1}).recv(src, 2200, 2210, got{"poison/0", 2}).
			recv(src, 4300, 4310, got{"poison/0", 3}).
			recv(dlq, 6400, 6410, got{"poison/0", 4}).ack(dlq, "poison/0", 4, 6420, 6430, chaos.OK)
	}
	for _, tc := range []struct {
		name string
		h    *hist
		n    int
		sub  string
	}{
		{name: "exactly max_receives deliveries", h: clean()},
		{
			name: "a delivery hidden by a receive of unknown outcome",
			h: (&hist{}).send("poison/0", src, 0, 10, chaos.OK).
				recvUnknown(src, 100).recv(src, 2200, 2210, got{"poison/0", 2}).recv(src, 4300, 4310, got{"poison/0", 3}).
				recv(dlq, 6400, 6410, got{"poison/0", 4}),
		},
		{
			name: "a delivery missing",
			h: (&hist{}).send("poison/0", src, 0, 10, chaos.OK).
				recv(src, 2200, 2210, got{"poison/0", 1}).recv(src, 4300, 4310, got{"poison/0", 2}).
				recv(dlq, 6400, 6410, got{"poison/0", 4}),
			n:   1,
			sub: "after 2 deliveries from q seen (receive counts 1,2)",
		},
		{
			name: "delivered once too often",
			h:    clean().recv(src, 6500, 6510, got{"poison/0", 4}),
			n:    1,
			sub:  "receive_count 4",
		},
		{
			name: "never reached the dead letter queue",
			h: (&hist{}).send("poison/0", src, 0, 10, chaos.OK).
				recv(src, 100, 110, got{"poison/0", 1}),
			n:   1,
			sub: "never reached q-dlq",
		},
		{
			name: "dead-lettered too early",
			h: (&hist{}).send("poison/0", src, 0, 10, chaos.OK).
				recv(src, 100, 110, got{"poison/0", 1}).recv(src, 2200, 2210, got{"poison/0", 2}).
				recv(dlq, 4300, 4310, got{"poison/0", 3}),
			n:   2,
			sub: "with receive_count 3 at its first delivery there",
		},
		{
			name: "an ordinary message dead-lettered with the right count",
			h: clean().send("p1/0", src, 0, 10, chaos.OK).
				recv(src, 100, 110, got{"p1/0", 1}).recv(src, 2200, 2210, got{"p1/0", 2}).recv(src, 4300, 4310, got{"p1/0", 3}).
				recv(dlq, 6400, 6410, got{"p1/0", 4}),
		},
		{
			name: "a poison send of unknown outcome never seen is not judged",
			h:    clean().send("poison/1", src, 20, 3000, chaos.Unknown),
		},
	} {
		t.Run(tc.name, func(t *testing.T) { wantVerdict(t, checkDeadLetter(tc.h.ops, src, dlq, 3), tc.n, tc.sub) })
	}
	if v := checkDeadLetter((&hist{}).send("p1/0", src, 0, 10, chaos.OK).ops, src, dlq, 3); v.Err == "" {
		t.Fatalf("no poison message: verdict %+v, want an error", v)
	}
}
