package sqlchaos

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"cairn.dev/cairn/cluster/chaos"
)

// The anomalies the list-append checker reports (Anomaly.Type).
const (
	AnomalyG0                = "G0"                 // write cycle: ww edges only
	AnomalyG1a               = "G1a"                // aborted read: a read saw an element of a failed transaction
	AnomalyG1b               = "G1b"                // intermediate read: a read saw a transaction's append but not its later append to the same key
	AnomalyG1c               = "G1c"                // circular information flow: ww and wr edges
	AnomalyGSingle           = "G-single"           // a cycle with exactly one rw anti-dependency
	AnomalyG2                = "G2"                 // a cycle with several rw anti-dependencies
	AnomalyRealtimeSuffix    = "-realtime"          // the cycle needs real-time edges (strict serializability)
	AnomalyLostAppend        = "lost-append"        // a committed append missing from the final read
	AnomalyIncompatibleOrder = "incompatible-order" // two reads of a key that are not prefixes of one another
	AnomalyDuplicate         = "duplicate-elements" // an element twice in one read, or appended twice
	AnomalyGarbage           = "garbage-read"       // a read saw an element nobody appended, or a list it could not parse
	AnomalyInternal          = "internal"           // a transaction's read disagrees with its own earlier reads and appends
	AnomalyMalformed         = "malformed-op"       // an operation of the history the checker cannot parse
)

// Anomaly is one anomaly found in a list-append history.
type Anomaly struct {
	Type string
	Msg  string
}

// ElleResult is what CheckListAppend found.
type ElleResult struct {
	Anomalies []Anomaly
	// Summary counts the transactions, keys and dependency edges checked.
	Summary string
}

// Types returns the distinct anomaly types found, sorted.
func (r ElleResult) Types() []string {
	var out []string
	for _, a := range r.Anomalies {
		if !slices.Contains(out, a.Type) {
			out = append(out, a.Type)
		}
	}
	sort.Strings(out)
	return out
}

// Verdict returns r as a checker's verdict: one violation per anomaly.
func (r ElleResult) Verdict(checker string) chaos.Verdict {
	v := chaos.Verdict{Checker: checker, Summary: r.Summary}
	for _, a := range r.Anomalies {
		v.Violate("%s: %s", a.Type, a.Msg)
	}
	return v
}

// The dependency edge types between committed transactions.
const (
	edgeWW uint8 = 1 << iota // T1 appended an element, T2 the next one of the same key
	edgeWR                   // T2 read T1's append (as the last element it saw)
	edgeRW                   // T1 read a list that T2's append later extended
	edgeRT                   // T1 returned before T2 was invoked
)

var edgeNames = map[uint8]string{edgeWW: "ww", edgeWR: "wr", edgeRW: "rw", edgeRT: "rt"}

// elleTxn is one transaction of the history.
type elleTxn struct {
	op        chaos.Op
	mops      []Mop
	committed bool
}

// writerOf says which transaction appended an element, and to which key.
type writerOf struct {
	txn, key int
}

// elleRead is one read of a committed transaction (txn -1: the final read).
type elleRead struct {
	txn, key int
	list     []int
}

// elle holds the state of one check.
type elle struct {
	txns      []elleTxn
	writer    map[int]writerOf // element -> its append
	appends   []map[int][]int  // per transaction: key -> its appended elements, in order
	reads     []elleRead
	order     map[int][]int // key -> version order (the longest read)
	edges     map[[2]int]uint8
	edgeKeys  map[[2]int]map[uint8]int // an example key per edge and type
	adj       map[int][]int            // successors of every transaction, built by successors once the graph is complete
	anomalies []Anomaly
}

func (c *elle) report(typ, format string, args ...any) {
	c.anomalies = append(c.anomalies, Anomaly{Type: typ, Msg: fmt.Sprintf(format, args...)})
}

// describe names transaction t for messages.
func (c *elle) describe(t int) string {
	if t < 0 {
		return "the final read"
	}
	op := c.txns[t].op
	return fmt.Sprintf("op %d (client %d, %s) [%s]", op.ID, op.Client, op.Outcome, op.Value)
}

// CheckListAppend checks a list-append history, Elle style. ops is the
// history (other kinds are ignored); final maps every key to its list read
// after the run (a key without a row: absent or nil). It infers each key's
// version order from the reads (every read must be a prefix of the longest),
// takes as committed the acknowledged transactions and the unknown ones
// whose appends some read saw, builds the dependency graph between them (ww
// from the version orders, wr from what reads saw, rw from what they did not
// see, and with realtime the real-time order of non-overlapping
// transactions) and reports every strongly connected component as a cycle
// (G0, G1c, G-single, G2, each possibly -realtime), besides aborted and
// intermediate reads, lost appends, incompatible orders, duplicates,
// garbage and internal inconsistencies.
func CheckListAppend(ops []chaos.Op, final map[int][]int, realtime bool) ElleResult {
	c := &elle{writer: map[int]writerOf{}, order: map[int][]int{}, edges: map[[2]int]uint8{}, edgeKeys: map[[2]int]map[uint8]int{}}
	okTxns, failed, unknown := 0, 0, 0
	for _, op := range ops {
		if op.Kind != KindAppendTxn && op.Kind != KindReadTxn {
			continue
		}
		if strings.Contains(op.Err, errMalformed.Error()) {
			c.report(AnomalyGarbage, "op %d (client %d) read a list it could not parse: %s", op.ID, op.Client, op.Err)
		}
		mops, err := DecodeMops(op.Value)
		if err != nil {
			c.report(AnomalyMalformed, "op %d: %v", op.ID, err)
			continue
		}
		switch op.Outcome {
		case chaos.OK:
			okTxns++
		case chaos.Fail:
			failed++
		default:
			unknown++
		}
		c.txns = append(c.txns, elleTxn{op: op, mops: mops, committed: op.Outcome == chaos.OK})
	}
	c.appends = make([]map[int][]int, len(c.txns))
	for t, tx := range c.txns {
		c.appends[t] = map[int][]int{}
		for _, m := range tx.mops {
			if !m.Append {
				continue
			}
			if w, dup := c.writer[m.Elem]; dup {
				c.report(AnomalyDuplicate, "element %d appended by both %s and %s", m.Elem, c.describe(w.txn), c.describe(t))
				continue
			}
			c.writer[m.Elem] = writerOf{txn: t, key: m.Key}
			c.appends[t][m.Key] = append(c.appends[t][m.Key], m.Elem)
		}
		if tx.op.Outcome == chaos.OK {
			for _, m := range tx.mops {
				if !m.Append && m.Done {
					c.reads = append(c.reads, elleRead{txn: t, key: m.Key, list: m.Read})
				}
			}
		}
	}
	finalKeys := map[int]bool{}
	for k := range final {
		finalKeys[k] = true
	}
	for _, w := range c.writer {
		finalKeys[w.key] = true
	}
	keys := make([]int, 0, len(finalKeys))
	for k := range finalKeys {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	for _, k := range keys {
		c.reads = append(c.reads, elleRead{txn: -1, key: k, list: final[k]})
	}

	c.checkReads()
	c.inferOrders()
	observed := c.markCommitted()
	c.checkLost()
	c.checkInternal()
	c.checkIntermediate()
	c.buildGraph(realtime)
	c.findCycles()

	committed := 0
	for _, tx := range c.txns {
		if tx.committed {
			committed++
		}
	}
	res := ElleResult{Anomalies: c.anomalies}
	res.Summary = fmt.Sprintf("%d transactions: %d acknowledged, %d failed, %d unknown (%d seen by reads); %d committed checked over %d keys, %d dependency edges (realtime %v)",
		len(c.txns), okTxns, failed, unknown, observed, committed, len(keys), len(c.edges), realtime)
	if len(c.anomalies) > 0 {
		counts := map[string]int{}
		for _, a := range c.anomalies {
			counts[a.Type]++
		}
		var parts []string
		for _, t := range res.Types() {
			parts = append(parts, fmt.Sprintf("%s %d", t, counts[t]))
		}
		res.Summary += "; anomalies: " + strings.Join(parts, ", ")
	}
	return res
}

// checkReads reports duplicates, garbage and aborted reads in every read.
func (c *elle) checkReads() {
	for _, r := range c.reads {
		seen := map[int]bool{}
		for _, e := range r.list {
			if seen[e] {
				c.report(AnomalyDuplicate, "%s read key %d as %v: element %d twice", c.describe(r.txn), r.key, r.list, e)
			}
			seen[e] = true
			w, ok := c.writer[e]
			switch {
			case !ok:
				c.report(AnomalyGarbage, "%s read key %d as %v: nobody appended %d", c.describe(r.txn), r.key, r.list, e)
			case w.key != r.key:
				c.report(AnomalyGarbage, "%s read key %d as %v: %d was appended to key %d by %s", c.describe(r.txn), r.key, r.list, e, w.key, c.describe(w.txn))
			case c.txns[w.txn].op.Outcome == chaos.Fail:
				c.report(AnomalyG1a, "%s read key %d as %v: element %d of failed %s", c.describe(r.txn), r.key, r.list, e, c.describe(w.txn))
			}
		}
	}
}

// inferOrders takes each key's longest read as its version order and reports
// reads that are not a prefix of it.
func (c *elle) inferOrders() {
	for _, r := range c.reads {
		if len(r.list) > len(c.order[r.key]) {
			c.order[r.key] = r.list
		}
	}
	for _, r := range c.reads {
		if !isPrefix(r.list, c.order[r.key]) {
			c.report(AnomalyIncompatibleOrder, "key %d: %s read %v, not a prefix of %v", r.key, c.describe(r.txn), r.list, c.order[r.key])
		}
	}
}

func isPrefix(a, b []int) bool { return len(a) <= len(b) && slices.Equal(a, b[:len(a)]) }

// markCommitted marks the unknown transactions that some read saw as
// committed, and returns how many there are.
func (c *elle) markCommitted() int {
	n := 0
	for _, r := range c.reads {
		for _, e := range r.list {
			w, ok := c.writer[e]
			if !ok {
				continue
			}
			tx := &c.txns[w.txn]
			if tx.op.Outcome == chaos.Unknown && !tx.committed {
				tx.committed = true
				n++
			}
		}
	}
	return n
}

// checkLost reports every append of a committed transaction that the final
// read lacks.
func (c *elle) checkLost() {
	final := map[int]map[int]bool{}
	for _, r := range c.reads {
		if r.txn != -1 {
			continue
		}
		final[r.key] = map[int]bool{}
		for _, e := range r.list {
			final[r.key][e] = true
		}
	}
	for t, tx := range c.txns {
		if !tx.committed {
			continue
		}
		for k, elems := range c.appends[t] {
			for _, e := range elems {
				if !final[k][e] {
					c.report(AnomalyLostAppend, "element %d appended to key %d by committed %s is missing from the final read %v", e, k, c.describe(t), c.order[k])
				}
			}
		}
	}
}

// checkInternal replays each acknowledged transaction: a read of a key must
// equal the transaction's earlier read of it plus its appends since, or, if it
// did not read the key before, end with its own appends to it.
func (c *elle) checkInternal() {
	for t, tx := range c.txns {
		if tx.op.Outcome != chaos.OK {
			continue
		}
		known := map[int][]int{} // key -> the list as the transaction must see it
		own := map[int][]int{}   // key -> its appends so far
		for _, m := range tx.mops {
			switch {
			case m.Append:
				own[m.Key] = append(own[m.Key], m.Elem)
				if l, ok := known[m.Key]; ok {
					known[m.Key] = append(slices.Clip(l), m.Elem)
				}
			case !m.Done:
			default:
				if l, ok := known[m.Key]; ok && !slices.Equal(l, m.Read) {
					c.report(AnomalyInternal, "%s read key %d as %v, expected %v from its earlier read and appends", c.describe(t), m.Key, m.Read, l)
				} else if !ok && !hasSuffix(m.Read, own[m.Key]) {
					c.report(AnomalyInternal, "%s read key %d as %v, which does not end with its own appends %v", c.describe(t), m.Key, m.Read, own[m.Key])
				}
				known[m.Key] = m.Read
			}
		}
	}
}

func hasSuffix(list, suffix []int) bool {
	return len(suffix) <= len(list) && slices.Equal(list[len(list)-len(suffix):], suffix)
}

// external returns what read r saw of other transactions: its list without
// the reader's own appends at the end.
func (c *elle) external(r elleRead) []int {
	l := r.list
	for len(l) > 0 {
		w, ok := c.writer[l[len(l)-1]]
		if !ok || w.txn != r.txn {
			break
		}
		l = l[:len(l)-1]
	}
	return l
}

// checkIntermediate reports reads whose last element is an append of another
// transaction that appended to the key again afterwards.
func (c *elle) checkIntermediate() {
	for _, r := range c.reads {
		if r.txn < 0 {
			continue
		}
		ext := c.external(r)
		if len(ext) == 0 {
			continue
		}
		last := ext[len(ext)-1]
		w, ok := c.writer[last]
		if !ok || w.txn == r.txn {
			continue
		}
		mine := c.appends[w.txn][r.key]
		if i := slices.Index(mine, last); i >= 0 && i < len(mine)-1 {
			c.report(AnomalyG1b, "%s read key %d as %v: saw %d but not %d, appended after it by %s", c.describe(r.txn), r.key, r.list, last, mine[i+1], c.describe(w.txn))
		}
	}
}

// addEdge adds an edge of type typ from a to b, both committed.
func (c *elle) addEdge(a, b int, typ uint8, key int) {
	if a == b || a < 0 || b < 0 || !c.txns[a].committed || !c.txns[b].committed {
		return
	}
	e := [2]int{a, b}
	c.edges[e] |= typ
	if c.edgeKeys[e] == nil {
		c.edgeKeys[e] = map[uint8]int{}
	}
	if _, ok := c.edgeKeys[e][typ]; !ok {
		c.edgeKeys[e][typ] = key
	}
}

// writerTxn returns the transaction that appended e, -1 if none.
func (c *elle) writerTxn(e int) int {
	if w, ok := c.writer[e]; ok {
		return w.txn
	}
	return -1
}

// buildGraph adds the ww, wr, rw and (with realtime) rt edges.
func (c *elle) buildGraph(realtime bool) {
	for k, order := range c.order {
		for i := 0; i+1 < len(order); i++ {
			c.addEdge(c.writerTxn(order[i]), c.writerTxn(order[i+1]), edgeWW, k)
		}
	}
	for _, r := range c.reads {
		if r.txn < 0 || !isPrefix(r.list, c.order[r.key]) {
			continue
		}
		ext := c.external(r)
		if len(ext) > 0 {
			c.addEdge(c.writerTxn(ext[len(ext)-1]), r.txn, edgeWR, r.key)
		}
		if order := c.order[r.key]; len(ext) < len(order) {
			c.addEdge(r.txn, c.writerTxn(order[len(ext)]), edgeRW, r.key)
		}
	}
	if realtime {
		c.addRealtime()
	}
}

// addRealtime adds an rt edge T1 → T2 for every acknowledged T1 that
// returned before committed T2 was invoked, transitively reduced: T1 → T2 is
// left out when some acknowledged T3 was invoked after T1 returned and
// returned before T2 was invoked. A transaction whose outcome is unknown
// is never T1: its commit may have happened after the client gave up on it.
func (c *elle) addRealtime() {
	var byReturn []int
	for t, tx := range c.txns {
		if tx.op.Outcome == chaos.OK && tx.op.Done() {
			byReturn = append(byReturn, t)
		}
	}
	sort.Slice(byReturn, func(i, j int) bool { return c.txns[byReturn[i]].op.Return < c.txns[byReturn[j]].op.Return })
	maxCall := make([]int64, len(byReturn)) // max Call of byReturn[:i+1]
	for i, t := range byReturn {
		maxCall[i] = int64(c.txns[t].op.Call)
		if i > 0 {
			maxCall[i] = max(maxCall[i], maxCall[i-1])
		}
	}
	for t2, tx := range c.txns {
		if !tx.committed {
			continue
		}
		// byReturn[:n] returned before t2 was invoked.
		n := sort.Search(len(byReturn), func(i int) bool { return c.txns[byReturn[i]].op.Return >= tx.op.Call })
		for i := n - 1; i >= 0 && int64(c.txns[byReturn[i]].op.Return) >= maxCall[n-1]; i-- {
			c.addEdge(byReturn[i], t2, edgeRT, -1)
		}
	}
}

// cycleLevels are the edge sets a cycle is looked for in, from the weakest
// anomaly to the strongest claim: the first level with a cycle names it.
var cycleLevels = []struct {
	mask uint8
	name string
}{
	{edgeWW, AnomalyG0},
	{edgeWW | edgeWR, AnomalyG1c},
	{edgeWW | edgeWR | edgeRW, AnomalyG2},
	{edgeWW | edgeRT, AnomalyG0 + AnomalyRealtimeSuffix},
	{edgeWW | edgeWR | edgeRT, AnomalyG1c + AnomalyRealtimeSuffix},
	{edgeWW | edgeWR | edgeRW | edgeRT, AnomalyG2 + AnomalyRealtimeSuffix},
}

// findCycles reports one cycle per strongly connected component of the
// dependency graph, named by the weakest edge set that closes a cycle in it.
func (c *elle) findCycles() {
	all := make([]int, 0, len(c.txns))
	for t, tx := range c.txns {
		if tx.committed {
			all = append(all, t)
		}
	}
	for _, comp := range c.scc(all, 0xff) {
		if len(comp) < 2 {
			continue
		}
		for _, level := range cycleLevels {
			sub := c.scc(comp, level.mask)
			idx := slices.IndexFunc(sub, func(s []int) bool { return len(s) > 1 })
			if idx < 0 {
				continue
			}
			cycle := c.cycleIn(sub[idx], level.mask)
			name, rw := level.name, 0
			var sb strings.Builder
			for i := 0; i+1 < len(cycle); i++ {
				typ, key := c.label(cycle[i], cycle[i+1], level.mask)
				if typ == edgeRW {
					rw++
				}
				fmt.Fprintf(&sb, "%s -%s", c.describe(cycle[i]), edgeNames[typ])
				if key >= 0 {
					fmt.Fprintf(&sb, "(key %d)", key)
				}
				sb.WriteString("-> ")
			}
			sb.WriteString(c.describe(cycle[0]))
			if rw == 1 {
				name = strings.Replace(name, AnomalyG2, AnomalyGSingle, 1)
			}
			c.report(name, "cycle in a component of %d transactions: %s", len(comp), sb.String())
			break
		}
	}
}

// label returns the type (the weakest within mask) and an example key of the
// edge a → b.
func (c *elle) label(a, b int, mask uint8) (uint8, int) {
	types := c.edges[[2]int{a, b}] & mask
	for _, typ := range []uint8{edgeWW, edgeWR, edgeRW, edgeRT} {
		if types&typ != 0 {
			return typ, c.edgeKeys[[2]int{a, b}][typ]
		}
	}
	return 0, -1
}

// successors returns the transactions n has an edge to, within mask and in,
// sorted.
func (c *elle) successors(n int, mask uint8, in map[int]bool) []int {
	if c.adj == nil {
		c.adj = map[int][]int{}
		for e := range c.edges {
			c.adj[e[0]] = append(c.adj[e[0]], e[1])
		}
		for n := range c.adj {
			sort.Ints(c.adj[n])
		}
	}
	var out []int
	for _, m := range c.adj[n] {
		if c.edges[[2]int{n, m}]&mask != 0 && in[m] {
			out = append(out, m)
		}
	}
	return out
}

// scc returns the strongly connected components (Tarjan) of the subgraph of
// nodes and the edges within mask.
func (c *elle) scc(nodes []int, mask uint8) [][]int {
	in := map[int]bool{}
	for _, n := range nodes {
		in[n] = true
	}
	adj := map[int][]int{}
	for _, n := range nodes {
		adj[n] = c.successors(n, mask, in)
	}
	index, low := map[int]int{}, map[int]int{}
	onStack := map[int]bool{}
	var stack []int
	var out [][]int
	next := 0
	var visit func(n int)
	visit = func(n int) {
		index[n], low[n] = next, next
		next++
		stack = append(stack, n)
		onStack[n] = true
		for _, m := range adj[n] {
			if _, seen := index[m]; !seen {
				visit(m)
				low[n] = min(low[n], low[m])
			} else if onStack[m] {
				low[n] = min(low[n], index[m])
			}
		}
		if low[n] == index[n] {
			var comp []int
			for {
				m := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[m] = false
				comp = append(comp, m)
				if m == n {
					break
				}
			}
			sort.Ints(comp)
			out = append(out, comp)
		}
	}
	for _, n := range nodes {
		if _, seen := index[n]; !seen {
			visit(n)
		}
	}
	return out
}

// cycleIn returns a shortest cycle through the first node of comp, a
// strongly connected component under mask, as the nodes in order with the
// first repeated at the end.
func (c *elle) cycleIn(comp []int, mask uint8) []int {
	in := map[int]bool{}
	for _, n := range comp {
		in[n] = true
	}
	start := comp[0]
	prev := map[int]int{}
	queue := []int{start}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, m := range c.successors(n, mask, in) {
			if m == start {
				path := []int{start}
				for x := n; x != start; x = prev[x] {
					path = append(path, x)
				}
				slices.Reverse(path[1:])
				return append(path, start)
			}
			if _, seen := prev[m]; !seen {
				prev[m] = n
				queue = append(queue, m)
			}
		}
	}
	return []int{start, start}
}
