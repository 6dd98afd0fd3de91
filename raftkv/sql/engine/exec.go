package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"cairn.dev/cairn/raftkv/sql/schema"
	"cairn.dev/cairn/raftkv/sql/value"
)

// execCtx is the state of one statement execution.
type execCtx struct {
	ctx    context.Context
	sess   *Session
	tx     *txnState
	params []value.Value
	outer  []row
	cache  map[any]any
}

// catalog returns the catalog of the statement's transaction.
func (ec *execCtx) catalog() *schema.Catalog {
	if ec.tx.cat == nil {
		if c, err := ec.sess.e.catalog(ec.ctx, ec.tx.t); err == nil {
			ec.tx.cat = c
		}
	}
	return ec.tx.cat
}

// errStop ends a scan early (LIMIT reached, EXISTS satisfied).
var errStop = errors.New("stop")

// plan is an executable operator: it pushes its rows to fn.
type plan interface {
	execute(ec *execCtx, fn func(row) error) error
	explain(out *[]string, depth int)
}

// explainLine appends one EXPLAIN line at depth (children get "->").
func explainLine(out *[]string, depth int, format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if depth > 0 {
		s = strings.Repeat("      ", depth-1) + "  ->  " + s
	}
	*out = append(*out, s)
}

// explainDetail appends an indented detail line (Filter: …) of a node at depth.
func explainDetail(out *[]string, depth int, format string, args ...any) {
	pad := "  "
	if depth > 0 {
		pad = strings.Repeat("      ", depth-1) + "        "
	}
	*out = append(*out, pad+fmt.Sprintf(format, args...))
}

// ---- leaves ----

// oneRow yields a single row of width n (SELECT without FROM).
type oneRow struct{ width int }

func (o *oneRow) execute(_ *execCtx, fn func(row) error) error { return fn(newRow(o.width)) }
func (o *oneRow) explain(out *[]string, depth int)             { explainLine(out, depth, "Result") }

// valuesNode yields VALUES rows (narrow).
type valuesNode struct {
	rows [][]expr
	t    []value.Type
}

func (v *valuesNode) execute(ec *execCtx, fn func(row) error) error {
	for _, exprs := range v.rows {
		r := make(row, len(exprs))
		for i, e := range exprs {
			if _, ok := e.(defaultMarker); ok {
				r[i] = defaultValue
				continue
			}
			x, err := e.eval(ec, nil)
			if err != nil {
				return err
			}
			if r[i], err = castValue(x, v.t[i]); err != nil {
				return err
			}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}
func (v *valuesNode) explain(out *[]string, depth int) {
	explainLine(out, depth, "Values Scan (%d rows)", len(v.rows))
}

// slotNode places the narrow rows of a subquery into a full-width row at off.
type slotNode struct {
	in         plan
	off, width int
	name       string
	filter     expr
}

func (s *slotNode) execute(ec *execCtx, fn func(row) error) error {
	return s.in.execute(ec, func(r row) error {
		out := newRow(s.width)
		copy(out[s.off:], r)
		if s.filter != nil {
			ok, err := truthy(ec, s.filter, out)
			if err != nil || !ok {
				return err
			}
		}
		return fn(out)
	})
}
func (s *slotNode) explain(out *[]string, depth int) {
	explainLine(out, depth, "Subquery Scan on %s", s.name)
	s.in.explain(out, depth+1)
}

// materialized runs its input once per execution and replays the rows (CTEs).
type materialized struct {
	in   plan
	name string
}

func (m *materialized) execute(ec *execCtx, fn func(row) error) error {
	rows, ok := ec.cache[m].([]row)
	if !ok {
		if err := m.in.execute(ec, func(r row) error {
			rows = append(rows, append(row(nil), r...))
			return nil
		}); err != nil {
			return err
		}
		ec.cache[m] = rows
	}
	for _, r := range rows {
		if err := fn(append(row(nil), r...)); err != nil {
			return err
		}
	}
	return nil
}
func (m *materialized) explain(out *[]string, depth int) {
	explainLine(out, depth, "CTE Scan on %s", m.name)
	m.in.explain(out, depth+1)
}

// seriesNode is generate_series(start, stop[, step]) in FROM.
type seriesNode struct {
	args       []expr
	off, width int
	t          value.Type
	name       string
	filter     expr
}

func (g *seriesNode) execute(ec *execCtx, fn func(row) error) error {
	vals := make([]int64, 3)
	vals[2] = 1
	for i, a := range g.args {
		v, err := a.eval(ec, nil)
		if err != nil {
			return err
		}
		if v.Null {
			return nil
		}
		if v, err = castValue(v, value.Int8); err != nil {
			return err
		}
		vals[i] = v.Int
	}
	if vals[2] == 0 {
		return errInvalidParam("step size cannot equal zero")
	}
	for i := vals[0]; (vals[2] > 0 && i <= vals[1]) || (vals[2] < 0 && i >= vals[1]); i += vals[2] {
		if err := ec.ctx.Err(); err != nil {
			return err
		}
		r := newRow(g.width)
		v := value.NewInt(i)
		v.Type = g.t
		r[g.off] = v
		if g.filter != nil {
			ok, err := truthy(ec, g.filter, r)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		if err := fn(r); err != nil {
			return err
		}
		if (vals[2] > 0 && i > math.MaxInt64-vals[2]) || (vals[2] < 0 && i < math.MinInt64-vals[2]) {
			break // the next value would overflow
		}
	}
	return nil
}
func (g *seriesNode) explain(out *[]string, depth int) {
	explainLine(out, depth, "Function Scan on generate_series %s", g.name)
}

// ---- table access ----

// access is how a scan reads a table: a full scan of the primary index, or
// equality on a prefix of an index's columns and optionally a range on the next.
type access struct {
	idx    int // -1 primary key
	full   bool
	eq     []expr
	lo, hi expr // range on column len(eq) of the index; nil = open
	loInc  bool
	hiInc  bool
	unique bool
	desc   string // EXPLAIN: "(id = 1)"
}

// scanNode reads one table into slots [off, off+len(columns)).
type scanNode struct {
	t          *schema.Table
	alias      string
	off, width int
	acc        access
	filter     expr
	filterDesc string
	lock       bool
	est        float64
}

func (s *scanNode) execute(ec *execCtx, fn func(row) error) error {
	emit := func(r schema.Row) error {
		out := newRow(s.width)
		copy(out[s.off:], r)
		if s.filter != nil {
			ok, err := truthy(ec, s.filter, out)
			if err != nil || !ok {
				return err
			}
		}
		if s.lock {
			schema.LockRow(ec.tx.t, s.t, r)
		}
		return fn(out)
	}
	if !s.acc.full {
		return readTable(ec, s.t, s.acc, nil, emit)
	}
	// A full scan run again in one statement (inside a correlated
	// subquery) replays the rows its second run recorded: one read of the
	// table instead of one per outer row. The rows are those of the
	// statement's snapshot either way.
	runs, _ := ec.cache[scanRuns{s}].(int)
	ec.cache[scanRuns{s}] = runs + 1
	if rows, ok := ec.cache[s].([]schema.Row); ok {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
	if runs == 0 {
		return readTable(ec, s.t, s.acc, nil, emit)
	}
	var rec []schema.Row
	recording := true
	err := readTable(ec, s.t, s.acc, nil, func(r schema.Row) error {
		if recording {
			if len(rec) < maxReplayRows {
				rec = append(rec, append(schema.Row(nil), r...))
			} else {
				recording, rec = false, nil
			}
		}
		return emit(r)
	})
	if err == nil && recording {
		ec.cache[s] = rec
	}
	return err
}

// scanRuns keys the count of a scan's runs in an execution's cache.
type scanRuns struct{ s *scanNode }

// maxReplayRows bounds the rows a repeated full scan keeps in memory.
const maxReplayRows = 10000

// readTable reads the rows of t an access path selects; r is the row the
// key expressions are evaluated on.
func readTable(ec *execCtx, t *schema.Table, acc access, r row, emit func(schema.Row) error) error {
	if acc.full {
		return scanAll(ec, t, -1, nil, nil, emit)
	}
	cols := t.IndexColumns(acc.idx)
	key := make([]value.Value, 0, len(acc.eq)+1)
	for i, e := range acc.eq {
		v, err := e.eval(ec, r)
		if err != nil {
			return err
		}
		if v.Null {
			return nil
		}
		if v, err = castValue(v, t.Columns[cols[i]].Type); err != nil {
			return nil // a key no row of this column type can hold
		}
		key = append(key, v)
	}
	if acc.lo == nil && acc.hi == nil && acc.unique && len(key) == len(cols) {
		rows, err := schema.Lookup(ec.ctx, ec.tx.t, t, acc.idx, key)
		if err != nil {
			return err
		}
		for _, row := range rows {
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	}
	lo := &schema.Bound{Key: key, Inclusive: true}
	hi := &schema.Bound{Key: key, Inclusive: true}
	if len(key) == 0 {
		lo, hi = nil, nil
	}
	bound := func(e expr, inc bool) (*schema.Bound, bool, error) {
		v, err := e.eval(ec, r)
		if err != nil || v.Null {
			return nil, false, err
		}
		if v, err = castValue(v, t.Columns[cols[len(key)]].Type); err != nil {
			// out of the column's range: scan the prefix, the filter decides
			return &schema.Bound{Key: key, Inclusive: true}, true, nil
		}
		return &schema.Bound{Key: append(append([]value.Value(nil), key...), v), Inclusive: inc}, true, nil
	}
	if acc.lo != nil {
		b, ok, err := bound(acc.lo, acc.loInc)
		if err != nil || !ok {
			return err
		}
		lo = b
	}
	if acc.hi != nil {
		b, ok, err := bound(acc.hi, acc.hiInc)
		if err != nil || !ok {
			return err
		}
		hi = b
	}
	return scanAll(ec, t, acc.idx, lo, hi, emit)
}

// scanAll runs schema.Scan, mapping errStop to a clean end.
func scanAll(ec *execCtx, t *schema.Table, idx int, lo, hi *schema.Bound, emit func(schema.Row) error) error {
	var inner error
	err := schema.Scan(ec.ctx, ec.tx.t, t, idx, lo, hi, func(r schema.Row) (bool, error) {
		if err := emit(r); err != nil {
			inner = err
			return false, nil
		}
		return true, nil
	})
	if inner != nil {
		return inner
	}
	return err
}

func (s *scanNode) explain(out *[]string, depth int) {
	name := s.t.Name
	if s.alias != "" && s.alias != s.t.Name {
		name += " " + s.alias
	}
	if s.acc.full {
		explainLine(out, depth, "Seq Scan on %s", name)
	} else {
		explainLine(out, depth, "Index Scan on %s using %s %s", name, indexName(s.t, s.acc.idx), s.acc.desc)
	}
	if s.filterDesc != "" {
		explainDetail(out, depth, "Filter: %s", s.filterDesc)
	}
	if s.lock {
		explainDetail(out, depth, "Lock: FOR UPDATE")
	}
}

// indexName names an index for EXPLAIN.
func indexName(t *schema.Table, idx int) string {
	if idx < 0 {
		if t.PrimaryKeyName != "" {
			return t.PrimaryKeyName
		}
		return t.Name + "_pkey"
	}
	return t.Indexes[idx].Name
}

// ---- operators ----

// filterNode keeps the rows cond holds for.
type filterNode struct {
	in   plan
	cond expr
	desc string
}

func (f *filterNode) execute(ec *execCtx, fn func(row) error) error {
	return f.in.execute(ec, func(r row) error {
		ok, err := truthy(ec, f.cond, r)
		if err != nil || !ok {
			return err
		}
		return fn(r)
	})
}
func (f *filterNode) explain(out *[]string, depth int) {
	explainLine(out, depth, "Filter (%s)", f.desc)
	f.in.explain(out, depth+1)
}

// projectNode computes a new (narrow) row of expressions.
type projectNode struct {
	in    plan
	exprs []expr
}

func (p *projectNode) execute(ec *execCtx, fn func(row) error) error {
	return p.in.execute(ec, func(r row) error {
		out := make(row, len(p.exprs))
		for i, e := range p.exprs {
			v, err := e.eval(ec, r)
			if err != nil {
				return err
			}
			out[i] = v
		}
		return fn(out)
	})
}
func (p *projectNode) explain(out *[]string, depth int) { p.in.explain(out, depth) }

// nestedLoopJoin joins every left row with every (materialized) right row.
type nestedLoopJoin struct {
	left, right  plan
	cond         expr
	desc         string
	outer        bool // LEFT: keep unmatched left rows
	rOff, rWidth int
}

func (j *nestedLoopJoin) execute(ec *execCtx, fn func(row) error) error {
	var rights []row
	if err := j.right.execute(ec, func(r row) error {
		rights = append(rights, r)
		return nil
	}); err != nil {
		return err
	}
	return j.left.execute(ec, func(l row) error {
		matched := false
		for _, r := range rights {
			m := append(row(nil), l...)
			copy(m[j.rOff:j.rOff+j.rWidth], r[j.rOff:j.rOff+j.rWidth])
			ok, err := truthy(ec, j.cond, m)
			if err != nil {
				return err
			}
			if ok {
				matched = true
				if err := fn(m); err != nil {
					return err
				}
			}
		}
		if !matched && j.outer {
			return fn(l)
		}
		return nil
	})
}
func (j *nestedLoopJoin) explain(out *[]string, depth int) {
	kind := "Nested Loop"
	if j.outer {
		kind += " Left Join"
	}
	if j.desc != "" {
		explainLine(out, depth, "%s (%s)", kind, j.desc)
	} else {
		explainLine(out, depth, "%s", kind)
	}
	j.left.explain(out, depth+1)
	j.right.explain(out, depth+1)
}

// hashJoin builds a hash table of the right rows on their keys and probes it with the left rows.
type hashJoin struct {
	left, right  plan
	lkeys, rkeys []expr
	keyTypes     []value.Type
	cond         expr // residual condition
	desc         string
	outer        bool
	rRanges      [][2]int // the slots the right (build) rows fill
}

func hashKey(ec *execCtx, keys []expr, types []value.Type, r row) (string, bool, error) {
	var b []byte
	for i, k := range keys {
		v, err := k.eval(ec, r)
		if err != nil {
			return "", false, err
		}
		if v.Null {
			return "", false, nil
		}
		if v, err = castValue(v, types[i]); err != nil {
			return "", false, err
		}
		b = value.AppendKey(b, v, false)
	}
	return string(b), true, nil
}

func (j *hashJoin) execute(ec *execCtx, fn func(row) error) error {
	table := map[string][]row{}
	if err := j.right.execute(ec, func(r row) error {
		k, ok, err := hashKey(ec, j.rkeys, j.keyTypes, r)
		if err != nil || !ok {
			return err
		}
		table[k] = append(table[k], r)
		return nil
	}); err != nil {
		return err
	}
	return j.left.execute(ec, func(l row) error {
		k, ok, err := hashKey(ec, j.lkeys, j.keyTypes, l)
		if err != nil {
			return err
		}
		matched := false
		if ok {
			for _, r := range table[k] {
				m := append(row(nil), l...)
				for _, rg := range j.rRanges {
					copy(m[rg[0]:rg[1]], r[rg[0]:rg[1]])
				}
				ok, err := truthy(ec, j.cond, m)
				if err != nil {
					return err
				}
				if ok {
					matched = true
					if err := fn(m); err != nil {
						return err
					}
				}
			}
		}
		if !matched && j.outer {
			return fn(l)
		}
		return nil
	})
}
func (j *hashJoin) explain(out *[]string, depth int) {
	kind := "Hash Join"
	if j.outer {
		kind = "Hash Left Join"
	}
	explainLine(out, depth, "%s (%s)", kind, j.desc)
	j.left.explain(out, depth+1)
	explainLine(out, depth+1, "Hash")
	j.right.explain(out, depth+2)
}

// lookupJoin reads the matching rows of a table through an index for each left row.
type lookupJoin struct {
	left       plan
	t          *schema.Table
	alias      string
	acc        access // eq keys are evaluated on the left row
	cond       expr   // residual, on the merged row
	desc       string
	outer      bool
	off, width int
	lock       bool
}

func (j *lookupJoin) execute(ec *execCtx, fn func(row) error) error {
	n := len(j.t.Columns)
	return j.left.execute(ec, func(l row) error {
		matched := false
		err := readTable(ec, j.t, j.acc, l, func(r schema.Row) error {
			m := append(row(nil), l...)
			copy(m[j.off:j.off+n], r)
			ok, err := truthy(ec, j.cond, m)
			if err != nil || !ok {
				return err
			}
			if j.lock {
				schema.LockRow(ec.tx.t, j.t, r)
			}
			matched = true
			return fn(m)
		})
		if err != nil {
			return err
		}
		if !matched && j.outer {
			return fn(l)
		}
		return nil
	})
}
func (j *lookupJoin) explain(out *[]string, depth int) {
	kind := "Lookup Join"
	if j.outer {
		kind = "Lookup Left Join"
	}
	name := j.t.Name
	if j.alias != "" && j.alias != j.t.Name {
		name += " " + j.alias
	}
	explainLine(out, depth, "%s on %s using %s (%s)", kind, name, indexName(j.t, j.acc.idx), j.desc)
	j.left.explain(out, depth+1)
}

// aggNode groups its input and computes aggregates: output rows are the
// group keys followed by the aggregate results.
type aggNode struct {
	in     plan
	as     *aggScope
	scalar bool // no GROUP BY: one row even for no input
}

func (a *aggNode) execute(ec *execCtx, fn func(row) error) error {
	type group struct {
		keys   row
		states []*aggState
	}
	groups := map[string]*group{}
	var order []*group
	newGroup := func(keys row) *group {
		g := &group{keys: keys}
		for _, c := range a.as.aggs {
			g.states = append(g.states, &aggState{c: c})
		}
		order = append(order, g)
		return g
	}
	if err := a.in.execute(ec, func(r row) error {
		keys := make(row, len(a.as.groups))
		var kb []byte
		for i, g := range a.as.groups {
			v, err := g.eval(ec, r)
			if err != nil {
				return err
			}
			keys[i] = v
			kb = value.AppendKey(kb, normKey(v), false)
		}
		g := groups[string(kb)]
		if g == nil {
			g = newGroup(keys)
			groups[string(kb)] = g
		}
		for _, s := range g.states {
			if err := s.add(ec, r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if len(order) == 0 && a.scalar {
		newGroup(nil)
	}
	for _, g := range order {
		out := make(row, 0, len(a.as.groups)+len(g.states))
		out = append(out, g.keys...)
		for len(out) < len(a.as.groups) {
			out = append(out, value.Null)
		}
		for _, s := range g.states {
			v, err := s.result()
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		if err := fn(out); err != nil {
			return err
		}
	}
	return nil
}

// normKey makes values that compare equal encode equally (ints of any width).
func normKey(v value.Value) value.Value {
	if !v.Null && v.Type.Kind == value.KindInt {
		v.Type = value.Int8
	}
	if v.Type.Kind == value.KindUnknown {
		v.Type = value.Text
	}
	return v
}

func (a *aggNode) explain(out *[]string, depth int) {
	if a.scalar {
		explainLine(out, depth, "Aggregate")
	} else {
		explainLine(out, depth, "HashAggregate")
	}
	a.in.explain(out, depth+1)
}

// sortKey orders by slot idx.
type sortKey struct {
	idx        int
	desc       bool
	nullsFirst bool
}

// sortNode sorts its input.
type sortNode struct {
	in   plan
	keys []sortKey
	desc string
}

func (s *sortNode) execute(ec *execCtx, fn func(row) error) error {
	var rows []row
	if err := s.in.execute(ec, func(r row) error {
		rows = append(rows, r)
		return nil
	}); err != nil {
		return err
	}
	var cmpErr error
	sort.SliceStable(rows, func(i, j int) bool {
		for _, k := range s.keys {
			a, b := rows[i][k.idx], rows[j][k.idx]
			if a.Null || b.Null {
				if a.Null && b.Null {
					continue
				}
				return a.Null == k.nullsFirst
			}
			n, err := compareValues(a, b)
			if err != nil {
				cmpErr = err
				return false
			}
			if n != 0 {
				return (n < 0) != k.desc
			}
		}
		return false
	})
	if cmpErr != nil {
		return cmpErr
	}
	for _, r := range rows {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}
func (s *sortNode) explain(out *[]string, depth int) {
	explainLine(out, depth, "Sort")
	if s.desc != "" {
		explainDetail(out, depth, "Sort Key: %s", s.desc)
	}
	s.in.explain(out, depth+1)
}

// limitNode applies LIMIT and OFFSET.
type limitNode struct {
	in            plan
	limit, offset expr
}

func (l *limitNode) execute(ec *execCtx, fn func(row) error) error {
	n, off := int64(-1), int64(0)
	get := func(e expr, what string) (int64, error) {
		v, err := e.eval(ec, nil)
		if err != nil || v.Null {
			return -1, err
		}
		if v, err = castValue(v, value.Int8); err != nil {
			return 0, err
		}
		if v.Int < 0 {
			return 0, errInvalidRowCount(what)
		}
		return v.Int, nil
	}
	var err error
	if l.limit != nil {
		if n, err = get(l.limit, "LIMIT"); err != nil {
			return err
		}
	}
	if l.offset != nil {
		if off, err = get(l.offset, "OFFSET"); err != nil {
			return err
		}
		if off < 0 {
			off = 0
		}
	}
	if n == 0 {
		return nil
	}
	seen, sent := int64(0), int64(0)
	err = l.in.execute(ec, func(r row) error {
		seen++
		if seen <= off {
			return nil
		}
		if err := fn(r); err != nil {
			return err
		}
		sent++
		if n >= 0 && sent >= n {
			return errStop
		}
		return nil
	})
	if err == errStop {
		return nil
	}
	return err
}
func (l *limitNode) explain(out *[]string, depth int) {
	explainLine(out, depth, "Limit")
	l.in.explain(out, depth+1)
}

// distinctNode drops rows whose first n slots repeat an earlier row's.
type distinctNode struct {
	in plan
	n  int
}

func (d *distinctNode) execute(ec *execCtx, fn func(row) error) error {
	seen := map[string]bool{}
	return d.in.execute(ec, func(r row) error {
		var kb []byte
		for _, v := range r[:d.n] {
			kb = value.AppendKey(kb, normKey(v), false)
		}
		if seen[string(kb)] {
			return nil
		}
		seen[string(kb)] = true
		return fn(r)
	})
}
func (d *distinctNode) explain(out *[]string, depth int) {
	explainLine(out, depth, "Unique")
	d.in.explain(out, depth+1)
}

// distinctOnNode keeps the first row of each run of equal keys (DISTINCT
// ON after the sort), whatever the order of the groups.
type distinctOnNode struct {
	in   plan
	keys []int
}

func (d *distinctOnNode) execute(ec *execCtx, fn func(row) error) error {
	seen := map[string]bool{}
	return d.in.execute(ec, func(r row) error {
		var kb []byte
		for _, k := range d.keys {
			kb = value.AppendKey(kb, normKey(r[k]), false)
		}
		if seen[string(kb)] {
			return nil
		}
		seen[string(kb)] = true
		return fn(r)
	})
}
func (d *distinctOnNode) explain(out *[]string, depth int) {
	explainLine(out, depth, "Unique (DISTINCT ON)")
	d.in.explain(out, depth+1)
}

// trimNode keeps the first n slots (drops hidden sort keys).
type trimNode struct {
	in plan
	n  int
}

func (t *trimNode) execute(ec *execCtx, fn func(row) error) error {
	return t.in.execute(ec, func(r row) error { return fn(r[:t.n]) })
}
func (t *trimNode) explain(out *[]string, depth int) { t.in.explain(out, depth) }

// setOpNode is UNION / INTERSECT / EXCEPT [ALL].
type setOpNode struct {
	op          string
	all         bool
	left, right plan
	types       []value.Type
}

func (s *setOpNode) key(r row) (string, row, error) {
	var kb []byte
	out := make(row, len(r))
	for i, v := range r {
		c, err := castValue(v, s.types[i])
		if err != nil {
			return "", nil, err
		}
		out[i] = c
		kb = value.AppendKey(kb, normKey(c), false)
	}
	return string(kb), out, nil
}

func (s *setOpNode) execute(ec *execCtx, fn func(row) error) error {
	if s.op == "UNION" {
		seen := map[string]bool{}
		emit := func(r row) error {
			k, c, err := s.key(r)
			if err != nil {
				return err
			}
			if !s.all {
				if seen[k] {
					return nil
				}
				seen[k] = true
			}
			return fn(c)
		}
		if err := s.left.execute(ec, emit); err != nil {
			return err
		}
		return s.right.execute(ec, emit)
	}
	counts := map[string]int{}
	if err := s.right.execute(ec, func(r row) error {
		k, _, err := s.key(r)
		counts[k]++
		return err
	}); err != nil {
		return err
	}
	emitted := map[string]bool{}
	return s.left.execute(ec, func(r row) error {
		k, c, err := s.key(r)
		if err != nil {
			return err
		}
		in := counts[k] > 0
		if s.op == "INTERSECT" {
			if !in {
				return nil
			}
			if s.all {
				counts[k]--
			} else if emitted[k] {
				return nil
			}
		} else { // EXCEPT
			if s.all {
				if in {
					counts[k]--
					return nil
				}
			} else if in || emitted[k] {
				return nil
			}
		}
		emitted[k] = true
		return fn(c)
	})
}
func (s *setOpNode) explain(out *[]string, depth int) {
	name := map[string]string{"UNION": "Append", "INTERSECT": "SetOp Intersect", "EXCEPT": "SetOp Except"}[s.op]
	if s.op == "UNION" && !s.all {
		explainLine(out, depth, "HashAggregate")
		depth++
	}
	explainLine(out, depth, "%s", name)
	s.left.explain(out, depth+1)
	s.right.explain(out, depth+1)
}
