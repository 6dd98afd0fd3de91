package engine

import (
	"strconv"
	"strings"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// outCol is a result column.
type outCol struct {
	name     string
	typ      value.Type
	tableOID uint32
	attr     int16
	untyped  bool // an untyped literal reported as text: a set operation gives it the other side's type
}

// query is a bound query: its plan yields rows of len(cols) values.
type query struct {
	plan       plan
	cols       []outCol
	correlated bool
}

// bindQuery binds a full query (WITH, body, ORDER BY, LIMIT, FOR UPDATE).
func (b *binder) bindQuery(parent *scope, sel *ast.Select) (*query, error) {
	if sel.With != nil {
		if sel.With.Recursive {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "WITH RECURSIVE is not supported").At(int32(sel.Pos))
		}
		defs := map[string]*cteDef{}
		b.ctes = append(b.ctes, defs)
		defer func() { b.ctes = b.ctes[:len(b.ctes)-1] }()
		for _, c := range sel.With.CTEs {
			q, err := b.bindQuery(parent, c.Query)
			if err != nil {
				return nil, err
			}
			cols := append([]outCol(nil), q.cols...)
			for i := range cols {
				if i < len(c.Columns) {
					cols[i].name = c.Columns[i]
				}
			}
			defs[c.Name] = &cteDef{name: c.Name, plan: &materialized{in: q.plan, name: c.Name}, cols: cols}
		}
	}
	var (
		p        plan
		cols     []outCol
		keys     []sortKey
		nvisible int
		corr     bool
		distinct bool
		onKeys   []int
		width    int
	)
	if core, ok := sel.Body.(*ast.SelectCore); ok {
		r, err := b.bindCore(parent, core, sel.OrderBy, sel.ForUpdate)
		if err != nil {
			return nil, err
		}
		p, cols, keys, nvisible, corr, distinct = r.plan, r.cols, r.keys, r.nvisible, r.correlated, core.Distinct
		onKeys, width = r.distinctOn, r.width
		if len(onKeys) > 0 {
			distinct = false
		}
	} else {
		if sel.ForUpdate != nil {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "FOR UPDATE is not allowed with UNION/INTERSECT/EXCEPT").At(int32(sel.Pos))
		}
		q, err := b.bindBody(parent, sel.Body)
		if err != nil {
			return nil, err
		}
		p, cols, corr, nvisible = q.plan, q.cols, q.correlated, len(q.cols)
		for _, o := range sel.OrderBy {
			idx, err := outputIndex(o.Expr, cols, nil)
			if err != nil {
				return nil, err
			}
			if idx < 0 {
				return nil, sqlerr.New(sqlerr.FeatureNotSupported, "ORDER BY on a UNION/INTERSECT/EXCEPT result must name a result column").At(int32(exprPos(o.Expr)))
			}
			keys = append(keys, orderKey(idx, o))
		}
	}
	ordered := pkOrdered(p, keys)
	if distinct {
		for _, k := range keys {
			if k.idx >= nvisible {
				return nil, sqlerr.New(sqlerr.InvalidColumnReference, "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
			}
		}
		p = &distinctNode{in: p, n: nvisible}
	}
	if len(keys) > 0 && !ordered {
		descs := make([]string, len(sel.OrderBy))
		for i, o := range sel.OrderBy {
			descs[i] = formatExpr(o.Expr)
			if o.Desc {
				descs[i] += " DESC"
			}
		}
		p = &sortNode{in: p, keys: keys, desc: strings.Join(descs, ", ")}
	}
	if len(onKeys) > 0 {
		p = &distinctOnNode{in: p, keys: onKeys}
	}
	if nvisible < widthOf(p, cols, keys) || nvisible < width {
		p = &trimNode{in: p, n: nvisible}
	}
	if sel.Limit != nil || sel.Offset != nil {
		ln := &limitNode{in: p}
		var err error
		if sel.Limit != nil {
			if ln.limit, err = b.bindLimit(parent, sel.Limit); err != nil {
				return nil, err
			}
		}
		if sel.Offset != nil {
			if ln.offset, err = b.bindLimit(parent, sel.Offset); err != nil {
				return nil, err
			}
		}
		p = ln
	}
	return &query{plan: p, cols: cols[:nvisible], correlated: corr}, nil
}

// pkOrdered reports whether p already yields rows in the order of keys: a
// projection of a scan through the primary key (rows come in key order)
// sorted ascending on a prefix of the key's columns.
func pkOrdered(p plan, keys []sortKey) bool {
	pn, ok := p.(*projectNode)
	if !ok || len(keys) == 0 {
		return false
	}
	sn, ok := pn.in.(*scanNode)
	if !ok || sn.acc.idx != -1 || len(keys) > len(sn.t.PrimaryKey) {
		return false
	}
	for i, k := range keys {
		if k.desc || k.nullsFirst || k.idx >= len(pn.exprs) {
			return false
		}
		c, ok := pn.exprs[k.idx].(*colExpr)
		if !ok || c.depth != 0 || c.idx != sn.off+sn.t.PrimaryKey[i] {
			return false
		}
	}
	return true
}

// widthOf returns the width of a core's projected rows (visible + hidden sort keys).
func widthOf(_ plan, cols []outCol, keys []sortKey) int {
	w := len(cols)
	for _, k := range keys {
		if k.idx+1 > w {
			w = k.idx + 1
		}
	}
	return w
}

func (b *binder) bindLimit(parent *scope, e ast.Expr) (expr, error) {
	x, err := b.bindExpr(&scope{parent: parent}, e)
	if err != nil {
		return nil, err
	}
	return b.coerce(x, value.Int8)
}

// orderKey builds a sort key with PostgreSQL's default NULL placement.
func orderKey(idx int, o ast.OrderItem) sortKey {
	k := sortKey{idx: idx, desc: o.Desc, nullsFirst: o.Desc}
	if o.NullsFirst != nil {
		k.nullsFirst = *o.NullsFirst
	}
	return k
}

// outputIndex resolves an ORDER BY item naming an output column by
// position or name (-1: not an output column reference).
func outputIndex(e ast.Expr, cols []outCol, items []ast.Expr) (int, error) {
	switch x := e.(type) {
	case *ast.Literal:
		if x.Kind == ast.LitInteger {
			n := 0
			for _, c := range x.Text {
				n = n*10 + int(c-'0')
				if n > 1<<20 {
					break
				}
			}
			if n < 1 || n > len(cols) {
				return -1, sqlerr.New(sqlerr.InvalidColumnReference, "ORDER BY position %s is not in select list", x.Text).At(int32(x.Pos))
			}
			return n - 1, nil
		}
	case *ast.ColumnRef:
		if x.Table == "" && !x.Star {
			found := -1
			for i, c := range cols {
				if c.name == x.Column {
					if found >= 0 && (items == nil || astKey(items[i]) != astKey(items[found])) {
						return -1, sqlerr.New(sqlerr.AmbiguousColumn, "ORDER BY %q is ambiguous", x.Column).At(int32(x.Pos))
					}
					if found < 0 {
						found = i
					}
				}
			}
			if found >= 0 {
				return found, nil
			}
		}
	}
	if items != nil {
		k := astKey(e)
		for i, it := range items {
			if it != nil && astKey(it) == k {
				return i, nil
			}
		}
	}
	return -1, nil
}

// bindBody binds a set operation, VALUES or parenthesised query.
func (b *binder) bindBody(parent *scope, body ast.SelectBody) (*query, error) {
	switch x := body.(type) {
	case *ast.SelectCore:
		return b.bindQuery(parent, &ast.Select{Body: x})
	case *ast.ParenSelect:
		return b.bindQuery(parent, x.Select)
	case *ast.Values:
		return b.bindValues(parent, x, nil)
	case *ast.SetOp:
		l, err := b.bindBody(parent, x.Left)
		if err != nil {
			return nil, err
		}
		r, err := b.bindBody(parent, x.Right)
		if err != nil {
			return nil, err
		}
		if len(l.cols) != len(r.cols) {
			return nil, sqlerr.New(sqlerr.SyntaxError, "each %s query must have the same number of columns", x.Op).At(int32(x.Pos))
		}
		types := make([]value.Type, len(l.cols))
		cols := append([]outCol(nil), l.cols...)
		for i := range cols {
			lt, rt := l.cols[i].typ, r.cols[i].typ
			if l.cols[i].untyped {
				lt = value.Unknown
			}
			if r.cols[i].untyped {
				rt = value.Unknown
			}
			t, err := commonTypeOf([]value.Type{lt, rt}, x.Op, x.Pos)
			if err != nil {
				return nil, err
			}
			types[i] = t
			cols[i].typ = t
			cols[i].tableOID, cols[i].attr = 0, 0
			cols[i].untyped = l.cols[i].untyped && r.cols[i].untyped
		}
		return &query{plan: &setOpNode{op: x.Op, all: x.All, left: l.plan, right: r.plan, types: types}, cols: cols, correlated: l.correlated || r.correlated}, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "query %T is not supported", body)
}

// bindValues binds VALUES rows; hints type untyped values (INSERT target columns).
func (b *binder) bindValues(parent *scope, v *ast.Values, hints []value.Type) (*query, error) {
	sc := &scope{parent: parent}
	if len(v.Rows) == 0 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "VALUES lists must not be empty").At(int32(v.Pos))
	}
	n := len(v.Rows[0])
	rows := make([][]expr, len(v.Rows))
	for i, r := range v.Rows {
		if len(r) != n {
			return nil, sqlerr.New(sqlerr.SyntaxError, "VALUES lists must all be the same length").At(int32(v.Pos))
		}
		rows[i] = make([]expr, n)
		for j, e := range r {
			if _, ok := e.(*ast.Default); ok && hints != nil {
				rows[i][j] = defaultMarker{}
				continue
			}
			x, err := b.bindExpr(sc, e)
			if err != nil {
				return nil, err
			}
			if hints != nil && j < len(hints) {
				if x, err = b.coerce(x, hints[j]); err != nil {
					return nil, withPos(err, exprPos(e))
				}
			}
			rows[i][j] = x
		}
	}
	cols := make([]outCol, n)
	types := make([]value.Type, n)
	for j := 0; j < n; j++ {
		col := make([]expr, 0, len(rows))
		for i := range rows {
			if _, ok := rows[i][j].(defaultMarker); !ok {
				col = append(col, rows[i][j])
			}
		}
		t, err := commonType(col, "VALUES", v.Pos)
		if err != nil {
			return nil, err
		}
		if hints != nil && j < len(hints) {
			t = baseType(hints[j])
		}
		for i := range rows {
			if _, ok := rows[i][j].(defaultMarker); ok {
				continue
			}
			var err error
			if rows[i][j], err = b.coerce(rows[i][j], t); err != nil {
				return nil, err
			}
		}
		types[j] = t
		cols[j] = outCol{name: "column" + itoa(j+1), typ: t}
	}
	return &query{plan: &valuesNode{rows: rows, t: types}, cols: cols, correlated: sc.outerRef}, nil
}

// defaultMarker stands for DEFAULT in an INSERT VALUES row.
type defaultMarker struct{}

func (defaultMarker) eval(*execCtx, row) (value.Value, error) { return value.Null, errDefaultMarker }
func (defaultMarker) typ() value.Type                         { return value.Unknown }

var errDefaultMarker = sqlerr.New(sqlerr.Internal, "DEFAULT marker evaluated")

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// coreResult is a bound SELECT core before ORDER BY/LIMIT are applied.
type coreResult struct {
	plan       plan
	cols       []outCol // visible columns
	keys       []sortKey
	nvisible   int
	correlated bool
	distinctOn []int // DISTINCT ON key slots
	width      int   // projected row width (visible + hidden)
}

// bindCore binds SELECT … FROM … WHERE … GROUP BY … HAVING with the
// ORDER BY expressions (appended as hidden columns when not in the list).
func (b *binder) bindCore(parent *scope, core *ast.SelectCore, order []ast.OrderItem, lock *ast.Locking) (*coreResult, error) {
	fc, err := b.bindFrom(parent, core.From)
	if err != nil {
		return nil, err
	}
	if lock != nil {
		for _, r := range fc.rels {
			if r.t == nil {
				continue
			}
			if len(lock.Of) == 0 {
				r.lock = true
			}
			for _, of := range lock.Of {
				if of == r.name {
					r.lock = true
				}
			}
		}
	}
	var conjs []*conjunct
	if core.Where != nil {
		if hasAggregate(core.Where) {
			return nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in WHERE").At(int32(exprPos(core.Where)))
		}
		if conjs, err = b.bindConjuncts(fc, core.Where, "WHERE"); err != nil {
			return nil, err
		}
	}
	p, _, err := b.planFrom(fc, conjs)
	if err != nil {
		return nil, err
	}
	// expand * in the select list
	type item struct {
		e     ast.Expr
		alias string
	}
	var items []item
	for _, it := range core.Items {
		cr, ok := it.Expr.(*ast.ColumnRef)
		if !ok || !cr.Star {
			items = append(items, item{e: it.Expr, alias: it.Alias})
			continue
		}
		if len(core.From) == 0 {
			return nil, sqlerr.New(sqlerr.SyntaxError, "SELECT * with no tables specified is not valid").At(int32(cr.Pos))
		}
		if cr.Table != "" && !fc.sc.rels[cr.Table] {
			return nil, sqlerr.New(sqlerr.UndefinedTable, "missing FROM-clause entry for table %q", cr.Table).At(int32(cr.Pos))
		}
		for _, c := range fc.sc.cols {
			if c.hidden || (cr.Table != "" && c.table != cr.Table) {
				continue
			}
			items = append(items, item{e: &ast.ColumnRef{Table: c.table, Column: c.name, Pos: cr.Pos}})
		}
	}
	aggregated := len(core.GroupBy) > 0 || core.Having != nil
	for _, it := range items {
		aggregated = aggregated || hasAggregate(it.e)
	}
	for _, o := range order {
		aggregated = aggregated || hasAggregate(o.Expr)
	}
	post := fc.sc
	if aggregated {
		as := &aggScope{pre: fc.sc}
		for _, g := range core.GroupBy {
			ge := g
			if lit, ok := g.(*ast.Literal); ok && lit.Kind == ast.LitInteger {
				n, err := strconv.Atoi(lit.Text)
				if err != nil || n < 1 || n > len(items) {
					return nil, sqlerr.New(sqlerr.InvalidColumnReference, "GROUP BY position %s is not in select list", lit.Text).At(int32(lit.Pos))
				}
				ge = items[n-1].e
			} else if cr, ok := g.(*ast.ColumnRef); ok && cr.Table == "" {
				if idx, _ := fc.sc.find("", cr.Column, 0); idx < 0 {
					for _, it := range items {
						if it.alias == cr.Column {
							ge = it.e
						}
					}
				}
			}
			if hasAggregate(ge) {
				return nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in GROUP BY").At(int32(exprPos(ge)))
			}
			x, err := b.bindExpr(fc.sc, ge)
			if err != nil {
				return nil, err
			}
			as.groups = append(as.groups, x)
			as.groupKeys = append(as.groupKeys, astKey(ge))
			as.groupCols = append(as.groupCols, colSlot(x))
		}
		post = &scope{parent: parent, agg: as, rels: fc.sc.rels}
		p = &aggNode{in: p, as: as, scalar: len(core.GroupBy) == 0}
		if core.Having != nil {
			h, err := b.bindCond(post, core.Having, "HAVING")
			if err != nil {
				return nil, err
			}
			p = &filterNode{in: p, cond: h, desc: formatExpr(core.Having)}
		}
	}
	exprs := make([]expr, 0, len(items)+len(order))
	cols := make([]outCol, 0, len(items))
	asts := make([]ast.Expr, 0, len(items))
	for _, it := range items {
		x, err := b.bindExpr(post, it.e)
		if err != nil {
			return nil, err
		}
		oc := outCol{name: it.alias, typ: finalType(x.typ()), untyped: x.typ().Kind == value.KindUnknown}
		if oc.name == "" {
			oc.name = itemName(it.e)
		}
		if _, ok := it.e.(*ast.ColumnRef); ok && !aggregated {
			if slot := colSlot(x); slot >= 0 && slot < len(fc.sc.cols) && fc.sc.cols[slot].tbl != nil {
				oc.tableOID, oc.attr = fc.sc.cols[slot].tableOID, fc.sc.cols[slot].attr
			}
		}
		exprs = append(exprs, x)
		cols = append(cols, oc)
		asts = append(asts, it.e)
	}
	var keys []sortKey
	for _, o := range order {
		idx, err := outputIndex(o.Expr, cols, asts)
		if err != nil {
			return nil, err
		}
		if idx < 0 {
			x, err := b.bindExpr(post, o.Expr)
			if err != nil {
				return nil, err
			}
			exprs = append(exprs, x)
			idx = len(exprs) - 1
		}
		keys = append(keys, orderKey(idx, o))
	}
	var distinctOn []int
	for _, d := range core.DistinctOn {
		idx, err := outputIndex(d, cols, asts)
		if err != nil {
			return nil, err
		}
		if idx < 0 {
			x, err := b.bindExpr(post, d)
			if err != nil {
				return nil, err
			}
			exprs = append(exprs, x)
			idx = len(exprs) - 1
		}
		distinctOn = append(distinctOn, idx)
	}
	p = &projectNode{in: p, exprs: exprs}
	corr := fc.sc.outerRef || post.outerRef
	return &coreResult{plan: p, cols: cols, keys: keys, nvisible: len(cols), correlated: corr, distinctOn: distinctOn, width: len(exprs)}, nil
}

// itemName is the column name PostgreSQL gives an unaliased select item.
func itemName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.ColumnRef:
		return x.Column
	case *ast.FuncCall:
		n := x.Name
		if i := strings.LastIndexByte(n, '.'); i >= 0 {
			n = n[i+1:]
		}
		return n
	case *ast.CastExpr:
		if n := itemName(x.Expr); n != "?column?" {
			return n
		}
		t, err := value.ParseType(x.Type.Name, x.Type.Mods)
		if err == nil {
			return pgTypName(t)
		}
	case *ast.CaseExpr:
		return "case"
	case *ast.ExistsExpr:
		return "exists"
	case *ast.SubqueryExpr:
		if core, ok := x.Subquery.Body.(*ast.SelectCore); ok && len(core.Items) == 1 {
			if core.Items[0].Alias != "" {
				return core.Items[0].Alias
			}
			return itemName(core.Items[0].Expr)
		}
	}
	return "?column?"
}

// pgTypName is pg_type.typname (the name a cast column gets).
func pgTypName(t value.Type) string {
	switch t.Kind {
	case value.KindInt:
		return "int" + itoa(int(t.Width))
	case value.KindFloat:
		return "float" + itoa(int(t.Width))
	case value.KindBool:
		return "bool"
	case value.KindNumeric:
		return "numeric"
	case value.KindText:
		if t.Varchar {
			return "varchar"
		}
		if t.Fixed {
			return "bpchar"
		}
		return "text"
	case value.KindDate:
		return "date"
	case value.KindTimestamp:
		return "timestamp"
	case value.KindTimestampTZ:
		return "timestamptz"
	case value.KindJSON:
		return "jsonb"
	case value.KindBytes:
		return "bytea"
	}
	return "?column?"
}
