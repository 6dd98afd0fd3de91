package schema

import (
	"context"
	"slices"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/parser"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// AlterTable is AlterTableWith without an evaluator: actions that must
// evaluate SQL over existing rows (a CHECK added to a table with rows, ADD
// COLUMN with a non-constant DEFAULT or SERIAL on a table with rows) are
// 0A000.
func AlterTable(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, stmt *ast.AlterTable) error {
	return AlterTableWith(ctx, txn, cat, stmt, nil)
}

// AlterTableWith runs the actions of ALTER TABLE in order, all or nothing:
//
//   - ADD COLUMN: existing rows read a constant DEFAULT without being
//     rewritten (Column.AddedDefault); a non-constant DEFAULT (now(),
//     SERIAL's nextval) is evaluated by ev.EvalDefault for each existing row,
//     which is rewritten; NOT NULL without a default on a table with rows is
//     23502; inline constraints as ADD CONSTRAINT.
//   - DROP COLUMN: drops the indexes, CHECKs and foreign keys that use the
//     column, and its owned sequence; a foreign key of another table
//     referencing it is 2BP01 unless CASCADE. Rows are not rewritten, except
//     when a primary key column goes: the table then gets a hidden rowid and
//     every row is rewritten under it.
//   - ADD CONSTRAINT: UNIQUE (indexes existing rows: 23505), CHECK (checks
//     existing rows with ev: 23514), FOREIGN KEY (checks existing rows:
//     23503), PRIMARY KEY (replaces the hidden rowid; the rows are rewritten
//     under the new key: 23502 for a NULL, 23505 for a duplicate).
//   - DROP CONSTRAINT (the primary key: rows rewritten under a hidden rowid;
//     2BP01 when a foreign key needs it, unless CASCADE), RENAME COLUMN
//     (CHECK expressions follow), RENAME TO,
//     ALTER COLUMN SET/DROP DEFAULT, SET NOT NULL (23502 when a row has
//     NULL), DROP NOT NULL (42P16 for a primary key column).
//
// Rewrites and backfills are writes of txn: a table larger than the
// transaction's write limits cannot be rewritten (54000). Other actions are
// 0A000. A missing table is 42P01 (nil with IF EXISTS).
func AlterTableWith(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, stmt *ast.AlterTable, ev Evaluator) error {
	d := newDDL(ctx, txn, cat)
	t, err := d.cat.lookupTable(stmt.Name)
	if err != nil {
		if stmt.IfExists && sqlerr.Code(err) == sqlerr.UndefinedTable {
			return nil
		}
		return err
	}
	for i := range stmt.Actions {
		// Renames and drops may replace the table in the working catalog.
		t = d.cat.tables[t.Name]
		if err := d.alter(t, &stmt.Actions[i], ev); err != nil {
			return err
		}
	}
	return d.commit()
}

func (d *ddl) alter(t *Table, a *ast.AlterAction, ev Evaluator) error {
	switch a.Kind {
	case "ADD COLUMN":
		return d.alterAddColumn(t, a, ev)
	case "DROP COLUMN":
		return d.alterDropColumn(t, a)
	case "ADD CONSTRAINT":
		if a.Constraint == nil {
			return sqlerr.New(sqlerr.SyntaxError, "ADD CONSTRAINT without a constraint")
		}
		err := d.addConstraint(t, a.Constraint, &alterRows{ev: ev})
		d.putTable(t)
		return err
	case "DROP CONSTRAINT":
		return d.alterDropConstraint(t, a)
	case "RENAME COLUMN":
		return d.alterRenameColumn(t, a)
	case "RENAME TO":
		if err := checkIdent("table", a.NewName); err != nil {
			return err
		}
		if d.cat.relationKind(a.NewName) != "" {
			return errDuplicateRelation(a.NewName)
		}
		d.renameTable(t, a.NewName)
		return nil
	case "ALTER COLUMN SET DEFAULT", "ALTER COLUMN DROP DEFAULT", "ALTER COLUMN SET NOT NULL", "ALTER COLUMN DROP NOT NULL":
		return d.alterColumn(t, a)
	}
	return sqlerr.New(sqlerr.FeatureNotSupported, "ALTER TABLE %s is not supported", a.Kind)
}

// column finds a visible column of t by name (42703 otherwise).
func column(t *Table, name string) (int, error) {
	o, ok := t.Column(name)
	if !ok || t.Columns[o].Hidden {
		return -1, errUndefinedColumn(t.Name, name)
	}
	return o, nil
}

func (d *ddl) alterAddColumn(t *Table, a *ast.AlterAction, ev Evaluator) error {
	def := a.Column
	if def == nil {
		return sqlerr.New(sqlerr.SyntaxError, "ADD COLUMN without a column")
	}
	if o, ok := t.Column(def.Name); ok && !t.Columns[o].Hidden && a.IfNotExists {
		return nil
	}
	cons, err := d.addColumn(t, def, false)
	if err != nil {
		return err
	}
	d.putTable(t)
	o := len(t.Columns) - 1
	col := &t.Columns[o]
	empty, err := tableEmpty(d.ctx, d.txn, t)
	if err != nil {
		return err
	}
	switch {
	case !empty && col.Sequence != "":
		if err := d.numberRows(t, o); err != nil {
			return err
		}
	case !empty && col.Default != "":
		var defExpr ast.Expr
		for _, c := range def.Constraints {
			if c.Kind == ast.ConstrDefault {
				defExpr = c.Expr
			}
		}
		v, constant := value.Value{}, false
		if defExpr != nil {
			if v, constant, err = constValue(defExpr, col.Type); err != nil {
				return err
			}
		}
		switch {
		case constant:
			if !v.IsNull() {
				col.AddedDefault = &v
			}
		case ev == nil:
			return sqlerr.New(sqlerr.FeatureNotSupported, "ADD COLUMN \"%s\" with a non-constant default on a table with rows needs an evaluator (AlterTableWith)", def.Name)
		default:
			if err := d.fillColumn(t, o, ev); err != nil {
				return err
			}
		}
	}
	if !empty && col.NotNull {
		if err := d.checkNoNulls(t, o); err != nil {
			return err
		}
	}
	for i := range cons {
		if err := d.addConstraint(t, &cons[i], &alterRows{ev: ev}); err != nil {
			return err
		}
	}
	d.putTable(t)
	return nil
}

// numberRows fills the new SERIAL/identity column o of every existing row
// with 1, 2, … in primary key order and starts its sequence after them: the
// sequence's start is part of its descriptor, so this stays transactional
// and needs no NextVal.
func (d *ddl) numberRows(t *Table, o int) error {
	var rows []Row
	if err := Scan(d.ctx, d.txn, t, -1, nil, nil, func(r Row) (bool, error) {
		rows = append(rows, r)
		return true, nil
	}); err != nil {
		return err
	}
	s := d.cat.seqs[t.Columns[o].Sequence]
	if int64(len(rows)) > s.Max {
		return sqlerr.New(codeSequenceLimit, "nextval: reached maximum value of sequence \"%s\" (%d)", s.Name, s.Max)
	}
	for i, r := range rows {
		v, err := value.AssignCast(value.NewInt(int64(i)+1), t.Columns[o].Type)
		if err != nil {
			return err
		}
		r[o] = v
		if err := d.txn.Put(rowKey(t, pkSuffix(t, r)), encodeRowValue(t, r)); err != nil {
			return txnErr(err)
		}
	}
	s.Start = int64(len(rows)) + 1
	d.putSequence(s)
	return nil
}

// fillColumn rewrites every row of t with ev's default for column o.
func (d *ddl) fillColumn(t *Table, o int, ev Evaluator) error {
	var rows []Row
	if err := Scan(d.ctx, d.txn, t, -1, nil, nil, func(r Row) (bool, error) {
		rows = append(rows, r)
		return true, nil
	}); err != nil {
		return err
	}
	for _, r := range rows {
		v, err := ev.EvalDefault(t, o)
		if err != nil {
			return err
		}
		if v.IsNull() {
			r[o] = value.NullOf(t.Columns[o].Type)
		} else if r[o], err = value.AssignCast(v, t.Columns[o].Type); err != nil {
			return err
		}
		pk := pkSuffix(t, r)
		if err := d.txn.Put(rowKey(t, pk), encodeRowValue(t, r)); err != nil {
			return txnErr(err)
		}
	}
	return nil
}

func (d *ddl) alterDropColumn(t *Table, a *ast.AlterAction) error {
	o, ok := t.Column(a.Name)
	if !ok || t.Columns[o].Hidden {
		if a.IfExists {
			return nil
		}
		return errUndefinedColumn(t.Name, a.Name)
	}
	col := t.Columns[o]
	// Foreign keys of other tables referencing the column.
	for _, ref := range slices.Clone(t.ReferencedBy) {
		child := d.cat.tables[ref.Table]
		fk := child.ForeignKeys[ref.Index]
		if child == t || !slices.Contains(fk.RefColumns, o) {
			continue
		}
		if !a.Cascade {
			return dependents("column "+col.Name+" of table "+t.Name, "constraint "+fk.Name+" on table "+child.Name)
		}
		d.removeForeignKey(child, fk.Name)
	}
	var rows []storedRow
	var err error
	if t.isPK(o) {
		// The table loses its primary key: its rows are rewritten under a
		// hidden rowid.
		if rows, err = d.readAll(t); err != nil {
			return err
		}
		t.PrimaryKey, t.PrimaryKeyName = nil, ""
	}
	for i := len(t.Indexes) - 1; i >= 0; i-- {
		if slices.Contains(t.Indexes[i].Columns, o) {
			if err := d.dropIndex(t, i, a.Cascade); err != nil {
				return err
			}
		}
	}
	t.Checks = slices.DeleteFunc(t.Checks, func(c Check) bool { return slices.Contains(c.Columns, o) })
	for i := len(t.ForeignKeys) - 1; i >= 0; i-- {
		fk := t.ForeignKeys[i]
		if slices.Contains(fk.Columns, o) || (fk.RefTable == t.Name && slices.Contains(fk.RefColumns, o)) {
			d.removeForeignKey(t, fk.Name)
		}
	}
	for _, s := range d.ownedSequences(t.Name, col.Name) {
		d.dropSequence(s)
	}
	d.removeColumn(t, o)
	if len(t.PrimaryKey) == 0 {
		if err := d.addHiddenKey(t); err != nil {
			return err
		}
		if len(rows) > 0 {
			if err := d.rewrite(t, rows); err != nil {
				return err
			}
		}
	}
	d.putTable(t)
	d.cat.reindex()
	return nil
}

func dependents(what, dep string) error {
	return &sqlerr.Error{Code: sqlerr.DependentObjectsStillExist,
		Message: "cannot drop " + what + " because other objects depend on it",
		Detail:  dep + " depends on " + what,
		Hint:    "Use DROP ... CASCADE to drop the dependent objects too."}
}

func (d *ddl) alterDropConstraint(t *Table, a *ast.AlterAction) error {
	name := a.Name
	switch {
	case name != "" && t.PrimaryKeyName == name:
		rows, err := d.readAll(t)
		if err != nil {
			return err
		}
		rest := t.clone()
		rest.PrimaryKey = nil
		for _, ref := range slices.Clone(t.ReferencedBy) {
			child := d.cat.tables[ref.Table]
			fk := child.ForeignKeys[ref.Index]
			if _, _, ok := keyIndex(rest, fk.RefColumns); ok {
				continue
			}
			if !a.Cascade {
				return dependents("constraint "+name+" on table "+t.Name, "constraint "+fk.Name+" on table "+child.Name)
			}
			d.removeForeignKey(child, fk.Name)
		}
		t.PrimaryKey, t.PrimaryKeyName = nil, ""
		if err := d.addHiddenKey(t); err != nil {
			return err
		}
		if len(rows) > 0 {
			if err := d.rewrite(t, rows); err != nil {
				return err
			}
		}
		d.putTable(t)
		return nil
	}
	if i, ok := t.IndexByName(name); ok && t.Indexes[i].Constraint {
		return d.dropIndex(t, i, a.Cascade)
	}
	for i, c := range t.Checks {
		if c.Name == name {
			t.Checks = slices.Delete(t.Checks, i, i+1)
			d.putTable(t)
			return nil
		}
	}
	for _, fk := range t.ForeignKeys {
		if fk.Name == name {
			d.removeForeignKey(t, name)
			return nil
		}
	}
	if a.IfExists {
		return nil
	}
	return sqlerr.New(sqlerr.UndefinedObject, "constraint \"%s\" of relation \"%s\" does not exist", name, t.Name)
}

func (d *ddl) alterRenameColumn(t *Table, a *ast.AlterAction) error {
	o, err := column(t, a.Name)
	if err != nil {
		return err
	}
	if err := checkIdent("column", a.NewName); err != nil {
		return err
	}
	if _, taken := t.Column(a.NewName); taken {
		return sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" of relation \"%s\" already exists", a.NewName, t.Name)
	}
	for i, c := range t.Checks {
		if !slices.Contains(c.Columns, o) {
			continue
		}
		e, err := parser.ParseExpr(c.Expr)
		if err != nil {
			return sqlerr.Wrap(sqlerr.Internal, err, "check constraint %q of %q: %v", c.Name, t.Name, err)
		}
		t.Checks[i].Expr = ast.Format(renameColumnRefs(e, a.Name, a.NewName))
	}
	for _, s := range d.ownedSequences(t.Name, a.Name) {
		d.cat.seqs[s].OwnerColumn = a.NewName
		d.putSequence(d.cat.seqs[s])
	}
	t.Columns[o].Name = a.NewName
	d.putTable(t)
	return nil
}

func (d *ddl) alterColumn(t *Table, a *ast.AlterAction) error {
	o, err := column(t, a.Name)
	if err != nil {
		return err
	}
	col := &t.Columns[o]
	switch a.Kind {
	case "ALTER COLUMN SET DEFAULT":
		if a.Default == nil {
			return sqlerr.New(sqlerr.SyntaxError, "SET DEFAULT without an expression")
		}
		if err := checkDefaultExpr(a.Default); err != nil {
			return err
		}
		if _, _, err := constValue(a.Default, col.Type); err != nil {
			return err
		}
		col.Default = ast.Format(a.Default)
	case "ALTER COLUMN DROP DEFAULT":
		col.Default = ""
	case "ALTER COLUMN SET NOT NULL":
		if err := d.checkNoNulls(t, o); err != nil {
			return err
		}
		col.NotNull = true
	case "ALTER COLUMN DROP NOT NULL":
		if t.isPK(o) {
			return sqlerr.New(codeInvalidTableDef, "column \"%s\" is in a primary key", col.Name)
		}
		col.NotNull = false
	}
	d.putTable(t)
	return nil
}

// checkNoNulls fails with 23502 when a row of t has NULL in column o.
func (d *ddl) checkNoNulls(t *Table, o int) error {
	hasNull := false
	err := Scan(d.ctx, d.txn, t, -1, nil, nil, func(r Row) (bool, error) {
		hasNull = r[o].IsNull()
		return !hasNull, nil
	})
	if err != nil {
		return err
	}
	if hasNull {
		return sqlerr.New(sqlerr.NotNullViolation, "column \"%s\" of relation \"%s\" contains null values", t.Columns[o].Name, t.Name)
	}
	return nil
}
