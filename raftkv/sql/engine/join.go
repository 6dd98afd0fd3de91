package engine

import (
	"math"
	"math/bits"
	"strings"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/value"
)

// conjunct is one AND-ed part of a WHERE/ON condition.
type conjunct struct {
	e    expr
	mask uint64 // relations of this query level it references
	desc string
	used bool
}

// splitAnd splits a condition into its AND-ed parts (BETWEEN into two bounds).
func splitAnd(e ast.Expr, out []ast.Expr) []ast.Expr {
	switch x := e.(type) {
	case *ast.BinaryExpr:
		if x.Op == "AND" {
			return splitAnd(x.Right, splitAnd(x.Left, out))
		}
	case *ast.BetweenExpr:
		if !x.Not {
			out = append(out, &ast.BinaryExpr{Op: ">=", Left: x.Expr, Right: x.Low, Pos: x.Pos})
			return append(out, &ast.BinaryExpr{Op: "<=", Left: x.Expr, Right: x.High, Pos: x.Pos})
		}
	}
	return append(out, e)
}

// bindConjuncts binds the parts of a condition, recording the relations each references.
func (b *binder) bindConjuncts(fc *fromClause, e ast.Expr, what string) ([]*conjunct, error) {
	var out []*conjunct
	for _, part := range splitAnd(e, nil) {
		fc.sc.mask = 0
		x, err := b.bindCond(fc.sc, part, what)
		if err != nil {
			return nil, err
		}
		out = append(out, &conjunct{e: x, mask: fc.sc.mask, desc: formatExpr(part)})
	}
	return out, nil
}

// unit is a planned FROM item during join ordering.
type unit struct {
	mask   uint64
	p      plan
	est    float64
	rel    *relInfo // a base table (candidate for a lookup join), else nil
	pushed []*conjunct
}

// planFrom plans the FROM clause with the WHERE conjuncts.
func (b *binder) planFrom(fc *fromClause, conjs []*conjunct) (plan, float64, error) {
	if len(fc.items) == 0 {
		p := plan(&oneRow{width: 0})
		if c := andAll(conjs); c != nil {
			p = &filterNode{in: p, cond: c, desc: descAll(conjs)}
		}
		return p, 1, nil
	}
	return b.solve(fc, fc.items, conjs)
}

// flatten collects the units of inner joins and their ON conditions.
func (b *binder) flatten(fc *fromClause, items []any, units *[]any, conjs *[]*conjunct) error {
	for _, it := range items {
		if j, ok := it.(*joinItem); ok && j.kind == "INNER" {
			if err := b.flatten(fc, []any{j.left, j.right}, units, conjs); err != nil {
				return err
			}
			for _, on := range j.on {
				cs, err := b.bindConjuncts(fc, on, "JOIN/ON")
				if err != nil {
					return err
				}
				*conjs = append(*conjs, cs...)
			}
			continue
		}
		*units = append(*units, it)
	}
	return nil
}

// solve orders and plans the inner join of items under conjs (greedy by cost).
func (b *binder) solve(fc *fromClause, items []any, conjs []*conjunct) (plan, float64, error) {
	var raw []any
	if err := b.flatten(fc, items, &raw, &conjs); err != nil {
		return nil, 0, err
	}
	units := make([]*unit, len(raw))
	for i, it := range raw {
		units[i] = &unit{mask: relMask(it)}
	}
	var top []*conjunct
	for _, c := range conjs {
		placed := false
		for _, u := range units {
			if c.mask&^u.mask == 0 && (c.mask != 0 || u == units[0]) {
				u.pushed = append(u.pushed, c)
				placed = true
				break
			}
		}
		if !placed {
			top = append(top, c)
		}
	}
	for i, it := range raw {
		p, est, err := b.planUnit(fc, it, units[i].pushed)
		if err != nil {
			return nil, 0, err
		}
		units[i].p, units[i].est = p, est
		if r, ok := it.(*relInfo); ok && r.t != nil {
			units[i].rel = r
		}
	}
	// greedy: start from the smallest unit, add the cheapest next one.
	cur := units[0]
	for _, u := range units[1:] {
		if u.est < cur.est {
			cur = u
		}
	}
	rest := []*unit{}
	for _, u := range units {
		if u != cur {
			rest = append(rest, u)
		}
	}
	p, est, mask := cur.p, cur.est, cur.mask
	for len(rest) > 0 {
		bestI, bestCost := -1, math.Inf(1)
		var bestPlan plan
		var bestEst float64
		for i, u := range rest {
			jp, cost, jest := b.joinStep(fc, p, est, mask, u, top, false)
			if cost < bestCost {
				bestI, bestCost, bestPlan, bestEst = i, cost, jp, jest
			}
		}
		u := rest[bestI]
		// mark the conjuncts the step consumed
		for _, c := range top {
			if !c.used && c.mask&^(mask|u.mask) == 0 {
				c.used = true
			}
		}
		p, est, mask = bestPlan, bestEst, mask|u.mask
		rest = append(rest[:bestI], rest[bestI+1:]...)
	}
	var left []*conjunct
	for _, c := range top {
		if !c.used {
			left = append(left, c)
		}
	}
	if c := andAll(left); c != nil {
		p = &filterNode{in: p, cond: c, desc: descAll(left)}
	}
	return p, est, nil
}

// pending returns the conjuncts of top that become applicable when u joins.
func pending(top []*conjunct, mask, umask uint64) []*conjunct {
	var out []*conjunct
	for _, c := range top {
		if !c.used && c.mask&^(mask|umask) == 0 {
			out = append(out, c)
		}
	}
	return out
}

// equiPair is an equality between an expression of the joined side and a column of u.
type equiPair struct {
	outer expr // evaluated on the left row
	inner expr // a column of u
	slot  int  // the inner column's slot
	c     *conjunct
}

// equiPairs finds cond conjuncts "left-expr = u-column".
func equiPairs(conds []*conjunct, mask, umask uint64, fc *fromClause) []equiPair {
	var out []equiPair
	for _, c := range conds {
		cmp, ok := c.e.(*cmpExpr)
		if !ok || cmp.op != "=" || c.mask&umask == 0 || c.mask&mask == 0 {
			continue
		}
		lm, lok := exprMask(cmp.l, fc)
		rm, rok := exprMask(cmp.r, fc)
		if !lok || !rok {
			continue
		}
		switch {
		case lm&^mask == 0 && rm&^umask == 0 && rm != 0:
			out = append(out, equiPair{outer: cmp.l, inner: cmp.r, slot: colSlot(cmp.r), c: c})
		case rm&^mask == 0 && lm&^umask == 0 && lm != 0:
			out = append(out, equiPair{outer: cmp.r, inner: cmp.l, slot: colSlot(cmp.l), c: c})
		}
	}
	return out
}

// colSlot returns the slot of a plain current-level column, -1 otherwise.
func colSlot(e expr) int {
	if c, ok := e.(*colExpr); ok && c.depth == 0 {
		return c.idx
	}
	return -1
}

// joinStep plans joining u to the current plan p (est rows, relations mask)
// and returns the plan, its cost and its row estimate.
func (b *binder) joinStep(fc *fromClause, p plan, est float64, mask uint64, u *unit, top []*conjunct, outerJoin bool) (plan, float64, float64) {
	conds := pending(top, mask, u.mask)
	pairs := equiPairs(conds, mask, u.mask, fc)
	// lookup join through an index of u on the join columns
	if u.rel != nil && len(pairs) > 0 {
		if acc, per, used := lookupAccess(u.rel, pairs); acc != nil {
			cost := est * per * 2
			if cost < est+u.est {
				var resid []*conjunct
				resid = append(resid, u.pushed...)
				resid = append(resid, conds...)
				descs := make([]string, len(used))
				for i, pr := range used {
					descs[i] = pr.c.desc
				}
				acc.desc = strings.Join(descs, " AND ")
				return &lookupJoin{left: p, t: u.rel.t, alias: u.rel.name, acc: *acc, cond: andAll(resid), desc: acc.desc,
					off: u.rel.off, width: u.rel.width, lock: u.rel.lock}, cost, math.Max(est*per, 1)
			}
		}
	}
	if len(pairs) > 0 {
		// Build the hash table on the smaller side (inner joins; a LEFT
		// join keeps its preserved side as the probe).
		swap := !outerJoin && u.est > est
		hj := &hashJoin{left: p, right: u.p, rRanges: relRanges(fc, u.mask)}
		if swap {
			hj.left, hj.right, hj.rRanges = u.p, p, relRanges(fc, mask)
		}
		inPair := map[*conjunct]bool{}
		var descs []string
		for _, pr := range pairs {
			t, err := commonTypeOf([]value.Type{pr.outer.typ(), pr.inner.typ()}, "JOIN", 0)
			if err != nil {
				continue
			}
			if swap {
				hj.lkeys = append(hj.lkeys, pr.inner)
				hj.rkeys = append(hj.rkeys, pr.outer)
			} else {
				hj.lkeys = append(hj.lkeys, pr.outer)
				hj.rkeys = append(hj.rkeys, pr.inner)
			}
			hj.keyTypes = append(hj.keyTypes, t)
			inPair[pr.c] = true
			descs = append(descs, pr.c.desc)
		}
		var resid []*conjunct
		for _, c := range conds {
			if !inPair[c] {
				resid = append(resid, c)
			}
		}
		hj.cond, hj.desc = andAll(resid), strings.Join(descs, " AND ")
		return hj, est + u.est + 1, math.Max(est, u.est)
	}
	nl := &nestedLoopJoin{left: p, right: u.p, cond: andAll(conds), desc: descAll(conds), rOff: relOff(fc, u.mask), rWidth: relWidth(fc, u.mask)}
	out := est * u.est
	if len(conds) > 0 {
		out /= 3
	}
	return nl, est*u.est + est + u.est + 2, math.Max(out, 1)
}

// relOff/relWidth: the slot range covering a set of relations.
func relOff(fc *fromClause, mask uint64) int {
	return fc.rels[bits.TrailingZeros64(mask)].off
}

func relWidth(fc *fromClause, mask uint64) int {
	last := 63 - bits.LeadingZeros64(mask)
	r := fc.rels[last]
	end := r.off + relCols(fc, r)
	return end - relOff(fc, mask)
}

// relRanges returns the slot ranges of a set of relations.
func relRanges(fc *fromClause, mask uint64) [][2]int {
	var out [][2]int
	for _, r := range fc.rels {
		if mask&(1<<uint(r.idx)) != 0 {
			out = append(out, [2]int{r.off, r.off + relCols(fc, r)})
		}
	}
	return out
}

// relCols is the number of columns of relation r.
func relCols(fc *fromClause, r *relInfo) int {
	if r.idx+1 < len(fc.rels) {
		return fc.rels[r.idx+1].off - r.off
	}
	return fc.width - r.off
}

// lookupAccess finds an index of rel whose leading columns the pairs equate;
// per is the rows expected per lookup.
func lookupAccess(rel *relInfo, pairs []equiPair) (*access, float64, []equiPair) {
	t := rel.t
	var best *access
	var bestUsed []equiPair
	bestPer := math.Inf(1)
	for idx := -1; idx < len(t.Indexes); idx++ {
		cols := t.IndexColumns(idx)
		acc := &access{idx: idx}
		var used []equiPair
		for _, col := range cols {
			found := false
			for _, pr := range pairs {
				if pr.slot == rel.off+col && keyUsable(t.Columns[col].Type, pr.outer.typ()) {
					acc.eq = append(acc.eq, pr.outer)
					used = append(used, pr)
					found = true
					break
				}
			}
			if !found {
				break
			}
		}
		if len(acc.eq) == 0 {
			continue
		}
		unique := idx < 0 || t.Indexes[idx].Unique
		per := 10.0
		if unique && len(acc.eq) == len(cols) {
			per = 1
			acc.unique = true
		}
		if per < bestPer {
			best, bestPer, bestUsed = acc, per, used
		}
	}
	return best, bestPer, bestUsed
}

// keyUsable reports whether a value of type v can be a key of a column of
// type col without changing which rows match.
func keyUsable(col, v value.Type) bool {
	if col.Kind != v.Kind {
		return false
	}
	return true
}

// exprMask returns the current-level relations a bound expression reads;
// ok is false when it holds a subquery (its references are not visible).
func exprMask(e expr, fc *fromClause) (uint64, bool) {
	var m uint64
	ok := true
	var walk func(e expr)
	walk = func(e expr) {
		switch x := e.(type) {
		case *colExpr:
			if x.depth == 0 && x.idx < len(fc.sc.cols) {
				m |= 1 << uint(fc.sc.cols[x.idx].rel)
			}
		case *constExpr, *paramExpr:
		case *castExpr:
			walk(x.e)
		case *arithExpr:
			walk(x.l)
			walk(x.r)
		case *negExpr:
			walk(x.e)
		case *funcExpr:
			if x.name == "random" || x.name == "nextval" || x.name == "gen_random_uuid" || x.name == "clock_timestamp" {
				ok = false
			}
			for _, a := range x.args {
				walk(a)
			}
		default:
			ok = false
		}
	}
	walk(e)
	return m, ok
}

// planUnit plans one FROM item with the conjuncts pushed to it.
func (b *binder) planUnit(fc *fromClause, it any, pushed []*conjunct) (plan, float64, error) {
	switch x := it.(type) {
	case *relInfo:
		filter := andAll(pushed)
		switch {
		case x.t != nil:
			acc, est := chooseAccess(fc, x, pushed)
			used := map[string]bool{}
			for _, d := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(acc.desc, "("), ")"), " AND ") {
				used[d] = true
			}
			var rest []*conjunct
			for _, c := range pushed {
				if !used[c.desc] {
					rest = append(rest, c)
				}
			}
			// The filter re-checks every conjunct (index keys are cast to
			// the column types); EXPLAIN shows those the index does not apply.
			return &scanNode{t: x.t, alias: x.name, off: x.off, width: x.width, acc: acc, filter: filter, filterDesc: descAll(rest), lock: x.lock, est: est}, est, nil
		case x.series != nil:
			return &seriesNode{args: x.series, off: x.off, width: x.width, t: x.seriesT, name: x.name, filter: filter}, x.est, nil
		default:
			return &slotNode{in: x.sub, off: x.off, width: x.width, name: x.name, filter: filter}, x.est, nil
		}
	case *joinItem: // LEFT JOIN
		lmask := relMask(x.left)
		var lpush, above []*conjunct
		for _, c := range pushed {
			if c.mask&^lmask == 0 {
				lpush = append(lpush, c)
			} else {
				above = append(above, c)
			}
		}
		lp, lest, err := b.solve(fc, []any{x.left}, lpush)
		if err != nil {
			return nil, 0, err
		}
		var on []*conjunct
		for _, e := range x.on {
			cs, err := b.bindConjuncts(fc, e, "JOIN/ON")
			if err != nil {
				return nil, 0, err
			}
			on = append(on, cs...)
		}
		rmask := relMask(x.right)
		var rpush, cond []*conjunct
		for _, c := range on {
			if c.mask&^rmask == 0 && c.mask != 0 {
				rpush = append(rpush, c)
			} else {
				cond = append(cond, c)
			}
		}
		var rrel *relInfo
		if r, ok := x.right.(*relInfo); ok && r.t != nil {
			rrel = r
		}
		rp, rest, err := b.solve(fc, []any{x.right}, rpush)
		if err != nil {
			return nil, 0, err
		}
		u := &unit{mask: rmask, p: rp, est: rest, rel: rrel, pushed: rpush}
		jp, _, jest := b.joinStep(fc, lp, lest, lmask, u, cond, true)
		switch j := jp.(type) {
		case *lookupJoin:
			j.outer = true
		case *hashJoin:
			j.outer = true
		case *nestedLoopJoin:
			j.outer = true
			if len(cond) == 0 {
				j.cond = nil
			}
		}
		if jest < lest {
			jest = lest
		}
		var p plan = jp
		if c := andAll(above); c != nil {
			p = &filterNode{in: p, cond: c, desc: descAll(above)}
		}
		return p, jest, nil
	}
	return nil, 0, nil
}

// chooseAccess picks the cheapest way to read a table under its conjuncts.
func chooseAccess(fc *fromClause, r *relInfo, conjs []*conjunct) (access, float64) {
	n := r.est
	type bounds struct {
		eq           expr
		eqDesc       string
		lo, hi       expr
		loInc, hiInc bool
		loDesc       string
		hiDesc       string
	}
	byCol := map[int]*bounds{}
	for _, c := range conjs {
		cmp, ok := c.e.(*cmpExpr)
		if !ok {
			continue
		}
		op := cmp.op
		col, other := cmp.l, cmp.r
		if colSlot(col) < 0 {
			col, other = cmp.r, cmp.l
			op = flipOp(op)
		}
		slot := colSlot(col)
		if slot < r.off || slot >= r.off+len(r.t.Columns) {
			continue
		}
		if m, ok := exprMask(other, fc); !ok || m != 0 {
			continue
		}
		ord := slot - r.off
		if !keyUsable(r.t.Columns[ord].Type, other.typ()) {
			continue
		}
		bd := byCol[ord]
		if bd == nil {
			bd = &bounds{}
			byCol[ord] = bd
		}
		switch op {
		case "=":
			if bd.eq == nil {
				bd.eq, bd.eqDesc = other, c.desc
			}
		case ">", ">=":
			if bd.lo == nil {
				bd.lo, bd.loInc, bd.loDesc = other, op == ">=", c.desc
			}
		case "<", "<=":
			if bd.hi == nil {
				bd.hi, bd.hiInc, bd.hiDesc = other, op == "<=", c.desc
			}
		}
	}
	best, bestEst := access{full: true, idx: -1}, n
	for idx := -1; idx < len(r.t.Indexes); idx++ {
		cols := r.t.IndexColumns(idx)
		acc := access{idx: idx}
		var descs []string
		est := n
		for _, col := range cols {
			bd := byCol[col]
			if bd == nil {
				break
			}
			if bd.eq != nil {
				acc.eq = append(acc.eq, bd.eq)
				descs = append(descs, bd.eqDesc)
				est /= 10
				continue
			}
			if bd.lo != nil || bd.hi != nil {
				acc.lo, acc.loInc, acc.hi, acc.hiInc = bd.lo, bd.loInc, bd.hi, bd.hiInc
				if bd.lo != nil {
					descs = append(descs, bd.loDesc)
				}
				if bd.hi != nil {
					descs = append(descs, bd.hiDesc)
				}
				est /= 3
			}
			break
		}
		if len(descs) == 0 {
			continue
		}
		unique := idx < 0 || r.t.Indexes[idx].Unique
		if unique && len(acc.eq) == len(cols) && acc.lo == nil && acc.hi == nil {
			acc.unique = true
			est = 1
		}
		if est < 1 {
			est = 1
		}
		acc.desc = "(" + strings.Join(descs, " AND ") + ")"
		if est < bestEst {
			best, bestEst = acc, est
		}
	}
	return best, bestEst
}

func flipOp(op string) string {
	switch op {
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">":
		return "<"
	case ">=":
		return "<="
	}
	return op
}

// andAll ANDs the conjuncts' expressions (nil for none).
func andAll(cs []*conjunct) expr {
	var e expr
	for _, c := range cs {
		if e == nil {
			e = c.e
		} else {
			e = &logicExpr{and: true, l: e, r: c.e}
		}
	}
	return e
}

// descAll prints conjuncts for EXPLAIN.
func descAll(cs []*conjunct) string {
	ds := make([]string, len(cs))
	for i, c := range cs {
		ds[i] = c.desc
	}
	return strings.Join(ds, " AND ")
}
