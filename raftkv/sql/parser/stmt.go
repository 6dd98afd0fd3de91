package parser

import (
	"strings"

	"cairn.dev/cairn/raftkv/sql/ast"
)

func upper(s string) string { return strings.ToUpper(s) }

// unsupportedStatements maps a leading keyword to the statement name
// reported for statements cairn recognises but does not execute.
var unsupportedStatements = map[string]string{
	"grant": "GRANT", "revoke": "REVOKE", "vacuum": "VACUUM", "analyze": "ANALYZE",
	"analyse": "ANALYZE", "listen": "LISTEN", "unlisten": "UNLISTEN", "notify": "NOTIFY",
	"do": "DO", "call": "CALL", "lock": "LOCK", "prepare": "PREPARE", "execute": "EXECUTE",
	"deallocate": "DEALLOCATE", "discard": "DISCARD", "comment": "COMMENT", "merge": "MERGE",
	"reindex": "REINDEX", "cluster": "CLUSTER", "checkpoint": "CHECKPOINT", "fetch": "FETCH",
	"move": "MOVE", "declare": "DECLARE", "close": "CLOSE", "refresh": "REFRESH MATERIALIZED VIEW",
	"security": "SECURITY LABEL", "reassign": "REASSIGN OWNED", "load": "LOAD",
	"import": "IMPORT FOREIGN SCHEMA",
}

// unsupportedObjects are the object kinds after CREATE/ALTER/DROP that cairn
// does not support; multi-word kinds are matched longest first.
var unsupportedObjects = [][]string{
	{"materialized", "view"}, {"foreign", "data", "wrapper"}, {"foreign", "table"},
	{"event", "trigger"}, {"text", "search"}, {"access", "method"}, {"user", "mapping"},
	{"constraint", "trigger"}, {"large", "object"}, {"system"},
	{"view"}, {"schema"}, {"database"}, {"function"}, {"procedure"}, {"trigger"},
	{"extension"}, {"sequence"}, {"type"}, {"domain"}, {"policy"}, {"publication"},
	{"subscription"}, {"rule"}, {"aggregate"}, {"operator"}, {"collation"},
	{"conversion"}, {"cast"}, {"language"}, {"server"}, {"statistics"}, {"tablespace"},
	{"group"}, {"owned"}, {"routine"}, {"transform"}, {"default", "privileges"},
}

// parseStatement parses one statement.
func (p *parser) parseStatement() ast.Statement {
	t := p.peek()
	if t.kind == tPunct && t.text == "(" {
		return p.parseQuery()
	}
	if t.kind != tIdent {
		p.fail(t)
	}
	switch t.text {
	case "select", "values", "table":
		return p.parseQuery()
	case "with":
		return p.parseWithStatement()
	case "insert":
		return p.parseInsert(nil)
	case "update":
		return p.parseUpdate(nil)
	case "delete":
		return p.parseDelete(nil)
	case "copy":
		return p.parseCopy()
	case "create":
		return p.parseCreate()
	case "drop":
		return p.parseDrop()
	case "alter":
		return p.parseAlter()
	case "truncate":
		return p.parseTruncate()
	case "begin", "start":
		return p.parseBegin()
	case "commit", "end":
		return p.parseCommit()
	case "rollback", "abort":
		return p.parseRollback()
	case "savepoint":
		p.p++
		return &ast.Savepoint{Name: p.ident(), Pos: t.pos}
	case "release":
		p.p++
		p.acceptKw("savepoint")
		return &ast.Savepoint{Name: p.ident(), Release: true, Pos: t.pos}
	case "set":
		return p.parseSet()
	case "reset":
		return p.parseReset()
	case "show":
		return p.parseShow()
	case "explain":
		return p.parseExplain()
	}
	if name, ok := unsupportedStatements[t.text]; ok {
		if t.text == "prepare" && p.isKwN(1, "transaction") {
			name = "PREPARE TRANSACTION"
		}
		return p.unsupportedStatement(name, t)
	}
	p.fail(t)
	return nil
}

// unsupportedStatement skips the rest of the statement and returns it as Unsupported.
func (p *parser) unsupportedStatement(name string, start *token) ast.Statement {
	p.skipStatement()
	return &ast.Unsupported{Name: name, Pos: start.pos}
}

// unsupportedObject matches an unsupported object kind at the cursor after
// verb (CREATE, ALTER, DROP); nil when the kind is not one.
func (p *parser) unsupportedObject(verb string, start *token) ast.Statement {
	for _, kind := range unsupportedObjects {
		if p.acceptKw(kind...) {
			return p.unsupportedStatement(verb+" "+upper(strings.Join(kind, " ")), start)
		}
	}
	return nil
}

// parseWithStatement parses WITH … followed by a query, INSERT, UPDATE or DELETE.
func (p *parser) parseWithStatement() ast.Statement {
	save := p.p
	w := p.parseWith()
	switch {
	case p.isKw("insert"):
		return p.parseInsert(w)
	case p.isKw("update"):
		return p.parseUpdate(w)
	case p.isKw("delete"):
		return p.parseDelete(w)
	}
	p.p = save
	return p.parseQuery()
}

// parseExplain parses EXPLAIN [ANALYZE] [VERBOSE] stmt or EXPLAIN (options) stmt.
func (p *parser) parseExplain() ast.Statement {
	t := p.advance()
	e := &ast.Explain{Pos: t.pos}
	if p.isPunct("(") {
		p.p++
		for {
			opt := p.label()
			val := true
			switch v := p.peek(); {
			case v.kind == tIdent && (v.text == "true" || v.text == "on"):
				p.p++
			case v.kind == tIdent && (v.text == "false" || v.text == "off"):
				p.p++
				val = false
			case v.kind == tInt:
				p.p++
				val = v.text != "0"
			case v.kind == tIdent || v.kind == tString:
				p.p++ // FORMAT TEXT and the like: accepted, ignored
			}
			switch opt {
			case "analyze", "analyse":
				e.Analyze = val
			case "verbose":
				e.Verbose = val
			}
			if !p.acceptPunct(",") {
				break
			}
		}
		p.expectPunct(")")
	} else {
		if p.acceptKw("analyze") || p.acceptKw("analyse") {
			e.Analyze = true
		}
		if p.acceptKw("verbose") {
			e.Verbose = true
		}
	}
	switch {
	case p.isKw("select"), p.isKw("values"), p.isKw("with"), p.isKw("insert"), p.isKw("update"),
		p.isKw("delete"), p.isKw("table"), p.isPunct("("):
		e.Statement = p.parseStatement()
	default:
		p.fail(p.peek())
	}
	return e
}
