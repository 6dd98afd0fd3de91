package ast

func (f *formatter) with(w *With) {
	if w == nil {
		return
	}
	f.s("WITH ")
	if w.Recursive {
		f.s("RECURSIVE ")
	}
	for i, c := range w.CTEs {
		if i > 0 {
			f.s(", ")
		}
		f.ident(c.Name)
		if len(c.Columns) > 0 {
			f.s("(")
			f.idents(c.Columns)
			f.s(")")
		}
		f.s(" AS (")
		f.node(c.Query)
		f.s(")")
	}
	f.s(" ")
}

func (f *formatter) selectStmt(n *Select) {
	f.with(n.With)
	f.selectBody(n.Body)
	if len(n.OrderBy) > 0 {
		f.s(" ORDER BY ")
		for i, o := range n.OrderBy {
			if i > 0 {
				f.s(", ")
			}
			f.expr(o.Expr, 0)
			if o.Desc {
				f.s(" DESC")
			}
			if o.NullsFirst != nil {
				if *o.NullsFirst {
					f.s(" NULLS FIRST")
				} else {
					f.s(" NULLS LAST")
				}
			}
		}
	}
	if n.Limit != nil {
		f.s(" LIMIT ")
		f.expr(n.Limit, 0)
	}
	if n.Offset != nil {
		f.s(" OFFSET ")
		f.expr(n.Offset, 0)
	}
	if l := n.ForUpdate; l != nil {
		f.s(" FOR ", l.Strength)
		if len(l.Of) > 0 {
			f.s(" OF ")
			f.idents(l.Of)
		}
		if l.NoWait {
			f.s(" NOWAIT")
		}
		if l.SkipLocked {
			f.s(" SKIP LOCKED")
		}
	}
}

func (f *formatter) selectBody(b SelectBody) {
	switch b := b.(type) {
	case *SelectCore:
		f.s("SELECT")
		if b.Distinct {
			f.s(" DISTINCT")
			if len(b.DistinctOn) > 0 {
				f.s(" ON (")
				f.exprs(b.DistinctOn)
				f.s(")")
			}
		}
		if len(b.Items) > 0 {
			f.s(" ")
			f.selectItems(b.Items)
		}
		if len(b.From) > 0 {
			f.s(" FROM ")
			f.tableExprs(b.From)
		}
		if b.Where != nil {
			f.s(" WHERE ")
			f.expr(b.Where, 0)
		}
		if len(b.GroupBy) > 0 {
			f.s(" GROUP BY ")
			f.exprs(b.GroupBy)
		}
		if b.Having != nil {
			f.s(" HAVING ")
			f.expr(b.Having, 0)
		}
	case *SetOp:
		left, isSet := b.Left.(*SetOp)
		if isSet && b.Op == "INTERSECT" && left.Op != "INTERSECT" {
			f.s("(")
			f.selectBody(b.Left)
			f.s(")")
		} else {
			f.selectBody(b.Left)
		}
		f.s(" ", b.Op, " ")
		if b.All {
			f.s("ALL ")
		}
		if _, isSet := b.Right.(*SetOp); isSet {
			f.s("(")
			f.selectBody(b.Right)
			f.s(")")
		} else {
			f.selectBody(b.Right)
		}
	case *ParenSelect:
		f.s("(")
		f.node(b.Select)
		f.s(")")
	case *Values:
		f.s("VALUES ")
		for i, row := range b.Rows {
			if i > 0 {
				f.s(", ")
			}
			f.s("(")
			f.exprs(row)
			f.s(")")
		}
	}
}

func (f *formatter) selectItems(items []SelectItem) {
	for i, it := range items {
		if i > 0 {
			f.s(", ")
		}
		f.expr(it.Expr, 0)
		if it.Alias != "" {
			f.s(" AS ")
			f.ident(it.Alias)
		}
	}
}

func (f *formatter) tableExprs(list []TableExpr) {
	for i, t := range list {
		if i > 0 {
			f.s(", ")
		}
		f.tableExpr(t)
	}
}

func (f *formatter) alias(alias string, cols []string) {
	if alias == "" {
		return
	}
	f.s(" AS ")
	f.ident(alias)
	if len(cols) > 0 {
		f.s("(")
		f.idents(cols)
		f.s(")")
	}
}

func (f *formatter) tableName(t *TableName) {
	if t.Schema != "" {
		f.ident(t.Schema)
		f.s(".")
	}
	f.ident(t.Name)
	f.alias(t.Alias, t.Columns)
}

func (f *formatter) tableExpr(t TableExpr) {
	switch t := t.(type) {
	case *TableName:
		f.tableName(t)
	case *SubqueryTable:
		f.s("(")
		f.node(t.Subquery)
		f.s(")")
		f.alias(t.Alias, t.Columns)
	case *FuncTable:
		f.funcCall(t.Func)
		f.alias(t.Alias, t.Columns)
	case *Join:
		f.tableExpr(t.Left)
		f.s(" ")
		if t.Natural {
			f.s("NATURAL ")
		}
		if t.Kind != "INNER" {
			f.s(t.Kind, " ")
		}
		f.s("JOIN ")
		if _, nested := t.Right.(*Join); nested {
			f.s("(")
			f.tableExpr(t.Right)
			f.s(")")
		} else {
			f.tableExpr(t.Right)
		}
		if t.On != nil {
			f.s(" ON ")
			f.expr(t.On, 0)
		}
		if len(t.Using) > 0 {
			f.s(" USING (")
			f.idents(t.Using)
			f.s(")")
		}
	case *ParenTable:
		f.s("(")
		f.tableExpr(t.Table)
		f.s(")")
	}
}
