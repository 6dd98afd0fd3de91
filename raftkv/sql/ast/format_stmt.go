package ast

import "strings"

// statement writes the non-query statements.
func (f *formatter) statement(n Node) {
	switch n := n.(type) {
	case *Insert:
		f.with(n.With)
		f.s("INSERT INTO ")
		f.tableName(&n.Table)
		if len(n.Columns) > 0 {
			f.s(" (")
			f.idents(n.Columns)
			f.s(")")
		}
		if n.DefaultValues {
			f.s(" DEFAULT VALUES")
		} else if n.Rows != nil {
			f.s(" ")
			f.node(n.Rows)
		}
		if oc := n.OnConflict; oc != nil {
			f.s(" ON CONFLICT")
			if len(oc.Columns) > 0 {
				f.s(" (")
				f.idents(oc.Columns)
				f.s(")")
			} else if oc.Constraint != "" {
				f.s(" ON CONSTRAINT ")
				f.ident(oc.Constraint)
			}
			if oc.DoNothing {
				f.s(" DO NOTHING")
			} else {
				f.s(" DO UPDATE SET ")
				f.setClauses(oc.Set)
				if oc.Where != nil {
					f.s(" WHERE ")
					f.expr(oc.Where, 0)
				}
			}
		}
		f.returning(n.Returning)
	case *Update:
		f.with(n.With)
		f.s("UPDATE ")
		f.tableName(&n.Table)
		f.s(" SET ")
		f.setClauses(n.Set)
		if len(n.From) > 0 {
			f.s(" FROM ")
			f.tableExprs(n.From)
		}
		f.where(n.Where)
		f.returning(n.Returning)
	case *Delete:
		f.with(n.With)
		f.s("DELETE FROM ")
		f.tableName(&n.Table)
		if len(n.Using) > 0 {
			f.s(" USING ")
			f.tableExprs(n.Using)
		}
		f.where(n.Where)
		f.returning(n.Returning)
	case *Copy:
		f.s("COPY ")
		f.tableName(&n.Table)
		if len(n.Columns) > 0 {
			f.s(" (")
			f.idents(n.Columns)
			f.s(")")
		}
		if n.To {
			f.s(" TO STDOUT")
		} else {
			f.s(" FROM STDIN")
		}
		var opts []string
		if n.Format != "" {
			opts = append(opts, "FORMAT "+n.Format)
		}
		if n.Header {
			opts = append(opts, "HEADER")
		}
		if n.Delimiter != "" {
			opts = append(opts, "DELIMITER "+QuoteString(n.Delimiter))
		}
		if n.NullStr != nil {
			opts = append(opts, "NULL "+QuoteString(*n.NullStr))
		}
		if len(opts) > 0 {
			f.s(" WITH (", strings.Join(opts, ", "), ")")
		}
	case *CreateTable:
		f.s("CREATE TABLE ")
		if n.IfNotExists {
			f.s("IF NOT EXISTS ")
		}
		f.tableName(&n.Name)
		f.s(" (")
		for i, c := range n.Columns {
			if i > 0 {
				f.s(", ")
			}
			f.columnDef(&c)
		}
		for i, c := range n.Constraints {
			if i > 0 || len(n.Columns) > 0 {
				f.s(", ")
			}
			f.tableConstraint(&c)
		}
		f.s(")")
	case *DropTable:
		f.s("DROP TABLE ")
		if n.IfExists {
			f.s("IF EXISTS ")
		}
		for i := range n.Names {
			if i > 0 {
				f.s(", ")
			}
			f.tableName(&n.Names[i])
		}
		f.cascade(n.Cascade)
	case *AlterTable:
		f.s("ALTER TABLE ")
		if n.IfExists {
			f.s("IF EXISTS ")
		}
		f.tableName(&n.Name)
		for i, a := range n.Actions {
			if i > 0 {
				f.s(",")
			}
			f.s(" ")
			f.alterAction(&a)
		}
	case *CreateIndex:
		f.s("CREATE ")
		if n.Unique {
			f.s("UNIQUE ")
		}
		f.s("INDEX ")
		if n.IfNotExists {
			f.s("IF NOT EXISTS ")
		}
		if n.Name != "" {
			f.ident(n.Name)
			f.s(" ")
		}
		f.s("ON ")
		f.tableName(&n.Table)
		f.s(" (")
		for i, c := range n.Columns {
			if i > 0 {
				f.s(", ")
			}
			f.ident(c.Column)
			if c.Desc {
				f.s(" DESC")
			}
		}
		f.s(")")
		f.where(n.Where)
	case *DropIndex:
		f.s("DROP INDEX ")
		if n.IfExists {
			f.s("IF EXISTS ")
		}
		f.idents(n.Names)
		f.cascade(n.Cascade)
	case *Truncate:
		f.s("TRUNCATE ")
		for i := range n.Names {
			if i > 0 {
				f.s(", ")
			}
			f.tableName(&n.Names[i])
		}
		if n.RestartIdentity {
			f.s(" RESTART IDENTITY")
		}
		f.cascade(n.Cascade)
	case *CreateRole:
		f.s("CREATE ")
		if n.User {
			f.s("USER ")
		} else {
			f.s("ROLE ")
		}
		if n.IfNotExists {
			f.s("IF NOT EXISTS ")
		}
		f.ident(n.Name)
		f.roleOptions(n.Options)
	case *AlterRole:
		f.s("ALTER ROLE ")
		f.ident(n.Name)
		f.roleOptions(n.Options)
	case *DropRole:
		f.s("DROP ROLE ")
		if n.IfExists {
			f.s("IF EXISTS ")
		}
		f.idents(n.Names)
	case *Begin:
		if n.Start {
			f.s("START TRANSACTION")
		} else {
			f.s("BEGIN")
		}
		f.transactionModes(n.Isolation, n.ReadOnly)
	case *Commit:
		f.s("COMMIT")
	case *Rollback:
		f.s("ROLLBACK")
		if n.Savepoint != "" {
			f.s(" TO SAVEPOINT ")
			f.ident(n.Savepoint)
		}
	case *Savepoint:
		if n.Release {
			f.s("RELEASE SAVEPOINT ")
		} else {
			f.s("SAVEPOINT ")
		}
		f.ident(n.Name)
	case *SetTransaction:
		if n.Session {
			f.s("SET SESSION CHARACTERISTICS AS TRANSACTION")
		} else {
			f.s("SET TRANSACTION")
		}
		f.transactionModes(n.Isolation, n.ReadOnly)
	case *Set:
		if n.Reset {
			f.s("RESET ")
			if n.Name == "all" {
				f.s("ALL")
			} else {
				f.settingName(n.Name)
			}
			return
		}
		f.s("SET ")
		if n.Local {
			f.s("LOCAL ")
		}
		f.settingName(n.Name)
		f.s(" TO ")
		if n.Default {
			f.s("DEFAULT")
			return
		}
		for i, v := range n.Values {
			if i > 0 {
				f.s(", ")
			}
			if c, ok := v.(*ColumnRef); ok && c.Table == "" && !c.Star && simpleIdent(c.Column) && c.Column != "default" {
				f.s(c.Column) // SET reads any word, keywords included, as a name
				continue
			}
			f.expr(v, 0)
		}
	case *Show:
		f.s("SHOW ")
		if n.Name == "all" {
			f.s("ALL")
		} else {
			f.settingName(n.Name)
		}
	case *Explain:
		f.s("EXPLAIN ")
		if n.Analyze {
			f.s("ANALYZE ")
		}
		if n.Verbose {
			f.s("VERBOSE ")
		}
		f.node(n.Statement)
	case *Unsupported:
		f.s(n.Name)
	}
}

func (f *formatter) where(e Expr) {
	if e != nil {
		f.s(" WHERE ")
		f.expr(e, 0)
	}
}

func (f *formatter) returning(items []SelectItem) {
	if len(items) > 0 {
		f.s(" RETURNING ")
		f.selectItems(items)
	}
}

func (f *formatter) cascade(c bool) {
	if c {
		f.s(" CASCADE")
	}
}

func (f *formatter) settingName(name string) {
	for i, part := range strings.Split(name, ".") {
		if i > 0 {
			f.s(".")
		}
		if simpleIdent(part) {
			f.s(part) // any keyword is accepted as a setting name
		} else {
			f.ident(part)
		}
	}
}

func (f *formatter) setClauses(set []SetClause) {
	for i, sc := range set {
		if i > 0 {
			f.s(", ")
		}
		if len(sc.Columns) == 1 {
			f.ident(sc.Columns[0])
		} else {
			f.s("(")
			f.idents(sc.Columns)
			f.s(")")
		}
		f.s(" = ")
		f.expr(sc.Value, 0)
	}
}

func (f *formatter) transactionModes(isolation string, readOnly *bool) {
	if isolation != "" {
		f.s(" ISOLATION LEVEL ", isolation)
	}
	if readOnly != nil {
		if *readOnly {
			f.s(" READ ONLY")
		} else {
			f.s(" READ WRITE")
		}
	}
}

func (f *formatter) roleOptions(o RoleOptions) {
	var opts []string
	if o.Login != nil {
		if *o.Login {
			opts = append(opts, "LOGIN")
		} else {
			opts = append(opts, "NOLOGIN")
		}
	}
	if o.Superuser != nil {
		if *o.Superuser {
			opts = append(opts, "SUPERUSER")
		} else {
			opts = append(opts, "NOSUPERUSER")
		}
	}
	if o.PasswordNull {
		opts = append(opts, "PASSWORD NULL")
	} else if o.Password != nil {
		opts = append(opts, "PASSWORD "+QuoteString(*o.Password))
	}
	if len(opts) > 0 {
		f.s(" WITH ", strings.Join(opts, " "))
	}
}

func (f *formatter) columnDef(c *ColumnDef) {
	f.ident(c.Name)
	f.s(" ")
	f.typeName(c.Type)
	for i := range c.Constraints {
		f.s(" ")
		f.constraint(&c.Constraints[i], false)
	}
}

func (f *formatter) tableConstraint(c *Constraint) { f.constraint(c, true) }

// constraint writes c in column form (no column list) or table form.
func (f *formatter) constraint(c *Constraint, table bool) {
	if c.Name != "" {
		f.s("CONSTRAINT ")
		f.ident(c.Name)
		f.s(" ")
	}
	cols := func() {
		if table {
			f.s(" (")
			f.idents(c.Columns)
			f.s(")")
		}
	}
	switch c.Kind {
	case ConstrNotNull:
		f.s("NOT NULL")
	case ConstrNull:
		f.s("NULL")
	case ConstrDefault:
		f.s("DEFAULT ")
		f.expr(c.Expr, precIs+1)
	case ConstrPrimaryKey:
		f.s("PRIMARY KEY")
		cols()
	case ConstrUnique:
		f.s("UNIQUE")
		cols()
	case ConstrCheck:
		f.s("CHECK (")
		f.expr(c.Expr, 0)
		f.s(")")
	case ConstrForeignKey:
		if table {
			f.s("FOREIGN KEY")
			cols()
			f.s(" ")
		}
		f.s("REFERENCES ")
		f.tableName(&c.RefTable)
		if len(c.RefColumns) > 0 {
			f.s(" (")
			f.idents(c.RefColumns)
			f.s(")")
		}
		if c.OnDelete != "" {
			f.s(" ON DELETE ", c.OnDelete)
		}
		if c.OnUpdate != "" {
			f.s(" ON UPDATE ", c.OnUpdate)
		}
	case ConstrIdentity:
		if c.Always {
			f.s("GENERATED ALWAYS AS IDENTITY")
		} else {
			f.s("GENERATED BY DEFAULT AS IDENTITY")
		}
	}
}

func (f *formatter) alterAction(a *AlterAction) {
	switch a.Kind {
	case "ADD COLUMN":
		f.s("ADD COLUMN ")
		if a.IfNotExists {
			f.s("IF NOT EXISTS ")
		}
		if a.Column != nil {
			f.columnDef(a.Column)
		}
	case "ADD CONSTRAINT":
		f.s("ADD ")
		if a.Constraint != nil {
			f.tableConstraint(a.Constraint)
		}
	case "DROP COLUMN", "DROP CONSTRAINT":
		f.s(a.Kind, " ")
		if a.IfExists {
			f.s("IF EXISTS ")
		}
		f.ident(a.Name)
		f.cascade(a.Cascade)
	case "RENAME COLUMN":
		f.s("RENAME COLUMN ")
		f.ident(a.Name)
		f.s(" TO ")
		f.ident(a.NewName)
	case "RENAME TO":
		f.s("RENAME TO ")
		f.ident(a.NewName)
	case "ALTER COLUMN SET DEFAULT":
		f.s("ALTER COLUMN ")
		f.ident(a.Name)
		f.s(" SET DEFAULT ")
		f.expr(a.Default, 0)
	default: // ALTER COLUMN DROP DEFAULT / SET NOT NULL / DROP NOT NULL
		f.s("ALTER COLUMN ")
		f.ident(a.Name)
		f.s(" ", strings.TrimPrefix(a.Kind, "ALTER COLUMN "))
	}
}
