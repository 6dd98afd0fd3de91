package parser

import (
	"strings"

	"cairn.dev/cairn/raftkv/sql/ast"
)

// parseBegin parses BEGIN [WORK|TRANSACTION] [modes] and START TRANSACTION [modes].
func (p *parser) parseBegin() ast.Statement {
	t := p.advance()
	if t.text == "start" {
		p.expectKw("transaction")
	} else if !p.acceptKw("work") {
		p.acceptKw("transaction")
	}
	b := &ast.Begin{Start: t.text == "start", Pos: t.pos}
	b.Isolation, b.ReadOnly = p.parseTransactionModes()
	return b
}

// parseTransactionModes parses ISOLATION LEVEL …, READ ONLY|WRITE and
// [NOT] DEFERRABLE, optionally comma-separated.
func (p *parser) parseTransactionModes() (isolation string, readOnly *bool) {
	for {
		switch {
		case p.acceptKw("isolation", "level"):
			switch {
			case p.acceptKw("serializable"):
				isolation = "SERIALIZABLE"
			case p.acceptKw("repeatable", "read"):
				isolation = "REPEATABLE READ"
			case p.acceptKw("read", "committed"):
				isolation = "READ COMMITTED"
			case p.acceptKw("read", "uncommitted"):
				isolation = "READ UNCOMMITTED"
			default:
				p.fail(p.peek())
			}
		case p.acceptKw("read", "only"):
			v := true
			readOnly = &v
		case p.acceptKw("read", "write"):
			v := false
			readOnly = &v
		case p.acceptKw("deferrable"), p.acceptKw("not", "deferrable"):
		default:
			return isolation, readOnly
		}
		p.acceptPunct(",")
	}
}

// parseCommit parses COMMIT|END [WORK|TRANSACTION] [AND [NO] CHAIN].
func (p *parser) parseCommit() ast.Statement {
	t := p.advance()
	if t.text == "commit" && p.isKw("prepared") {
		return p.unsupportedStatement("COMMIT PREPARED", t)
	}
	if !p.acceptKw("work") {
		p.acceptKw("transaction")
	}
	if p.isKw("and") && p.isKwN(1, "chain") {
		p.unsupported(p.peek(), "AND CHAIN is not supported")
	}
	p.acceptKw("and", "no", "chain")
	return &ast.Commit{Pos: t.pos}
}

// parseRollback parses ROLLBACK|ABORT [WORK|TRANSACTION] [TO [SAVEPOINT] name].
func (p *parser) parseRollback() ast.Statement {
	t := p.advance()
	if t.text == "rollback" && p.isKw("prepared") {
		return p.unsupportedStatement("ROLLBACK PREPARED", t)
	}
	if !p.acceptKw("work") {
		p.acceptKw("transaction")
	}
	r := &ast.Rollback{Pos: t.pos}
	if t.text == "rollback" && p.acceptKw("to") {
		p.acceptKw("savepoint")
		r.Savepoint = p.ident()
	}
	if p.isKw("and") && p.isKwN(1, "chain") {
		p.unsupported(p.peek(), "AND CHAIN is not supported")
	}
	p.acceptKw("and", "no", "chain")
	return r
}

// parseSet parses the SET forms: SET [SESSION|LOCAL] name {TO|=} values,
// SET TIME ZONE, SET TRANSACTION, SET SESSION CHARACTERISTICS AS TRANSACTION.
func (p *parser) parseSet() ast.Statement {
	t := p.advance()
	if p.acceptKw("session", "characteristics", "as", "transaction") {
		st := &ast.SetTransaction{Session: true, Pos: t.pos}
		st.Isolation, st.ReadOnly = p.parseTransactionModes()
		return st
	}
	local := false
	if p.acceptKw("local") {
		local = true
	} else if !p.isKwN(1, "authorization") {
		p.acceptKw("session")
	}
	switch {
	case p.acceptKw("transaction"):
		if p.isKw("snapshot") {
			return p.unsupportedStatement("SET TRANSACTION SNAPSHOT", t)
		}
		st := &ast.SetTransaction{Pos: t.pos}
		st.Isolation, st.ReadOnly = p.parseTransactionModes()
		if st.Isolation == "" && st.ReadOnly == nil {
			p.fail(p.peek())
		}
		return st
	case p.acceptKw("time", "zone"):
		s := &ast.Set{Name: "timezone", Local: local, Pos: t.pos}
		switch {
		case p.acceptKw("local"), p.acceptKw("default"):
			s.Default = true
		default:
			s.Values = []ast.Expr{p.parseSetValue()}
		}
		return s
	case p.isKw("role"), p.isKw("session") && p.isKwN(1, "authorization"):
		if p.isKw("role") {
			return p.unsupportedStatement("SET ROLE", t)
		}
		return p.unsupportedStatement("SET SESSION AUTHORIZATION", t)
	case p.acceptKw("names"):
		s := &ast.Set{Name: "client_encoding", Local: local, Pos: t.pos}
		if p.acceptKw("default") {
			s.Default = true
		} else {
			s.Values = []ast.Expr{p.parseSetValue()}
		}
		return s
	case p.acceptKw("schema"):
		return &ast.Set{Name: "search_path", Local: local, Values: []ast.Expr{p.parseSetValue()}, Pos: t.pos}
	}
	s := &ast.Set{Name: p.settingName(), Local: local, Pos: t.pos}
	if !p.acceptKw("to") && !p.acceptOp("=") {
		p.fail(p.peek())
	}
	if p.acceptKw("default") {
		s.Default = true
		return s
	}
	for {
		s.Values = append(s.Values, p.parseSetValue())
		if !p.acceptPunct(",") {
			return s
		}
	}
}

// settingName parses a configuration parameter name (dotted names allowed).
func (p *parser) settingName() string {
	name := p.label()
	for p.acceptPunct(".") {
		name += "." + p.label()
	}
	return name
}

// parseSetValue parses one SET value: a string or number (as a Literal) or
// a word (as a ColumnRef naming it; ON, TRUE and other keywords included).
func (p *parser) parseSetValue() ast.Expr {
	t := p.peek()
	switch t.kind {
	case tString:
		p.p++
		return &ast.Literal{Kind: ast.LitString, Text: t.text, Pos: t.pos}
	case tInt, tNum:
		p.p++
		kind := ast.LitInteger
		if t.kind == tNum {
			kind = ast.LitNumeric
		}
		return &ast.Literal{Kind: kind, Text: t.text, Pos: t.pos}
	case tOp:
		if t.text == "-" || t.text == "+" {
			n := p.peekN(1)
			if n.kind == tInt || n.kind == tNum {
				p.p += 2
				kind := ast.LitInteger
				if n.kind == tNum {
					kind = ast.LitNumeric
				}
				text := n.text
				if t.text == "-" {
					text = "-" + text
				}
				return &ast.Literal{Kind: kind, Text: text, Pos: t.pos}
			}
		}
	case tIdent, tQIdent:
		p.p++
		return &ast.ColumnRef{Column: t.text, Pos: t.pos}
	}
	p.fail(t)
	return nil
}

// parseReset parses RESET name | RESET ALL | RESET TIME ZONE.
func (p *parser) parseReset() ast.Statement {
	t := p.advance()
	s := &ast.Set{Reset: true, Pos: t.pos}
	switch {
	case p.acceptKw("time", "zone"):
		s.Name = "timezone"
	case p.acceptKw("all"):
		s.Name = "all"
	case p.isKw("session") && p.isKwN(1, "authorization"), p.isKw("role"):
		return p.unsupportedStatement("RESET "+upper(p.peek().text), t)
	default:
		s.Name = p.settingName()
	}
	return s
}

// parseShow parses SHOW name | ALL | TIME ZONE | TRANSACTION ISOLATION LEVEL.
func (p *parser) parseShow() ast.Statement {
	t := p.advance()
	s := &ast.Show{Pos: t.pos}
	switch {
	case p.acceptKw("time", "zone"):
		s.Name = "timezone"
	case p.acceptKw("transaction", "isolation", "level"):
		s.Name = "transaction_isolation"
	case p.acceptKw("session", "authorization"):
		s.Name = "session_authorization"
	default:
		s.Name = strings.ToLower(p.settingName())
	}
	return s
}
