package engine

import (
	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/schema"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// relInfo is one relation (table, subquery, CTE, function) of a FROM clause.
type relInfo struct {
	idx        int
	name       string // alias or table name
	off, width int
	t          *schema.Table // base table; nil otherwise
	sub        plan          // subquery / CTE / VALUES producing narrow rows
	series     []expr        // generate_series arguments
	seriesT    value.Type
	est        float64
	lock       bool
}

// joinItem is an explicit JOIN of two FROM items.
type joinItem struct {
	kind        string // INNER, LEFT, CROSS (RIGHT is turned into LEFT)
	left, right any    // *relInfo or *joinItem
	on          []ast.Expr
	pos         int
}

// fromClause is a bound FROM clause: its scope and its items.
type fromClause struct {
	sc    *scope
	items []any
	rels  []*relInfo
	width int
}

// bindFrom binds a FROM clause; parent is the scope of the enclosing query.
func (b *binder) bindFrom(parent *scope, items []ast.TableExpr) (*fromClause, error) {
	fc := &fromClause{sc: &scope{parent: parent, rels: map[string]bool{}}}
	for _, it := range items {
		x, err := b.bindFromItem(fc, it)
		if err != nil {
			return nil, err
		}
		fc.items = append(fc.items, x)
	}
	for _, r := range fc.rels {
		r.width = fc.width
	}
	return fc, nil
}

// addRel registers a relation and its columns.
func (fc *fromClause) addRel(name string, cols []scopeCol, pos int) (*relInfo, error) {
	if name != "" && fc.sc.rels[name] {
		return nil, sqlerr.New(sqlerr.DuplicateObject, "table name %q specified more than once", name).At(int32(pos))
	}
	if len(fc.rels) >= 64 {
		return nil, sqlerr.New(sqlerr.ProgramLimitExceeded, "too many relations in FROM (limit 64)")
	}
	r := &relInfo{idx: len(fc.rels), name: name, off: fc.width}
	fc.sc.rels[name] = true
	for _, c := range cols {
		c.table = name
		c.rel = r.idx
		fc.sc.cols = append(fc.sc.cols, c)
	}
	fc.width += len(cols)
	fc.rels = append(fc.rels, r)
	return r, nil
}

func (b *binder) bindFromItem(fc *fromClause, it ast.TableExpr) (any, error) {
	switch it := it.(type) {
	case *ast.TableName:
		name := it.Alias
		if name == "" {
			name = it.Name
		}
		if it.Schema == "" {
			if cte := b.findCTE(it.Name); cte != nil {
				cols := outScope(cte.cols, it.Columns)
				r, err := fc.addRel(name, cols, it.Pos)
				if err != nil {
					return nil, err
				}
				r.sub, r.est = cte.plan, 100
				return r, nil
			}
		}
		if it.Schema != "" && it.Schema != "public" {
			return nil, sqlerr.New(sqlerr.UndefinedTable, "relation \"%s.%s\" does not exist", it.Schema, it.Name).At(int32(it.Pos))
		}
		t, err := b.cat.Table(it.Name)
		if err != nil {
			return nil, withPos(err, it.Pos)
		}
		cols := tableScope(t, name, 0)
		if len(it.Columns) > 0 {
			vis := 0
			for i := range cols {
				if cols[i].hidden {
					continue
				}
				if vis < len(it.Columns) {
					cols[i].name = it.Columns[vis]
				}
				vis++
			}
		}
		r, err := fc.addRel(name, cols, it.Pos)
		if err != nil {
			return nil, err
		}
		r.t, r.est = t, b.sess.e.rowEstimate()
		return r, nil
	case *ast.SubqueryTable:
		q, err := b.bindQuery(fc.sc.parent, it.Subquery)
		if err != nil {
			return nil, err
		}
		r, err := fc.addRel(it.Alias, outScope(q.cols, it.Columns), it.Pos)
		if err != nil {
			return nil, err
		}
		r.sub, r.est = q.plan, 100
		return r, nil
	case *ast.FuncTable:
		f := it.Func
		if trimCatalog(f.Name) != "generate_series" || len(f.Args) < 2 || len(f.Args) > 3 {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "table function %s is not supported", f.Name).At(int32(it.Pos))
		}
		var args []expr
		t := value.Int4
		argScope := &scope{parent: fc.sc.parent}
		for _, a := range f.Args {
			x, err := b.bindExpr(argScope, a)
			if err != nil {
				return nil, err
			}
			if x, err = b.coerce(x, value.Int4); err != nil {
				return nil, err
			}
			if x.typ().Kind != value.KindInt {
				return nil, undefinedFunction("generate_series", []expr{x}, f.Pos)
			}
			if x.typ().Width == 8 {
				t = value.Int8
			}
			args = append(args, x)
		}
		name := it.Alias
		if name == "" {
			name = "generate_series"
		}
		col := name
		if len(it.Columns) > 0 {
			col = it.Columns[0]
		}
		r, err := fc.addRel(name, []scopeCol{{name: col, typ: t}}, it.Pos)
		if err != nil {
			return nil, err
		}
		r.series, r.seriesT, r.est = args, t, 1000
		return r, nil
	case *ast.ParenTable:
		return b.bindFromItem(fc, it.Table)
	case *ast.Join:
		left, err := b.bindFromItem(fc, it.Left)
		if err != nil {
			return nil, err
		}
		leftCols := len(fc.sc.cols)
		leftStart := colStart(fc, left)
		right, err := b.bindFromItem(fc, it.Right)
		if err != nil {
			return nil, err
		}
		j := &joinItem{kind: it.Kind, left: left, right: right, pos: it.Pos}
		if it.On != nil {
			j.on = []ast.Expr{it.On}
		}
		using := it.Using
		if it.Natural {
			for _, rc := range fc.sc.cols[leftCols:] {
				for _, lc := range fc.sc.cols[leftStart:leftCols] {
					if lc.name == rc.name && !lc.hidden && !rc.hidden {
						using = append(using, rc.name)
					}
				}
			}
		}
		for _, u := range using {
			li, ri := -1, -1
			for i := leftStart; i < leftCols; i++ {
				if fc.sc.cols[i].name == u && !fc.sc.cols[i].noUnqual {
					li = i
				}
			}
			for i := leftCols; i < len(fc.sc.cols); i++ {
				if fc.sc.cols[i].name == u {
					ri = i
				}
			}
			if li < 0 || ri < 0 {
				return nil, sqlerr.New(sqlerr.UndefinedColumn, "column %q specified in USING clause does not exist in %s table", u, map[bool]string{true: "left", false: "right"}[li < 0]).At(int32(it.Pos))
			}
			fc.sc.cols[ri].noUnqual, fc.sc.cols[ri].hidden = true, true
			j.on = append(j.on, &ast.BinaryExpr{Op: "=",
				Left:  &ast.ColumnRef{Table: fc.sc.cols[li].table, Column: u},
				Right: &ast.ColumnRef{Table: fc.sc.cols[ri].table, Column: u}})
		}
		switch it.Kind {
		case "RIGHT":
			j.kind, j.left, j.right = "LEFT", right, left
		case "FULL":
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "FULL JOIN is not supported").At(int32(it.Pos))
		case "", "INNER", "CROSS":
			j.kind = "INNER"
		}
		return j, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "FROM item %T is not supported", it)
}

// colStart returns the first scope column of a bound FROM item.
func colStart(fc *fromClause, x any) int {
	for {
		switch v := x.(type) {
		case *relInfo:
			return v.off
		case *joinItem:
			x = v.left
			if v.kind == "LEFT" && relMask(v.right) < relMask(v.left) {
				x = v.right
			}
		default:
			return 0
		}
	}
}

// outScope turns query output columns into FROM columns, renamed by aliases.
func outScope(cols []outCol, aliases []string) []scopeCol {
	out := make([]scopeCol, len(cols))
	for i, c := range cols {
		out[i] = scopeCol{name: c.name, typ: c.typ, tableOID: c.tableOID, attr: c.attr}
		if i < len(aliases) {
			out[i].name = aliases[i]
		}
	}
	return out
}

// findCTE finds a WITH query by name, innermost first.
func (b *binder) findCTE(name string) *cteDef {
	for i := len(b.ctes) - 1; i >= 0; i-- {
		if c := b.ctes[i][name]; c != nil {
			return c
		}
	}
	return nil
}

// relMask returns the relations of a FROM item.
func relMask(x any) uint64 {
	switch v := x.(type) {
	case *relInfo:
		return 1 << uint(v.idx)
	case *joinItem:
		return relMask(v.left) | relMask(v.right)
	}
	return 0
}
