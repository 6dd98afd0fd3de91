package lockchaos

import (
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// ms is a duration in milliseconds, for compact tables.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// lockHistory is a clean history: session 1 holds token 10 on "l" and
// releases it, then session 2 is granted token 20 and writes.
func lockHistory() []chaos.Op {
	return []chaos.Op{
		{ID: 0, Kind: KindLockAcquire, Key: "l", Session: 1, Token: 10, Call: ms(0), Return: ms(5), Outcome: chaos.OK},
		{ID: 1, Kind: KindFencedWrite, Key: "l", Session: 1, Token: 10, Value: "w1", Call: ms(6), Return: ms(8), Outcome: chaos.OK, Succeeded: true, Rev: 3},
		{ID: 2, Kind: KindLockAcquire, Key: "l", Session: 2, Token: 20, Call: ms(7), Return: ms(30), Outcome: chaos.OK},
		{ID: 3, Kind: KindLockRelease, Key: "l", Session: 1, Token: 10, Call: ms(20), Return: ms(25), Outcome: chaos.OK},
		{ID: 4, Kind: KindFencedWrite, Key: "l", Session: 2, Token: 20, Value: "w2", Call: ms(31), Return: ms(33), Outcome: chaos.OK, Succeeded: true, Rev: 4},
	}
}

func TestCheckLocks(t *testing.T) {
	final := map[string][]acceptedWrite{"l": {{ID: "w1", Token: 10, Session: 1, Rev: 3}, {ID: "w2", Token: 20, Session: 2, Rev: 4}}}
	if v := checkLocks(lockHistory(), final); !v.Pass() {
		t.Fatalf("clean history: %+v", v)
	}

	// Session 2 is granted before session 1's healthy hold is released.
	ops := lockHistory()
	ops[2].Return = ms(15)
	if v := checkLocks(ops, final); v.Count != 1 || !strings.Contains(v.Violations[0], "overlap") {
		t.Fatalf("overlap: %+v", v)
	}

	// The same token for two sessions.
	ops = lockHistory()
	ops[2].Token = 10
	if v := checkLocks(ops, nil); v.Pass() {
		t.Fatal("shared token accepted")
	}

	// The resource accepts a lower token after a higher one.
	bad := map[string][]acceptedWrite{"l": {{ID: "w2", Token: 20, Session: 2, Rev: 3}, {ID: "w1", Token: 10, Session: 1, Rev: 4}}}
	if v := checkLocks(lockHistory(), bad); v.Pass() {
		t.Fatal("decreasing resource tokens accepted")
	}

	// A healthy holder's write refused, and an acknowledged write missing.
	ops = lockHistory()
	ops[1].Succeeded = false
	if v := checkLocks(ops, map[string][]acceptedWrite{"l": final["l"][1:]}); v.Count != 1 || !strings.Contains(v.Violations[0], "healthy") {
		t.Fatalf("fenced healthy holder: %+v", v)
	}

	// A late write sent after the resource moved on must be refused.
	ops = append(lockHistory(), chaos.Op{ID: 5, Kind: KindFencedLate, Key: "l", Session: 1, Token: 10, Value: "w3", Call: ms(40), Return: ms(41),
		Outcome: chaos.OK, Succeeded: true, Found: true})
	late := map[string][]acceptedWrite{"l": append(final["l"], acceptedWrite{ID: "w3", Token: 10, Session: 1, Rev: 5})}
	if v := checkLocks(ops, late); v.Count != 2 {
		t.Fatalf("late write accepted: %+v", v)
	}
}

func TestCheckLockLiveness(t *testing.T) {
	ops := []chaos.Op{
		{ID: 0, Kind: KindLockAcquire, Key: "l", Session: 1, Token: 10, Call: ms(0), Return: ms(5), Outcome: chaos.OK},
		{ID: 1, Kind: KindLockAcquire, Key: "l", Session: 2, Token: 30, Call: ms(10), Return: ms(3500), Outcome: chaos.OK},
		{ID: 2, Kind: KindLockCrash, Key: "l", Session: 1, Token: 10, Call: ms(100), Return: ms(100), Outcome: chaos.OK},
		{ID: 3, Kind: KindLockAcquire, Key: "m", Session: 3, Token: 40, Call: ms(0), Return: ms(20000), Outcome: chaos.OK},
	}
	allow, maxWait := 6*time.Second, 10*time.Second
	if v := checkLockLiveness(ops, nil, allow, maxWait); v.Count != 1 || !strings.Contains(v.Violations[0], "took") {
		t.Fatalf("slow acquire: %+v", v)
	}
	ops = ops[:3]
	ops[1].Return = ms(9000)
	ops = append(ops, chaos.Op{ID: 4, Kind: KindLockAcquire, Key: "x", Call: ms(20000), Return: ms(20001), Outcome: chaos.Fail})
	if v := checkLockLiveness(ops, nil, allow, maxWait); v.Count != 1 || !strings.Contains(v.Violations[0], "only at") {
		t.Fatalf("late hand-off: %+v", v)
	}
	// A fault overlapping the window moves the bound.
	faults := []chaos.FaultRecord{{Fault: chaos.FaultKill, Start: ms(1000), End: ms(2000), Ready: ms(3500)}}
	if v := checkLockLiveness(ops, faults, allow, maxWait); !v.Pass() {
		t.Fatalf("hand-off after a fault: %+v", v)
	}
}

func TestCheckElection(t *testing.T) {
	obs := func(id, client int, stream int64, index uint64, session, token uint64) chaos.Op {
		return chaos.Op{ID: id, Kind: KindObserve, Client: client, Rev: stream, Index: index, Found: session != 0, Session: session, Token: token}
	}
	ops := []chaos.Op{
		{ID: 0, Kind: KindCampaign, Key: "e", Session: 1, Token: 10, Call: ms(0), Return: ms(5), Outcome: chaos.OK},
		obs(1, 100, 1, 10, 1, 10),
		obs(2, 101, 1, 9, 0, 0),
		obs(3, 101, 1, 10, 1, 10),
		{ID: 4, Kind: KindResign, Key: "e", Session: 1, Token: 10, Call: ms(10), Return: ms(12), Outcome: chaos.OK},
		obs(5, 100, 1, 11, 0, 0),
		obs(6, 101, 1, 11, 0, 0),
		{ID: 7, Kind: KindCampaign, Key: "e", Session: 2, Token: 12, Call: ms(1), Return: ms(20), Outcome: chaos.OK},
		obs(8, 100, 1, 12, 2, 12),
		obs(9, 101, 1, 12, 2, 12),
	}
	if v := checkElection(ops); !v.Pass() {
		t.Fatalf("clean history: %+v", v)
	}
	// Observer 101 misses the change at index 11.
	skip := append(append([]chaos.Op(nil), ops[:6]...), ops[7:]...)
	if v := checkElection(skip); v.Count != 1 || !strings.Contains(v.Violations[0], "missed the change at index 11") {
		t.Fatalf("skipped change: %+v", v)
	}
	// Two observers disagree on index 12; an observer goes back.
	bad := append([]chaos.Op(nil), ops...)
	bad[9] = obs(9, 101, 1, 12, 3, 12)
	if v := checkElection(bad); v.Pass() {
		t.Fatal("disagreeing observers accepted")
	}
	back := append(append([]chaos.Op(nil), ops...), obs(10, 100, 2, 10, 1, 10))
	if v := checkElection(back); v.Pass() {
		t.Fatal("observer going back accepted")
	}
}
