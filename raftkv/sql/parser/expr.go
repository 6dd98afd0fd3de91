package parser

import (
	"strings"

	"cairn.dev/cairn/raftkv/sql/ast"
)

// Binding powers, lowest first, as PostgreSQL orders its operators.
const (
	precOr      = 10
	precAnd     = 20
	precNot     = 30
	precIs      = 40
	precCmp     = 50
	precLike    = 60 // BETWEEN, IN, LIKE, ILIKE, SIMILAR
	precOther   = 70 // ||, ->, ->>, any other operator
	precAdd     = 80
	precMul     = 90
	precExp     = 100
	precAt      = 105 // AT TIME ZONE
	precUnary   = 110
	precCast    = 120
	precSubscpt = 130
)

// comparison operators (non-associative in PostgreSQL; left-associative here).
var cmpOps = setOf("=", "<>", "!=", "<", ">", "<=", ">=")

// parseExpr parses a full expression.
func (p *parser) parseExpr() ast.Expr { return p.parseExprPrec(precOr) }

// parseExprPrec parses an expression whose infix operators bind at least as
// tightly as min.
func (p *parser) parseExprPrec(min int) ast.Expr {
	p.enter()
	defer p.leave()
	left := p.parsePrefix()
	for {
		t := p.peek()
		switch t.kind {
		case tIdent:
			var done bool
			left, done = p.parseKeywordInfix(left, min)
			if done {
				return left
			}
		case tOp:
			op := t.text
			prec := binaryPrec(op)
			if prec < min {
				return left
			}
			p.p++
			if op == "::" {
				left = &ast.CastExpr{Expr: left, Type: p.parseTypeName(), Pos: t.pos}
				continue
			}
			op = normalizeOp(op)
			if prec == precCmp && (p.isKw("any") || p.isKw("some") || p.isKw("all")) && p.peekN(1).kind == tPunct && p.peekN(1).text == "(" {
				all := p.isKw("all")
				kwTok := p.advance()
				sub := p.parseParenQueryOpt()
				if sub == nil {
					if in := p.parseAnyArray(left, op, all, t); in != nil {
						left = in
						continue
					}
					p.unsupported(kwTok, "%s with an array is not supported; use a subquery or IN", strings.ToUpper(kwTok.text))
				}
				left = &ast.CompareSubquery{Op: op, All: all, Left: left, Subquery: sub, Pos: t.pos}
				continue
			}
			right := p.parseExprPrec(prec + 1)
			left = &ast.BinaryExpr{Op: op, Left: left, Right: right, Pos: t.pos}
		case tPunct:
			if t.text == "[" && precSubscpt >= min {
				p.unsupported(t, "array subscripts are not supported")
			}
			return left
		default:
			return left
		}
	}
}

// parseAnyArray reads x = ANY (ARRAY[…]) as x IN (…) and x <> ALL (ARRAY[…])
// as x NOT IN (…); the cursor is at the '(' after ANY/ALL. It returns nil,
// consuming nothing, for any other operand.
func (p *parser) parseAnyArray(left ast.Expr, op string, all bool, start *token) ast.Expr {
	if !p.isKwN(1, "array") || !p.isPunct2(2, "[") || p.isPunct2(3, "]") {
		return nil
	}
	if (op != "=" || all) && (op != "<>" || !all) {
		return nil
	}
	save := p.p
	p.p++
	arr, ok := p.parseExpr().(*ast.ArrayExpr)
	if !ok || !p.acceptPunct(")") {
		p.p = save
		return nil
	}
	return &ast.InExpr{Expr: left, List: arr.Elems, Not: all, Pos: start.pos}
}

// normalizeOp spells operators as BinaryExpr.Op documents: != is <>, the
// ~~ family is LIKE/ILIKE.
func normalizeOp(op string) string {
	switch op {
	case "!=":
		return "<>"
	case "~~":
		return "LIKE"
	case "!~~":
		return "NOT LIKE"
	case "~~*":
		return "ILIKE"
	case "!~~*":
		return "NOT ILIKE"
	}
	return op
}

// binaryPrec is the binding power of operator op in infix position.
func binaryPrec(op string) int {
	switch op {
	case "::":
		return precCast
	case "^":
		return precExp
	case "*", "/", "%":
		return precMul
	case "+", "-":
		return precAdd
	case "=", "<>", "!=", "<", ">", "<=", ">=":
		return precCmp
	case "~~", "!~~", "~~*", "!~~*":
		return precLike
	}
	return precOther
}

// parseKeywordInfix handles infix and postfix keyword operators (AND, OR,
// IS, ISNULL, NOTNULL, [NOT] BETWEEN/IN/LIKE/ILIKE, AT TIME ZONE). done is
// true when the keyword does not continue the expression at this level.
func (p *parser) parseKeywordInfix(left ast.Expr, min int) (ast.Expr, bool) {
	t := p.peek()
	switch t.text {
	case "or":
		if precOr < min {
			return left, true
		}
		p.p++
		return &ast.BinaryExpr{Op: "OR", Left: left, Right: p.parseExprPrec(precOr + 1), Pos: t.pos}, false
	case "and":
		if precAnd < min {
			return left, true
		}
		p.p++
		return &ast.BinaryExpr{Op: "AND", Left: left, Right: p.parseExprPrec(precAnd + 1), Pos: t.pos}, false
	case "is":
		if precIs < min {
			return left, true
		}
		p.p++
		not := p.acceptKw("not")
		switch {
		case p.acceptKw("null"), p.acceptKw("unknown"):
			return &ast.IsNullExpr{Expr: left, Not: not, Pos: t.pos}, false
		case p.acceptKw("true"):
			return &ast.IsBoolExpr{Expr: left, Not: not, Value: true, Pos: t.pos}, false
		case p.acceptKw("false"):
			return &ast.IsBoolExpr{Expr: left, Not: not, Value: false, Pos: t.pos}, false
		case p.acceptKw("distinct", "from"):
			op := "IS DISTINCT FROM"
			if not {
				op = "IS NOT DISTINCT FROM"
			}
			return &ast.BinaryExpr{Op: op, Left: left, Right: p.parseExprPrec(precIs + 1), Pos: t.pos}, false
		}
		p.fail(p.peek())
	case "isnull", "notnull":
		if precIs < min {
			return left, true
		}
		p.p++
		return &ast.IsNullExpr{Expr: left, Not: t.text == "notnull", Pos: t.pos}, false
	case "not":
		next := p.peekN(1)
		if next.kind != tIdent {
			return left, true
		}
		switch next.text {
		case "between", "in", "like", "ilike", "similar":
		default:
			return left, true
		}
		if precLike < min {
			return left, true
		}
		p.p++
		return p.parseLikeIn(left, true, t), false
	case "between", "in", "like", "ilike", "similar":
		if precLike < min {
			return left, true
		}
		return p.parseLikeIn(left, false, t), false
	case "at":
		if !p.isKwN(1, "time") || !p.isKwN(2, "zone") || precAt < min {
			return left, true
		}
		p.p += 3
		zone := p.parseExprPrec(precAt + 1)
		return &ast.FuncCall{Name: "timezone", Args: []ast.Expr{zone, left}, Pos: t.pos}, false
	case "collate":
		// Only the default collation (what psql writes) is accepted; it
		// changes nothing.
		p.p++
		name := p.label()
		if name == "pg_catalog" && p.acceptPunct(".") {
			name = p.label()
		}
		if name != "default" {
			p.unsupported(t, "COLLATE is not supported")
		}
		return left, false
	case "operator":
		// OPERATOR(schema.op): an operator named explicitly, as psql writes it.
		if !p.isPunct2(1, "(") || precOther < min {
			return left, true
		}
		p.p += 2
		if p.peek().kind == tIdent && p.isPunct2(1, ".") {
			p.p += 2
		}
		opTok := p.peek()
		if opTok.kind != tOp || opTok.text == "::" {
			p.fail(opTok)
		}
		p.p++
		p.expectPunct(")")
		op := normalizeOp(opTok.text)
		return &ast.BinaryExpr{Op: op, Left: left, Right: p.parseExprPrec(precOther + 1), Pos: t.pos}, false
	}
	return left, true
}

// parseLikeIn parses [NOT] BETWEEN/IN/LIKE/ILIKE after left; the current
// token is the operator keyword; start is where the operator began.
func (p *parser) parseLikeIn(left ast.Expr, not bool, start *token) ast.Expr {
	t := p.advance()
	switch t.text {
	case "between":
		if p.isKw("symmetric") {
			p.unsupported(p.peek(), "BETWEEN SYMMETRIC is not supported")
		}
		p.acceptKw("asymmetric")
		low := p.parseExprPrec(precLike + 1)
		p.expectKw("and")
		high := p.parseExprPrec(precLike + 1)
		return &ast.BetweenExpr{Expr: left, Low: low, High: high, Not: not, Pos: start.pos}
	case "in":
		if !p.isPunct("(") {
			p.fail(p.peek())
		}
		if sub := p.parseParenQueryOpt(); sub != nil {
			return &ast.InExpr{Expr: left, Subquery: sub, Not: not, Pos: start.pos}
		}
		p.expectPunct("(")
		list := p.parseExprList()
		p.expectPunct(")")
		return &ast.InExpr{Expr: left, List: list, Not: not, Pos: start.pos}
	case "like", "ilike":
		op := strings.ToUpper(t.text)
		if not {
			op = "NOT " + op
		}
		right := p.parseExprPrec(precLike + 1)
		if p.isKw("escape") {
			p.unsupported(p.peek(), "LIKE … ESCAPE is not supported")
		}
		return &ast.BinaryExpr{Op: op, Left: left, Right: right, Pos: start.pos}
	default: // similar
		p.unsupported(t, "SIMILAR TO is not supported")
	}
	return nil
}

// parseExprList parses expr, expr, ….
func (p *parser) parseExprList() []ast.Expr {
	var list []ast.Expr
	for {
		list = append(list, p.parseExpr())
		if !p.acceptPunct(",") {
			return list
		}
	}
}

// parsePrefix parses prefix operators (NOT, unary + and -) and a primary.
func (p *parser) parsePrefix() ast.Expr {
	t := p.peek()
	switch {
	case t.kind == tIdent && t.text == "not":
		p.p++
		operand := p.parseExprPrec(precNot)
		if ex, ok := operand.(*ast.ExistsExpr); ok && !ex.Not {
			return &ast.ExistsExpr{Subquery: ex.Subquery, Not: true, Pos: t.pos}
		}
		return &ast.UnaryExpr{Op: "NOT", Operand: operand, Pos: t.pos}
	case t.kind == tOp && (t.text == "-" || t.text == "+"):
		p.p++
		operand := p.parseExprPrec(precUnary + 1)
		if lit, ok := operand.(*ast.Literal); ok && t.text == "-" && (lit.Kind == ast.LitInteger || lit.Kind == ast.LitNumeric) && !strings.HasPrefix(lit.Text, "-") {
			// PostgreSQL folds the sign into a numeric constant.
			return &ast.Literal{Kind: lit.Kind, Text: "-" + lit.Text, Pos: t.pos}
		}
		return &ast.UnaryExpr{Op: t.text, Operand: operand, Pos: t.pos}
	case t.kind == tOp:
		p.fail(t)
	}
	return p.parsePrimary()
}

// parsePrimary parses a constant, parameter, name, call, parenthesised
// expression, row, subquery or keyword form.
func (p *parser) parsePrimary() ast.Expr {
	t := p.peek()
	switch t.kind {
	case tInt:
		p.p++
		return &ast.Literal{Kind: ast.LitInteger, Text: t.text, Pos: t.pos}
	case tNum:
		p.p++
		return &ast.Literal{Kind: ast.LitNumeric, Text: t.text, Pos: t.pos}
	case tString:
		p.p++
		return &ast.Literal{Kind: ast.LitString, Text: t.text, Pos: t.pos}
	case tParam:
		p.p++
		n := 0
		for _, c := range t.text {
			n = n*10 + int(c-'0')
			if n > 1<<20 {
				p.fail(t)
			}
		}
		if n == 0 {
			p.fail(t)
		}
		return &ast.Param{N: n, Pos: t.pos}
	case tPunct:
		if t.text == "(" {
			return p.parseParenExpr()
		}
		p.fail(t)
	case tQIdent:
		return p.parseNameExpr()
	case tIdent:
		if e := p.parseKeywordExpr(); e != nil {
			return e
		}
		return p.parseNameExpr()
	}
	p.fail(t)
	return nil
}

// parseParenExpr parses ( query ), ( expr ) or a row ( a, b, … ).
func (p *parser) parseParenExpr() ast.Expr {
	t := p.peek()
	if sub := p.parseParenQueryOpt(); sub != nil {
		return &ast.SubqueryExpr{Subquery: sub, Pos: t.pos}
	}
	p.expectPunct("(")
	first := p.parseExpr()
	if p.acceptPunct(")") {
		return first
	}
	p.expectPunct(",")
	exprs := append([]ast.Expr{first}, p.parseExprList()...)
	p.expectPunct(")")
	return &ast.RowExpr{Exprs: exprs, Pos: t.pos}
}

// startsQuery reports whether the tokens from n on (after any '(') begin a query.
func (p *parser) startsQuery(n int) bool {
	for p.peekN(n).kind == tPunct && p.peekN(n).text == "(" {
		n++
	}
	t := p.peekN(n)
	return t.kind == tIdent && (t.text == "select" || t.text == "values" || t.text == "with" || t.text == "table")
}

// parseParenQueryOpt parses ( query ) at the current '(' when what follows
// is a query; it returns nil (consuming nothing) otherwise. Outcomes are
// memoised by position, so the backtracking between "(query)" and
// "((query) + 1)" stays linear however deeply such parentheses nest.
func (p *parser) parseParenQueryOpt() *ast.Select {
	if !p.isPunct("(") || !p.startsQuery(1) {
		return nil
	}
	start := p.p
	if r, ok := p.subqueries[start]; ok {
		if r.err != nil {
			panic(*r.err)
		}
		if r.sel != nil {
			p.p = r.end
		}
		return r.sel
	}
	if p.subqueries == nil {
		p.subqueries = make(map[int]subqueryResult)
	}
	var sel *ast.Select
	parse := func() {
		p.expectPunct("(")
		sel = p.parseQuery()
		p.expectPunct(")")
	}
	if p.peekN(1).kind == tIdent {
		// No ambiguity: errors are reported as they are.
		func() {
			defer func() {
				if r := recover(); r != nil {
					if b, ok := r.(bailout); ok {
						p.subqueries[start] = subqueryResult{err: &b}
					}
					panic(r)
				}
			}()
			parse()
		}()
	} else if !p.try(parse) {
		// ((…) …): an expression that starts with a parenthesised query.
		sel = nil
	}
	p.subqueries[start] = subqueryResult{sel: sel, end: p.p}
	return sel
}

// subqueryResult is a memoised outcome of parseParenQueryOpt.
type subqueryResult struct {
	sel *ast.Select
	end int
	err *bailout
}

// parseNameExpr parses a column reference ([table.]col, [table.]*) or a
// function call (name(args), schema.name(args)).
func (p *parser) parseNameExpr() ast.Expr {
	t := p.peek()
	var parts []string
	if t.kind == tIdent && reserved[t.text] {
		// Only function-name keywords get here, followed by '('.
		parts = append(parts, t.text)
		p.p++
	} else {
		parts = append(parts, p.ident())
	}
	for p.isPunct(".") {
		p.p++
		if p.isOp("*") {
			p.p++
			if len(parts) > 3 {
				p.fail(t)
			}
			return &ast.ColumnRef{Table: parts[len(parts)-1], Star: true, Pos: t.pos}
		}
		parts = append(parts, p.label())
	}
	if p.isPunct("(") {
		if len(parts) > 2 {
			p.fail(t)
		}
		return p.parseCall(strings.Join(parts, "."), t)
	}
	switch len(parts) {
	case 1:
		return &ast.ColumnRef{Column: parts[0], Pos: t.pos}
	case 2, 3:
		return &ast.ColumnRef{Table: parts[len(parts)-2], Column: parts[len(parts)-1], Pos: t.pos}
	}
	p.fail(t)
	return nil
}

// parseCall parses the argument list and FILTER/OVER of a call to name.
func (p *parser) parseCall(name string, start *token) ast.Expr {
	p.expectPunct("(")
	f := &ast.FuncCall{Name: name, Pos: start.pos}
	switch {
	case p.isOp("*"):
		p.p++
		f.Star = true
	case p.isPunct(")"):
	default:
		if p.acceptKw("distinct") {
			f.Distinct = true
		} else {
			p.acceptKw("all")
		}
		f.Args = p.parseExprList()
		if p.isKw("order") {
			p.unsupported(p.peek(), "ORDER BY in aggregate arguments is not supported")
		}
		if p.isOp("=>") || p.isOp(":=") {
			p.unsupported(p.peek(), "named function arguments are not supported")
		}
	}
	p.expectPunct(")")
	if p.isKw("within") {
		p.unsupported(p.peek(), "WITHIN GROUP is not supported")
	}
	if p.isKw("filter") && p.peekN(1).kind == tPunct && p.peekN(1).text == "(" {
		p.p += 2
		p.expectKw("where")
		f.Filter = p.parseExpr()
		p.expectPunct(")")
	}
	if p.isKw("over") {
		p.unsupported(p.peek(), "window functions are not supported")
	}
	return f
}
