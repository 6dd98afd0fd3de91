// Package parser reads PostgreSQL-dialect SQL text into cairn's statement
// tree (package ast). It is a hand-written lexer and recursive-descent
// parser (precedence climbing for expressions) over a token slice, covering
// the subset cairn's engine executes plus recognition of common statements
// it does not support (returned as *ast.Unsupported).
//
// Every error is a *sqlerr.Error: 42601 with PostgreSQL's wording
// ("syntax error at or near \"x\"", "syntax error at end of input") and a
// 1-based character Position; 54000 "statement too complex" past MaxDepth
// levels of nesting; 0A000 for recognised constructs cairn does not support
// inside otherwise supported statements (window functions, array subscripts).
// The functions are safe for concurrent use.
//
// How PostgreSQL's special syntax comes out in the tree:
//   - Unquoted identifiers and keywords are folded to lower case; "quoted"
//     ones are kept as written.
//   - DATE '…', TIMESTAMP '…', INTERVAL '…' (any type name before a string)
//     and x::t are CastExpr; INTERVAL '3' DAY becomes CAST('3 day' AS interval).
//   - A minus sign directly before a numeric constant is folded into the
//     Literal (-5 is Literal "-5"); NOT EXISTS is ExistsExpr{Not: true};
//     != is <>; ~~ and friends are LIKE/ILIKE.
//   - CURRENT_TIMESTAMP, CURRENT_DATE, CURRENT_USER, SESSION_USER,
//     LOCALTIMESTAMP, … are FuncCall{Name: "current_timestamp"} without
//     arguments (with one for CURRENT_TIMESTAMP(3)).
//   - EXTRACT(field FROM x) is extract('field', x); SUBSTRING(x FROM a FOR b)
//     is substring(x, a, b) (FOR alone: substring(x, 1, b)); POSITION(a IN b)
//     is position(a, b), needle first; TRIM([LEADING|TRAILING|BOTH] [c] FROM s)
//     is ltrim/rtrim/btrim(s[, c]); x AT TIME ZONE z is timezone(z, x).
//   - x = ANY (ARRAY[…]) is x IN (…) and x <> ALL (ARRAY[…]) is x NOT IN (…);
//     other ANY/ALL operands than a subquery are 0A000.
//   - A parenthesised query with no clauses of its own is unwrapped; SET
//     values are Literals (strings, numbers) or ColumnRefs (any word).
package parser

import (
	"strconv"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// MaxDepth is the deepest nesting of expressions and subqueries accepted;
// deeper input is rejected with ProgramLimitExceeded rather than risking
// the stack.
const MaxDepth = 1000

// Parse returns every statement of sql, in order. Statements are separated
// by ';'; empty statements are skipped, so a blank string yields none.
func Parse(sql string) (stmts []ast.Statement, err error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	defer p.recover(&err)
	for {
		for p.acceptPunct(";") {
		}
		if p.peek().kind == tEOF {
			return stmts, nil
		}
		stmts = append(stmts, p.parseStatement())
		if !p.acceptPunct(";") && p.peek().kind != tEOF {
			p.fail(p.peek())
		}
	}
}

// ParseOne parses sql holding exactly one statement (a trailing ';' is
// allowed). A blank string or several statements is an error.
func ParseOne(sql string) (ast.Statement, error) {
	stmts, err := Parse(sql)
	if err != nil {
		return nil, err
	}
	switch len(stmts) {
	case 1:
		return stmts[0], nil
	case 0:
		return nil, sqlerr.New(sqlerr.SyntaxError, "syntax error at end of input").At(int32(charPos(sql, len(sql))))
	default:
		return nil, sqlerr.New(sqlerr.SyntaxError, "cannot insert multiple commands into a prepared statement")
	}
}

// ParseExpr parses sql as one scalar expression (as stored for DEFAULT and
// CHECK constraints by ast.Format).
func ParseExpr(sql string) (e ast.Expr, err error) {
	p, err := newParser(sql)
	if err != nil {
		return nil, err
	}
	defer p.recover(&err)
	e = p.parseExpr()
	if p.peek().kind != tEOF {
		p.fail(p.peek())
	}
	return e, nil
}

// parser is the state of one parse: the tokens and a cursor.
type parser struct {
	src   string
	toks  []token
	p     int
	depth int
	// subqueries memoises parseParenQueryOpt by token index.
	subqueries map[int]subqueryResult
}

// bailout carries a parse error up the stack to recover.
type bailout struct{ err *sqlerr.Error }

func newParser(sql string) (*parser, error) {
	toks, err := lex(sql)
	if err != nil {
		return nil, err
	}
	return &parser{src: sql, toks: toks}, nil
}

// recover turns a bailout panic into *errp; other panics propagate.
func (p *parser) recover(errp *error) {
	if r := recover(); r != nil {
		b, ok := r.(bailout)
		if !ok {
			panic(r)
		}
		*errp = b.err
	}
}

// try runs f; on a parse error it restores the cursor and reports false.
func (p *parser) try(f func()) (ok bool) {
	save, depth := p.p, p.depth
	defer func() {
		if r := recover(); r != nil {
			if _, isBail := r.(bailout); !isBail {
				panic(r)
			}
			p.p, p.depth = save, depth
			ok = false
		}
	}()
	f()
	return true
}

// fail reports a syntax error at t.
func (p *parser) fail(t *token) {
	panic(bailout{syntaxErr(t)})
}

func syntaxErr(t *token) *sqlerr.Error {
	if t.kind == tEOF {
		return sqlerr.New(sqlerr.SyntaxError, "syntax error at end of input").At(int32(t.pos))
	}
	return sqlerr.New(sqlerr.SyntaxError, "syntax error at or near \"%s\"", t.raw).At(int32(t.pos))
}

// unsupported reports a construct cairn parses but does not support (0A000) at t.
func (p *parser) unsupported(t *token, format string, args ...any) {
	panic(bailout{sqlerr.New(sqlerr.FeatureNotSupported, format, args...).At(int32(t.pos))})
}

// enter counts one level of nesting; leave undoes it.
func (p *parser) enter() {
	p.depth++
	if p.depth > MaxDepth {
		panic(bailout{sqlerr.New(sqlerr.ProgramLimitExceeded, "statement too complex: more than %d levels of nesting", MaxDepth).At(int32(p.peek().pos))})
	}
}

func (p *parser) leave() { p.depth-- }

// ---- token cursor ----

func (p *parser) peek() *token { return &p.toks[p.p] }

func (p *parser) peekN(n int) *token {
	if p.p+n >= len(p.toks) {
		return &p.toks[len(p.toks)-1]
	}
	return &p.toks[p.p+n]
}

func (p *parser) advance() *token {
	t := &p.toks[p.p]
	if t.kind != tEOF {
		p.p++
	}
	return t
}

// isKw reports whether the current token is the unquoted keyword kw.
func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && t.text == kw
}

func (p *parser) isKwN(n int, kw string) bool {
	t := p.peekN(n)
	return t.kind == tIdent && t.text == kw
}

// acceptKw consumes the keyword sequence kws when all of it is next.
func (p *parser) acceptKw(kws ...string) bool {
	for i, kw := range kws {
		if !p.isKwN(i, kw) {
			return false
		}
	}
	p.p += len(kws)
	return true
}

func (p *parser) expectKw(kws ...string) {
	for _, kw := range kws {
		if !p.isKw(kw) {
			p.fail(p.peek())
		}
		p.p++
	}
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) acceptPunct(s string) bool {
	if p.isPunct(s) {
		p.p++
		return true
	}
	return false
}

func (p *parser) expectPunct(s string) *token {
	t := p.peek()
	if t.kind != tPunct || t.text != s {
		p.fail(t)
	}
	p.p++
	return t
}

func (p *parser) isOp(s string) bool {
	t := p.peek()
	return t.kind == tOp && t.text == s
}

func (p *parser) acceptOp(s string) bool {
	if p.isOp(s) {
		p.p++
		return true
	}
	return false
}

// ident consumes a name that may be used as a column, table or alias: an
// unreserved unquoted identifier or any quoted one.
func (p *parser) ident() string {
	t := p.peek()
	if t.kind == tQIdent || (t.kind == tIdent && !reserved[t.text]) {
		p.p++
		return t.text
	}
	p.fail(t)
	return ""
}

// isIdent reports whether the current token can be consumed by ident.
func (p *parser) isIdent() bool {
	t := p.peek()
	return t.kind == tQIdent || (t.kind == tIdent && !reserved[t.text])
}

// label consumes any identifier, keywords included (after AS and '.').
func (p *parser) label() string {
	t := p.peek()
	if t.kind == tQIdent || t.kind == tIdent {
		p.p++
		return t.text
	}
	p.fail(t)
	return ""
}

// identList parses ( name, … ).
func (p *parser) identList() []string {
	p.expectPunct("(")
	var names []string
	for {
		names = append(names, p.ident())
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	return names
}

// intValue consumes an integer constant that fits an int.
func (p *parser) intValue() int {
	t := p.peek()
	if t.kind != tInt {
		p.fail(t)
	}
	n, err := strconv.Atoi(t.text)
	if err != nil || n > 1<<31-1 {
		panic(bailout{sqlerr.New(sqlerr.NumericValueOutOfRange, "integer %s is out of range", t.text).At(int32(t.pos))})
	}
	p.p++
	return n
}

// stringValue consumes a string constant.
func (p *parser) stringValue() string {
	t := p.peek()
	if t.kind != tString {
		p.fail(t)
	}
	p.p++
	return t.text
}

// skipParens skips a balanced ( … ) group starting at the current '(';
// it never crosses the end of the statement.
func (p *parser) skipParens() {
	p.expectPunct("(")
	depth := 1
	for depth > 0 {
		t := p.advance()
		switch {
		case t.kind == tEOF, t.kind == tPunct && t.text == ";":
			p.fail(t)
		case t.kind == tPunct && t.text == "(":
			depth++
		case t.kind == tPunct && t.text == ")":
			depth--
		}
	}
}

// skipStatement skips to the end of the current statement (';' or end).
func (p *parser) skipStatement() {
	for {
		t := p.peek()
		if t.kind == tEOF || (t.kind == tPunct && t.text == ";") {
			return
		}
		p.p++
	}
}
