package blobchaos

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

func (h *hist) add(op chaos.Op) *hist {
	op.ID = len(h.ops)
	h.ops = append(h.ops, op)
	return h
}

// put records a PUT by client of size bytes of content cid (contentID of
// client and n) to key over [call, ret].
func (h *hist) put(client int, key string, n int, size int64, call, ret int, out chaos.Outcome) *hist {
	cid := contentID(client, n)
	sha := "(not computed for big objects)"
	if size <= 1<<20 {
		sha = Digest(cid, size)
	}
	return h.add(chaos.Op{Client: client, Kind: KindPut, Key: key, Value: sha, Rev: size, Session: cid,
		Call: ms(call), Return: ms(ret), Outcome: out})
}

func (h *hist) del(client int, key string, call, ret int, out chaos.Outcome) *hist {
	return h.add(chaos.Op{Client: client, Kind: KindDelete, Key: key, Call: ms(call), Return: ms(ret), Outcome: out})
}

// seen is what a read got: n bytes of the content of PUT number put of
// client (nil: no object), wrong of them wrong.
type seen struct {
	client, put int
	n           int64
	wrong       uint64
}

// read records a successful read of kind over [call, ret].
func (h *hist) read(kind chaos.OpKind, key string, call, ret int, s *seen) *hist {
	op := chaos.Op{Client: 500, Kind: kind, Key: key, Call: ms(call), Return: ms(ret), Outcome: chaos.OK}
	if s != nil {
		cid := contentID(s.client, s.put)
		op.Found, op.Value, op.Rev, op.Token = true, Digest(cid, s.n), s.n, s.wrong
		if s.n >= contentHeaderLen {
			op.Session = cid
		}
	}
	return h.add(op)
}

func (h *hist) get(key string, call, ret int, s *seen) *hist {
	return h.read(KindGet, key, call, ret, s)
}

// final records the drain's successful read of key.
func (h *hist) final(key string, s *seen) *hist { return h.read(KindFinal, key, 90000, 90010, s) }

func (h *hist) finalFail(key, err string) *hist {
	return h.add(chaos.Op{Client: 900, Kind: KindFinal, Key: key, Call: ms(90000), Return: ms(90010), Outcome: chaos.Fail, Err: err})
}

func (h *hist) list(kind chaos.OpKind, prefix string, call, ret int, keys ...string) *hist {
	return h.add(chaos.Op{Client: 501, Kind: kind, Key: prefix, Value: strings.Join(keys, " "), Call: ms(call), Return: ms(ret), Outcome: chaos.OK})
}

func (h *hist) finalList(keys ...string) *hist {
	return h.list(KindFinalList, "", 95000, 95010, keys...)
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

// base is a clean history: writer 1 puts a (twice: an overwrite) and b,
// deletes b; reads and listings see what they should; the drain agrees.
func base() *hist {
	return (&hist{}).
		put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).
		put(1, "w1/b", 1, 100, 20, 30, chaos.OK).
		get("w1/a", 15, 18, &seen{1, 0, 5000, 0}).
		put(1, "w1/a", 2, 7000, 40, 50, chaos.OK).
		get("w1/a", 45, 48, &seen{1, 0, 5000, 0}). // concurrent with the overwrite: the old one
		get("w1/a", 46, 60, &seen{1, 2, 7000, 0}). // or the new one
		list(KindList, "w1/", 35, 38, "w1/a", "w1/b").
		del(1, "w1/b", 60, 70, chaos.OK).
		get("w1/b", 65, 66, &seen{1, 1, 100, 0}). // concurrent with the delete
		get("w1/b", 75, 76, nil).
		list(KindList, "w1/", 80, 85, "w1/a").
		final("w1/a", &seen{1, 2, 7000, 0}).
		final("w1/b", nil).
		finalList("w1/a")
}

func TestCheckObjects(t *testing.T) {
	for _, tc := range []struct {
		name    string
		h       *hist
		n       int    // violations
		sub     string // in the first violation
		summary string // in the summary
	}{
		{name: "clean", h: base(), summary: "PUTs 3 acknowledged (12100 bytes), 0 failed, 0 unknown; 1 DELETEs acknowledged; 5 GETs (4 found), 2 listings; " +
			"final: 2 keys, 1 objects, 7000 bytes verified; lost 0, unreadable 0, wrong bytes 0 in 0 objects, partial 0, foreign 0, failed PUT visible 0, stale reads 0, listing misses 0, listing extras 0"},
		{
			name: "acknowledged PUT missing at the end is lost",
			h:    (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).final("w1/a", nil).finalList(),
			// the final listing misses it too
			n: 2, sub: "lost write: final GET of w1/a", summary: "lost 1",
		},
		{
			name: "the version before an acknowledged overwrite is lost",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).put(1, "w1/a", 1, 6000, 20, 30, chaos.OK).
				final("w1/a", &seen{1, 0, 5000, 0}).finalList("w1/a"),
			n: 1, sub: "the last acknowledged write of the key is PUT op 1",
		},
		{
			name: "a write of unknown outcome after the last acknowledged one may or may not have applied",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).put(1, "w1/a", 1, 6000, 20, 30, chaos.Unknown).
				put(1, "w1/b", 2, 50, 40, 50, chaos.OK).del(1, "w1/b", 60, -1, chaos.Unknown).
				get("w1/a", 100, 101, &seen{1, 0, 5000, 0}).get("w1/a", 102, 103, &seen{1, 1, 6000, 0}).
				get("w1/b", 104, 105, nil).get("w1/b", 106, 107, &seen{1, 2, 50, 0}).
				final("w1/a", &seen{1, 1, 6000, 0}).final("w1/b", &seen{1, 2, 50, 0}).finalList("w1/a", "w1/b"),
		},
		{
			name: "a write of unknown outcome may take effect late, after a later acknowledged one",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.Unknown).put(1, "w1/a", 1, 6000, 20, 30, chaos.OK).
				final("w1/a", &seen{1, 0, 5000, 0}).finalList("w1/a"),
		},
		{
			name: "wrong bytes",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).get("w1/a", 20, 30, &seen{1, 0, 5000, 3}).
				final("w1/a", &seen{1, 0, 5000, 0}).finalList("w1/a"),
			n: 1, sub: "wrong bytes: GET of w1/a (op 1, 20ms–30ms) returned 5000 bytes of content 4294967297 (PUT op 0), 3 of them wrong",
			summary: "wrong bytes 3 in 1 objects",
		},
		{
			name: "a partial object",
			h:    (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).final("w1/a", &seen{1, 0, 4096, 0}).finalList("w1/a"),
			n:    1, sub: "partial object: final GET of w1/a", summary: "partial 1",
		},
		{
			name: "another key's object",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).put(1, "w1/b", 1, 5000, 20, 30, chaos.OK).
				get("w1/a", 40, 50, &seen{1, 1, 5000, 0}).
				final("w1/a", &seen{1, 0, 5000, 0}).final("w1/b", &seen{1, 1, 5000, 0}).finalList("w1/a", "w1/b"),
			n: 1, sub: "foreign object: GET of w1/a (op 2, 40ms–50ms) returned 5000 bytes of content 4294967298, which PUT op 1 of w1/b sent",
		},
		{
			name: "content no PUT sent",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).get("w1/a", 40, 50, &seen{7, 0, 5000, 0}).
				final("w1/a", &seen{1, 0, 5000, 0}).finalList("w1/a"),
			n: 1, sub: "which no PUT sent",
		},
		{
			name: "a failed PUT is never visible",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).put(1, "w1/a", 1, 6000, 20, 30, chaos.Fail).
				get("w1/a", 25, 35, &seen{1, 1, 6000, 0}).final("w1/a", &seen{1, 0, 5000, 0}).finalList("w1/a"),
			n: 1, sub: "failed PUT visible: GET of w1/a", summary: "failed PUT visible 1",
		},
		{
			name: "a GET after an acknowledged PUT finds nothing",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).get("w1/a", 11, 12, nil).
				final("w1/a", &seen{1, 0, 5000, 0}).finalList("w1/a"),
			n: 1, sub: "stale read: GET of w1/a (op 1, 11ms–12ms) returned no object; PUT op 0", summary: "stale reads 1",
		},
		{
			name: "a GET after an acknowledged DELETE finds the object",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).del(1, "w1/a", 20, 30, chaos.OK).
				get("w1/a", 31, 40, &seen{1, 0, 5000, 0}).final("w1/a", nil).finalList(),
			n: 1, sub: "stale read: GET of w1/a (op 2, 31ms–40ms) returned content 4294967297 (PUT op 0); DELETE op 1",
		},
		{
			name: "a GET after an acknowledged overwrite finds the old version",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).put(1, "w1/a", 1, 5000, 20, 30, chaos.OK).
				get("w1/a", 31, 40, &seen{1, 0, 5000, 0}).final("w1/a", &seen{1, 1, 5000, 0}).finalList("w1/a"),
			n: 1, sub: "stale read",
		},
		{
			name: "a GET returns a PUT invoked after it returned",
			h: (&hist{}).get("w1/a", 0, 5, &seen{1, 0, 5000, 0}).put(1, "w1/a", 0, 5000, 10, 20, chaos.OK).
				final("w1/a", &seen{1, 0, 5000, 0}).finalList("w1/a"),
			n: 1, sub: "read from the future",
		},
		{
			name: "objects smaller than the header are matched by digest",
			h: (&hist{}).put(1, "w1/a", 0, 5, 0, 10, chaos.OK).put(1, "w1/a", 1, 9, 20, 30, chaos.OK).
				get("w1/a", 11, 12, &seen{1, 0, 5, 0}).get("w1/a", 31, 32, &seen{1, 1, 9, 0}).
				final("w1/a", &seen{1, 1, 9, 0}).finalList("w1/a"),
		},
		{
			name: "bytes of a small object that no PUT sent",
			h: (&hist{}).put(1, "w1/a", 0, 9, 0, 10, chaos.OK).get("w1/a", 11, 12, &seen{1, 0, 7, 0}).
				final("w1/a", &seen{1, 0, 9, 0}).finalList("w1/a"),
			n: 1, sub: "unrecognised content: GET of w1/a (op 1, 11ms–12ms) returned 7 bytes",
		},
		{
			name: "a listing misses a key acknowledged before it began",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).put(1, "w1/b", 1, 5000, 0, 10, chaos.OK).
				list(KindList, "w1/", 20, 30, "w1/b").list(KindList, "w2/", 20, 30).
				final("w1/a", &seen{1, 0, 5000, 0}).final("w1/b", &seen{1, 1, 5000, 0}).finalList("w1/a", "w1/b"),
			n: 1, sub: `listing miss: listing of "w1/" (op 2, 20ms–30ms) does not list w1/a; PUT op 0`, summary: "listing misses 1",
		},
		{
			name: "a listing lists a key deleted before it began",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).del(1, "w1/a", 20, 30, chaos.OK).
				list(KindList, "w1/", 40, 50, "w1/a").final("w1/a", nil).finalList(),
			n: 1, sub: `listing extra: listing of "w1/" (op 2, 40ms–50ms) lists w1/a; DELETE op 1`,
		},
		{
			name: "a listing lists a key nobody wrote",
			h:    (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).final("w1/a", &seen{1, 0, 5000, 0}).finalList("w1/a", "w9/x"),
			n:    1, sub: `listing extra: final listing of "" (op 2, 1m35s–1m35.01s) lists w9/x, which no PUT named`,
		},
		{
			name: "a listing concurrent with a PUT may or may not list it",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).put(1, "w1/b", 1, 5000, 20, 30, chaos.OK).
				list(KindList, "w1/", 25, 35, "w1/a").list(KindList, "w1/", 25, 35, "w1/a", "w1/b").
				final("w1/a", &seen{1, 0, 5000, 0}).final("w1/b", &seen{1, 1, 5000, 0}).finalList("w1/a", "w1/b"),
		},
		{
			name: "a key the drain could not read",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).finalFail("w1/a", "DATA_UNAVAILABLE").
				finalFail("w1/a", "DATA_UNAVAILABLE").finalList("w1/a"),
			n: 1, sub: "unreadable: the final GET of w1/a did not succeed (2 attempts failed, the last with: DATA_UNAVAILABLE)",
		},
		{
			name: "a failed final read followed by a good one",
			h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).finalFail("w1/a", "NO_LEADER").
				final("w1/a", &seen{1, 0, 5000, 0}).finalList("w1/a"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := checkObjects(tc.h.ops)
			wantVerdict(t, v, tc.n, tc.sub)
			if !strings.Contains(v.Summary, tc.summary) {
				t.Fatalf("summary %q does not contain %q", v.Summary, tc.summary)
			}
		})
	}
}

func TestCheckObjectsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    *hist
		err  string
	}{
		{name: "no drain", h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK), err: "the drain did not run"},
		{name: "the final listing failed", h: (&hist{}).put(1, "w1/a", 0, 5000, 0, 10, chaos.OK).final("w1/a", &seen{1, 0, 5000, 0}).
			add(chaos.Op{Kind: KindFinalList, Outcome: chaos.Fail}), err: "the final listing never succeeded"},
		{name: "two writers of a key", h: (&hist{}).put(1, "w1/a", 0, 50, 0, 10, chaos.OK).put(2, "w1/a", 0, 50, 20, 30, chaos.OK).finalList(),
			err: "key w1/a written by clients 1 and 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := checkObjects(tc.h.ops)
			if !strings.Contains(v.Err, tc.err) {
				t.Fatalf("err %q, want one containing %q", v.Err, tc.err)
			}
		})
	}
}

// rstatus records a repair status returned at ret (ms).
func rstatus(h *hist, ret int, healthy bool, degraded int) *hist {
	return h.add(chaos.Op{Client: 1200, Kind: KindRepair, Found: healthy, Rev: int64(degraded),
		Value: "volumes 4", Call: ms(ret - 5), Return: ms(ret), Outcome: chaos.OK})
}

// healthyEvery records healthy statuses every 500ms over [from, to] (ms).
func healthyEvery(h *hist, from, to int) *hist {
	for t := from; t <= to; t += 500 {
		rstatus(h, t, true, 0)
	}
	return h
}

func TestCheckRepair(t *testing.T) {
	const heal, bound, settle = 10 * time.Second, 30 * time.Second, 8 * time.Second
	for _, tc := range []struct {
		name    string
		h       *hist
		n       int
		sub     string
		summary string
		err     string
	}{
		{
			name: "healthy all along",
			h:    healthyEvery(rstatus(&hist{}, 9000, true, 0), 10000, 18000),
			// statuses before the heal do not count
			summary: "last heal at 10s; healthy again 0s after it (bound 30s, held 8s); 18 statuses (0 not healthy, at most 0 volumes degraded)",
		},
		{
			name:    "degraded, then repaired within the bound",
			h:       healthyEvery(rstatus(rstatus(&hist{}, 10500, false, 3), 15000, false, 1), 20000, 28000),
			summary: "healthy again 10s after it (bound 30s, held 8s); 19 statuses (2 not healthy, at most 3 volumes degraded)",
		},
		{
			name: "a scrub finds damage after a healthy start: the last streak counts",
			h:    healthyEvery(rstatus(healthyEvery(&hist{}, 10000, 12000), 13000, false, 1), 14000, 22000),
			// healthy from 14s
			summary: "healthy again 4s after it",
		},
		{
			name: "repaired after the bound",
			h:    healthyEvery(rstatus(&hist{}, 11000, false, 2), 41000, 49000),
			n:    1, sub: "repaired late: healthy from 41s, 31s after the last heal (bound 30s)",
		},
		{
			name: "never repaired",
			h:    rstatus(rstatus(&hist{}, 11000, false, 2), 48000, false, 1),
			n:    1, sub: "not repaired: the last repair status (48s, 38s after the last heal) is not healthy: volumes 4; the bound is 30s",
		},
		{
			name: "healthy too briefly",
			h:    healthyEvery(rstatus(&hist{}, 11000, false, 2), 12000, 14000),
			n:    1, sub: "not settled: healthy from 12s, 2s after the last heal, but only watched until 14s",
		},
		{
			name: "no status after the heal",
			h:    rstatus(&hist{}, 9000, true, 0),
			err:  "no repair status was read after the last heal at 10s",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := checkRepair(tc.h.ops, heal, bound, settle)
			if tc.err != "" {
				if !strings.Contains(v.Err, tc.err) {
					t.Fatalf("err %q, want one containing %q", v.Err, tc.err)
				}
				return
			}
			wantVerdict(t, v, tc.n, tc.sub)
			if !strings.Contains(v.Summary, tc.summary) {
				t.Fatalf("summary %q does not contain %q", v.Summary, tc.summary)
			}
		})
	}
}

func TestRepairBound(t *testing.T) {
	h := (&hist{}).put(1, "w1/a", 0, 300<<20, 0, 10, chaos.OK).put(1, "w1/b", 1, 1<<30, 0, 10, chaos.Fail)
	if got := repairBound(h.ops, 30*time.Second, 100<<20); got != 33*time.Second {
		t.Fatalf("bound %v, want 33s (30s + 300 MiB at 100 MiB/s; failed PUTs do not count)", got)
	}
	recs := []chaos.FaultRecord{{Start: ms(1000), End: ms(3000)}, {Start: ms(5000), End: ms(9000)}, {Start: ms(2000), End: -1}}
	if got := lastHeal(recs); got != 9*time.Second {
		t.Fatalf("lastHeal %v, want 9s", got)
	}
}
