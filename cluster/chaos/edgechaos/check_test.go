package edgechaos

import (
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// ms is a duration in milliseconds, for compact tables.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func getOp(id int, via, path string, call, ret int, status int64, value string) chaos.Op {
	return chaos.Op{ID: id, Kind: KindGet, Via: via, Key: path, Call: ms(call), Return: ms(ret), Rev: status, Value: value, Outcome: chaos.OK}
}

func originEvent(id int, key string, at int, healed bool) chaos.Op {
	return chaos.Op{ID: id, Kind: KindOrigin, Key: key, Delete: healed, Call: ms(at), Return: ms(at), Outcome: chaos.OK}
}

func TestJudgeStale(t *testing.T) {
	ops := []chaos.Op{
		getOp(0, "edge-1", "/sie/0", 100, 110, 200, "rid=c0-0 enc=identity xc=MISS ok=1"),
		getOp(1, "edge-2", "/sie/0", 120, 130, 200, "rid=c1-0 enc=identity xc=MISS ok=1"),
		originEvent(2, "down", 1000, false),
		getOp(3, "edge-1", "/sie/0", 2000, 2010, 200, "rid=c0-1 enc=identity xc=STALE ok=1"),
		getOp(4, "edge-2", "/sie/0", 2100, 2110, 200, "rid=c1-1 enc=identity xc=STALE ok=1"),
		// Never served by edge-3 before the outage: not judged.
		getOp(5, "edge-3", "/sie/0", 2200, 2210, 502, "rid=c2-1 enc=identity xc=ERROR"),
		originEvent(6, "down", 5000, true),
		// After the outage: not judged.
		getOp(7, "edge-1", "/sie/0", 6000, 6010, 502, "rid=c0-2 enc=identity xc=ERROR"),
	}
	if v := judgeStale(ops, nil); !v.Pass() || !strings.Contains(v.Summary, "edge-1 1/1, edge-2 1/1") {
		t.Fatalf("clean history: %+v", v)
	}
	// A 502 from an edge that served the object before the outage fails.
	bad := append([]chaos.Op(nil), ops...)
	bad[4] = getOp(4, "edge-2", "/sie/0", 2100, 2110, 502, "rid=c1-1 enc=identity xc=ERROR")
	if v := judgeStale(bad, nil); v.Count != 1 || !strings.Contains(v.Violations[0], "status 502") {
		t.Fatalf("502 within stale-if-error: %+v", v)
	}
	// ... unless the edge was killed since (its memory tier is gone).
	down := map[string][][2]time.Duration{"edge-2": {{ms(1500), ms(1800)}}}
	if v := judgeStale(bad, down); !v.Pass() {
		t.Fatalf("restarted edge judged: %+v", v)
	}
	// Wrong content, and no answer at all.
	bad = append([]chaos.Op(nil), ops...)
	bad[3] = getOp(3, "edge-1", "/sie/0", 2000, 2010, 200, "rid=c0-1 enc=identity xc=STALE bad=1")
	bad[4].Outcome, bad[4].Err = chaos.Unknown, "context deadline exceeded"
	if v := judgeStale(bad, nil); v.Count != 2 {
		t.Fatalf("wrong content and timeout: %+v", v)
	}
	// Without an outage, or without a request to judge, nothing is decided.
	if v := judgeStale(ops[:2], nil); v.Err == "" {
		t.Fatalf("no outage: %+v", v)
	}
	if v := judgeStale([]chaos.Op{ops[2], ops[5], ops[6]}, nil); v.Err == "" {
		t.Fatalf("nothing judged: %+v", v)
	}
}

func TestJudgePrivacy(t *testing.T) {
	ops := []chaos.Op{
		getOp(0, "edge-1", "/priv/0", 0, 10, 200, "rid=c0-0 enc=identity xc=PASS got=c0-0"),
		getOp(1, "edge-1", "/nostore/1", 5, 15, 200, "rid=c1-0 enc=gzip xc=PASS got=c1-0"),
		getOp(2, "edge-2", "/priv/0", 20, 30, 502, "rid=c2-0 enc=identity xc=ERROR"),
	}
	if v := judgePrivacy(ops); !v.Pass() || !strings.Contains(v.Summary, "2 private") {
		t.Fatalf("clean history: %+v", v)
	}
	leak := append(append([]chaos.Op(nil), ops...),
		getOp(3, "edge-1", "/priv/0", 40, 50, 200, "rid=c1-1 enc=identity xc=HIT got=c0-0"),
		getOp(4, "edge-2", "/nostore/1", 40, 50, 200, "rid=c1-2 enc=identity xc=HIT got=c1-0"),
		getOp(5, "edge-3", "/priv/1", 40, 50, 200, "rid=c2-2 enc=identity xc=HIT bad=1"))
	v := judgePrivacy(leak)
	if v.Count != 3 || !strings.Contains(v.Violations[0], "ANOTHER CLIENT") || !strings.Contains(v.Violations[1], "stored it") {
		t.Fatalf("leaks: %+v", v)
	}
	if v := judgePrivacy(ops[2:]); v.Err == "" {
		t.Fatalf("nothing judged: %+v", v)
	}
}

func purgeOpOf(id int, key, value string, seq int64, call, ret int, outcome chaos.Outcome) chaos.Op {
	return chaos.Op{ID: id, Kind: KindPurge, Key: key, Value: value, Rev: seq, Call: ms(call), Return: ms(ret), Outcome: outcome}
}

// finalReads returns final reads of every /pv object on every node with
// the given versions (default firstVersion).
func finalReads(from int, nodes []string, vers map[string]string) []chaos.Op {
	var out []chaos.Op
	for _, n := range nodes {
		for _, p := range pvPaths() {
			ver := vers[p]
			if ver == "" {
				ver = "1"
			}
			for _, enc := range []string{"identity", "gzip"} {
				o := getOp(from+len(out), n, p, 9000, 9010, 200, "rid=f enc="+enc+" xc=MISS ver="+ver)
				o.Kind = KindFinal
				out = append(out, o)
			}
		}
	}
	return out
}

func TestJudgePurges(t *testing.T) {
	nodes := []string{"edge-1", "edge-2", "edge-3"}
	p := "/pv/g0/0"
	base := []chaos.Op{
		getOp(0, "edge-1", p, 0, 10, 200, "rid=c0-0 enc=identity xc=MISS ver=1"),
		purgeOpOf(1, "url:"+p, p+"=2|edge-1,edge-2,edge-3|", 1, 100, 300, chaos.OK),
		// Before the acknowledgement the old version may still be served.
		getOp(2, "edge-2", p, 200, 210, 200, "rid=c1-0 enc=identity xc=HIT ver=1"),
		getOp(3, "edge-1", p, 400, 410, 200, "rid=c0-1 enc=identity xc=MISS ver=2"),
		// A purge that was not acknowledged binds nobody.
		purgeOpOf(4, "prefix:/pv/g0/", "/pv/g0/0=3,/pv/g0/1=2,/pv/g0/2=2||", 0, 500, 600, chaos.Unknown),
		getOp(5, "edge-3", p, 700, 710, 200, "rid=c2-0 enc=identity xc=HIT ver=2"),
		purgeOpOf(6, "prefix:/pv/g0/", "/pv/g0/0=3,/pv/g0/1=2,/pv/g0/2=2|edge-1,edge-2,edge-3|", 3, 800, 900, chaos.OK),
		{ID: 7, Kind: KindCaughtUp, Via: "edge-1", Rev: 3, Outcome: chaos.OK},
	}
	latest := map[string]string{p: "3", "/pv/g0/1": "2", "/pv/g0/2": "2"}
	ops := append(append([]chaos.Op(nil), base...), finalReads(100, nodes, latest)...)
	if v := judgePurges(ops, nodes); !v.Pass() {
		t.Fatalf("clean history: %+v", v)
	}
	// An edge that applied an acknowledged purge serves the old version.
	stale := append(append([]chaos.Op(nil), ops...), getOp(50, "edge-2", p, 1000, 1010, 200, "rid=c1-9 enc=gzip xc=HIT ver=2"))
	if v := judgePurges(stale, nodes); v.Count != 1 || !strings.Contains(v.Violations[0], "purge seq 3") {
		t.Fatalf("old version after the purge: %+v", v)
	}
	// An edge the acknowledgement did not name (it was down) is bound only
	// once a later acknowledged purge names it.
	down := append([]chaos.Op(nil), ops...)
	down[6] = purgeOpOf(6, "prefix:/pv/g0/", "/pv/g0/0=3,/pv/g0/1=2,/pv/g0/2=2|edge-1,edge-3|", 3, 800, 900, chaos.OK)
	down = append(down, getOp(50, "edge-2", p, 1000, 1010, 200, "rid=c1-9 enc=identity xc=HIT ver=2"),
		purgeOpOf(51, "url:/pv/g1/0", "/pv/g1/0=2|edge-1,edge-2,edge-3|", 4, 1100, 1200, chaos.OK),
		getOp(52, "edge-2", p, 1300, 1310, 200, "rid=c1-10 enc=identity xc=HIT ver=2"))
	latest["/pv/g1/0"] = "2"
	down = append(down[:8], append(finalReads(100, nodes, latest), down[len(down)-3:]...)...)
	if v := judgePurges(down, nodes); v.Count != 1 || !strings.Contains(v.Violations[0], "1.3s") {
		t.Fatalf("edge bound by a later purge: %+v", v)
	}
	// The end state: an edge serving an old version (also bound by the
	// purge during the run), a missing final read, an edge that did not
	// catch up, a bump whose purge was never acknowledged, and a corrupt
	// body.
	endLatest := map[string]string{p: "3", "/pv/g0/1": "2", "/pv/g0/2": "2", "/pv/g3/2": "2"}
	end := append([]chaos.Op(nil), base...)
	for _, o := range finalReads(100, nodes, endLatest) {
		switch {
		case o.Via == "edge-3" && o.Key == p && field(o.Value, "enc") == "gzip":
			o.Value = "rid=f enc=gzip xc=HIT ver=2"
		case o.Via == "edge-2" && o.Key == "/pv/g1/2" && field(o.Value, "enc") == "identity":
			continue
		}
		end = append(end, o)
	}
	end = append(end,
		chaos.Op{ID: 300, Kind: KindCaughtUp, Via: "edge-2", Rev: 2, Outcome: chaos.Fail, Err: "last_purge 2"},
		purgeOpOf(301, "url:/pv/g3/2", "/pv/g3/2=2||", 0, 8000, 8100, chaos.Unknown),
		getOp(302, "edge-1", "/pv/g3/1", 50, 60, 200, "rid=c0-7 enc=identity xc=HIT bad=1"))
	v := judgePurges(end, nodes)
	want := []string{"corrupt body", "did not catch up", "was never acknowledged", "final read answered", "no final read", "purge seq 3"}
	if v.Count != len(want) {
		t.Fatalf("end state: %d violations, want %d: %+v", v.Count, len(want), v)
	}
	all := strings.Join(v.Violations, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("end state: no violation %q in\n%s", w, all)
		}
	}
	// No acknowledged purge: nothing to judge.
	if v := judgePurges(base[:1], nodes); v.Err == "" {
		t.Fatalf("no purge: %+v", v)
	}
}

func TestContent(t *testing.T) {
	for _, i := range []int{0, 1} {
		path := pvPath(2, i)
		b := pvBody(path, 7, pvSize(i))
		if ver, err := parsePv(path, b); err != nil || ver != 7 {
			t.Fatalf("parsePv(%s) = %d, %v", path, ver, err)
		}
		b[len(b)-1] ^= 1
		if _, err := parsePv(path, b); err == nil {
			t.Fatalf("corrupt body of %s accepted", path)
		}
		if _, err := parsePv(pvPath(1, i), pvBody(path, 7, pvSize(i))); err == nil {
			t.Fatal("another object's body accepted")
		}
	}
	if rid, err := parsePriv("/priv/1", privBody("/priv/1", "c3", "c3-9")); err != nil || rid != "c3-9" {
		t.Fatalf("parsePriv = %q, %v", rid, err)
	}
	if _, err := parsePriv("/priv/1", privBody("/priv/0", "c3", "c3-9")); err == nil {
		t.Fatal("another URL's private body accepted")
	}
	if g, i, ok := parsePvPath("/pv/g3/2"); !ok || g != 3 || i != 2 {
		t.Fatalf("parsePvPath = %d, %d, %v", g, i, ok)
	}
	for _, bad := range []string{"/pv/g9/0", "/pv/g1/x", "/pv/g1/01", "/sie/0"} {
		if _, _, ok := parsePvPath(bad); ok {
			t.Fatalf("parsePvPath(%q) accepted", bad)
		}
	}
}
