package group

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

func tps(topic string, parts ...int32) []TopicPartition {
	out := []TopicPartition{}
	for _, p := range parts {
		out = append(out, TopicPartition{topic, p})
	}
	return out
}

func TestAssignExamples(t *testing.T) {
	counts := map[string]int{"x": 5, "y": 2}
	both := []Subscription{{MemberID: "m2", Topics: []string{"x", "y"}}, {MemberID: "m1", Topics: []string{"y", "x"}}}
	for _, tc := range []struct {
		name string
		a    Assignor
		subs []Subscription
		want map[string][]TopicPartition
	}{
		{"range", AssignorRange, both, map[string][]TopicPartition{
			"m1": append(tps("x", 0, 1, 2), tps("y", 0)...),
			"m2": append(tps("x", 3, 4), tps("y", 1)...),
		}},
		{"round-robin", AssignorRoundRobin, both, map[string][]TopicPartition{
			"m1": append(tps("x", 0, 2, 4), tps("y", 1)...),
			"m2": append(tps("x", 1, 3), tps("y", 0)...),
		}},
		{"round-robin skips members not subscribed", AssignorRoundRobin, []Subscription{
			{MemberID: "a", Topics: []string{"y"}}, {MemberID: "b", Topics: []string{"x"}}}, map[string][]TopicPartition{
			"a": tps("y", 0, 1),
			"b": tps("x", 0, 1, 2, 3, 4),
		}},
		{"sticky without history deals in turn", AssignorSticky, both, map[string][]TopicPartition{
			"m1": append(tps("x", 0, 2, 4), tps("y", 1)...),
			"m2": append(tps("x", 1, 3), tps("y", 0)...),
		}},
		{"sticky keeps what balance allows", AssignorSticky, []Subscription{
			{MemberID: "a", Topics: []string{"x"}, Previous: tps("x", 0, 1, 2, 3, 4)},
			{MemberID: "b", Topics: []string{"x"}},
		}, map[string][]TopicPartition{
			"a": tps("x", 0, 1, 2),
			"b": tps("x", 3, 4),
		}},
		{"sticky drops partitions gone and topics unsubscribed", AssignorSticky, []Subscription{
			{MemberID: "a", Topics: []string{"x"}, Previous: append(tps("x", 0, 9), tps("y", 0)...)},
			{MemberID: "b", Topics: []string{"y"}, Previous: tps("y", 0)},
		}, map[string][]TopicPartition{
			"a": tps("x", 0, 1, 2, 3, 4),
			"b": tps("y", 0, 1),
		}},
		{"unknown topic and member without partitions", AssignorRange, []Subscription{
			{MemberID: "a", Topics: []string{"nope"}}, {MemberID: "b", Topics: []string{"y"}},
		}, map[string][]TopicPartition{"a": {}, "b": tps("y", 0, 1)}},
	} {
		got := Assign(tc.a, tc.subs, counts)
		for id, g := range got {
			if g == nil {
				got[id] = []TopicPartition{}
			}
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
}

// randomCase returns members m0.. with subscriptions over topics t0..,
// identical when same is set, and the topics' partition counts.
func randomCase(rng *rand.Rand, same bool) ([]Subscription, map[string]int) {
	ntopics := 1 + rng.IntN(5)
	counts := map[string]int{}
	var all []string
	for i := range ntopics {
		name := fmt.Sprintf("t%d", i)
		all = append(all, name)
		counts[name] = rng.IntN(25)
	}
	subs := make([]Subscription, 1+rng.IntN(12))
	for i := range subs {
		subs[i].MemberID = fmt.Sprintf("m%02d", i)
		if same {
			subs[i].Topics = all
			continue
		}
		for _, t := range all {
			if rng.IntN(2) == 0 {
				subs[i].Topics = append(subs[i].Topics, t)
			}
		}
		if len(subs[i].Topics) == 0 {
			subs[i].Topics = all[:1]
		}
	}
	return subs, counts
}

// checkValid fails unless out assigns every partition of every subscribed
// topic exactly once, to a subscriber, each list sorted.
func checkValid(t *testing.T, a Assignor, subs []Subscription, counts map[string]int, out map[string][]TopicPartition) {
	t.Helper()
	if len(out) != len(subs) {
		t.Fatalf("%v: %d members in the result, %d subscribed", a, len(out), len(subs))
	}
	owner := map[TopicPartition]string{}
	topics := map[string]bool{}
	for _, s := range subs {
		got, ok := out[s.MemberID]
		if !ok {
			t.Fatalf("%v: member %s missing", a, s.MemberID)
		}
		if !slices.IsSortedFunc(got, compareTP) {
			t.Fatalf("%v: %s's partitions unsorted: %v", a, s.MemberID, got)
		}
		for _, tp := range got {
			if prev, dup := owner[tp]; dup {
				t.Fatalf("%v: %v to %s and %s", a, tp, prev, s.MemberID)
			}
			if !slices.Contains(s.Topics, tp.Topic) {
				t.Fatalf("%v: %v to %s, not subscribed", a, tp, s.MemberID)
			}
			if int(tp.Partition) >= counts[tp.Topic] || tp.Partition < 0 {
				t.Fatalf("%v: %v does not exist", a, tp)
			}
			owner[tp] = s.MemberID
		}
		for _, tp := range s.Topics {
			topics[tp] = true
		}
	}
	want := 0
	for tp := range topics {
		want += counts[tp]
	}
	if len(owner) != want {
		t.Fatalf("%v: %d partitions assigned, %d exist", a, len(owner), want)
	}
}

func spread(out map[string][]TopicPartition) (lo, hi int) {
	lo = -1
	for _, p := range out {
		if lo < 0 || len(p) < lo {
			lo = len(p)
		}
		hi = max(hi, len(p))
	}
	return lo, hi
}

func TestAssignProperties(t *testing.T) {
	rng := newRand(t)
	for iter := range 2000 {
		same := rng.IntN(2) == 0
		subs, counts := randomCase(rng, same)
		for _, a := range []Assignor{AssignorRange, AssignorRoundRobin, AssignorSticky} {
			out := Assign(a, subs, counts)
			checkValid(t, a, subs, counts, out)
			// Deterministic whatever the order of the input.
			shuffled := slices.Clone(subs)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			if again := Assign(a, shuffled, counts); !reflect.DeepEqual(again, out) {
				t.Fatalf("iteration %d: %v depends on the input order", iter, a)
			}
			if same && a != AssignorRange {
				if lo, hi := spread(out); hi-lo > 1 {
					t.Fatalf("iteration %d: %v unbalanced with equal subscriptions: %d..%d", iter, a, lo, hi)
				}
			}
			if a == AssignorSticky {
				checkNoImprovingMove(t, subs, out)
			}
		}
	}
}

// checkNoImprovingMove fails when some partition could move to another
// subscriber with at least two fewer partitions than its owner.
func checkNoImprovingMove(t *testing.T, subs []Subscription, out map[string][]TopicPartition) {
	t.Helper()
	for _, from := range subs {
		for _, tp := range out[from.MemberID] {
			for _, to := range subs {
				if slices.Contains(to.Topics, tp.Topic) && len(out[from.MemberID])-len(out[to.MemberID]) >= 2 {
					t.Fatalf("sticky: %v could move from %s (%d) to %s (%d)", tp, from.MemberID,
						len(out[from.MemberID]), to.MemberID, len(out[to.MemberID]))
				}
			}
		}
	}
}

func withPrevious(subs []Subscription, out map[string][]TopicPartition) []Subscription {
	next := slices.Clone(subs)
	for i := range next {
		next[i].Previous = out[next[i].MemberID]
	}
	return next
}

// moved counts the partitions that changed hands between two members
// present in after.
func moved(before, after map[string][]TopicPartition) int {
	owner := map[TopicPartition]string{}
	for id, ps := range before {
		for _, tp := range ps {
			owner[tp] = id
		}
	}
	n := 0
	for id, ps := range after {
		for _, tp := range ps {
			// A partition of a member that is gone is not counted.
			if o, ok := owner[tp]; ok && o != id && present(after, o) {
				n++
			}
		}
	}
	return n
}

func TestStickyMovesLittle(t *testing.T) {
	rng := newRand(t)
	for iter := range 2000 {
		subs, counts := randomCase(rng, true)
		// Start from a previous sticky assignment of some random history.
		out := Assign(AssignorSticky, subs, counts)
		if rng.IntN(2) == 0 {
			out = Assign(AssignorSticky, withPrevious(subs, Assign(AssignorRange, subs, counts)), counts)
		}
		total := 0
		for _, c := range counts {
			total += c
		}
		n := len(subs)

		// The same members again: nothing moves.
		if again := Assign(AssignorSticky, withPrevious(subs, out), counts); moved(out, again) != 0 {
			t.Fatalf("iteration %d: a rebalance without changes moved partitions", iter)
		}

		// One member more: at most ceil(P/(N+1)) partitions move.
		grown := append(withPrevious(subs, out), Subscription{MemberID: "new", Topics: subs[0].Topics})
		after := Assign(AssignorSticky, grown, counts)
		checkValid(t, AssignorSticky, grown, counts, after)
		if m, limit := moved(out, after), (total+n)/(n+1); m > limit {
			t.Fatalf("iteration %d: adding a member to %d moved %d of %d partitions, limit %d", iter, n, m, total, limit)
		}

		// One member fewer: only its partitions move.
		if n > 1 {
			gone := rng.IntN(n)
			shrunk := slices.Delete(withPrevious(subs, out), gone, gone+1)
			after := Assign(AssignorSticky, shrunk, counts)
			checkValid(t, AssignorSticky, shrunk, counts, after)
			if m := moved(out, after); m != 0 {
				t.Fatalf("iteration %d: removing a member moved %d partitions of the others", iter, m)
			}
		}
	}
}

func TestStickyArbitraryPrevious(t *testing.T) {
	// Previous assignments that overlap, name missing partitions or
	// unsubscribed topics still give a valid, balanced assignment.
	rng := newRand(t)
	for range 1000 {
		same := rng.IntN(2) == 0
		subs, counts := randomCase(rng, same)
		for i := range subs {
			for range rng.IntN(10) {
				subs[i].Previous = append(subs[i].Previous, TopicPartition{fmt.Sprintf("t%d", rng.IntN(6)), int32(rng.IntN(30) - 2)})
			}
		}
		out := Assign(AssignorSticky, subs, counts)
		checkValid(t, AssignorSticky, subs, counts, out)
		checkNoImprovingMove(t, subs, out)
		if lo, hi := spread(out); same && hi-lo > 1 {
			t.Fatalf("unbalanced: %d..%d", lo, hi)
		}
	}
}

func TestAssignorString(t *testing.T) {
	for a, want := range map[Assignor]string{AssignorUnspecified: "sticky", AssignorSticky: "sticky",
		AssignorRange: "range", AssignorRoundRobin: "round-robin", 7: "Assignor(7)"} {
		if a.String() != want {
			t.Errorf("%d: %q", int(a), a.String())
		}
	}
	for s, want := range map[State]string{StateEmpty: "Empty", StatePreparingRebalance: "PreparingRebalance", StateStable: "Stable"} {
		if s.String() != want {
			t.Errorf("%d: %q", int(s), s.String())
		}
	}
}

func benchSubs(members, topics, partitions int) ([]Subscription, map[string]int) {
	counts := map[string]int{}
	var names []string
	for i := range topics {
		n := fmt.Sprintf("topic-%d", i)
		names = append(names, n)
		counts[n] = partitions
	}
	subs := make([]Subscription, members)
	for i := range subs {
		subs[i] = Subscription{MemberID: fmt.Sprintf("member-%04d", i), Topics: names}
	}
	return subs, counts
}

func BenchmarkAssign(b *testing.B) {
	for _, size := range []struct{ members, topics, partitions int }{{10, 10, 32}, {100, 10, 100}, {500, 20, 100}} {
		subs, counts := benchSubs(size.members, size.topics, size.partitions)
		for _, a := range []Assignor{AssignorRange, AssignorRoundRobin, AssignorSticky} {
			b.Run(fmt.Sprintf("%v/m%d-p%d", a, size.members, size.topics*size.partitions), func(b *testing.B) {
				for b.Loop() {
					Assign(a, subs, counts)
				}
			})
		}
		// Sticky with history, one member added.
		prev := Assign(AssignorSticky, subs, counts)
		grown := append(withPrevious(subs, prev), Subscription{MemberID: "new", Topics: subs[0].Topics})
		b.Run(fmt.Sprintf("sticky-add-one/m%d-p%d", size.members, size.topics*size.partitions), func(b *testing.B) {
			for b.Loop() {
				Assign(AssignorSticky, grown, counts)
			}
		})
	}
}

func present(m map[string][]TopicPartition, id string) bool {
	_, ok := m[id]
	return ok
}
