package engine

import (
	"fmt"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/schema"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// evaluator evaluates stored DEFAULT and CHECK expressions for the schema package.
type evaluator struct{ ec *execCtx }

var _ schema.Evaluator = (*evaluator)(nil)

// storedExpr binds a stored expression text over t's columns (cached per statement).
func (ev *evaluator) storedExpr(t *schema.Table, text string, want value.Type) (expr, error) {
	key := struct {
		t    *schema.Table
		text string
	}{t, text}
	if x, ok := ev.ec.cache[key].(expr); ok {
		return x, nil
	}
	a, err := ev.ec.sess.e.parseStored(text)
	if err != nil {
		return nil, err
	}
	cat := ev.ec.tx.cat
	if cat == nil {
		if cat, err = ev.ec.sess.e.catalog(ev.ec.ctx, ev.ec.tx.t); err != nil {
			return nil, err
		}
	}
	b := &binder{sess: ev.ec.sess, cat: cat}
	sc := &scope{cols: tableScope(t, t.Name, 0), rels: map[string]bool{t.Name: true}}
	x, err := b.bindExpr(sc, a)
	if err != nil {
		return nil, err
	}
	if x, err = b.coerce(x, want); err != nil {
		return nil, err
	}
	ev.ec.cache[key] = x
	return x, nil
}

// EvalCheck evaluates a CHECK constraint on a row: NULL passes, as in PostgreSQL.
func (ev *evaluator) EvalCheck(t *schema.Table, check schema.Check, r schema.Row) (bool, error) {
	x, err := ev.storedExpr(t, check.Expr, value.Bool)
	if err != nil {
		return false, err
	}
	v, err := x.eval(ev.ec, row(r))
	if err != nil {
		return false, err
	}
	return v.Null || v.Bool, nil
}

// EvalDefault evaluates column col's DEFAULT (NULL when it has none).
func (ev *evaluator) EvalDefault(t *schema.Table, col int) (value.Value, error) {
	c := t.Columns[col]
	if c.Default == "" {
		return value.NullOf(c.Type), nil
	}
	x, err := ev.storedExpr(t, c.Default, c.Type)
	if err != nil {
		return value.Null, err
	}
	v, err := x.eval(ev.ec, nil)
	if err != nil {
		return v, err
	}
	return value.AssignCast(v, c.Type)
}

// targetColumns maps an INSERT column list to ordinals (all visible columns when empty).
func targetColumns(t *schema.Table, names []string, pos int) ([]int, error) {
	if len(names) == 0 {
		var out []int
		for i, c := range t.Columns {
			if !c.Hidden {
				out = append(out, i)
			}
		}
		return out, nil
	}
	seen := map[int]bool{}
	out := make([]int, len(names))
	for i, n := range names {
		o, ok := t.Column(n)
		if !ok || t.Columns[o].Hidden {
			return nil, sqlerr.New(sqlerr.UndefinedColumn, "column %q of relation %q does not exist", n, t.Name).At(int32(pos))
		}
		if seen[o] {
			return nil, sqlerr.New(sqlerr.DuplicateColumn, "column %q specified more than once", n).At(int32(pos))
		}
		seen[o] = true
		out[i] = o
	}
	return out, nil
}

// returning binds a RETURNING list over the target table's row.
func (b *binder) returning(items []ast.SelectItem, sc *scope) ([]expr, []outCol, error) {
	if len(items) == 0 {
		return nil, nil, nil
	}
	var exprs []expr
	var cols []outCol
	for _, it := range items {
		if cr, ok := it.Expr.(*ast.ColumnRef); ok && cr.Star {
			for i, c := range sc.cols {
				if c.hidden || (cr.Table != "" && c.table != cr.Table) {
					continue
				}
				exprs = append(exprs, &colExpr{idx: i, t: c.typ, name: c.name})
				cols = append(cols, outCol{name: c.name, typ: c.typ, tableOID: c.tableOID, attr: c.attr})
			}
			continue
		}
		x, err := b.bindExpr(sc, it.Expr)
		if err != nil {
			return nil, nil, err
		}
		name := it.Alias
		if name == "" {
			name = itemName(it.Expr)
		}
		exprs = append(exprs, x)
		cols = append(cols, outCol{name: name, typ: finalType(x.typ())})
	}
	return exprs, cols, nil
}

// project evaluates a RETURNING list on a row.
func project(ec *execCtx, exprs []expr, r row) (row, error) {
	out := make(row, len(exprs))
	for i, e := range exprs {
		v, err := e.eval(ec, r)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// pushWith binds a statement's WITH queries; the returned func pops them.
func (b *binder) pushWith(w *ast.With) (func(), error) {
	if w == nil {
		return func() {}, nil
	}
	if w.Recursive {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "WITH RECURSIVE is not supported")
	}
	defs := map[string]*cteDef{}
	b.ctes = append(b.ctes, defs)
	pop := func() { b.ctes = b.ctes[:len(b.ctes)-1] }
	for _, c := range w.CTEs {
		q, err := b.bindQuery(nil, c.Query)
		if err != nil {
			pop()
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
	return pop, nil
}

// conflictIndex finds the unique index (-1 primary key) an ON CONFLICT target names.
func conflictIndexes(t *schema.Table, oc *ast.OnConflict) ([]int, error) {
	if len(oc.Columns) == 0 && oc.Constraint == "" {
		if !oc.DoNothing {
			return nil, sqlerr.New(sqlerr.SyntaxError, "ON CONFLICT DO UPDATE requires inference specification or constraint name").
				WithHint("For example, ON CONFLICT (column_name).")
		}
		out := []int{-1}
		for i, ix := range t.Indexes {
			if ix.Unique {
				out = append(out, i)
			}
		}
		return out, nil
	}
	for idx := -1; idx < len(t.Indexes); idx++ {
		if idx >= 0 && !t.Indexes[idx].Unique {
			continue
		}
		if oc.Constraint != "" {
			if indexName(t, idx) == oc.Constraint {
				return []int{idx}, nil
			}
			continue
		}
		cols := t.IndexColumns(idx)
		if len(cols) != len(oc.Columns) {
			continue
		}
		match := true
		for _, n := range oc.Columns {
			o, ok := t.Column(n)
			found := false
			for _, c := range cols {
				found = found || (ok && c == o)
			}
			match = match && found
		}
		if match {
			return []int{idx}, nil
		}
	}
	if oc.Constraint != "" {
		return nil, sqlerr.New(sqlerr.UndefinedObject, "constraint %q for table %q does not exist", oc.Constraint, t.Name)
	}
	return nil, sqlerr.New(sqlerr.InvalidColumnReference, "there is no unique or exclusion constraint matching the ON CONFLICT specification")
}

// bindInsert binds INSERT.
func (b *binder) bindInsert(x *ast.Insert) (*boundStmt, error) {
	pop, err := b.pushWith(x.With)
	if err != nil {
		return nil, err
	}
	defer pop()
	t, err := b.cat.Table(x.Table.Name)
	if err != nil {
		return nil, withPos(err, x.Table.Pos)
	}
	alias := x.Table.Alias
	if alias == "" {
		alias = t.Name
	}
	targets, err := targetColumns(t, x.Columns, x.Pos)
	if err != nil {
		return nil, err
	}
	hints := make([]value.Type, len(targets))
	for i, o := range targets {
		hints[i] = t.Columns[o].Type
		if t.Columns[o].IdentityAlways && len(x.Columns) > 0 {
			return nil, sqlerr.New("428C9", "cannot insert a non-DEFAULT value into column %q", t.Columns[o].Name).
				WithDetail("Column %q is an identity column defined as GENERATED ALWAYS.", t.Columns[o].Name)
		}
	}
	var src *query
	switch {
	case x.DefaultValues || x.Rows == nil:
		targets = nil
		src = &query{plan: &oneRow{}}
	default:
		if v, ok := x.Rows.Body.(*ast.Values); ok && x.Rows.With == nil && len(x.Rows.OrderBy) == 0 && x.Rows.Limit == nil {
			src, err = b.bindValues(nil, v, hints)
		} else {
			src, err = b.bindQuery(nil, x.Rows)
		}
		if err != nil {
			return nil, err
		}
		if len(src.cols) > len(targets) {
			return nil, sqlerr.New(sqlerr.SyntaxError, "INSERT has more expressions than target columns").At(int32(x.Pos))
		}
		if len(src.cols) < len(targets) {
			return nil, sqlerr.New(sqlerr.SyntaxError, "INSERT has more target columns than expressions").At(int32(x.Pos))
		}
	}
	tsc := &scope{cols: tableScope(t, alias, 0), rels: map[string]bool{alias: true}}
	retExprs, retCols, err := b.returning(x.Returning, tsc)
	if err != nil {
		return nil, err
	}
	// ON CONFLICT
	var (
		oc       = x.OnConflict
		ocIdx    []int
		setOrds  []int
		setExprs []expr
		ocWhere  expr
	)
	if oc != nil {
		if ocIdx, err = conflictIndexes(t, oc); err != nil {
			return nil, err
		}
		if !oc.DoNothing {
			usc := &scope{cols: append(tableScope(t, alias, 0), tableScope(t, "excluded", 1)...), rels: map[string]bool{alias: true, "excluded": true}}
			if setOrds, setExprs, err = b.bindSet(t, oc.Set, usc); err != nil {
				return nil, err
			}
			if oc.Where != nil {
				if ocWhere, err = b.bindCond(usc, oc.Where, "WHERE"); err != nil {
					return nil, err
				}
			}
		}
	}
	bs := &boundStmt{cols: retCols}
	bs.explain = func(out *[]string) {
		explainLine(out, 0, "Insert on %s", t.Name)
		src.plan.explain(out, 1)
	}
	bs.run = func(ec *execCtx, emit func(row) error) (string, error) {
		ev := &evaluator{ec: ec}
		var rows []row
		if err := src.plan.execute(ec, func(r row) error {
			rows = append(rows, append(row(nil), r...))
			return nil
		}); err != nil {
			return "", err
		}
		n := 0
		touched := map[string]bool{} // primary keys this statement wrote
		pkKey := func(r row) string {
			var kb []byte
			for _, c := range t.PrimaryKey {
				kb = value.AppendKey(kb, normKey(r[c]), false)
			}
			return string(kb)
		}
		for _, r := range rows {
			full := newRow(len(t.Columns))
			given := make([]bool, len(t.Columns))
			for i, o := range targets {
				if isDefault(r[i]) {
					continue
				}
				given[o] = true
				full[o] = r[i]
			}
			for o, c := range t.Columns {
				if given[o] && !full[o].Null {
					v, err := value.AssignCast(full[o], c.Type)
					if err != nil {
						return "", err
					}
					full[o] = v
					continue
				}
				if given[o] {
					full[o] = value.NullOf(c.Type)
					continue
				}
				if c.Hidden {
					continue
				}
				v, err := ev.EvalDefault(t, o)
				if err != nil {
					return "", err
				}
				full[o] = v
			}
			// DEFAULT markers came through as "not given" only when the whole row is default:
			// markers inside VALUES are evaluated by the values node; handle them here.
			final := full
			if oc != nil {
				existing, err := findConflict(ec, t, ocIdx, full)
				if err != nil {
					return "", err
				}
				if existing != nil {
					if oc.DoNothing {
						continue
					}
					if touched[pkKey(existing)] {
						return "", sqlerr.New(sqlerr.CardinalityViolation, "ON CONFLICT DO UPDATE command cannot affect row a second time").
							WithHint("Ensure that no rows proposed for insertion within the same command have duplicate constrained values.")
					}
					comb := append(append(row(nil), existing...), full...)
					if ocWhere != nil {
						ok, err := truthy(ec, ocWhere, comb)
						if err != nil {
							return "", err
						}
						if !ok {
							continue
						}
					}
					nr, err := applySet(ec, t, existing, comb, setOrds, setExprs)
					if err != nil {
						return "", err
					}
					schema.LockRow(ec.tx.t, t, schema.Row(existing))
					if err := schema.Update(ec.ctx, ec.tx.t, ec.tx.cat, t, schema.Row(existing), schema.Row(nr), ev); err != nil {
						return "", err
					}
					n++
					touched[pkKey(nr)] = true
					if retExprs != nil {
						out, err := project(ec, retExprs, nr)
						if err != nil {
							return "", err
						}
						if err := emit(out); err != nil {
							return "", err
						}
					}
					continue
				}
			}
			if err := schema.Insert(ec.ctx, ec.tx.t, ec.tx.cat, t, schema.Row(final), ev); err != nil {
				return "", err
			}
			lockInserted(ec, t, final)
			if oc != nil {
				touched[pkKey(final)] = true
			}
			n++
			if retExprs != nil {
				out, err := project(ec, retExprs, final)
				if err != nil {
					return "", err
				}
				if err := emit(out); err != nil {
					return "", err
				}
			}
		}
		return fmt.Sprintf("INSERT 0 %d", n), nil
	}
	return bs, nil
}

// defaultValue stands for DEFAULT in a VALUES row of an INSERT.
var defaultValue = value.Value{Null: true, Str: "\x00DEFAULT"}

func isDefault(v value.Value) bool { return v.Null && v.Str == defaultValue.Str }

// lockInserted makes a READ COMMITTED commit fail (40001) when another
// transaction wrote the same primary key after this statement read it: the
// uniqueness check's read is not validated at that level otherwise.
func lockInserted(ec *execCtx, t *schema.Table, r row) {
	if ec.tx.iso != kvtxn.ReadCommitted {
		return
	}
	for _, c := range t.PrimaryKey {
		if r[c].Null {
			return // a hidden rowid filled by schema.Insert: unique by construction
		}
	}
	schema.LockRow(ec.tx.t, t, schema.Row(r))
}

// findConflict returns the existing row that conflicts with r on one of the indexes.
func findConflict(ec *execCtx, t *schema.Table, idxs []int, r row) (row, error) {
	for _, idx := range idxs {
		cols := t.IndexColumns(idx)
		key := make([]value.Value, len(cols))
		null := false
		for i, c := range cols {
			key[i] = r[c]
			null = null || r[c].Null
		}
		if null {
			continue
		}
		rows, err := schema.Lookup(ec.ctx, ec.tx.t, t, idx, key)
		if err != nil {
			return nil, err
		}
		if len(rows) > 0 {
			return row(rows[0]), nil
		}
	}
	return nil, nil
}

// bindSet binds SET clauses over sc; DEFAULT becomes a defaultMarker.
func (b *binder) bindSet(t *schema.Table, set []ast.SetClause, sc *scope) ([]int, []expr, error) {
	var ords []int
	var exprs []expr
	seen := map[int]bool{}
	for _, c := range set {
		vals := []ast.Expr{c.Value}
		if len(c.Columns) > 1 {
			re, ok := c.Value.(*ast.RowExpr)
			if !ok || len(re.Exprs) != len(c.Columns) {
				return nil, nil, sqlerr.New(sqlerr.FeatureNotSupported, "multi-column SET needs a row of %d values", len(c.Columns))
			}
			vals = re.Exprs
		}
		for i, name := range c.Columns {
			o, ok := t.Column(name)
			if !ok || t.Columns[o].Hidden {
				return nil, nil, sqlerr.New(sqlerr.UndefinedColumn, "column %q of relation %q does not exist", name, t.Name)
			}
			if seen[o] {
				return nil, nil, sqlerr.New(sqlerr.DuplicateColumn, "multiple assignments to same column %q", name)
			}
			seen[o] = true
			if _, ok := vals[i].(*ast.Default); ok {
				ords, exprs = append(ords, o), append(exprs, defaultMarker{})
				continue
			}
			if hasAggregate(vals[i]) {
				return nil, nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in UPDATE")
			}
			x, err := b.bindExpr(sc, vals[i])
			if err != nil {
				return nil, nil, err
			}
			if x, err = b.coerce(x, t.Columns[o].Type); err != nil {
				return nil, nil, err
			}
			ords, exprs = append(ords, o), append(exprs, x)
		}
	}
	return ords, exprs, nil
}

// applySet computes the new row: old with the SET columns evaluated on env.
func applySet(ec *execCtx, t *schema.Table, old, env row, ords []int, exprs []expr) (row, error) {
	nr := append(row(nil), old[:len(t.Columns)]...)
	ev := &evaluator{ec: ec}
	for i, o := range ords {
		var v value.Value
		var err error
		if _, ok := exprs[i].(defaultMarker); ok {
			v, err = ev.EvalDefault(t, o)
		} else {
			v, err = exprs[i].eval(ec, env)
		}
		if err != nil {
			return nil, err
		}
		if v.Null {
			v = value.NullOf(t.Columns[o].Type)
		} else if v, err = value.AssignCast(v, t.Columns[o].Type); err != nil {
			return nil, err
		}
		nr[o] = v
	}
	return nr, nil
}

// bindTarget binds the FROM clause of UPDATE/DELETE: the target first, then extra items.
func (b *binder) bindTarget(tn ast.TableName, extra []ast.TableExpr, where ast.Expr) (*schema.Table, *fromClause, plan, error) {
	t, err := b.cat.Table(tn.Name)
	if err != nil {
		return nil, nil, nil, withPos(err, tn.Pos)
	}
	items := append([]ast.TableExpr{&tn}, extra...)
	fc, err := b.bindFrom(nil, items)
	if err != nil {
		return nil, nil, nil, err
	}
	var conjs []*conjunct
	if where != nil {
		if hasAggregate(where) {
			return nil, nil, nil, sqlerr.New(sqlerr.GroupingError, "aggregate functions are not allowed in WHERE")
		}
		if conjs, err = b.bindConjuncts(fc, where, "WHERE"); err != nil {
			return nil, nil, nil, err
		}
	}
	p, _, err := b.planFrom(fc, conjs)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, fc, p, nil
}

// collectTargets runs p and returns the distinct target rows (with their full rows).
func collectTargets(ec *execCtx, t *schema.Table, p plan) ([]row, error) {
	var out []row
	seen := map[string]bool{}
	err := p.execute(ec, func(r row) error {
		var kb []byte
		for _, c := range t.PrimaryKey {
			kb = value.AppendKey(kb, normKey(r[c]), false)
		}
		if seen[string(kb)] {
			return nil
		}
		seen[string(kb)] = true
		out = append(out, append(row(nil), r...))
		return nil
	})
	return out, err
}

// bindUpdate binds UPDATE.
func (b *binder) bindUpdate(x *ast.Update) (*boundStmt, error) {
	pop, err := b.pushWith(x.With)
	if err != nil {
		return nil, err
	}
	defer pop()
	t, fc, p, err := b.bindTarget(x.Table, x.From, x.Where)
	if err != nil {
		return nil, err
	}
	ords, exprs, err := b.bindSet(t, x.Set, fc.sc)
	if err != nil {
		return nil, err
	}
	alias := x.Table.Alias
	if alias == "" {
		alias = t.Name
	}
	tsc := &scope{cols: tableScope(t, alias, 0), rels: map[string]bool{alias: true}}
	retExprs, retCols, err := b.returning(x.Returning, tsc)
	if err != nil {
		return nil, err
	}
	bs := &boundStmt{cols: retCols}
	bs.explain = func(out *[]string) {
		explainLine(out, 0, "Update on %s", t.Name)
		p.explain(out, 1)
	}
	bs.run = func(ec *execCtx, emit func(row) error) (string, error) {
		targets, err := collectTargets(ec, t, p)
		if err != nil {
			return "", err
		}
		ev := &evaluator{ec: ec}
		for _, full := range targets {
			old := full[:len(t.Columns)]
			nr, err := applySet(ec, t, old, full, ords, exprs)
			if err != nil {
				return "", err
			}
			schema.LockRow(ec.tx.t, t, schema.Row(old))
			if err := schema.Update(ec.ctx, ec.tx.t, ec.tx.cat, t, schema.Row(old), schema.Row(nr), ev); err != nil {
				return "", err
			}
			if retExprs != nil {
				out, err := project(ec, retExprs, nr)
				if err != nil {
					return "", err
				}
				if err := emit(out); err != nil {
					return "", err
				}
			}
		}
		return fmt.Sprintf("UPDATE %d", len(targets)), nil
	}
	return bs, nil
}

// bindDelete binds DELETE.
func (b *binder) bindDelete(x *ast.Delete) (*boundStmt, error) {
	pop, err := b.pushWith(x.With)
	if err != nil {
		return nil, err
	}
	defer pop()
	t, _, p, err := b.bindTarget(x.Table, x.Using, x.Where)
	if err != nil {
		return nil, err
	}
	alias := x.Table.Alias
	if alias == "" {
		alias = t.Name
	}
	tsc := &scope{cols: tableScope(t, alias, 0), rels: map[string]bool{alias: true}}
	retExprs, retCols, err := b.returning(x.Returning, tsc)
	if err != nil {
		return nil, err
	}
	bs := &boundStmt{cols: retCols}
	bs.explain = func(out *[]string) {
		explainLine(out, 0, "Delete on %s", t.Name)
		p.explain(out, 1)
	}
	bs.run = func(ec *execCtx, emit func(row) error) (string, error) {
		targets, err := collectTargets(ec, t, p)
		if err != nil {
			return "", err
		}
		for _, full := range targets {
			old := full[:len(t.Columns)]
			schema.LockRow(ec.tx.t, t, schema.Row(old))
			if err := schema.Delete(ec.ctx, ec.tx.t, ec.tx.cat, t, schema.Row(old)); err != nil {
				return "", err
			}
			if retExprs != nil {
				out, err := project(ec, retExprs, old)
				if err != nil {
					return "", err
				}
				if err := emit(out); err != nil {
					return "", err
				}
			}
		}
		return fmt.Sprintf("DELETE %d", len(targets)), nil
	}
	return bs, nil
}
