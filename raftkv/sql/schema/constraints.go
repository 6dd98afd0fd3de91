package schema

import (
	"fmt"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// alterRows is how ALTER TABLE validates a new constraint against the rows
// a table already has; nil while creating a table.
type alterRows struct {
	ev Evaluator // may be nil: CHECK on a non-empty table is then refused
}

// addConstraint adds constraint c (table form: Columns named) to t,
// validating existing rows when alter is not nil.
func (d *ddl) addConstraint(t *Table, c *ast.Constraint, alter *alterRows) error {
	if c.Name != "" {
		if err := checkIdent("constraint", c.Name); err != nil {
			return err
		}
		if t.hasConstraint(c.Name) {
			return sqlerr.New(codeDuplicateConstraint, "constraint \"%s\" for relation \"%s\" already exists", c.Name, t.Name)
		}
	}
	switch c.Kind {
	case ast.ConstrPrimaryKey:
		return d.addPrimaryKey(t, c, alter)
	case ast.ConstrUnique:
		return d.addUnique(t, c, alter)
	case ast.ConstrCheck:
		return d.addCheck(t, c, alter)
	case ast.ConstrForeignKey:
		return d.addForeignKey(t, c, alter)
	case ast.ConstrNotNull, ast.ConstrNull, ast.ConstrDefault, ast.ConstrIdentity:
		return sqlerr.New(sqlerr.SyntaxError, "column constraint used as a table constraint")
	}
	return sqlerr.New(sqlerr.FeatureNotSupported, "constraint kind %d is not supported", c.Kind)
}

// indexName checks a user-given name of an index-backed constraint or
// chooses one.
func (d *ddl) indexName(t *Table, given, name2, label string) (string, error) {
	if given == "" {
		return chooseName(t.Name, name2, label, d.cat.nameInUse), nil
	}
	if d.cat.relationKind(given) != "" {
		return "", errDuplicateRelation(given)
	}
	return given, nil
}

func (d *ddl) addPrimaryKey(t *Table, c *ast.Constraint, alter *alterRows) error {
	if len(t.PrimaryKey) > 0 && !t.HasHiddenKey() {
		return sqlerr.New(codeInvalidTableDef, "multiple primary keys for table \"%s\" are not allowed", t.Name)
	}
	cols, err := resolveColumns(t, c.Columns, "primary key")
	if err != nil {
		return err
	}
	name, err := d.indexName(t, c.Name, "", "pkey")
	if err != nil {
		return err
	}
	var rows []storedRow
	if alter != nil {
		// A new primary key changes every row's key: the rows are read
		// under the old layout and written again under the new one.
		if rows, err = d.readAll(t); err != nil {
			return err
		}
	}
	if t.HasHiddenKey() {
		hidden := t.Columns[t.PrimaryKey[0]]
		colNames := make([]string, len(cols))
		for i, o := range cols {
			colNames[i] = t.Columns[o].Name
		}
		d.removeColumn(t, t.PrimaryKey[0])
		d.dropSequence(hidden.Sequence)
		if cols, err = resolveColumns(t, colNames, "primary key"); err != nil {
			return err
		}
	}
	for _, o := range cols {
		t.Columns[o].NotNull = true
	}
	t.PrimaryKey, t.PrimaryKeyName = cols, name
	if len(rows) > 0 {
		return d.rewrite(t, rows)
	}
	return nil
}

func (d *ddl) addUnique(t *Table, c *ast.Constraint, alter *alterRows) error {
	cols, err := resolveColumns(t, c.Columns, "unique")
	if err != nil {
		return err
	}
	name, err := d.indexName(t, c.Name, columnNames(t, cols), "key")
	if err != nil {
		return err
	}
	ix := Index{ID: t.NextIndexID, Name: name, Columns: cols, Unique: true, Constraint: true}
	t.NextIndexID++
	t.Indexes = append(t.Indexes, ix)
	if alter != nil {
		return d.backfill(t, len(t.Indexes)-1)
	}
	return nil
}

func (d *ddl) addCheck(t *Table, c *ast.Constraint, alter *alterRows) error {
	info := inspect(c.Expr)
	if info.subquery {
		return sqlerr.New(sqlerr.FeatureNotSupported, "cannot use subquery in check constraint")
	}
	if info.params {
		return sqlerr.New(sqlerr.UndefinedParameter, "cannot use parameters in check constraint")
	}
	cols := make([]int, len(info.columns))
	for i, n := range info.columns {
		o, ok := t.Column(n)
		if !ok {
			return sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" does not exist", n)
		}
		cols[i] = o
	}
	name := c.Name
	if name == "" {
		colName := ""
		if len(cols) == 1 {
			colName = t.Columns[cols[0]].Name
		}
		name = chooseName(t.Name, colName, "check", func(n string) bool { return d.cat.nameInUse(n) || t.hasConstraint(n) })
	}
	ck := Check{Name: name, Expr: ast.Format(c.Expr), Columns: cols}
	if alter != nil {
		if err := d.validateCheck(t, ck, alter.ev); err != nil {
			return err
		}
	}
	t.Checks = append(t.Checks, ck)
	sortChecks(t)
	return nil
}

// validateCheck checks every existing row of t against ck.
func (d *ddl) validateCheck(t *Table, ck Check, ev Evaluator) error {
	violated := false
	noEval := false
	err := Scan(d.ctx, d.txn, t, -1, nil, nil, func(r Row) (bool, error) {
		if ev == nil {
			noEval = true
			return false, nil
		}
		ok, err := ev.EvalCheck(t, ck, r)
		if err != nil {
			return false, err
		}
		violated = !ok
		return ok, nil
	})
	switch {
	case err != nil:
		return err
	case noEval:
		return sqlerr.New(sqlerr.FeatureNotSupported, "adding a CHECK constraint to a table with rows needs an evaluator (AlterTableWith)")
	case violated:
		return sqlerr.New(sqlerr.CheckViolation, "check constraint \"%s\" of relation \"%s\" is violated by some row", ck.Name, t.Name)
	}
	return nil
}

func (d *ddl) addForeignKey(t *Table, c *ast.Constraint, alter *alterRows) error {
	if err := checkSchema(c.RefTable.Schema); err != nil {
		return err
	}
	cols := make([]int, len(c.Columns))
	for i, n := range c.Columns {
		o, ok := t.Column(n)
		if !ok || t.Columns[o].Hidden {
			return sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" referenced in foreign key constraint does not exist", n)
		}
		cols[i] = o
	}
	ref := t
	if c.RefTable.Name != t.Name {
		var ok bool
		if ref, ok = d.cat.tables[c.RefTable.Name]; !ok {
			return errUndefinedTable(c.RefTable.Name)
		}
	}
	var refCols []int
	if len(c.RefColumns) == 0 {
		if len(ref.PrimaryKey) == 0 || ref.HasHiddenKey() {
			return sqlerr.New(codeInvalidFK, "there is no primary key for referenced table \"%s\"", ref.Name)
		}
		refCols = append([]int(nil), ref.PrimaryKey...)
	} else {
		for _, n := range c.RefColumns {
			o, ok := ref.Column(n)
			if !ok || ref.Columns[o].Hidden {
				return sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" referenced in foreign key constraint does not exist", n)
			}
			refCols = append(refCols, o)
		}
	}
	if len(refCols) != len(cols) {
		return sqlerr.New(codeInvalidFK, "number of referencing and referenced columns for foreign key disagree")
	}
	if _, _, ok := keyIndex(ref, refCols); !ok {
		return sqlerr.New(codeInvalidFK, "there is no unique constraint matching given keys for referenced table \"%s\"", ref.Name)
	}
	name := c.Name
	if name == "" {
		name = chooseName(t.Name, columnNames(t, cols), "fkey", func(n string) bool { return d.cat.nameInUse(n) || t.hasConstraint(n) })
	}
	for i := range cols {
		a, b := t.Columns[cols[i]], ref.Columns[refCols[i]]
		if !fkCompatible(a.Type, b.Type) {
			return &sqlerr.Error{Code: sqlerr.DatatypeMismatch,
				Message: fmt.Sprintf("foreign key constraint \"%s\" cannot be implemented", name),
				Detail:  fmt.Sprintf("Key columns \"%s\" and \"%s\" are of incompatible types: %s and %s.", a.Name, b.Name, a.Type.String(), b.Type.String())}
		}
	}
	var action Action
	switch c.OnDelete {
	case "", "NO ACTION":
		action = NoAction
	case "RESTRICT":
		action = Restrict
	case "CASCADE":
		action = Cascade
	case "SET NULL":
		action = SetNull
	default:
		return sqlerr.New(sqlerr.FeatureNotSupported, "ON DELETE %s is not supported", c.OnDelete)
	}
	switch c.OnUpdate {
	case "", "NO ACTION", "RESTRICT":
	default:
		return sqlerr.New(sqlerr.FeatureNotSupported, "ON UPDATE %s is not supported", c.OnUpdate)
	}
	fk := ForeignKey{Name: name, Columns: cols, RefTable: ref.Name, RefColumns: refCols, OnDelete: action}
	t.ForeignKeys = append(t.ForeignKeys, fk)
	d.putTable(t)
	d.cat.reindex()
	if alter != nil {
		return Scan(d.ctx, d.txn, t, -1, nil, nil, func(r Row) (bool, error) {
			return true, checkReference(d.ctx, d.txn, d.cat, t, &t.ForeignKeys[len(t.ForeignKeys)-1], r)
		})
	}
	return nil
}

// fkCompatible reports whether a foreign key column of type a may reference
// one of type b (PostgreSQL needs an equality operator between them).
func fkCompatible(a, b value.Type) bool {
	family := func(k value.Kind) value.Kind {
		switch k {
		case value.KindInt, value.KindNumeric, value.KindFloat:
			return value.KindNumeric
		case value.KindTimestamp, value.KindTimestampTZ, value.KindDate:
			return value.KindTimestamp
		}
		return k
	}
	return family(a.Kind) == family(b.Kind)
}

// backfill writes the entries of index idx of t for every existing row;
// a duplicate in a unique index is 23505 "could not create unique index".
func (d *ddl) backfill(t *Table, idx int) error {
	ix := &t.Indexes[idx]
	// Rows are read through the primary index only, so the entries written
	// meanwhile are never read back by this scan.
	return Scan(d.ctx, d.txn, t, -1, nil, nil, func(r Row) (bool, error) {
		w, err := newEntry(d.ctx, d.txn, t, ix, r, pkSuffix(t, r), nil)
		if se, ok := err.(*sqlerr.Error); ok && se.Code == sqlerr.UniqueViolation {
			return false, &sqlerr.Error{Code: sqlerr.UniqueViolation,
				Message: fmt.Sprintf("could not create unique index \"%s\"", ix.Name),
				Detail:  keyDetail(t, ix.Columns, pick(r, ix.Columns)) + " is duplicated."}
		}
		if err != nil {
			return false, err
		}
		return true, txnErr(d.txn.Put(w.key, w.val))
	})
}

// removeColumn deletes column ord from t and renumbers every ordinal that
// refers to t's columns (t's own constraints and other tables' foreign keys).
// The caller has dropped whatever used the column.
func (d *ddl) removeColumn(t *Table, ord int) {
	shift := func(cols []int) {
		for i, c := range cols {
			if c > ord {
				cols[i] = c - 1
			}
		}
	}
	t.Columns = append(t.Columns[:ord:ord], t.Columns[ord+1:]...)
	shift(t.PrimaryKey)
	for i := range t.Indexes {
		shift(t.Indexes[i].Columns)
	}
	for i := range t.Checks {
		shift(t.Checks[i].Columns)
	}
	for i := range t.ForeignKeys {
		shift(t.ForeignKeys[i].Columns)
		if t.ForeignKeys[i].RefTable == t.Name {
			shift(t.ForeignKeys[i].RefColumns)
		}
	}
	for _, other := range d.cat.tables {
		if other == t {
			continue
		}
		for i := range other.ForeignKeys {
			if other.ForeignKeys[i].RefTable == t.Name {
				shift(other.ForeignKeys[i].RefColumns)
				d.putTable(other)
			}
		}
	}
	d.putTable(t)
}
