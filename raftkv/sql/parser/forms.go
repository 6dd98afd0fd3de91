package parser

import "cairn.dev/cairn/raftkv/sql/ast"

// parseKeywordExpr parses the keyword forms of primaries; nil when the
// current identifier is not one.
func (p *parser) parseKeywordExpr() ast.Expr {
	t := p.peek()
	next := p.peekN(1)
	callNext := next.kind == tPunct && next.text == "("
	switch t.text {
	case "null":
		p.p++
		return &ast.Literal{Kind: ast.LitNull, Pos: t.pos}
	case "true", "false":
		p.p++
		return &ast.Literal{Kind: ast.LitBool, Bool: t.text == "true", Pos: t.pos}
	case "default":
		p.p++
		return &ast.Default{Pos: t.pos}
	case "case":
		return p.parseCase()
	case "cast":
		p.p++
		p.expectPunct("(")
		e := p.parseExpr()
		p.expectKw("as")
		typ := p.parseTypeName()
		p.expectPunct(")")
		return &ast.CastExpr{Expr: e, Type: typ, Pos: t.pos}
	case "exists":
		if !callNext {
			return nil
		}
		p.p++
		sub := p.parseParenQueryOpt()
		if sub == nil {
			p.fail(p.peekN(1))
		}
		return &ast.ExistsExpr{Subquery: sub, Pos: t.pos}
	case "array":
		p.p++
		if p.isPunct("(") {
			p.unsupported(t, "ARRAY(subquery) is not supported")
		}
		p.expectPunct("[")
		var elems []ast.Expr
		if !p.isPunct("]") {
			elems = p.parseExprList()
		}
		p.expectPunct("]")
		return &ast.ArrayExpr{Elems: elems, Pos: t.pos}
	case "row":
		if !callNext {
			return nil
		}
		p.p += 2
		var exprs []ast.Expr
		if !p.isPunct(")") {
			exprs = p.parseExprList()
		}
		p.expectPunct(")")
		return &ast.RowExpr{Exprs: exprs, Pos: t.pos}
	case "extract":
		if !callNext {
			return nil
		}
		p.p += 2
		var field string
		if f := p.peek(); f.kind == tString {
			field = f.text
			p.p++
		} else {
			field = p.label()
		}
		p.expectKw("from")
		e := p.parseExpr()
		p.expectPunct(")")
		return &ast.FuncCall{Name: "extract", Args: []ast.Expr{&ast.Literal{Kind: ast.LitString, Text: field}, e}, Pos: t.pos}
	case "substring":
		if !callNext {
			return nil
		}
		return p.parseSubstring()
	case "position":
		if !callNext {
			return nil
		}
		p.p += 2
		needle := p.parseExprPrec(precLike + 1)
		p.expectKw("in")
		hay := p.parseExprPrec(precLike + 1)
		p.expectPunct(")")
		return &ast.FuncCall{Name: "position", Args: []ast.Expr{needle, hay}, Pos: t.pos}
	case "trim":
		if !callNext {
			return nil
		}
		return p.parseTrim()
	case "overlay":
		if callNext {
			p.unsupported(t, "OVERLAY is not supported")
		}
	}
	if specialFuncs[t.text] {
		if t.text == "current_schema" && callNext {
			return nil
		}
		p.p++
		f := &ast.FuncCall{Name: t.text, Pos: t.pos}
		if p.isPunct("(") && (t.text == "current_timestamp" || t.text == "current_time" || t.text == "localtimestamp" || t.text == "localtime") {
			p.p++
			f.Args = []ast.Expr{&ast.Literal{Kind: ast.LitInteger, Text: itoa(p.intValue())}}
			p.expectPunct(")")
		}
		return f
	}
	multiWord := t.text == "double" || t.text == "character" || t.text == "timestamp" || t.text == "time"
	if typeWords[t.text] && (next.kind == tString || (multiWord && next.kind == tIdent)) {
		// A typed constant: DATE '2024-01-01', TIMESTAMP WITH TIME ZONE '…'.
		var cast *ast.CastExpr
		if p.try(func() {
			typ := p.parseTypeName()
			s := p.peek()
			if s.kind != tString {
				p.fail(s)
			}
			p.p++
			cast = &ast.CastExpr{Expr: &ast.Literal{Kind: ast.LitString, Text: s.text, Pos: s.pos}, Type: typ, Pos: t.pos}
		}) {
			if cast.Type.Name == "interval" && !cast.Type.Array && intervalFields[p.peek().text] && p.peek().kind == tIdent {
				// INTERVAL '3' DAY: the field names the unit of a bare number.
				f := p.advance()
				if p.isKw("to") {
					p.unsupported(p.peek(), "interval field ranges are not supported")
				}
				lit := cast.Expr.(*ast.Literal)
				lit.Text += " " + f.text
			}
			return cast
		}
	}
	if reserved[t.text] && !(funcNameKeywords[t.text] && callNext) {
		p.fail(t)
	}
	return nil
}

var intervalFields = setOf("year", "month", "day", "hour", "minute", "second")

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// parseSubstring parses SUBSTRING(x FROM a [FOR b]), SUBSTRING(x FOR b) or
// substring(x, a[, b]) into FuncCall "substring" with positional arguments.
func (p *parser) parseSubstring() ast.Expr {
	t := p.advance()
	p.expectPunct("(")
	s := p.parseExpr()
	args := []ast.Expr{s}
	switch {
	case p.acceptKw("from"):
		args = append(args, p.parseExpr())
		if p.acceptKw("for") {
			args = append(args, p.parseExpr())
		}
	case p.acceptKw("for"):
		args = append(args, &ast.Literal{Kind: ast.LitInteger, Text: "1"}, p.parseExpr())
	case p.acceptPunct(","):
		args = append(args, p.parseExprList()...)
	}
	p.expectPunct(")")
	return &ast.FuncCall{Name: "substring", Args: args, Pos: t.pos}
}

// parseTrim parses TRIM([LEADING|TRAILING|BOTH] [chars] FROM s) and
// trim(s[, chars]) into FuncCall btrim/ltrim/rtrim(s[, chars]) as PostgreSQL does.
func (p *parser) parseTrim() ast.Expr {
	t := p.advance()
	p.expectPunct("(")
	name := "btrim"
	switch {
	case p.acceptKw("leading"):
		name = "ltrim"
	case p.acceptKw("trailing"):
		name = "rtrim"
	case p.acceptKw("both"):
	}
	var args []ast.Expr
	if p.acceptKw("from") {
		args = p.parseExprList()
	} else {
		first := p.parseExpr()
		if p.acceptKw("from") {
			args = append(p.parseExprList(), first)
		} else {
			args = []ast.Expr{first}
			if p.acceptPunct(",") {
				args = append(args, p.parseExprList()...)
			}
		}
	}
	p.expectPunct(")")
	return &ast.FuncCall{Name: name, Args: args, Pos: t.pos}
}

// parseCase parses CASE [operand] WHEN … THEN … [ELSE …] END.
func (p *parser) parseCase() ast.Expr {
	t := p.advance()
	c := &ast.CaseExpr{Pos: t.pos}
	if !p.isKw("when") {
		c.Operand = p.parseExpr()
	}
	for p.acceptKw("when") {
		cond := p.parseExpr()
		p.expectKw("then")
		c.Whens = append(c.Whens, ast.When{Cond: cond, Result: p.parseExpr()})
	}
	if len(c.Whens) == 0 {
		p.fail(p.peek())
	}
	if p.acceptKw("else") {
		c.Else = p.parseExpr()
	}
	p.expectKw("end")
	return c
}
