package cachechaos

import (
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// ms is a duration in milliseconds, for compact tables.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func ring(id int, at time.Duration, via, members string, epoch int64) chaos.Op {
	return chaos.Op{ID: id, Kind: KindCacheRing, Via: via, Value: members, Rev: epoch, Call: at, Return: at, Outcome: chaos.OK}
}

func TestCheckCache(t *testing.T) {
	nodes := []string{"a", "b", "c"}
	kill := chaos.FaultRecord{Fault: chaos.FaultKill, Nodes: []string{"c"}, Start: ms(1000), End: ms(4000)}
	ops := []chaos.Op{
		{ID: 0, Kind: KindCacheSet, Key: "k", Value: "v1", Call: ms(0), Return: ms(5), Outcome: chaos.OK},
		{ID: 1, Kind: KindCacheGet, Key: "k", Value: "v1", Found: true, Via: "a", Call: ms(10), Return: ms(12), Outcome: chaos.OK},
		ring(2, ms(2000), "a", "a,b", 7),
		ring(3, ms(2100), "b", "a,b", 7),
		{ID: 4, Kind: KindCacheSet, Key: "k", Value: "v2", Call: ms(3500), Return: ms(3510), Outcome: chaos.OK},
		ring(5, ms(4200), "a", "a,b,c", 8),
		ring(6, ms(4300), "b", "a,b,c", 8),
		ring(7, ms(4400), "c", "a,b,c", 8),
		{ID: 8, Kind: KindCacheGet, Key: "k", Found: false, Via: "c", Call: ms(4500), Return: ms(4510), Outcome: chaos.OK},
		{ID: 9, Kind: KindCacheSet, Key: "k", Value: "v3", Call: ms(9000), Return: ms(9010), Outcome: chaos.OK},
	}
	bound := 2 * time.Second
	if v := checkCache(ops, []chaos.FaultRecord{kill}, nodes, bound, false); !v.Pass() {
		t.Fatalf("clean history: %+v", v)
	}
	// With replicas, the miss of an acknowledged key while c was dead fails.
	miss := append(append([]chaos.Op(nil), ops...), chaos.Op{ID: 10, Kind: KindCacheGet, Key: "k", Call: ms(1500), Return: ms(1600), Outcome: chaos.OK})
	if v := checkCache(miss, []chaos.FaultRecord{kill}, nodes, bound, true); v.Count != 1 || !strings.Contains(v.Violations[0], "missed") {
		t.Fatalf("miss while dead: %+v", v)
	}
	// A value never written, and a read error.
	bad := append(append([]chaos.Op(nil), ops...),
		chaos.Op{ID: 10, Kind: KindCacheGet, Key: "k", Value: "zz", Found: true, Call: ms(20), Return: ms(21), Outcome: chaos.OK},
		chaos.Op{ID: 11, Kind: KindCacheGet, Key: "k", Call: ms(30), Return: ms(31), Outcome: chaos.Fail, Err: "boom"})
	if v := checkCache(bad, []chaos.FaultRecord{kill}, nodes, bound, false); v.Count != 2 {
		t.Fatalf("bad reads: %+v", v)
	}
	// The live nodes disagree (different epochs) until after the bound.
	slow := append([]chaos.Op(nil), ops...)
	slow[3].Rev = 6
	if v := checkCache(slow, []chaos.FaultRecord{kill}, nodes, bound, false); v.Pass() {
		t.Fatal("unconverged ring accepted")
	}
	// A write failing after the bound while c is dead.
	fail := append(append([]chaos.Op(nil), ops...), chaos.Op{ID: 10, Kind: KindCacheSet, Key: "k", Value: "v9", Call: ms(3600), Return: ms(3700), Outcome: chaos.Unknown, Err: "unavailable"})
	if v := checkCache(fail, []chaos.FaultRecord{kill}, nodes, bound, false); v.Count != 1 {
		t.Fatalf("failed write: %+v", v)
	}
	// The restarted node serves no read.
	noServe := append([]chaos.Op(nil), ops...)
	noServe[8].Via = "a"
	if v := checkCache(noServe, []chaos.FaultRecord{kill}, nodes, bound, false); v.Count != 1 || !strings.Contains(v.Violations[0], "served no read") {
		t.Fatalf("restarted node silent: %+v", v)
	}
}

func TestCheckNear(t *testing.T) {
	ops := []chaos.Op{
		{ID: 0, Kind: KindCacheSet, Key: "k", Value: "w-1", Call: ms(0), Return: ms(5), Outcome: chaos.OK},
		{ID: 1, Kind: KindCacheSet, Key: "k", Value: "w-2", Call: ms(100), Return: ms(105), Outcome: chaos.OK},
		{ID: 2, Kind: KindNearGet, Key: "k", Value: "w-1", Found: true, Call: ms(300), Return: ms(301), Outcome: chaos.OK},
		{ID: 3, Kind: KindNearGet, Key: "k", Value: "w-2", Found: true, Call: ms(2000), Return: ms(2001), Outcome: chaos.OK},
		{ID: 4, Kind: KindCacheReset, Call: ms(2500), Return: ms(2500), Outcome: chaos.OK},
		{ID: 5, Kind: KindNearStats, Rev: 10, Call: ms(3000), Return: ms(3000), Outcome: chaos.OK},
	}
	v := checkNear(ops, true, time.Second)
	if !v.Pass() || !strings.Contains(v.Summary, "1 stale reads") {
		t.Fatalf("clean history: %+v", v)
	}
	late := append([]chaos.Op(nil), ops...)
	late[2].Call, late[2].Return = ms(1300), ms(1301)
	if v := checkNear(late, true, time.Second); v.Count != 1 {
		t.Fatalf("stale read past the bound: %+v", v)
	}
	if v := checkNear(ops[:4], true, time.Second); v.Count != 2 {
		t.Fatalf("no hits and no reset: %+v", v)
	}
}
