package parser

import (
	"strings"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// parseInsert parses INSERT INTO t [AS alias] [(cols)] {DEFAULT VALUES | query}
// [ON CONFLICT …] [RETURNING …].
func (p *parser) parseInsert(with *ast.With) ast.Statement {
	t := p.advance()
	p.expectKw("into")
	ins := &ast.Insert{With: with, Pos: t.pos}
	ins.Table = p.parseTableName()
	if p.acceptKw("as") {
		ins.Table.Alias = p.ident()
	}
	if p.isPunct("(") && !p.startsQuery(1) {
		ins.Columns = p.identList()
	}
	if p.isKw("overriding") {
		p.unsupported(p.peek(), "OVERRIDING … VALUE is not supported")
	}
	if p.acceptKw("default", "values") {
		ins.DefaultValues = true
	} else {
		ins.Rows = p.parseQuery()
	}
	if p.acceptKw("on", "conflict") {
		ins.OnConflict = p.parseOnConflict()
	}
	if p.acceptKw("returning") {
		ins.Returning = p.parseSelectItems()
	}
	return ins
}

// parseOnConflict parses the part of ON CONFLICT after those words.
func (p *parser) parseOnConflict() *ast.OnConflict {
	oc := &ast.OnConflict{}
	switch {
	case p.isPunct("("):
		oc.Columns = p.identList()
		if p.isKw("where") {
			p.unsupported(p.peek(), "ON CONFLICT with a partial index predicate is not supported")
		}
	case p.acceptKw("on", "constraint"):
		oc.Constraint = p.ident()
	}
	p.expectKw("do")
	if p.acceptKw("nothing") {
		oc.DoNothing = true
		return oc
	}
	p.expectKw("update", "set")
	if len(oc.Columns) == 0 && oc.Constraint == "" {
		panic(bailout{sqlerr.New(sqlerr.SyntaxError, "ON CONFLICT DO UPDATE requires inference specification or constraint name").
			WithHint("For example, ON CONFLICT (column_name).").At(int32(p.peek().pos))})
	}
	oc.Set = p.parseSetClauses()
	if p.acceptKw("where") {
		oc.Where = p.parseExpr()
	}
	return oc
}

// parseSetClauses parses col = expr | (a, b) = expr, ….
func (p *parser) parseSetClauses() []ast.SetClause {
	var set []ast.SetClause
	for {
		var sc ast.SetClause
		if p.isPunct("(") {
			sc.Columns = p.identList()
		} else {
			sc.Columns = []string{p.ident()}
			if p.isPunct(".") || p.isPunct("[") {
				p.unsupported(p.peek(), "assigning to a field or element is not supported")
			}
		}
		if !p.acceptOp("=") {
			p.fail(p.peek())
		}
		sc.Value = p.parseExpr()
		set = append(set, sc)
		if !p.acceptPunct(",") {
			return set
		}
	}
}

// parseUpdate parses UPDATE [ONLY] t [[AS] alias] SET … [FROM …] [WHERE …] [RETURNING …].
func (p *parser) parseUpdate(with *ast.With) ast.Statement {
	t := p.advance()
	u := &ast.Update{With: with, Pos: t.pos}
	p.acceptKw("only")
	u.Table = p.parseTableName()
	u.Table.Alias = p.parseAlias(true)
	p.expectKw("set")
	u.Set = p.parseSetClauses()
	if p.acceptKw("from") {
		u.From = p.parseFromList()
	}
	if p.acceptKw("where") {
		if p.isKw("current") && p.isKwN(1, "of") {
			p.unsupported(p.peek(), "WHERE CURRENT OF is not supported")
		}
		u.Where = p.parseExpr()
	}
	if p.acceptKw("returning") {
		u.Returning = p.parseSelectItems()
	}
	return u
}

// parseDelete parses DELETE FROM [ONLY] t [[AS] alias] [USING …] [WHERE …] [RETURNING …].
func (p *parser) parseDelete(with *ast.With) ast.Statement {
	t := p.advance()
	p.expectKw("from")
	d := &ast.Delete{With: with, Pos: t.pos}
	p.acceptKw("only")
	d.Table = p.parseTableName()
	d.Table.Alias = p.parseAlias(true)
	if p.acceptKw("using") {
		d.Using = p.parseFromList()
	}
	if p.acceptKw("where") {
		if p.isKw("current") && p.isKwN(1, "of") {
			p.unsupported(p.peek(), "WHERE CURRENT OF is not supported")
		}
		d.Where = p.parseExpr()
	}
	if p.acceptKw("returning") {
		d.Returning = p.parseSelectItems()
	}
	return d
}

// parseCopy parses COPY t [(cols)] FROM STDIN | TO STDOUT [[WITH] options].
// COPY (query) TO … and COPY to or from a file or program are Unsupported.
func (p *parser) parseCopy() ast.Statement {
	t := p.advance()
	if p.isPunct("(") {
		return p.unsupportedStatement("COPY (query) TO", t)
	}
	c := &ast.Copy{Format: "text", Pos: t.pos}
	if p.acceptKw("binary") {
		c.Format = "binary"
	}
	c.Table = p.parseTableName()
	if p.isPunct("(") {
		c.Columns = p.identList()
	}
	switch {
	case p.acceptKw("from"):
		if !p.acceptKw("stdin") {
			return p.unsupportedStatement("COPY FROM a file or program", t)
		}
	case p.acceptKw("to"):
		c.To = true
		if !p.acceptKw("stdout") {
			return p.unsupportedStatement("COPY TO a file or program", t)
		}
	default:
		p.fail(p.peek())
	}
	withKw := p.acceptKw("with")
	if p.isPunct("(") {
		p.parseCopyOptions(c)
	} else {
		p.parseOldCopyOptions(c)
	}
	if withKw && p.peek().kind != tEOF && !p.isPunct(";") {
		p.fail(p.peek())
	}
	if p.isKw("where") {
		p.unsupported(p.peek(), "COPY … WHERE is not supported")
	}
	return c
}

// parseCopyOptions parses ( FORMAT csv, HEADER [bool], DELIMITER 'c', NULL 's', … ).
func (p *parser) parseCopyOptions(c *ast.Copy) {
	p.expectPunct("(")
	for {
		optTok := p.peek()
		opt := p.label()
		switch opt {
		case "format":
			f := p.peek()
			if f.kind != tIdent && f.kind != tString && f.kind != tQIdent {
				p.fail(f)
			}
			p.p++
			c.Format = strings.ToLower(f.text)
			if c.Format != "text" && c.Format != "csv" && c.Format != "binary" {
				panic(bailout{sqlerr.New(sqlerr.InvalidParameterValue, "COPY format \"%s\" not recognized", f.text).At(int32(f.pos))})
			}
		case "header":
			c.Header = true
			if v, ok := p.boolOption(); ok {
				c.Header = v
			} else {
				p.acceptKw("match") // HEADER MATCH: the header is skipped, not checked
			}
		case "delimiter":
			c.Delimiter = p.stringValue()
		case "null":
			s := p.stringValue()
			c.NullStr = &s
		case "freeze", "encoding":
			p.boolOption()
			if p.peek().kind == tString {
				p.p++
			}
		default:
			panic(bailout{sqlerr.New(sqlerr.SyntaxError, "option \"%s\" not recognized", opt).At(int32(optTok.pos))})
		}
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
}

// boolOption consumes an optional boolean option value (true/false/on/off/1/0).
func (p *parser) boolOption() (bool, bool) {
	v := p.peek()
	switch {
	case v.kind == tIdent && (v.text == "true" || v.text == "on"):
	case v.kind == tIdent && (v.text == "false" || v.text == "off"):
		p.p++
		return false, true
	case v.kind == tInt && (v.text == "0" || v.text == "1"):
		p.p++
		return v.text == "1", true
	case v.kind == tString:
		switch strings.ToLower(v.text) {
		case "true", "on", "1":
		case "false", "off", "0":
			p.p++
			return false, true
		default:
			return false, false
		}
	default:
		return false, false
	}
	p.p++
	return true, true
}

// parseOldCopyOptions parses the pre-9.0 option syntax: BINARY, CSV, HEADER,
// DELIMITER [AS] 'c', NULL [AS] 's'.
func (p *parser) parseOldCopyOptions(c *ast.Copy) {
	for {
		switch {
		case p.acceptKw("binary"):
			c.Format = "binary"
		case p.acceptKw("csv"):
			c.Format = "csv"
		case p.acceptKw("header"):
			c.Header = true
		case p.acceptKw("delimiter"):
			p.acceptKw("as")
			c.Delimiter = p.stringValue()
		case p.acceptKw("null"):
			p.acceptKw("as")
			s := p.stringValue()
			c.NullStr = &s
		case p.isKw("quote"), p.isKw("escape"), p.isKw("force"):
			p.unsupported(p.peek(), "COPY option %s is not supported", upper(p.peek().text))
		default:
			return
		}
		p.acceptPunct(",") // WITH CSV HEADER, DELIMITER ',' as some clients write it
	}
}
