package parser

import (
	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// parseQuery parses [WITH …] body [ORDER BY …] [LIMIT/OFFSET/FETCH] [FOR UPDATE …].
// A query that is only a parenthesised query is returned unwrapped.
func (p *parser) parseQuery() *ast.Select {
	p.enter()
	defer p.leave()
	start := p.peek()
	var with *ast.With
	if p.isKw("with") {
		with = p.parseWith()
	}
	sel := &ast.Select{With: with, Pos: start.pos}
	sel.Body = p.parseSetExpr()
	p.parseQueryTail(sel)
	if ps, ok := sel.Body.(*ast.ParenSelect); ok && with == nil && !hasTail(sel) {
		return ps.Select
	}
	return sel
}

func hasTail(s *ast.Select) bool {
	return s.OrderBy != nil || s.Limit != nil || s.Offset != nil || s.ForUpdate != nil
}

// parseWith parses WITH [RECURSIVE] name [(cols)] AS [[NOT] MATERIALIZED] (query), ….
func (p *parser) parseWith() *ast.With {
	p.expectKw("with")
	w := &ast.With{Recursive: p.acceptKw("recursive")}
	for {
		t := p.peek()
		cte := ast.CTE{Name: p.ident(), Pos: t.pos}
		if p.isPunct("(") {
			cte.Columns = p.identList()
		}
		p.expectKw("as")
		if !p.acceptKw("materialized") {
			p.acceptKw("not", "materialized")
		}
		if !p.isPunct("(") {
			p.fail(p.peek())
		}
		if !p.startsQuery(1) {
			if p.isKwN(1, "insert") || p.isKwN(1, "update") || p.isKwN(1, "delete") {
				p.unsupported(p.peekN(1), "data-modifying statements in WITH are not supported")
			}
			p.fail(p.peekN(1))
		}
		p.expectPunct("(")
		cte.Query = p.parseQuery()
		p.expectPunct(")")
		w.CTEs = append(w.CTEs, cte)
		if !p.acceptPunct(",") {
			return w
		}
	}
}

// parseSetExpr parses operands joined by UNION/EXCEPT (left-associative),
// INTERSECT binding tighter.
func (p *parser) parseSetExpr() ast.SelectBody {
	left := p.parseIntersect()
	for p.isKw("union") || p.isKw("except") {
		t := p.advance()
		op := &ast.SetOp{Op: upper(t.text), Left: left, Pos: t.pos}
		if !p.acceptKw("all") {
			p.acceptKw("distinct")
		} else {
			op.All = true
		}
		op.Right = p.parseIntersect()
		left = op
	}
	return left
}

func (p *parser) parseIntersect() ast.SelectBody {
	left := p.parseSetOperand()
	for p.isKw("intersect") {
		t := p.advance()
		op := &ast.SetOp{Op: "INTERSECT", Left: left, Pos: t.pos}
		if !p.acceptKw("all") {
			p.acceptKw("distinct")
		} else {
			op.All = true
		}
		op.Right = p.parseSetOperand()
		left = op
	}
	return left
}

// parseSetOperand parses SELECT …, VALUES …, TABLE t or ( query ). A
// parenthesised query without clauses of its own is returned as its body.
func (p *parser) parseSetOperand() ast.SelectBody {
	t := p.peek()
	switch {
	case t.kind == tPunct && t.text == "(":
		p.p++
		sel := p.parseQuery()
		p.expectPunct(")")
		if sel.With == nil && !hasTail(sel) {
			return sel.Body
		}
		return &ast.ParenSelect{Select: sel}
	case p.isKw("select"):
		return p.parseSelectCore()
	case p.isKw("values"):
		return p.parseValues()
	case p.isKw("table"):
		p.p++
		name := p.parseTableName()
		return &ast.SelectCore{
			Items: []ast.SelectItem{{Expr: &ast.ColumnRef{Star: true, Pos: t.pos}}},
			From:  []ast.TableExpr{&name},
			Pos:   t.pos,
		}
	}
	p.fail(t)
	return nil
}

// parseValues parses VALUES (…), (…).
func (p *parser) parseValues() *ast.Values {
	t := p.advance()
	v := &ast.Values{Pos: t.pos}
	for {
		p.expectPunct("(")
		v.Rows = append(v.Rows, p.parseExprList())
		p.expectPunct(")")
		if !p.acceptPunct(",") {
			return v
		}
	}
}

// parseSelectCore parses SELECT … [FROM …] [WHERE …] [GROUP BY …] [HAVING …].
func (p *parser) parseSelectCore() *ast.SelectCore {
	t := p.advance()
	c := &ast.SelectCore{Pos: t.pos}
	if p.acceptKw("distinct") {
		c.Distinct = true
		if p.acceptKw("on") {
			p.expectPunct("(")
			c.DistinctOn = p.parseExprList()
			p.expectPunct(")")
		}
	} else {
		p.acceptKw("all")
	}
	if !p.endsSelectList() {
		c.Items = p.parseSelectItems()
	}
	if p.isKw("into") {
		p.unsupported(p.peek(), "SELECT INTO is not supported")
	}
	if p.acceptKw("from") {
		c.From = p.parseFromList()
	}
	if p.acceptKw("where") {
		c.Where = p.parseExpr()
	}
	if p.acceptKw("group", "by") {
		p.acceptKw("all")
		c.GroupBy = p.parseExprList()
	}
	if p.acceptKw("having") {
		c.Having = p.parseExpr()
	}
	if p.isKw("window") {
		p.unsupported(p.peek(), "window functions are not supported")
	}
	return c
}

// endsSelectList reports whether the select list is empty (SELECT FROM t, SELECT;).
func (p *parser) endsSelectList() bool {
	t := p.peek()
	switch t.kind {
	case tEOF:
		return true
	case tPunct:
		return t.text == ";" || t.text == ")"
	case tIdent:
		switch t.text {
		case "from", "where", "group", "having", "union", "intersect", "except", "order", "limit", "offset", "fetch", "for", "into", "window":
			return true
		}
	}
	return false
}

// parseSelectItems parses expr [[AS] alias], *, t.*, ….
func (p *parser) parseSelectItems() []ast.SelectItem {
	var items []ast.SelectItem
	for {
		t := p.peek()
		var item ast.SelectItem
		if t.kind == tOp && t.text == "*" {
			p.p++
			item.Expr = &ast.ColumnRef{Star: true, Pos: t.pos}
		} else {
			item.Expr = p.parseExpr()
			item.Alias = p.parseAlias(false)
		}
		items = append(items, item)
		if !p.acceptPunct(",") {
			return items
		}
	}
}

// parseAlias parses [AS] alias; "" when there is none. In FROM (table is
// true) fewer words may follow a name, so the same rule serves both.
func (p *parser) parseAlias(table bool) string {
	if p.acceptKw("as") {
		if table {
			return p.ident()
		}
		return p.label()
	}
	t := p.peek()
	if t.kind == tQIdent || (t.kind == tIdent && !reserved[t.text] && !noBareAlias[t.text]) {
		p.p++
		return t.text
	}
	return ""
}

// parseQueryTail parses ORDER BY, LIMIT, OFFSET, FETCH and FOR UPDATE.
func (p *parser) parseQueryTail(sel *ast.Select) {
	if p.acceptKw("order", "by") {
		sel.OrderBy = p.parseOrderBy()
	}
	for {
		switch {
		case p.isKw("limit") && sel.Limit == nil:
			p.p++
			if !p.acceptKw("all") {
				sel.Limit = p.parseExpr()
			}
			if p.isPunct(",") {
				p.unsupported(p.peek(), "LIMIT #,# syntax is not supported")
			}
		case p.isKw("offset") && sel.Offset == nil:
			p.p++
			sel.Offset = p.parseExpr()
			if !p.acceptKw("rows") {
				p.acceptKw("row")
			}
		case p.isKw("fetch") && sel.Limit == nil:
			p.p++
			if !p.acceptKw("first") {
				p.expectKw("next")
			}
			if p.isKw("row") || p.isKw("rows") {
				sel.Limit = &ast.Literal{Kind: ast.LitInteger, Text: "1", Pos: p.peek().pos}
			} else {
				sel.Limit = p.parseExprPrec(precAdd)
			}
			if !p.acceptKw("rows") {
				p.expectKw("row")
			}
			if p.isKw("with") {
				p.unsupported(p.peek(), "FETCH … WITH TIES is not supported")
			}
			p.expectKw("only")
		case p.isKw("for") && sel.ForUpdate == nil:
			sel.ForUpdate = p.parseLocking()
		default:
			return
		}
	}
}

// parseOrderBy parses expr [ASC|DESC] [NULLS FIRST|LAST], ….
func (p *parser) parseOrderBy() []ast.OrderItem {
	var items []ast.OrderItem
	for {
		item := ast.OrderItem{Expr: p.parseExpr()}
		if p.acceptKw("desc") {
			item.Desc = true
		} else {
			p.acceptKw("asc")
		}
		if p.isKw("using") {
			p.unsupported(p.peek(), "ORDER BY … USING is not supported")
		}
		if p.acceptKw("nulls") {
			first := p.acceptKw("first")
			if !first {
				p.expectKw("last")
			}
			item.NullsFirst = &first
		}
		items = append(items, item)
		if !p.acceptPunct(",") {
			return items
		}
	}
}

// parseLocking parses FOR UPDATE|NO KEY UPDATE|SHARE|KEY SHARE [OF t, …] [NOWAIT|SKIP LOCKED].
func (p *parser) parseLocking() *ast.Locking {
	p.expectKw("for")
	l := &ast.Locking{}
	switch {
	case p.acceptKw("update"):
		l.Strength = "UPDATE"
	case p.acceptKw("no", "key", "update"):
		l.Strength = "NO KEY UPDATE"
	case p.acceptKw("share"):
		l.Strength = "SHARE"
	case p.acceptKw("key", "share"):
		l.Strength = "KEY SHARE"
	default:
		p.fail(p.peek())
	}
	if p.acceptKw("of") {
		for {
			name := p.parseTableName()
			l.Of = append(l.Of, name.Name)
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	if p.acceptKw("nowait") {
		l.NoWait = true
	} else if p.acceptKw("skip", "locked") {
		l.SkipLocked = true
	}
	return l
}

// parseTableName parses [schema.]name (a leading database part is dropped).
func (p *parser) parseTableName() ast.TableName {
	t := p.peek()
	tn := ast.TableName{Name: p.ident(), Pos: t.pos}
	if p.acceptPunct(".") {
		tn.Schema, tn.Name = tn.Name, p.label()
		if p.acceptPunct(".") {
			tn.Schema, tn.Name = tn.Name, p.label()
		}
	}
	return tn
}

// parseFromList parses table_ref, table_ref, ….
func (p *parser) parseFromList() []ast.TableExpr {
	var list []ast.TableExpr
	for {
		list = append(list, p.parseTableRef())
		if !p.acceptPunct(",") {
			return list
		}
	}
}

// parseTableRef parses a FROM item followed by any joins (left-associative).
func (p *parser) parseTableRef() ast.TableExpr {
	p.enter()
	defer p.leave()
	left := p.parseTablePrimary()
	for {
		t := p.peek()
		j := &ast.Join{Left: left, Pos: t.pos}
		switch {
		case p.acceptKw("cross", "join"):
			j.Kind = "CROSS"
			j.Right = p.parseTablePrimary()
			left = j
			continue
		case p.acceptKw("natural"):
			j.Natural = true
		}
		switch {
		case p.acceptKw("join"), p.acceptKw("inner", "join"):
			j.Kind = "INNER"
		case p.acceptKw("left", "join"), p.acceptKw("left", "outer", "join"):
			j.Kind = "LEFT"
		case p.acceptKw("right", "join"), p.acceptKw("right", "outer", "join"):
			j.Kind = "RIGHT"
		case p.acceptKw("full", "join"), p.acceptKw("full", "outer", "join"):
			j.Kind = "FULL"
		default:
			if j.Natural {
				p.fail(p.peek())
			}
			return left
		}
		j.Right = p.parseTablePrimary()
		if !j.Natural {
			switch {
			case p.acceptKw("on"):
				j.On = p.parseExpr()
			case p.acceptKw("using"):
				j.Using = p.identList()
			default:
				p.fail(p.peek())
			}
		}
		left = j
	}
}

// parseTablePrimary parses a table name, (query) alias, function table or
// ( table_ref ), each with an optional alias.
func (p *parser) parseTablePrimary() ast.TableExpr {
	t := p.peek()
	if p.isKw("lateral") {
		p.unsupported(t, "LATERAL is not supported")
	}
	if t.kind == tPunct && t.text == "(" {
		if p.startsQuery(1) {
			p.p++
			sub := p.parseQuery()
			p.expectPunct(")")
			st := &ast.SubqueryTable{Subquery: sub, Pos: t.pos}
			st.Alias = p.parseAlias(true)
			if st.Alias == "" {
				panic(bailout{sqlerr.New(sqlerr.SyntaxError, "subquery in FROM must have an alias").
					WithHint("For example, FROM (SELECT ...) [AS] foo.").At(int32(t.pos))})
			}
			if p.isPunct("(") {
				st.Columns = p.identList()
			}
			return st
		}
		p.p++
		inner := p.parseTableRef()
		p.expectPunct(")")
		if a := p.peek(); a.kind == tQIdent || (a.kind == tIdent && (a.text == "as" || !reserved[a.text])) {
			p.unsupported(a, "an alias for a parenthesised join is not supported")
		}
		return &ast.ParenTable{Table: inner}
	}
	p.acceptKw("only")
	name := p.parseTableName()
	if p.isPunct("(") {
		fname := name.Name
		if name.Schema != "" {
			fname = name.Schema + "." + name.Name
		}
		call, ok := p.parseCall(fname, t).(*ast.FuncCall)
		if !ok {
			p.fail(t)
		}
		ft := &ast.FuncTable{Func: call, Pos: t.pos}
		ft.Alias = p.parseAlias(true)
		if ft.Alias != "" && p.isPunct("(") {
			ft.Columns = p.identList()
		}
		if p.isKw("with") && p.isKwN(1, "ordinality") {
			p.unsupported(p.peek(), "WITH ORDINALITY is not supported")
		}
		return ft
	}
	if p.isKw("tablesample") {
		p.unsupported(p.peek(), "TABLESAMPLE is not supported")
	}
	name.Alias = p.parseAlias(true)
	if name.Alias != "" && p.isPunct("(") {
		name.Columns = p.identList()
	}
	return &name
}
