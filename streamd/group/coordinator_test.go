package group

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

func req(group, member string, topics ...string) JoinRequest {
	return JoinRequest{Group: group, MemberID: member, ClientID: "test", Topics: topics,
		SessionTimeout: 10 * time.Second, RebalanceTimeout: 30 * time.Second}
}

func TestFirstJoinCompletesAtOnce(t *testing.T) {
	f := newFixture(t, nil)
	res := f.join(req("g", "", "a", "b"))
	if res.MemberID == "" || res.Generation != 1 || res.Members != 1 || len(res.Assignment) != 9 {
		t.Fatalf("first join: %+v", res)
	}
	f.checkExactlyOnce([]JoinResult{res}, "a", "b")
	info, ok := f.c.Describe("g")
	if !ok || info.State != StateStable || info.Generation != 1 || info.Assignor != AssignorSticky ||
		len(info.Members) != 1 || info.Members[0].ClientID != "test" ||
		!slices.Equal(info.Members[0].Topics, []string{"a", "b"}) {
		t.Fatalf("Describe: %+v", info)
	}
	if f.c.Empty("g") {
		t.Fatal("Empty(g) with a member")
	}
	if got := f.c.List(); len(got) != 1 || got[0] != (GroupSummary{"g", StateStable, 1}) {
		t.Fatalf("List: %+v", got)
	}
}

func TestRejoinSameTopicsKeepsGeneration(t *testing.T) {
	f := newFixture(t, nil)
	res := f.join(req("g", "", "a"))
	again := f.join(req("g", res.MemberID, "a", "a"))
	if again.Generation != res.Generation || !slices.Equal(again.Assignment, res.Assignment) {
		t.Fatalf("rejoin: %+v, first %+v", again, res)
	}
	if f.state("g") != StateStable || f.c.Stats().Rebalances != 1 {
		t.Fatalf("rejoin rebalanced: %v, %+v", f.state("g"), f.c.Stats())
	}
	// The caller owns the assignment it gets.
	again.Assignment[0].Partition = 99
	if info, _ := f.c.Describe("g"); info.Members[0].Assignment[0].Partition == 99 {
		t.Fatal("Join returned the coordinator's slice")
	}
}

func TestTopicChangeRebalances(t *testing.T) {
	f := newFixture(t, nil)
	res := f.join(req("g", "", "a"))
	again := f.join(req("g", res.MemberID, "a", "c"))
	if again.Generation != res.Generation+1 || len(again.Assignment) != 7 {
		t.Fatalf("rejoin with a new topic: %+v", again)
	}
}

// grow adds one member to group g, whose current members are ids: the new
// member's Join waits, every current member rejoins concurrently, and all
// must get the same new generation and an exact assignment.
func (f *fixture) grow(g string, ids []string, topics ...string) []JoinResult {
	f.t.Helper()
	ctx := context.Background()
	before, _ := f.c.Describe(g)
	newcomer := f.joinAsync(ctx, req(g, "", topics...))
	if len(ids) > 0 {
		f.waitFor("PreparingRebalance", func() bool { return f.state(g) == StatePreparingRebalance })
		for _, id := range ids {
			if err := f.c.Heartbeat(g, id, before.Generation); !errors.Is(err, ErrRebalanceInProgress) {
				f.t.Fatalf("Heartbeat during the rebalance: %v", err)
			}
		}
	}
	chans := []<-chan joinOutcome{newcomer}
	for _, id := range ids {
		chans = append(chans, f.joinAsync(ctx, req(g, id, topics...)))
	}
	var results []JoinResult
	for _, ch := range chans {
		o := f.await(ch)
		if o.err != nil {
			f.t.Fatalf("Join: %v", o.err)
		}
		results = append(results, o.res)
	}
	for _, r := range results {
		if r.Generation != results[0].Generation || r.Members != len(results) {
			f.t.Fatalf("results of one rebalance differ: %+v", results)
		}
	}
	if len(ids) > 0 && results[0].Generation != before.Generation+1 {
		f.t.Fatalf("generation %d after %d", results[0].Generation, before.Generation)
	}
	f.checkExactlyOnce(results, topics...)
	return results
}

func ids(results []JoinResult) []string {
	var out []string
	for _, r := range results {
		out = append(out, r.MemberID)
	}
	return out
}

func TestConcurrentJoinsCompleteOneGeneration(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.GenerationBase = 41 })
	var members []string
	for n := 1; n <= 6; n++ {
		results := f.grow("g", members, "a", "b", "c")
		members = ids(results)
		if results[0].Generation != int64(41+n) {
			t.Fatalf("generation %d with %d members", results[0].Generation, n)
		}
		for _, r := range results {
			if err := f.c.Heartbeat("g", r.MemberID, r.Generation); err != nil {
				t.Fatalf("Heartbeat after the rebalance: %v", err)
			}
			if err := f.c.CheckCommit("g", r.MemberID, r.Generation, r.Assignment); err != nil {
				t.Fatalf("CheckCommit of its own partitions: %v", err)
			}
		}
	}
	// 10 partitions over 6 members, sticky: 1 or 2 each.
	info, _ := f.c.Describe("g")
	for _, m := range info.Members {
		if n := len(m.Assignment); n < 1 || n > 2 {
			t.Fatalf("unbalanced: %+v", info.Members)
		}
	}
}

func TestManyNewMembersJoinConcurrently(t *testing.T) {
	// Joins by new members racing each other: each Join returns once all
	// members known at that moment have joined, and the last rebalance
	// holds them all.
	f := newFixture(t, nil)
	first := f.join(req("g", "", "a"))
	const n = 8
	ctx := context.Background()
	var chans []<-chan joinOutcome
	for range n {
		chans = append(chans, f.joinAsync(ctx, req("g", "", "a")))
	}
	f.waitJoining("g", n)
	last := f.join(req("g", first.MemberID, "a"))
	var results []JoinResult
	results = append(results, last)
	for _, ch := range chans {
		o := f.await(ch)
		if o.err != nil {
			t.Fatal(o.err)
		}
		results = append(results, o.res)
	}
	if last.Generation != 2 || last.Members != n+1 {
		t.Fatalf("one generation expected, got %+v", results)
	}
	f.checkExactlyOnce(results, "a")
}

func TestSlowMemberRemovedAfterRebalanceTimeout(t *testing.T) {
	f := newFixture(t, nil)
	ab := f.grow("g", nil, "a")
	ab = f.grow("g", ids(ab), "a")
	slow, fast := ab[0], ab[1]
	start := f.clock.Now()
	ch := f.joinAsync(context.Background(), req("g", "", "a"))
	f.waitJoining("g", 1)
	fastCh := f.joinAsync(context.Background(), req("g", fast.MemberID, "a"))
	f.waitJoining("g", 2)
	// The slow member heartbeats (so its session lives) but does not join.
	f.clock.Advance(29 * time.Second)
	if err := f.c.Heartbeat("g", slow.MemberID, slow.Generation); !errors.Is(err, ErrRebalanceInProgress) {
		t.Fatalf("Heartbeat: %v", err)
	}
	f.c.Tick(start.Add(30*time.Second - time.Nanosecond))
	if f.state("g") != StatePreparingRebalance {
		t.Fatal("rebalance completed before its timeout")
	}
	f.c.Tick(start.Add(30 * time.Second))
	results := []JoinResult{f.await(ch).res, f.await(fastCh).res}
	if results[0].Generation != slow.Generation+1 || results[0].Members != 2 {
		t.Fatalf("after the timeout: %+v", results)
	}
	f.checkExactlyOnce(results, "a")
	if err := f.c.Heartbeat("g", slow.MemberID, slow.Generation); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("Heartbeat of the removed member: %v", err)
	}
	if _, err := f.c.Join(context.Background(), req("g", slow.MemberID, "a")); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("Join of the removed member: %v", err)
	}
	if s := f.c.Stats(); s.TimedOut != 1 || s.Members != 2 || s.Groups != 1 {
		t.Fatalf("Stats: %+v", s)
	}
}

func TestRebalanceTimeoutIsTheMembersLargest(t *testing.T) {
	f := newFixture(t, nil)
	r := req("g", "", "a")
	r.SessionTimeout, r.RebalanceTimeout = 2*time.Minute, time.Minute
	long := f.join(r)
	start := f.clock.Now()
	ch := f.joinAsync(context.Background(), req("g", "", "a")) // 30 s
	f.waitJoining("g", 1)
	if err := f.c.Heartbeat("g", long.MemberID, long.Generation); !errors.Is(err, ErrRebalanceInProgress) {
		t.Fatal(err)
	}
	f.c.Tick(start.Add(59 * time.Second))
	if f.state("g") != StatePreparingRebalance {
		t.Fatal("completed before the largest rebalance timeout")
	}
	f.c.Tick(start.Add(time.Minute))
	if o := f.await(ch); o.err != nil || o.res.Members != 1 || len(o.res.Assignment) != 6 {
		t.Fatalf("newcomer after the timeout: %+v", o)
	}
}

func TestHeartbeat(t *testing.T) {
	f := newFixture(t, nil)
	res := f.join(req("g", "", "a"))
	for _, tc := range []struct {
		group, member string
		gen           int64
		want          error
	}{
		{"g", res.MemberID, res.Generation, nil},
		{"g", res.MemberID, res.Generation - 1, ErrIllegalGeneration},
		{"g", res.MemberID, res.Generation + 1, ErrIllegalGeneration},
		{"g", "nobody", res.Generation, ErrUnknownMember},
		{"other", res.MemberID, res.Generation, ErrUnknownMember},
	} {
		if err := f.c.Heartbeat(tc.group, tc.member, tc.gen); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("Heartbeat(%q, %q, %d) = %v, want %v", tc.group, tc.member, tc.gen, err, tc.want)
		}
	}
}

func TestCheckCommit(t *testing.T) {
	f := newFixture(t, nil)
	if err := f.c.CheckCommit("g", "", -1, []TopicPartition{{"a", 0}}); err != nil {
		t.Fatalf("standalone commit to a group without members: %v", err)
	}
	ab := f.grow("g", nil, "a")
	ab = f.grow("g", ids(ab), "a")
	x, y := ab[0], ab[1]
	gen := x.Generation
	for _, tc := range []struct {
		name   string
		member string
		gen    int64
		tps    []TopicPartition
		want   error
	}{
		{"own partitions", x.MemberID, gen, x.Assignment, nil},
		{"nothing", x.MemberID, gen, nil, nil},
		{"another's partition", x.MemberID, gen, y.Assignment[:1], ErrNotAssigned},
		{"unknown topic", x.MemberID, gen, []TopicPartition{{"zz", 0}}, ErrNotAssigned},
		{"old generation", x.MemberID, gen - 1, x.Assignment, ErrIllegalGeneration},
		{"future generation", x.MemberID, gen + 1, x.Assignment, ErrIllegalGeneration},
		{"standalone in a group with members", "", -1, x.Assignment, ErrUnknownMember},
		{"unknown member", "nobody", gen, x.Assignment, ErrUnknownMember},
	} {
		err := f.c.CheckCommit("g", tc.member, tc.gen, tc.tps)
		if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: CheckCommit = %v, want %v", tc.name, err, tc.want)
		}
	}

	// During a rebalance the members of the last generation may still
	// commit their partitions; the newcomer may not.
	ch := f.joinAsync(context.Background(), req("g", "", "a"))
	f.waitJoining("g", 1)
	if err := f.c.CheckCommit("g", x.MemberID, gen, x.Assignment); err != nil {
		t.Fatalf("commit during the rebalance: %v", err)
	}
	info, _ := f.c.Describe("g")
	var newcomer MemberInfo
	for _, m := range info.Members {
		if m.Joining {
			newcomer = m
		}
	}
	if err := f.c.CheckCommit("g", newcomer.MemberID, gen, nil); !errors.Is(err, ErrIllegalGeneration) {
		t.Fatalf("newcomer's commit during the rebalance: %v", err)
	}
	// x joins; y's Join then completes the rebalance. x's old generation
	// is refused afterwards.
	xch := f.joinAsync(context.Background(), req("g", x.MemberID, "a"))
	f.waitJoining("g", 2)
	if err := f.c.CheckCommit("g", x.MemberID, gen, x.Assignment); err != nil {
		t.Fatalf("commit while joining: %v", err)
	}
	yres := f.join(req("g", y.MemberID, "a"))
	f.await(ch)
	xres := f.await(xch).res
	if err := f.c.CheckCommit("g", x.MemberID, gen, x.Assignment); !errors.Is(err, ErrIllegalGeneration) {
		t.Fatalf("commit with the old generation: %v", err)
	}
	if err := f.c.CheckCommit("g", y.MemberID, yres.Generation, yres.Assignment); err != nil {
		t.Fatal(err)
	}
	if err := f.c.CheckCommit("g", x.MemberID, xres.Generation, xres.Assignment); err != nil {
		t.Fatal(err)
	}
}

func TestSessionExpiry(t *testing.T) {
	f := newFixture(t, nil)
	ab := f.grow("g", nil, "a")
	ab = f.grow("g", ids(ab), "a")
	x, y := ab[0], ab[1]
	f.clock.Advance(9 * time.Second)
	if err := f.c.Heartbeat("g", x.MemberID, x.Generation); err != nil {
		t.Fatal(err)
	}
	now := f.clock.Advance(time.Second - time.Nanosecond)
	f.c.Tick(now)
	if info, _ := f.c.Describe("g"); len(info.Members) != 2 || info.State != StateStable {
		t.Fatalf("expired early: %+v", info)
	}
	now = f.clock.Advance(time.Nanosecond) // y's session ends now
	f.c.Tick(now)
	if err := f.c.Heartbeat("g", y.MemberID, y.Generation); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("expired member's Heartbeat: %v", err)
	}
	if err := f.c.Heartbeat("g", x.MemberID, x.Generation); !errors.Is(err, ErrRebalanceInProgress) {
		t.Fatalf("survivor's Heartbeat: %v", err)
	}
	res := f.join(req("g", x.MemberID, "a"))
	if res.Generation != x.Generation+1 || len(res.Assignment) != 6 {
		t.Fatalf("survivor alone: %+v", res)
	}
	// The last member's session ends: the group is forgotten.
	f.c.Tick(f.clock.Advance(10 * time.Second))
	if !f.c.Empty("g") || len(f.c.List()) != 0 {
		t.Fatal("group kept after its last member expired")
	}
	if info, ok := f.c.Describe("g"); ok || info.State != StateEmpty {
		t.Fatalf("Describe of a forgotten group: %+v %v", info, ok)
	}
	if s := f.c.Stats(); s.Expired != 2 || s.Groups != 0 {
		t.Fatalf("Stats: %+v", s)
	}
	// It comes back with a higher generation.
	if back := f.join(req("g", "", "a")); back.Generation <= res.Generation {
		t.Fatalf("generation %d after %d", back.Generation, res.Generation)
	}
}

func TestWaitingJoinDoesNotExpire(t *testing.T) {
	f := newFixture(t, nil)
	x := f.join(req("g", "", "a"))
	r := req("g", "", "a")
	r.SessionTimeout, r.RebalanceTimeout = time.Second, time.Second
	ch := f.joinAsync(context.Background(), r)
	f.waitJoining("g", 1)
	// The newcomer's session (1 s) passes while it waits; the rebalance
	// timeout is x's 30 s. x rejoins within it.
	f.c.Tick(f.clock.Advance(5 * time.Second))
	if err := f.c.Heartbeat("g", x.MemberID, x.Generation); !errors.Is(err, ErrRebalanceInProgress) {
		t.Fatal(err)
	}
	f.join(req("g", x.MemberID, "a"))
	if o := f.await(ch); o.err != nil || o.res.Members != 2 {
		t.Fatalf("waiting newcomer: %+v", o)
	}
}

func TestJoinContextEnds(t *testing.T) {
	f := newFixture(t, nil)
	x := f.join(req("g", "", "a"))
	ctx, cancel := context.WithCancel(context.Background())
	ch := f.joinAsync(ctx, req("g", "", "a"))
	f.waitJoining("g", 1)
	cancel()
	if o := f.await(ch); !errors.Is(o.err, context.Canceled) {
		t.Fatalf("Join after cancel: %+v", o)
	}
	info, _ := f.c.Describe("g")
	if len(info.Members) != 2 || info.Members[0].Joining || info.Members[1].Joining {
		t.Fatalf("after cancel: %+v", info)
	}
	// x's rejoin alone does not complete the rebalance: the newcomer is a
	// member without a waiting Join. When the newcomer retries with the
	// id Describe shows, the rebalance completes.
	xch := f.joinAsync(context.Background(), req("g", x.MemberID, "a"))
	f.waitJoining("g", 1)
	var newcomer string
	info, _ = f.c.Describe("g")
	for _, m := range info.Members {
		if m.MemberID != x.MemberID {
			newcomer = m.MemberID
		}
	}
	res := f.join(req("g", newcomer, "a"))
	if o := f.await(xch); o.err != nil || o.res.Generation != res.Generation || res.Members != 2 {
		t.Fatalf("after the retry: %+v, %+v", o, res)
	}
	// A Join whose context has already ended changes nothing.
	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := f.c.Join(done, req("g", "", "a")); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if info, _ := f.c.Describe("g"); len(info.Members) != 2 || info.State != StateStable {
		t.Fatalf("Join with an ended context changed the group: %+v", info)
	}
}

func TestLeave(t *testing.T) {
	f := newFixture(t, nil)
	ab := f.grow("g", nil, "a", "b")
	ab = f.grow("g", ids(ab), "a", "b")
	x, y := ab[0], ab[1]
	if err := f.c.Leave("g", y.MemberID); err != nil {
		t.Fatal(err)
	}
	if err := f.c.Leave("g", y.MemberID); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("second Leave: %v", err)
	}
	if err := f.c.Heartbeat("g", x.MemberID, x.Generation); !errors.Is(err, ErrRebalanceInProgress) {
		t.Fatal(err)
	}
	res := f.join(req("g", x.MemberID, "a", "b"))
	if res.Members != 1 || len(res.Assignment) != 9 {
		t.Fatalf("after Leave: %+v", res)
	}
	if err := f.c.Leave("g", x.MemberID); err != nil {
		t.Fatal(err)
	}
	if !f.c.Empty("g") {
		t.Fatal("group with no members not empty")
	}
	if back := f.join(req("g", "", "c")); back.Generation != res.Generation+1 {
		t.Fatalf("generation after the group came back: %d, was %d", back.Generation, res.Generation)
	}
}

func TestLeaveCompletesRebalance(t *testing.T) {
	// The one member that had not rejoined leaves: the rebalance completes.
	f := newFixture(t, nil)
	ab := f.grow("g", nil, "a")
	ab = f.grow("g", ids(ab), "a")
	ch := f.joinAsync(context.Background(), req("g", "", "a"))
	f.waitJoining("g", 1)
	xch := f.joinAsync(context.Background(), req("g", ab[0].MemberID, "a"))
	f.waitJoining("g", 2)
	if err := f.c.Leave("g", ab[1].MemberID); err != nil {
		t.Fatal(err)
	}
	results := []JoinResult{f.await(ch).res, f.await(xch).res}
	if results[0].Members != 2 || results[0].Generation != ab[0].Generation+1 {
		t.Fatalf("%+v", results)
	}
	f.checkExactlyOnce(results, "a")
}

func TestLeaveWhileJoinWaits(t *testing.T) {
	f := newFixture(t, nil)
	x := f.join(req("g", "", "a"))
	ch := f.joinAsync(context.Background(), req("g", "", "a"))
	f.waitJoining("g", 1)
	info, _ := f.c.Describe("g")
	var newcomer string
	for _, m := range info.Members {
		if m.Joining {
			newcomer = m.MemberID
		}
	}
	if err := f.c.Leave("g", newcomer); err != nil {
		t.Fatal(err)
	}
	// x alone now; the rebalance waits for x only.
	res := f.join(req("g", x.MemberID, "a"))
	if res.Members != 1 {
		t.Fatalf("%+v", res)
	}
	if o := f.await(ch); !errors.Is(o.err, ErrUnknownMember) {
		t.Fatalf("the departed member's Join: %+v", o)
	}

}

func TestTopicsChanged(t *testing.T) {
	f := newFixture(t, nil)
	x := f.join(req("g", "", "a"))
	y := f.join(req("h", "", "b"))
	f.c.TopicsChanged() // nothing changed
	if f.state("g") != StateStable || f.state("h") != StateStable {
		t.Fatal("TopicsChanged without a change rebalanced")
	}
	f.parts.Set("a", 8)
	f.c.TopicsChanged()
	if f.state("g") != StatePreparingRebalance || f.state("h") != StateStable {
		t.Fatalf("after a's count changed: g %v, h %v", f.state("g"), f.state("h"))
	}
	if err := f.c.Heartbeat("h", y.MemberID, y.Generation); err != nil {
		t.Fatal(err)
	}
	if res := f.join(req("g", x.MemberID, "a")); len(res.Assignment) != 8 {
		t.Fatalf("after the rebalance: %+v", res)
	}
}

func TestUnknownTopicHasNoPartitions(t *testing.T) {
	f := newFixture(t, nil)
	res := f.join(req("g", "", "nope", "c"))
	if !slices.Equal(res.Assignment, []TopicPartition{{"c", 0}}) {
		t.Fatalf("%+v", res)
	}
}

func TestAssignorMismatch(t *testing.T) {
	f := newFixture(t, nil)
	r := req("g", "", "a")
	r.Assignor = AssignorRange
	x := f.join(r)
	if info, _ := f.c.Describe("g"); info.Assignor != AssignorRange {
		t.Fatalf("assignor %v", info.Assignor)
	}
	if _, err := f.c.Join(context.Background(), req("g", "", "a")); !errors.Is(err, ErrAssignorMismatch) {
		t.Fatalf("sticky join to a range group: %v", err)
	}
	// The only member may switch; that rebalances.
	r = req("g", x.MemberID, "a")
	r.Assignor = AssignorRoundRobin
	if res := f.join(r); res.Generation != x.Generation+1 {
		t.Fatalf("%+v", res)
	}
	// Unspecified means sticky.
	r = req("h", "", "a")
	r.Assignor = AssignorUnspecified
	h := f.join(r)
	r.Assignor = AssignorSticky
	ch := f.joinAsync(context.Background(), r)
	f.waitJoining("h", 1)
	r.MemberID = h.MemberID
	f.join(r)
	f.await(ch)
	if info, _ := f.c.Describe("h"); info.Assignor != AssignorSticky || len(info.Members) != 2 {
		t.Fatalf("%+v", info)
	}
}

func TestJoinValidation(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxTopicsPerMember = 2 })
	for _, tc := range []struct {
		name string
		mod  func(*JoinRequest)
		want error
	}{
		{"no group", func(r *JoinRequest) { r.Group = "" }, ErrInvalidArgument},
		{"no topics", func(r *JoinRequest) { r.Topics = nil }, ErrInvalidArgument},
		{"empty topic", func(r *JoinRequest) { r.Topics = []string{"a", ""} }, ErrInvalidArgument},
		{"negative session", func(r *JoinRequest) { r.SessionTimeout = -1 }, ErrInvalidArgument},
		{"negative rebalance", func(r *JoinRequest) { r.RebalanceTimeout = -1 }, ErrInvalidArgument},
		{"bad assignor", func(r *JoinRequest) { r.Assignor = 9 }, ErrInvalidArgument},
		{"too many topics", func(r *JoinRequest) { r.Topics = []string{"a", "b", "c"} }, ErrLimit},
		{"unknown member", func(r *JoinRequest) { r.MemberID = "ghost" }, ErrUnknownMember},
	} {
		r := req("g", "", "a")
		tc.mod(&r)
		if _, err := f.c.Join(context.Background(), r); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if len(f.c.List()) != 0 {
		t.Fatal("a refused Join left a group")
	}
	// Duplicates count once; zero timeouts mean the defaults.
	r := JoinRequest{Group: "g", Topics: []string{"b", "a", "b"}}
	res := f.join(r)
	info, _ := f.c.Describe("g")
	if !slices.Equal(info.Members[0].Topics, []string{"a", "b"}) || len(res.Assignment) != 9 {
		t.Fatalf("%+v", info)
	}
	f.c.Tick(f.clock.Advance(DefaultSessionTimeout - time.Nanosecond))
	if f.c.Empty("g") {
		t.Fatal("default session shorter than DefaultSessionTimeout")
	}
	f.c.Tick(f.clock.Advance(time.Nanosecond))
	if !f.c.Empty("g") {
		t.Fatal("default session longer than DefaultSessionTimeout")
	}
}

func TestLimits(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxGroups = 2; o.MaxMembersPerGroup = 1 })
	f.join(req("g1", "", "a"))
	x := f.join(req("g2", "", "a"))
	if _, err := f.c.Join(context.Background(), req("g3", "", "a")); !errors.Is(err, ErrLimit) {
		t.Fatalf("third group: %v", err)
	}
	if _, err := f.c.Join(context.Background(), req("g2", "", "a")); !errors.Is(err, ErrLimit) {
		t.Fatalf("second member: %v", err)
	}
	// A member of a full group may still rejoin; a group freed makes room.
	f.join(req("g2", x.MemberID, "a"))
	if err := f.c.Leave("g2", x.MemberID); err != nil {
		t.Fatal(err)
	}
	f.join(req("g3", "", "a"))
	if _, err := New(Options{MaxGroups: -1}); err == nil {
		t.Fatal("New accepted a negative MaxGroups")
	}
}

func TestNewControllerForgetsMembers(t *testing.T) {
	old := newFixture(t, func(o *Options) { o.GenerationBase = GenerationSeed(time.Unix(1000, 0)) })
	last := old.join(req("g", "", "a"))
	// A fresh Coordinator with a later seed, as a new controller makes.
	f := newFixture(t, func(o *Options) { o.GenerationBase = GenerationSeed(time.Unix(1001, 0)) })
	if err := f.c.Heartbeat("g", last.MemberID, last.Generation); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("Heartbeat: %v", err)
	}
	if err := f.c.CheckCommit("g", last.MemberID, last.Generation, last.Assignment); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("CheckCommit: %v", err)
	}
	if _, err := f.c.Join(context.Background(), req("g", last.MemberID, "a")); !errors.Is(err, ErrUnknownMember) {
		t.Fatalf("Join with the old id: %v", err)
	}
	res := f.join(req("g", "", "a"))
	if res.Generation <= last.Generation || res.MemberID == last.MemberID {
		t.Fatalf("new controller: %+v, old %+v", res, last)
	}
}

func TestMemberIDsUnique(t *testing.T) {
	a, b := newFixture(t, nil), newFixture(t, nil)
	seen := map[string]bool{}
	for i := range 50 {
		for _, f := range []*fixture{a, b} {
			r := req(fmt.Sprint("g", i), "", "a")
			r.ClientID = ""
			id := f.join(r).MemberID
			if seen[id] {
				t.Fatalf("member id %q issued twice", id)
			}
			seen[id] = true
		}
	}
}

func TestClose(t *testing.T) {
	f := newFixture(t, nil)
	x := f.join(req("g", "", "a"))
	ch := f.joinAsync(context.Background(), req("g", "", "a"))
	f.waitJoining("g", 1)
	if err := f.c.Close(); err != nil {
		t.Fatal(err)
	}
	if o := f.await(ch); !errors.Is(o.err, ErrClosed) {
		t.Fatalf("waiting Join after Close: %+v", o)
	}
	if err := f.c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.c.Join(context.Background(), req("g", "", "a")); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := f.c.Heartbeat("g", x.MemberID, x.Generation); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := f.c.CheckCommit("g", x.MemberID, x.Generation, nil); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := f.c.Leave("g", x.MemberID); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if err := f.c.Run(context.Background(), time.Millisecond); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestRun(t *testing.T) {
	f := newFixture(t, nil)
	f.join(req("g", "", "a"))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	wg.Go(func() { runErr = f.c.Run(ctx, time.Millisecond) })
	f.clock.Advance(time.Minute)
	f.waitFor("Run to expire the member", func() bool { return f.c.Empty("g") })
	cancel()
	wg.Wait()
	if !errors.Is(runErr, context.Canceled) {
		t.Fatalf("Run: %v", runErr)
	}
	if err := f.c.Run(ctx, 0); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Run with no interval: %v", err)
	}
}

// TestRandomClients drives many members through random joins, leaves,
// heartbeats, commits, clock steps and partition changes, checking after
// each step that every Stable group's assignment is exact and that
// generations never go back.
func TestRandomClients(t *testing.T) {
	rng := newRand(t)
	f := newFixture(t, func(o *Options) { o.Logger = nil })
	topics := []string{"a", "b", "c"}
	groups := []string{"g1", "g2"}
	type client struct {
		group, id string
		res       JoinResult
		pending   <-chan joinOutcome
		cancel    context.CancelFunc
	}
	var clients []*client
	maxGen := map[string]int64{}
	for step := range 2000 {
		switch k := rng.IntN(10); {
		case k < 2 && len(clients) < 12: // a new member
			ctx, cancel := context.WithCancel(context.Background())
			g := groups[rng.IntN(len(groups))]
			c := &client{group: g, cancel: cancel}
			c.pending = f.joinAsync(ctx, req(g, "", topics[:1+rng.IntN(len(topics))]...))
			clients = append(clients, c)
		case k < 5 && len(clients) > 0: // a member without a pending Join heartbeats and rejoins on demand
			c := clients[rng.IntN(len(clients))]
			if c.pending != nil || c.id == "" {
				break
			}
			err := f.c.Heartbeat(c.group, c.id, c.res.Generation)
			switch {
			case errors.Is(err, ErrRebalanceInProgress), errors.Is(err, ErrIllegalGeneration):
				if err := f.c.CheckCommit(c.group, c.id, c.res.Generation, c.res.Assignment); err != nil && !errors.Is(err, ErrIllegalGeneration) {
					t.Fatalf("step %d: commit before rejoining: %v", step, err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				c.cancel = cancel
				c.pending = f.joinAsync(ctx, req(c.group, c.id, topics[:1+rng.IntN(len(topics))]...))
			case errors.Is(err, ErrUnknownMember):
				c.id = "" // forgotten: drop the client
			case err != nil:
				t.Fatalf("step %d: Heartbeat: %v", step, err)
			}
		case k < 6 && len(clients) > 0: // a pending Join gives up
			c := clients[rng.IntN(len(clients))]
			if c.pending != nil {
				c.cancel()
			}
		case k < 7 && len(clients) > 0:
			c := clients[rng.IntN(len(clients))]
			if c.id != "" && c.pending == nil {
				if err := f.c.Leave(c.group, c.id); err != nil && !errors.Is(err, ErrUnknownMember) {
					t.Fatal(err)
				}
				c.id = ""
			}
		case k < 8:
			f.c.Tick(f.clock.Advance(time.Duration(rng.IntN(3000)) * time.Millisecond))
		case k < 9:
			f.parts.Set(topics[rng.IntN(len(topics))], rng.IntN(8))
			f.c.TopicsChanged()
		}
		// Collect the Joins that returned, without blocking.
		live := clients[:0]
		for _, c := range clients {
			if c.pending != nil {
				select {
				case o := <-c.pending:
					c.pending = nil
					c.cancel()
					switch {
					case o.err == nil:
						if o.res.Generation <= c.res.Generation {
							t.Fatalf("step %d: member got generation %d after %d", step, o.res.Generation, c.res.Generation)
						}
						c.id, c.res = o.res.MemberID, o.res
					case errors.Is(o.err, context.Canceled) && c.id != "":
					default:
						c.id = ""
					}
				default:
				}
			}
			if c.id != "" || c.pending != nil {
				live = append(live, c)
			}
		}
		clients = live
		for _, g := range groups {
			info, ok := f.c.Describe(g)
			if ok && info.Generation != 0 {
				if info.Generation < maxGen[g] {
					t.Fatalf("step %d: group %s at generation %d after %d", step, g, info.Generation, maxGen[g])
				}
				maxGen[g] = info.Generation
			}
			if !ok || info.State != StateStable {
				continue
			}
			seen := map[TopicPartition]bool{}
			union := map[string]bool{}
			for _, m := range info.Members {
				for _, tp := range m.Assignment {
					if seen[tp] || !slices.Contains(m.Topics, tp.Topic) {
						t.Fatalf("step %d: group %s: %v assigned twice or to a non-subscriber: %+v", step, g, tp, info)
					}
					seen[tp] = true
				}
				for _, tp := range m.Topics {
					union[tp] = true
				}
				if m.Generation != info.Generation {
					t.Fatalf("step %d: Stable group with a member at another generation: %+v", step, info)
				}
			}
			want := 0
			for tp := range union {
				want += f.parts.Partitions(tp)
			}
			if len(seen) != want {
				t.Fatalf("step %d: group %s assigns %d of %d partitions: %+v", step, g, len(seen), want, info)
			}
		}
	}
	for _, c := range clients {
		if c.cancel != nil {
			c.cancel()
		}
	}
	t.Logf("stats: %+v", f.c.Stats())
}
