package blobchaos

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// indexed is a history sorted out for the object checker.
type indexed struct {
	writes     map[string][]chaos.Op // key -> its PUTs and DELETEs, in the order issued
	writer     map[string]int        // key -> the client that wrote it
	puts       map[uint64]chaos.Op   // content id -> its PUT
	gets       []chaos.Op            // KindGet that returned OK
	lists      []chaos.Op            // KindList that returned OK
	finals     map[string][]chaos.Op // key -> its KindFinal reads
	finalLists []chaos.Op            // KindFinalList that returned OK
	finalList  bool                  // a final listing was attempted
	errs       []string              // the workload broke its own rules
}

func index(ops []chaos.Op) *indexed {
	sorted := append([]chaos.Op(nil), ops...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	ix := &indexed{writes: map[string][]chaos.Op{}, writer: map[string]int{}, puts: map[uint64]chaos.Op{},
		finals: map[string][]chaos.Op{}}
	for _, op := range sorted {
		switch op.Kind {
		case KindPut, KindDelete:
			if c, ok := ix.writer[op.Key]; ok && c != op.Client {
				ix.errs = append(ix.errs, fmt.Sprintf("key %s written by clients %d and %d: the workload's keys must have one writer", op.Key, c, op.Client))
			}
			ix.writer[op.Key] = op.Client
			ix.writes[op.Key] = append(ix.writes[op.Key], op)
			if op.Kind == KindPut {
				if prev, dup := ix.puts[op.Session]; dup {
					ix.errs = append(ix.errs, fmt.Sprintf("content %d sent by ops %d and %d: content ids must be unique", op.Session, prev.ID, op.ID))
				}
				ix.puts[op.Session] = op
			}
		case KindGet:
			if op.Outcome == chaos.OK {
				ix.gets = append(ix.gets, op)
			}
		case KindList:
			if op.Outcome == chaos.OK {
				ix.lists = append(ix.lists, op)
			}
		case KindFinal:
			ix.finals[op.Key] = append(ix.finals[op.Key], op)
		case KindFinalList:
			ix.finalList = true
			if op.Outcome == chaos.OK {
				ix.finalLists = append(ix.finalLists, op)
			}
		}
	}
	return ix
}

// keys returns the keys written, sorted.
func (ix *indexed) keys() []string {
	out := make([]string, 0, len(ix.writes))
	for k := range ix.writes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// admissible reports whether a read of a key invoked at call and returned
// at ret may return the state written by the key's write i (-1: the state
// before any write, no object), given the key's writes ws in the order its
// one writer issued them (each returned before the next was invoked). A
// write takes effect between its call and its return when acknowledged, at
// any time after its call when its outcome is unknown, never when it
// failed. So the read may see write i when i did not fail, was invoked
// before the read returned, and is not older than the last write
// acknowledged before the read began (unless its outcome is unknown: it
// may have taken effect late).
func admissible(ws []chaos.Op, call, ret time.Duration, i int) bool {
	last := lastAcked(ws, call)
	if i < 0 {
		return last < 0
	}
	w := ws[i]
	return w.Outcome != chaos.Fail && w.Call < ret && (i >= last || w.Outcome != chaos.OK)
}

// lastAcked returns the index of the last write of ws acknowledged before
// t, -1 if none.
func lastAcked(ws []chaos.Op, t time.Duration) int {
	last := -1
	for i, w := range ws {
		if w.Outcome == chaos.OK && w.Done() && w.Return < t {
			last = i
		}
	}
	return last
}

// anyAdmissible reports whether some state matching match is admissible
// for a read over [call, ret].
func anyAdmissible(ws []chaos.Op, call, ret time.Duration, match func(i int) bool) bool {
	for i := -1; i < len(ws); i++ {
		if match(i) && admissible(ws, call, ret, i) {
			return true
		}
	}
	return false
}

// describe names write i of ws (-1: no write) for a violation.
func describe(ws []chaos.Op, i int) string {
	if i < 0 {
		return "no write"
	}
	w := ws[i]
	ret := "never returned"
	if w.Done() {
		ret = "returned " + w.Return.String()
	}
	if w.Kind == KindDelete {
		return fmt.Sprintf("DELETE op %d (%s, %s)", w.ID, w.Outcome, ret)
	}
	return fmt.Sprintf("PUT op %d of content %d, %d bytes (%s, %s)", w.ID, w.Session, w.Rev, w.Outcome, ret)
}

// objectCounts are the tallies of checkObjects.
type objectCounts struct {
	putOK, putFail, putUnknown, delOK int
	ackedBytes                        int64
	gets, found, lists                int
	finalKeys, finalFound             int
	finalBytes                        int64
	lost, unreadable                  int
	wrongObjects                      int
	wrongBytes                        int64
	partial, foreign, failedSeen      int
	stale                             int
	listMissing, listExtra            int
}

// Objects judges the history of the Blob workload after its drain:
//
//   - no wrong bytes: every object read is exactly the content of a PUT
//     of that key (the whole of it: no partial object, no byte that
//     differs, not another key's object), and that PUT did not fail;
//   - fresh reads: a GET sees the last write of its key acknowledged
//     before it began, or a later one (see admissible): not an older
//     version, not "no such key" after an acknowledged PUT, not a deleted
//     object after an acknowledged DELETE;
//   - consistent listings: a listing lists every key whose last
//     acknowledged write before it began is a PUT (unless a later DELETE
//     may have taken effect), and no key that no admissible PUT explains;
//   - nothing lost: the drain's final GET of every key succeeds, and sees
//     the key's last acknowledged write (or a write of unknown outcome
//     after it): an acknowledged PUT not overwritten or deleted reads back
//     byte-identical, and the final listing agrees.
type Objects struct {
	Workload *Blob
}

// Name implements chaos.Checker.
func (c *Objects) Name() string { return "objects" }

// Check implements chaos.Checker: it drains, then judges the history.
func (c *Objects) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	c.Workload.Drain(ctx, env)
	return checkObjects(env.History.Ops())
}

// checkObjects is the pure part of Objects.
func checkObjects(ops []chaos.Op) chaos.Verdict {
	v := chaos.Verdict{Checker: "objects"}
	ix := index(ops)
	var n objectCounts
	for _, k := range ix.keys() {
		for _, w := range ix.writes[k] {
			switch {
			case w.Kind == KindDelete && w.Outcome == chaos.OK:
				n.delOK++
			case w.Kind == KindDelete:
			case w.Outcome == chaos.OK:
				n.putOK++
				n.ackedBytes += w.Rev
			case w.Outcome == chaos.Fail:
				n.putFail++
			default:
				n.putUnknown++
			}
		}
	}
	for _, r := range ix.gets {
		n.gets++
		if r.Found {
			n.found++
		}
		judgeRead(&v, &n, ix, r, false)
	}
	for _, l := range ix.lists {
		n.lists++
		judgeList(&v, &n, ix, l, false)
	}

	// The drain: every key read back at the end.
	for _, k := range ix.keys() {
		fs := ix.finals[k]
		var ok *chaos.Op
		for i := range fs {
			if fs[i].Outcome == chaos.OK {
				ok = &fs[i]
			}
		}
		n.finalKeys++
		if ok == nil {
			n.unreadable++
			why := "it was never read"
			if len(fs) > 0 {
				why = fmt.Sprintf("%d attempts failed, the last with: %s", len(fs), fs[len(fs)-1].Err)
			}
			v.Violate("unreadable: the final GET of %s did not succeed (%s); its last acknowledged write is %s",
				k, why, describe(ix.writes[k], lastAcked(ix.writes[k], 1<<62)))
			continue
		}
		if ok.Found {
			n.finalFound++
			n.finalBytes += ok.Rev
		}
		judgeRead(&v, &n, ix, *ok, true)
	}
	for _, l := range ix.finalLists {
		judgeList(&v, &n, ix, l, true)
	}
	if ix.finalList && len(ix.finalLists) == 0 {
		v.Err = "the final listing never succeeded"
	}
	if len(ix.writes) > 0 && !ix.finalList {
		v.Err = "the drain did not run: no final listing"
	}
	if len(ix.errs) > 0 {
		v.Err = strings.Join(ix.errs, "; ")
	}
	v.Summary = fmt.Sprintf("PUTs %d acknowledged (%d bytes), %d failed, %d unknown; %d DELETEs acknowledged; %d GETs (%d found), %d listings; "+
		"final: %d keys, %d objects, %d bytes verified; lost %d, unreadable %d, wrong bytes %d in %d objects, partial %d, foreign %d, "+
		"failed PUT visible %d, stale reads %d, listing misses %d, listing extras %d",
		n.putOK, n.ackedBytes, n.putFail, n.putUnknown, n.delOK, n.gets, n.found, n.lists,
		n.finalKeys, n.finalFound, n.finalBytes, n.lost, n.unreadable, n.wrongBytes, n.wrongObjects, n.partial, n.foreign,
		n.failedSeen, n.stale, n.listMissing, n.listExtra)
	return v
}

// judgeRead judges one successful GET r (final: of the drain).
func judgeRead(v *chaos.Verdict, n *objectCounts, ix *indexed, r chaos.Op, final bool) {
	what := "GET"
	if final {
		what = "final GET"
	}
	ws := ix.writes[r.Key]
	at := fmt.Sprintf("%s of %s (op %d, %v–%v)", what, r.Key, r.ID, r.Call, r.Return)
	var match func(i int) bool
	got := "no object"
	switch {
	case !r.Found:
		match = func(i int) bool { return i < 0 || ws[i].Kind == KindDelete }
	case r.Session != 0:
		p, ok := ix.puts[r.Session]
		switch {
		case !ok || p.Key != r.Key:
			n.foreign++
			owner := "no PUT"
			if ok {
				owner = fmt.Sprintf("PUT op %d of %s", p.ID, p.Key)
			}
			v.Violate("foreign object: %s returned %d bytes of content %d, which %s sent", at, r.Rev, r.Session, owner)
			return
		case r.Token > 0:
			n.wrongObjects++
			n.wrongBytes += int64(r.Token)
			v.Violate("wrong bytes: %s returned %d bytes of content %d (PUT op %d), %d of them wrong", at, r.Rev, r.Session, p.ID, r.Token)
			return
		case r.Rev != p.Rev || r.Value != p.Value:
			n.partial++
			v.Violate("partial object: %s returned %d bytes (sha256 %.12s) of content %d, whose PUT op %d sent %d bytes (sha256 %.12s)",
				at, r.Rev, r.Value, r.Session, p.ID, p.Rev, p.Value)
			return
		case p.Outcome == chaos.Fail:
			n.failedSeen++
			v.Violate("failed PUT visible: %s returned content %d of PUT op %d, which failed (%s)", at, r.Session, p.ID, p.Err)
			return
		}
		match = func(i int) bool { return i >= 0 && ws[i].ID == p.ID }
		got = fmt.Sprintf("content %d (PUT op %d)", r.Session, p.ID)
	default:
		// Fewer bytes than a content header: only the digest tells.
		found, failed := false, false
		for _, w := range ws {
			if w.Kind == KindPut && w.Rev == r.Rev && w.Value == r.Value {
				found = true
				failed = failed || w.Outcome == chaos.Fail
			}
		}
		if !found {
			n.foreign++
			n.wrongObjects++
			n.wrongBytes += r.Rev
			v.Violate("unrecognised content: %s returned %d bytes (sha256 %.12s) that no PUT of the key sent", at, r.Rev, r.Value)
			return
		}
		match = func(i int) bool {
			return i >= 0 && ws[i].Kind == KindPut && ws[i].Rev == r.Rev && ws[i].Value == r.Value
		}
		got = fmt.Sprintf("%d bytes (sha256 %.12s)", r.Rev, r.Value)
	}
	if anyAdmissible(ws, r.Call, r.Return, match) {
		return
	}
	last := describe(ws, lastAcked(ws, r.Call))
	// Only writes invoked after the read returned explain what it got?
	future, past := -1, match(-1)
	for i := range ws {
		if match(i) && ws[i].Outcome != chaos.Fail {
			if ws[i].Call >= r.Return {
				future = i
			} else {
				past = true
			}
		}
	}
	if future >= 0 && !past {
		n.stale++
		v.Violate("read from the future: %s returned %s, written by %s, which was invoked after the read returned", at, got, describe(ws, future))
		return
	}
	if final {
		n.lost++
		v.Violate("lost write: %s returned %s; the last acknowledged write of the key is %s", at, got, last)
		return
	}
	n.stale++
	v.Violate("stale read: %s returned %s; %s was acknowledged before it began", at, got, last)
}

// judgeList judges one successful listing l (final: the drain's) against
// every key written under its prefix.
func judgeList(v *chaos.Verdict, n *objectCounts, ix *indexed, l chaos.Op, final bool) {
	what := "listing"
	if final {
		what = "final listing"
	}
	listed := map[string]bool{}
	for _, k := range strings.Fields(l.Value) {
		listed[k] = true
		if _, ok := ix.writes[k]; !ok {
			n.listExtra++
			v.Violate("listing extra: %s of %q (op %d, %v–%v) lists %s, which no PUT named", what, l.Key, l.ID, l.Call, l.Return, k)
		}
	}
	for _, k := range ix.keys() {
		if !strings.HasPrefix(k, l.Key) {
			continue
		}
		ws := ix.writes[k]
		present := listed[k]
		match := func(i int) bool { return i < 0 || ws[i].Kind == KindDelete }
		if present {
			match = func(i int) bool { return i >= 0 && ws[i].Kind == KindPut }
		}
		if anyAdmissible(ws, l.Call, l.Return, match) {
			continue
		}
		last := describe(ws, lastAcked(ws, l.Call))
		if present {
			n.listExtra++
			v.Violate("listing extra: %s of %q (op %d, %v–%v) lists %s; %s was acknowledged before it began", what, l.Key, l.ID, l.Call, l.Return, k, last)
		} else {
			n.listMissing++
			v.Violate("listing miss: %s of %q (op %d, %v–%v) does not list %s; %s was acknowledged before it began", what, l.Key, l.ID, l.Call, l.Return, k, last)
		}
	}
}
