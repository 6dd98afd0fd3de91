package streamchaos

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

// send records a send by producer client of value to partition p, acked at
// offset off when out is OK.
func (h *hist) send(client int, p, value string, off int64, call int, out chaos.Outcome) *hist {
	h.add(chaos.Op{Client: client, Kind: KindSend, Key: p, Value: value, Rev: off, Call: ms(call), Return: ms(call + 5), Outcome: out})
	return h
}

// rec is a record a poll returned or the final read found.
type rec struct {
	p     string
	off   int64
	value string
}

// poll records a poll by consumer client in epoch and its records.
func (h *hist) poll(client int, epoch uint64, call int, recs ...rec) *hist {
	id := h.add(chaos.Op{Client: client, Kind: KindPoll, Session: epoch, Rev: int64(len(recs)), Call: ms(call), Return: ms(call + 5), Outcome: chaos.OK})
	for _, r := range recs {
		h.add(chaos.Op{Client: client, Kind: KindDeliver, Key: r.p, Value: r.value, Rev: r.off, Index: uint64(id), Session: epoch,
			Call: ms(call + 5), Return: ms(call + 5), Outcome: chaos.OK})
	}
	return h
}

func (h *hist) commit(client int, p string, off int64, call int, out chaos.Outcome) *hist {
	h.add(chaos.Op{Client: client, Kind: KindCommit, Key: p, Rev: off, Call: ms(call), Return: ms(call + 5), Outcome: out})
	return h
}

// committed records the group's committed offset of p after the drain.
func (h *hist) committed(p string, off int64, drained bool) *hist {
	h.add(chaos.Op{Client: 1900, Kind: KindCommitted, Key: p, Rev: off, Found: drained, Call: ms(90000), Return: ms(90000), Outcome: chaos.OK})
	return h
}

// read records the final read of partition p: its records, then its end at
// high watermark hw.
func (h *hist) read(p string, hw int64, recs ...rec) *hist {
	for _, r := range recs {
		h.add(chaos.Op{Client: 1901, Kind: KindRead, Key: p, Value: r.value, Rev: r.off, Call: ms(95000), Return: ms(95000), Outcome: chaos.OK})
	}
	h.add(chaos.Op{Client: 1901, Kind: KindReadEnd, Key: p, Rev: hw, Found: true, Call: ms(95000), Return: ms(95000), Outcome: chaos.OK})
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

// clean is a history without anomalies: two producers, two partitions, two
// members (the second takes partition 1 over after a rebalance, from the
// committed offset), the drain and the final read.
func clean() *hist {
	return (&hist{}).
		send(1, "0", "a", 0, 0, chaos.OK).send(1, "0", "b", 1, 10, chaos.OK).send(2, "1", "c", 0, 0, chaos.OK).
		send(2, "1", "d", 1, 10, chaos.OK).send(2, "1", "x", 0, 20, chaos.Unknown).
		poll(100, 1, 30, rec{"0", 0, "a"}, rec{"1", 0, "c"}).commit(100, "0", 1, 40, chaos.OK).commit(100, "1", 1, 40, chaos.OK).
		poll(100, 1, 50, rec{"0", 1, "b"}).commit(100, "0", 2, 60, chaos.OK).
		poll(101, 1, 70, rec{"1", 1, "d"}).commit(101, "1", 2, 80, chaos.OK).
		committed("0", 2, true).committed("1", 2, true).
		read("0", 2, rec{"0", 0, "a"}, rec{"0", 1, "b"}).read("1", 2, rec{"1", 0, "c"}, rec{"1", 1, "d"})
}

func TestCheckLog(t *testing.T) {
	for _, tc := range []struct {
		name    string
		h       *hist
		n       int    // violations
		sub     string // in the first violation
		summary string // in the summary
	}{
		{name: "clean", h: clean(), summary: "lost 0, inconsistent offsets 0, non-monotonic sends 0, unexpected 0, unseen 0; duplicated 0"},
		{
			name: "acked record missing from the final read is lost",
			h: (&hist{}).send(1, "0", "a", 0, 0, chaos.OK).send(1, "0", "b", 1, 10, chaos.OK).
				poll(100, 1, 30, rec{"0", 0, "a"}, rec{"0", 1, "b"}).committed("0", 2, true).
				read("0", 1, rec{"0", 0, "a"}),
			n: 1, sub: "lost write: b acknowledged at 0/1", summary: "lost 1",
		},
		{
			name: "acked offset holding another value is lost and inconsistent",
			h: (&hist{}).send(1, "0", "a", 0, 0, chaos.OK).send(2, "0", "z", 0, 1, chaos.Unknown).
				poll(100, 1, 30, rec{"0", 0, "z"}).committed("0", 1, true).
				read("0", 1, rec{"0", 0, "z"}),
			// lost a, inconsistent 0/0 (a and z), unseen a
			n: 3, sub: "the final read has z there", summary: "lost 1, inconsistent offsets 1",
		},
		{
			name: "two polls disagreeing about an offset are inconsistent",
			h: (&hist{}).send(1, "0", "a", 0, 0, chaos.OK).send(2, "0", "z", -1, 1, chaos.Unknown).
				poll(100, 1, 30, rec{"0", 0, "a"}).poll(101, 1, 30, rec{"0", 0, "z"}).committed("0", 1, true).
				read("0", 1, rec{"0", 0, "a"}),
			n: 1, sub: "inconsistent offset 0/0: a (ack of op 0), z (poll by client 101", summary: "inconsistent offsets 1",
		},
		{
			name: "a producer's later send acked at a lower offset is non-monotonic",
			h: (&hist{}).send(1, "0", "a", 1, 0, chaos.OK).send(1, "0", "b", 0, 10, chaos.OK).
				poll(100, 1, 30, rec{"0", 0, "b"}, rec{"0", 1, "a"}).committed("0", 2, true).
				read("0", 2, rec{"0", 0, "b"}, rec{"0", 1, "a"}),
			n: 1, sub: "non-monotonic send: producer 1 sent b to partition 0 after a", summary: "non-monotonic sends 1",
		},
		{
			name: "different producers' offsets are not ordered",
			h: (&hist{}).send(1, "0", "a", 1, 0, chaos.OK).send(2, "0", "b", 0, 10, chaos.OK).
				poll(100, 1, 30, rec{"0", 0, "b"}, rec{"0", 1, "a"}).committed("0", 2, true).
				read("0", 2, rec{"0", 0, "b"}, rec{"0", 1, "a"}),
		},
		{
			name: "acked record the group never got is unseen",
			h: (&hist{}).send(1, "0", "a", 0, 0, chaos.OK).send(1, "0", "b", 1, 10, chaos.OK).
				poll(100, 1, 30, rec{"0", 0, "a"}).committed("0", 1, true).
				read("0", 2, rec{"0", 0, "a"}, rec{"0", 1, "b"}),
			n: 1, sub: "unseen: b acknowledged at 0/1", summary: "unseen 1",
		},
		{
			name: "record read that was never sent is unexpected",
			h: (&hist{}).send(1, "0", "a", 0, 0, chaos.OK).
				poll(100, 1, 30, rec{"0", 0, "a"}, rec{"0", 1, "ghost"}).committed("0", 2, true).
				read("0", 2, rec{"0", 0, "a"}, rec{"0", 1, "ghost"}),
			n: 2, sub: "unexpected: polled ghost at 0/1 was never sent", summary: "unexpected 2",
		},
		{
			name: "record whose send failed definitely is unexpected",
			h: (&hist{}).send(1, "0", "a", 0, 0, chaos.Fail).
				poll(100, 1, 30, rec{"0", 0, "a"}).committed("0", 1, true).read("0", 1, rec{"0", 0, "a"}),
			n: 2, sub: "failed with an error that says it was not applied", summary: "unexpected 2",
		},
		{
			name: "a value at two offsets is a duplicate, not a violation",
			h: (&hist{}).send(1, "0", "a", 0, 0, chaos.OK).
				poll(100, 1, 30, rec{"0", 0, "a"}, rec{"0", 1, "a"}).committed("0", 2, true).
				read("0", 2, rec{"0", 0, "a"}, rec{"0", 1, "a"}),
			summary: "duplicated 1",
		},
		{
			name: "an unknown send seen is recovered",
			h: (&hist{}).send(1, "0", "a", 0, 0, chaos.Unknown).
				poll(100, 1, 30, rec{"0", 0, "a"}).committed("0", 1, true).read("0", 1, rec{"0", 0, "a"}),
			summary: "1 unknown, 1 of those seen",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := checkLog(tc.h.ops)
			wantVerdict(t, v, tc.n, tc.sub)
			if !strings.Contains(v.Summary, tc.summary) {
				t.Errorf("summary %q does not mention %q", v.Summary, tc.summary)
			}
		})
	}
}

func TestCheckLogNeedsTheDrain(t *testing.T) {
	h := (&hist{}).send(1, "0", "a", 0, 0, chaos.OK).poll(100, 1, 30, rec{"0", 0, "a"}).committed("0", 1, false).read("0", 1, rec{"0", 0, "a"})
	if v := checkLog(h.ops); !strings.Contains(v.Err, "did not drain") {
		t.Errorf("undrained group: err %q", v.Err)
	}
	h = (&hist{}).send(1, "0", "a", 0, 0, chaos.OK).poll(100, 1, 30, rec{"0", 0, "a"}).committed("0", 1, true)
	if v := checkLog(h.ops); !strings.Contains(v.Err, "not read at the end") {
		t.Errorf("no final read: err %q", v.Err)
	}
}

func TestCheckGroup(t *testing.T) {
	for _, tc := range []struct {
		name    string
		h       *hist
		n       int
		sub     string
		summary string
	}{
		{name: "clean", h: clean(), summary: "non-monotonic polls 0, poll skips 0, group skips 0"},
		{
			name: "a poll going back within an epoch is non-monotonic",
			h: (&hist{}).poll(100, 1, 0, rec{"0", 0, "a"}, rec{"0", 1, "b"}).poll(100, 1, 10, rec{"0", 1, "b"}).
				committed("0", 2, true).read("0", 2),
			n: 1, sub: "non-monotonic poll: client 100 (epoch 1) polled 0/1", summary: "non-monotonic polls 1",
		},
		{
			name: "a poll going back in a new epoch is a rewind",
			h: (&hist{}).poll(100, 1, 0, rec{"0", 0, "a"}, rec{"0", 1, "b"}).poll(100, 2, 10, rec{"0", 1, "b"}).
				committed("0", 2, true).read("0", 2),
			summary: "rewinds after a rejoin 1",
		},
		{
			name: "a poll jumping over an offset within an epoch is a poll skip",
			h: (&hist{}).poll(100, 1, 0, rec{"0", 0, "a"}).poll(100, 1, 10, rec{"0", 2, "c"}).
				poll(101, 1, 20, rec{"0", 1, "b"}).committed("0", 3, true).read("0", 3),
			n: 1, sub: "poll skip: client 100 (epoch 1) polled 0/2 (poll op 2) right after 0/0 (poll op 0), skipping offsets 1..1", summary: "poll skips 1, group skips 0",
		},
		{
			name: "a jump in a new epoch over records no member got is a group skip",
			h: (&hist{}).poll(100, 1, 0, rec{"0", 0, "a"}).poll(100, 2, 10, rec{"0", 3, "d"}).
				committed("0", 4, true).read("0", 4),
			n: 1, sub: "group skip: partition 0: offsets 1..2 were never delivered", summary: "poll skips 0, group skips 1",
		},
		{
			name: "a commit past what was delivered is a group skip",
			h: (&hist{}).poll(100, 1, 0, rec{"0", 0, "a"}).commit(100, "0", 5, 10, chaos.OK).
				committed("0", 1, true).read("0", 5),
			n: 1, sub: "offsets 1..4 were never delivered to the group, which committed 5 (commit op 2 by client 100)",
		},
		{
			name: "a failed commit past what was delivered is no skip",
			h: (&hist{}).poll(100, 1, 0, rec{"0", 0, "a"}).commit(100, "0", 5, 10, chaos.Fail).
				committed("0", 1, true).read("0", 5),
		},
		{
			name: "the group starts at offset 0",
			h:    (&hist{}).poll(100, 1, 0, rec{"0", 2, "c"}).committed("0", 3, true).read("0", 3),
			n:    1, sub: "offsets 0..1 were never delivered",
		},
		{
			name: "a commit past the high watermark",
			h:    (&hist{}).poll(100, 1, 0, rec{"0", 0, "a"}, rec{"0", 1, "b"}).committed("0", 2, true).read("0", 1),
			n:    1, sub: "past the final high watermark 1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := checkGroup(tc.h.ops)
			wantVerdict(t, v, tc.n, tc.sub)
			if !strings.Contains(v.Summary, tc.summary) {
				t.Errorf("summary %q does not mention %q", v.Summary, tc.summary)
			}
		})
	}
}
