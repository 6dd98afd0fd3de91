package parser

import (
	"strings"

	"cairn.dev/cairn/raftkv/sql/ast"
)

// parseCreate parses CREATE TABLE | [UNIQUE] INDEX | ROLE | USER, and
// recognises the unsupported CREATE statements.
func (p *parser) parseCreate() ast.Statement {
	t := p.advance()
	if p.acceptKw("or", "replace") {
		if st := p.unsupportedObject("CREATE", t); st != nil {
			return st
		}
		p.fail(p.peek())
	}
	switch {
	case p.isKw("temp") || p.isKw("temporary"):
		return p.unsupportedStatement("CREATE TEMPORARY TABLE", t)
	case p.acceptKw("unlogged"):
		if !p.isKw("table") {
			p.fail(p.peek())
		}
		return p.parseCreateTable(t)
	case p.isKw("table"):
		return p.parseCreateTable(t)
	case p.isKw("index"):
		return p.parseCreateIndex(t, false)
	case p.isKw("unique") && p.isKwN(1, "index"):
		p.p++
		return p.parseCreateIndex(t, true)
	case p.isKw("role"), p.isKw("user") && !p.isKwN(1, "mapping"):
		return p.parseCreateRole(t)
	}
	if st := p.unsupportedObject("CREATE", t); st != nil {
		return st
	}
	p.fail(p.peek())
	return nil
}

// parseCreateTable parses TABLE [IF NOT EXISTS] name ( elements ) [WITH (…)].
func (p *parser) parseCreateTable(start *token) ast.Statement {
	p.expectKw("table")
	ct := &ast.CreateTable{Pos: start.pos}
	ct.IfNotExists = p.acceptKw("if", "not", "exists")
	ct.Name = p.parseTableName()
	if p.isKw("as") || p.isKw("of") || p.isKw("partition") {
		return p.unsupportedStatement("CREATE TABLE "+upper(p.peek().text), start)
	}
	p.expectPunct("(")
	if !p.isPunct(")") {
		for {
			if p.isKw("like") {
				p.unsupported(p.peek(), "CREATE TABLE … (LIKE …) is not supported")
			}
			if p.isTableConstraintStart() {
				ct.Constraints = append(ct.Constraints, p.parseTableConstraint())
			} else {
				ct.Columns = append(ct.Columns, p.parseColumnDef())
			}
			if !p.acceptPunct(",") {
				break
			}
		}
	}
	p.expectPunct(")")
	for {
		switch {
		case p.isKw("inherits"), p.isKw("partition"):
			p.unsupported(p.peek(), "CREATE TABLE … %s is not supported", upper(p.peek().text))
		case p.isKw("with") && p.isPunct2(1, "("):
			p.p++
			p.skipParens() // storage parameters (fillfactor=…): ignored
		case p.acceptKw("with", "oids"), p.acceptKw("without", "oids"):
		case p.acceptKw("tablespace"):
			p.ident()
		case p.acceptKw("on", "commit"):
			p.unsupported(p.peek(), "ON COMMIT is not supported")
		default:
			return ct
		}
	}
}

func (p *parser) isPunct2(n int, s string) bool {
	t := p.peekN(n)
	return t.kind == tPunct && t.text == s
}

// isTableConstraintStart reports whether a table constraint starts here.
func (p *parser) isTableConstraintStart() bool {
	switch {
	case p.isKw("constraint"), p.isKw("check"), p.isKw("unique"):
		return true
	case p.isKw("exclude") && (p.isPunct2(1, "(") || p.isKwN(1, "using")):
		return true
	case p.isKw("primary") && p.isKwN(1, "key"), p.isKw("foreign") && p.isKwN(1, "key"):
		return true
	}
	return false
}

// parseColumnDef parses name type [constraints].
func (p *parser) parseColumnDef() ast.ColumnDef {
	t := p.peek()
	col := ast.ColumnDef{Name: p.ident(), Pos: t.pos}
	col.Type = p.parseTypeName()
	for {
		c, ok := p.parseColumnConstraint()
		if !ok {
			return col
		}
		col.Constraints = append(col.Constraints, c)
	}
}

// parseColumnConstraint parses one column constraint; ok is false when
// none follows.
func (p *parser) parseColumnConstraint() (ast.Constraint, bool) {
	t := p.peek()
	c := ast.Constraint{Pos: t.pos}
	if p.acceptKw("constraint") {
		c.Name = p.ident()
	}
	switch {
	case p.acceptKw("not", "null"):
		c.Kind = ast.ConstrNotNull
	case p.acceptKw("null"):
		c.Kind = ast.ConstrNull
	case p.acceptKw("default"):
		c.Kind = ast.ConstrDefault
		c.Expr = p.parseExprPrec(precIs + 1)
	case p.acceptKw("primary", "key"):
		c.Kind = ast.ConstrPrimaryKey
		p.skipIndexParams()
	case p.acceptKw("unique"):
		c.Kind = ast.ConstrUnique
		p.acceptKw("nulls", "distinct")
		p.skipIndexParams()
	case p.acceptKw("check"):
		c.Kind = ast.ConstrCheck
		p.expectPunct("(")
		c.Expr = p.parseExpr()
		p.expectPunct(")")
		p.acceptKw("no", "inherit")
	case p.acceptKw("references"):
		c.Kind = ast.ConstrForeignKey
		p.parseReferences(&c)
	case p.acceptKw("generated"):
		c.Kind = ast.ConstrIdentity
		switch {
		case p.acceptKw("always"):
			c.Always = true
		case p.acceptKw("by", "default"):
		default:
			p.fail(p.peek())
		}
		p.expectKw("as")
		if p.isPunct("(") {
			p.unsupported(p.peek(), "generated columns are not supported")
		}
		p.expectKw("identity")
		if p.isPunct("(") {
			p.skipParens() // sequence options: ignored
		}
	case p.isKw("collate"):
		p.unsupported(p.peek(), "COLLATE is not supported")
	default:
		if c.Name != "" {
			p.fail(p.peek())
		}
		return c, false
	}
	p.skipConstraintTiming()
	return c, true
}

// skipIndexParams skips USING INDEX TABLESPACE x and WITH (…) after a key constraint.
func (p *parser) skipIndexParams() {
	for {
		switch {
		case p.isKw("with") && p.isPunct2(1, "("):
			p.p++
			p.skipParens()
		case p.acceptKw("using", "index", "tablespace"):
			p.ident()
		default:
			return
		}
	}
}

// skipConstraintTiming skips [NOT] DEFERRABLE and INITIALLY DEFERRED|IMMEDIATE.
func (p *parser) skipConstraintTiming() {
	for {
		switch {
		case p.acceptKw("deferrable"), p.acceptKw("not", "deferrable"),
			p.acceptKw("initially", "deferred"), p.acceptKw("initially", "immediate"),
			p.acceptKw("not", "valid"):
		default:
			return
		}
	}
}

// parseReferences parses the part after REFERENCES: t [(cols)] [MATCH …] [ON DELETE a] [ON UPDATE a].
func (p *parser) parseReferences(c *ast.Constraint) {
	c.RefTable = p.parseTableName()
	if p.isPunct("(") {
		c.RefColumns = p.identList()
	}
	for {
		switch {
		case p.acceptKw("match", "full"), p.acceptKw("match", "simple"):
		case p.isKw("match") && p.isKwN(1, "partial"):
			p.unsupported(p.peekN(1), "MATCH PARTIAL is not supported")
		case p.acceptKw("on", "delete"):
			c.OnDelete = p.parseRefAction()
		case p.acceptKw("on", "update"):
			c.OnUpdate = p.parseRefAction()
		default:
			return
		}
	}
}

func (p *parser) parseRefAction() string {
	switch {
	case p.acceptKw("no", "action"):
		return "NO ACTION"
	case p.acceptKw("restrict"):
		return "RESTRICT"
	case p.acceptKw("cascade"):
		return "CASCADE"
	case p.acceptKw("set", "null"):
		return "SET NULL"
	case p.acceptKw("set", "default"):
		return "SET DEFAULT"
	}
	p.fail(p.peek())
	return ""
}

// parseTableConstraint parses [CONSTRAINT name] PRIMARY KEY (…) | UNIQUE (…) |
// CHECK (…) | FOREIGN KEY (…) REFERENCES ….
func (p *parser) parseTableConstraint() ast.Constraint {
	t := p.peek()
	c := ast.Constraint{Pos: t.pos}
	if p.acceptKw("constraint") {
		c.Name = p.ident()
	}
	switch {
	case p.acceptKw("primary", "key"):
		c.Kind = ast.ConstrPrimaryKey
		c.Columns = p.identList()
		p.skipIndexParams()
	case p.acceptKw("unique"):
		c.Kind = ast.ConstrUnique
		p.acceptKw("nulls", "distinct")
		c.Columns = p.identList()
		p.skipIndexParams()
	case p.acceptKw("check"):
		c.Kind = ast.ConstrCheck
		p.expectPunct("(")
		c.Expr = p.parseExpr()
		p.expectPunct(")")
		p.acceptKw("no", "inherit")
	case p.acceptKw("foreign", "key"):
		c.Kind = ast.ConstrForeignKey
		c.Columns = p.identList()
		p.expectKw("references")
		p.parseReferences(&c)
	case p.isKw("exclude"):
		p.unsupported(p.peek(), "EXCLUDE constraints are not supported")
	default:
		p.fail(p.peek())
	}
	p.skipConstraintTiming()
	return c
}

// parseCreateIndex parses INDEX [CONCURRENTLY] [IF NOT EXISTS] [name] ON t
// [USING method] (col [ASC|DESC] [NULLS …], …) [INCLUDE …] [WITH (…)] [WHERE …].
func (p *parser) parseCreateIndex(start *token, unique bool) ast.Statement {
	p.expectKw("index")
	ci := &ast.CreateIndex{Unique: unique, Pos: start.pos}
	p.acceptKw("concurrently")
	ci.IfNotExists = p.acceptKw("if", "not", "exists")
	if !p.isKw("on") {
		ci.Name = p.ident()
		if p.acceptPunct(".") { // schema-qualified index name: the schema is implied by the table
			ci.Name = p.label()
		}
	}
	p.expectKw("on")
	p.acceptKw("only")
	ci.Table = p.parseTableName()
	if p.acceptKw("using") {
		m := p.peek()
		if method := p.ident(); method != "btree" && method != "hash" {
			p.unsupported(m, "index method %s is not supported", method)
		}
	}
	p.expectPunct("(")
	for {
		t := p.peek()
		if t.kind == tPunct && t.text == "(" || (t.kind == tIdent && p.isPunct2(1, "(")) {
			p.unsupported(t, "index expressions are not supported")
		}
		col := ast.IndexColumn{Column: p.ident()}
		if p.isKw("collate") {
			p.unsupported(p.peek(), "COLLATE is not supported")
		}
		if p.isIdent() && !p.isKw("nulls") {
			p.unsupported(p.peek(), "index operator classes are not supported")
		}
		if p.acceptKw("desc") {
			col.Desc = true
		} else {
			p.acceptKw("asc")
		}
		if p.acceptKw("nulls") {
			if !p.acceptKw("first") {
				p.expectKw("last")
			}
		}
		ci.Columns = append(ci.Columns, col)
		if !p.acceptPunct(",") {
			break
		}
	}
	p.expectPunct(")")
	if p.isKw("include") {
		p.unsupported(p.peek(), "INCLUDE is not supported")
	}
	p.acceptKw("nulls", "distinct")
	if p.isKw("with") && p.isPunct2(1, "(") {
		p.p++
		p.skipParens()
	}
	if p.acceptKw("tablespace") {
		p.ident()
	}
	if p.acceptKw("where") {
		ci.Where = p.parseExpr()
	}
	return ci
}

// parseDrop parses DROP TABLE | INDEX | ROLE | USER and recognises the unsupported DROPs.
func (p *parser) parseDrop() ast.Statement {
	t := p.advance()
	switch {
	case p.acceptKw("table"):
		d := &ast.DropTable{Pos: t.pos}
		d.IfExists = p.acceptKw("if", "exists")
		for {
			d.Names = append(d.Names, p.parseTableName())
			if !p.acceptPunct(",") {
				break
			}
		}
		d.Cascade = p.parseDropBehavior()
		return d
	case p.acceptKw("index"):
		d := &ast.DropIndex{Pos: t.pos}
		p.acceptKw("concurrently")
		d.IfExists = p.acceptKw("if", "exists")
		for {
			name := p.parseTableName()
			d.Names = append(d.Names, name.Name)
			if !p.acceptPunct(",") {
				break
			}
		}
		d.Cascade = p.parseDropBehavior()
		return d
	case p.isKw("role"), p.isKw("user") && !p.isKwN(1, "mapping"):
		p.p++
		d := &ast.DropRole{Pos: t.pos}
		d.IfExists = p.acceptKw("if", "exists")
		for {
			d.Names = append(d.Names, p.roleName())
			if !p.acceptPunct(",") {
				break
			}
		}
		return d
	}
	if st := p.unsupportedObject("DROP", t); st != nil {
		return st
	}
	p.fail(p.peek())
	return nil
}

// parseDropBehavior parses [CASCADE | RESTRICT]; true for CASCADE.
func (p *parser) parseDropBehavior() bool {
	if p.acceptKw("cascade") {
		return true
	}
	p.acceptKw("restrict")
	return false
}

// parseTruncate parses TRUNCATE [TABLE] [ONLY] names [RESTART|CONTINUE IDENTITY] [CASCADE|RESTRICT].
func (p *parser) parseTruncate() ast.Statement {
	t := p.advance()
	tr := &ast.Truncate{Pos: t.pos}
	p.acceptKw("table")
	for {
		p.acceptKw("only")
		tr.Names = append(tr.Names, p.parseTableName())
		if !p.acceptPunct(",") {
			break
		}
	}
	if p.acceptKw("restart", "identity") {
		tr.RestartIdentity = true
	} else {
		p.acceptKw("continue", "identity")
	}
	tr.Cascade = p.parseDropBehavior()
	return tr
}

// parseAlter parses ALTER TABLE | ROLE | USER and recognises the unsupported ALTERs.
func (p *parser) parseAlter() ast.Statement {
	t := p.advance()
	switch {
	case p.isKw("table"):
		return p.parseAlterTable(t)
	case p.isKw("role"), p.isKw("user") && !p.isKwN(1, "mapping"):
		p.p++
		name := p.roleName()
		if p.isKw("rename") || p.isKw("set") || p.isKw("reset") || p.isKw("in") {
			return p.unsupportedStatement("ALTER ROLE "+upper(p.peek().text), t)
		}
		return &ast.AlterRole{Name: name, Options: p.parseRoleOptions(), Pos: t.pos}
	case p.isKw("index"):
		return p.unsupportedStatement("ALTER INDEX", t)
	}
	if st := p.unsupportedObject("ALTER", t); st != nil {
		return st
	}
	p.fail(p.peek())
	return nil
}

// parseAlterTable parses TABLE [IF EXISTS] [ONLY] name action, ….
func (p *parser) parseAlterTable(start *token) ast.Statement {
	p.expectKw("table")
	at := &ast.AlterTable{Pos: start.pos}
	at.IfExists = p.acceptKw("if", "exists")
	p.acceptKw("only")
	at.Name = p.parseTableName()
	for {
		act, unsupported := p.parseAlterAction()
		if unsupported != "" {
			return p.unsupportedStatement("ALTER TABLE "+unsupported, start)
		}
		at.Actions = append(at.Actions, act)
		if !p.acceptPunct(",") {
			return at
		}
	}
}

// parseAlterAction parses one ALTER TABLE action; unsupported names an
// action cairn recognises but does not support.
func (p *parser) parseAlterAction() (act ast.AlterAction, unsupported string) {
	switch {
	case p.acceptKw("add"):
		if p.isTableConstraintStart() {
			c := p.parseTableConstraint()
			return ast.AlterAction{Kind: "ADD CONSTRAINT", Constraint: &c}, ""
		}
		p.acceptKw("column")
		act.Kind = "ADD COLUMN"
		act.IfNotExists = p.acceptKw("if", "not", "exists")
		col := p.parseColumnDef()
		act.Column = &col
	case p.acceptKw("drop"):
		if p.acceptKw("constraint") {
			act.Kind = "DROP CONSTRAINT"
		} else {
			p.acceptKw("column")
			act.Kind = "DROP COLUMN"
		}
		act.IfExists = p.acceptKw("if", "exists")
		act.Name = p.ident()
		act.Cascade = p.parseDropBehavior()
	case p.acceptKw("rename"):
		switch {
		case p.acceptKw("to"):
			act.Kind = "RENAME TO"
			act.NewName = p.ident()
			return act, ""
		case p.isKw("constraint"):
			return act, "RENAME CONSTRAINT"
		}
		p.acceptKw("column")
		act.Kind = "RENAME COLUMN"
		act.Name = p.ident()
		p.expectKw("to")
		act.NewName = p.ident()
	case p.acceptKw("alter"):
		p.acceptKw("column")
		act.Name = p.ident()
		switch {
		case p.acceptKw("set", "default"):
			act.Kind = "ALTER COLUMN SET DEFAULT"
			act.Default = p.parseExpr()
		case p.acceptKw("drop", "default"):
			act.Kind = "ALTER COLUMN DROP DEFAULT"
		case p.acceptKw("set", "not", "null"):
			act.Kind = "ALTER COLUMN SET NOT NULL"
		case p.acceptKw("drop", "not", "null"):
			act.Kind = "ALTER COLUMN DROP NOT NULL"
		case p.isKw("type"), p.isKw("set") && p.isKwN(1, "data"):
			return act, "ALTER COLUMN TYPE"
		default:
			if p.isIdent() {
				return act, "ALTER COLUMN " + upper(p.peek().text)
			}
			p.fail(p.peek())
		}
	default:
		t := p.peek()
		if t.kind == tIdent {
			return act, upper(t.text)
		}
		p.fail(t)
	}
	return act, ""
}

// roleName consumes a role name.
func (p *parser) roleName() string { return p.ident() }

// parseCreateRole parses ROLE|USER [IF NOT EXISTS] name [[WITH] options].
func (p *parser) parseCreateRole(start *token) ast.Statement {
	kind := p.advance()
	cr := &ast.CreateRole{User: kind.text == "user", Pos: start.pos}
	cr.IfNotExists = p.acceptKw("if", "not", "exists")
	cr.Name = p.roleName()
	cr.Options = p.parseRoleOptions()
	return cr
}

// parseRoleOptions parses [WITH] LOGIN | NOLOGIN | SUPERUSER | NOSUPERUSER |
// [ENCRYPTED] PASSWORD 's' | PASSWORD NULL, ignoring the privileges cairn
// does not model (CREATEDB, CREATEROLE, INHERIT, REPLICATION, BYPASSRLS,
// CONNECTION LIMIT n, VALID UNTIL 's').
func (p *parser) parseRoleOptions() ast.RoleOptions {
	var o ast.RoleOptions
	p.acceptKw("with")
	yes, no := true, false
	for {
		t := p.peek()
		if t.kind != tIdent {
			return o
		}
		switch t.text {
		case "login":
			o.Login = &yes
		case "nologin":
			o.Login = &no
		case "superuser":
			o.Superuser = &yes
		case "nosuperuser":
			o.Superuser = &no
		case "encrypted", "password":
			p.p++
			if t.text == "encrypted" {
				p.expectKw("password")
			}
			if p.acceptKw("null") {
				o.PasswordNull = true
				o.Password = nil
			} else {
				s := p.stringValue()
				o.Password = &s
				o.PasswordNull = false
			}
			continue
		case "connection":
			p.p++
			p.expectKw("limit")
			if p.acceptOp("-") {
				p.intValue()
			} else {
				p.intValue()
			}
			continue
		case "valid":
			p.p++
			p.expectKw("until")
			p.stringValue()
			continue
		default:
			if !strings.HasPrefix(t.text, "no") || !ignoredRoleOptions[t.text[2:]] {
				if !ignoredRoleOptions[t.text] {
					return o
				}
			}
		}
		p.p++
	}
}

var ignoredRoleOptions = setOf("createdb", "createrole", "inherit", "replication", "bypassrls")
