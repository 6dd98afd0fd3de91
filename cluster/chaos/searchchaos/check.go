package searchchaos

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"

	"cairn.dev/cairn/cluster/chaos"
)

// expect is what the history allows for one document after the run.
type expect int

const (
	// present: its put was acknowledged and no delete of it may have applied.
	present expect = iota
	// absent: its put certainly failed, or its delete was acknowledged.
	absent
	// either: a put or a delete of it has an unknown outcome.
	either
)

// docExpect is one document's expectation and the hash of its source.
type docExpect struct {
	want expect
	hash string
}

// expectations derives, from a history of Docs operations, what must and
// must not be found. Each id is put at most once and deleted at most once,
// after its put was acknowledged (Docs guarantees it).
func expectations(ops []chaos.Op) map[string]docExpect {
	type state struct {
		put, del chaos.Outcome
		hash     string
	}
	st := map[string]*state{}
	for _, op := range ops {
		switch op.Kind {
		case KindPut:
			st[op.Key] = &state{put: op.Outcome, hash: op.Value}
		case KindDelete:
			if s, ok := st[op.Key]; ok {
				s.del = op.Outcome
			}
		}
	}
	out := make(map[string]docExpect, len(st))
	for id, s := range st {
		e := docExpect{hash: s.hash}
		switch {
		case s.put == chaos.Fail:
			e.want = absent
		case s.put == chaos.OK && (s.del == "" || s.del == chaos.Fail):
			e.want = present
		case s.put == chaos.OK && s.del == chaos.OK:
			e.want = absent
		default:
			e.want = either
		}
		out[id] = e
	}
	return out
}

// judge compares what a search through node found (id → source hash) with
// the expectations.
func judge(v *chaos.Verdict, node string, want map[string]docExpect, found map[string]string) {
	for _, id := range sortedKeys(want) {
		e := want[id]
		h, ok := found[id]
		switch {
		case e.want == present && !ok:
			v.Violate("via %s: acknowledged document %s not found", node, id)
		case e.want == absent && ok:
			v.Violate("via %s: document %s found, but its put failed or its delete was acknowledged", node, id)
		case ok && h != e.hash:
			v.Violate("via %s: document %s has source hash %s, want %s", node, id, h, e.hash)
		}
	}
	for _, id := range sortedKeys(found) {
		if _, ok := want[id]; !ok {
			v.Violate("via %s: document %s found but never written", node, id)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DocsChecker judges a Docs run: once every copy of every shard is started
// (within ReadyBound of the checks' start) and the index refreshed, a
// search through every node finds exactly the documents the history allows
// (every acknowledged put not acknowledged deleted, with its exact source;
// nothing whose put failed or whose delete was acknowledged), a full-text
// query for its unique word finds each of a sample of them, and the copies
// of each shard hold the same number of documents.
type DocsChecker struct {
	Workload *Docs
	// ReadyBound bounds the wait for every copy to be started; default 90s.
	ReadyBound time.Duration
	// Sample is how many present documents are looked up by word; default 40.
	Sample int
}

// Name implements chaos.Checker.
func (c *DocsChecker) Name() string { return "search-docs" }

// Check implements chaos.Checker.
func (c *DocsChecker) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	v := chaos.Verdict{Checker: c.Name()}
	w := c.Workload
	// Fresh connections: the workload's may still be backing off from a
	// node that was down.
	cs := newConns(env)
	defer cs.close()
	want := expectations(env.History.Ops())
	npresent := 0
	for _, e := range want {
		if e.want == present {
			npresent++
		}
	}
	bound := defaultDuration(c.ReadyBound, 90*time.Second)
	if _, err := c.waitStarted(ctx, env, cs, bound); err != nil {
		v.Err = err.Error()
		return v
	}
	if err := c.refresh(ctx, env, cs); err != nil {
		v.Err = err.Error()
		return v
	}
	for _, node := range env.Nodes() {
		found, err := c.searchAll(ctx, cs, node)
		if err != nil {
			v.Violate("via %s: search failed: %v", node, err)
			continue
		}
		for id, h := range found {
			env.History.Event(chaos.Op{Client: w.clientBase() + 900, Via: node, Kind: KindFound, Key: id, Value: h, Found: true})
		}
		judge(&v, node, want, found)
	}
	c.checkWords(ctx, env, cs, &v, want)
	c.checkCopies(ctx, env, cs, &v)
	v.Summary = fmt.Sprintf("%d documents written, %d must be found; every copy started; searched through %d nodes",
		len(want), npresent, len(env.Nodes()))
	return v
}

// waitStarted polls the index until every copy of every shard is STARTED.
func (c *DocsChecker) waitStarted(ctx context.Context, env *chaos.Env, cs *conns, bound time.Duration) (*searchdv1.Index, error) {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	nodes := env.Nodes()
	var last string
	for i := 0; ; i++ {
		ic, err := cs.indexes(nodes[i%len(nodes)])
		if err == nil {
			var resp *searchdv1.GetIndexResponse
			resp, err = ic.GetIndex(ctx, &searchdv1.GetIndexRequest{Name: c.Workload.index()})
			if err == nil {
				idx := resp.GetIndex()
				if allStarted(idx, c.Workload.replicas()+1) {
					return idx, nil
				}
				last = describeCopies(idx)
			} else {
				last = err.Error()
			}
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("not every shard copy was started within %v: %s", bound, last)
		}
		chaos.Hold(ctx, 250*time.Millisecond)
	}
}

// allStarted reports whether every shard of idx has copies STARTED copies.
func allStarted(idx *searchdv1.Index, copies int) bool {
	if len(idx.GetShards()) == 0 {
		return false
	}
	for _, sh := range idx.GetShards() {
		n := 0
		for _, cp := range sh.GetCopies() {
			if cp.GetState() == searchdv1.CopyState_COPY_STATE_STARTED {
				n++
			}
		}
		if n < copies {
			return false
		}
	}
	return true
}

// describeCopies prints the copies of idx for an error message.
func describeCopies(idx *searchdv1.Index) string {
	var b strings.Builder
	for _, sh := range idx.GetShards() {
		fmt.Fprintf(&b, "shard %d:", sh.GetId())
		for _, cp := range sh.GetCopies() {
			fmt.Fprintf(&b, " %s=%s", cp.GetNodeId(), strings.TrimPrefix(cp.GetState().String(), "COPY_STATE_"))
		}
		b.WriteString("; ")
	}
	return b.String()
}

// refresh refreshes the index through any node, retrying for a minute.
func (c *DocsChecker) refresh(ctx context.Context, env *chaos.Env, cs *conns) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	nodes := env.Nodes()
	var last error
	for i := 0; ctx.Err() == nil; i++ {
		ic, err := cs.indexes(nodes[i%len(nodes)])
		if err == nil {
			var resp *searchdv1.RefreshResponse
			resp, err = ic.Refresh(ctx, &searchdv1.RefreshRequest{Indexes: []string{c.Workload.index()}})
			if err == nil && resp.GetSuccessfulShards() == resp.GetTotalShards() {
				return nil
			}
			if err == nil {
				err = fmt.Errorf("refreshed %d of %d shards", resp.GetSuccessfulShards(), resp.GetTotalShards())
			}
		}
		last = err
		chaos.Hold(ctx, 250*time.Millisecond)
	}
	return fmt.Errorf("refresh: %w", last)
}

// maxDocs bounds the documents one search returns (searchd's
// max_result_window).
const maxDocs = 10000

// searchAll returns every document a match_all search through node finds,
// id → source hash.
func (c *DocsChecker) searchAll(ctx context.Context, cs *conns, node string) (map[string]string, error) {
	sc, err := cs.search(node)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	body := fmt.Sprintf(`{"query":{"match_all":{}},"size":%d,"track_total_hits":true}`, maxDocs)
	resp, err := sc.Search(ctx, &searchdv1.SearchRequest{Indexes: []string{c.Workload.index()}, BodyJson: []byte(body)})
	if err != nil {
		return nil, err
	}
	if resp.GetTotalHits() > maxDocs {
		return nil, fmt.Errorf("%d hits: more than the checker reads (%d)", resp.GetTotalHits(), maxDocs)
	}
	if int64(len(resp.GetHits())) != resp.GetTotalHits() {
		return nil, fmt.Errorf("total_hits %d but %d hits returned", resp.GetTotalHits(), len(resp.GetHits()))
	}
	found := make(map[string]string, len(resp.GetHits()))
	for _, h := range resp.GetHits() {
		if _, dup := found[h.GetId()]; dup {
			return nil, fmt.Errorf("document %s returned twice", h.GetId())
		}
		found[h.GetId()] = hashOf(h.GetSourceJson())
	}
	return found, nil
}

// checkWords looks a sample of the documents that must be present up by
// the unique word of their body (a full-text match, not an id lookup),
// through the nodes in turn.
func (c *DocsChecker) checkWords(ctx context.Context, env *chaos.Env, cs *conns, v *chaos.Verdict, want map[string]docExpect) {
	rng := env.Rand(chaos.Stream("search-docs-check", 0))
	var ids []string
	for _, id := range sortedKeys(want) {
		if want[id].want == present {
			ids = append(ids, id)
		}
	}
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	ids = ids[:min(len(ids), defaultInt(c.Sample, 40))]
	nodes := env.Nodes()
	for i, id := range ids {
		node := nodes[i%len(nodes)]
		sc, err := cs.search(node)
		if err != nil {
			v.Violate("via %s: %v", node, err)
			continue
		}
		word := "token" + hashOf([]byte(id))[:12]
		q, _ := json.Marshal(map[string]any{"query": map[string]any{"match": map[string]any{"body": word}}})
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := sc.Search(cctx, &searchdv1.SearchRequest{Indexes: []string{c.Workload.index()}, BodyJson: q})
		cancel()
		switch {
		case err != nil:
			v.Violate("via %s: match %s: %v", node, word, err)
		case len(resp.GetHits()) != 1 || resp.GetHits()[0].GetId() != id:
			var got []string
			for _, h := range resp.GetHits() {
				got = append(got, h.GetId())
			}
			v.Violate("via %s: match %s found %v, want exactly [%s]", node, word, got, id)
		}
	}
}

// checkCopies waits (up to 30 s: copies report their counts with their
// heartbeats) until the started copies of each shard report the same
// number of documents; a shard whose copies still disagree is a violation.
func (c *DocsChecker) checkCopies(ctx context.Context, env *chaos.Env, cs *conns, v *chaos.Verdict) {
	nodes := env.Nodes()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var disagree []string
	var last error
	for i := 0; ; i++ {
		ic, err := cs.indexes(nodes[i%len(nodes)])
		if err == nil {
			var resp *searchdv1.IndexStatsResponse
			resp, err = ic.IndexStats(ctx, &searchdv1.IndexStatsRequest{Name: c.Workload.index()})
			if err == nil {
				disagree = disagreeing(resp.GetIndex())
				if len(disagree) == 0 {
					return
				}
			}
		}
		last = err
		if ctx.Err() != nil {
			break
		}
		chaos.Hold(ctx, 500*time.Millisecond)
	}
	if disagree == nil {
		v.Violate("index stats: %v", last)
	}
	for _, d := range disagree {
		v.Violate("%s", d)
	}
}

// disagreeing describes the shards of idx whose started copies report
// different document counts.
func disagreeing(idx *searchdv1.Index) []string {
	var out []string
	for _, sh := range idx.GetShards() {
		counts := map[string]int64{}
		for _, cp := range sh.GetCopies() {
			if cp.GetState() == searchdv1.CopyState_COPY_STATE_STARTED {
				counts[cp.GetNodeId()] = cp.GetDocs()
			}
		}
		var first int64 = -1
		for _, n := range sortedKeys(counts) {
			if first < 0 {
				first = counts[n]
			} else if counts[n] != first {
				out = append(out, fmt.Sprintf("shard %d: copies hold different document counts: %v", sh.GetId(), counts))
				break
			}
		}
	}
	return out
}
