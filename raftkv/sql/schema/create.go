package schema

import (
	"context"
	"fmt"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// serialTypes maps the SERIAL pseudo-types to their integer types.
var serialTypes = map[string]value.Type{
	"serial": value.Int4, "serial4": value.Int4,
	"bigserial": value.Int8, "serial8": value.Int8,
	"smallserial": value.Int2, "serial2": value.Int2,
}

// CreateTable creates the table stmt describes, with its sequences (SERIAL,
// identity, the hidden rowid of a table without PRIMARY KEY) and
// constraints. Errors: 42P07 when a relation of that name exists (nil with
// IF NOT EXISTS), 42701 duplicate column, 42704 unknown type, 42P16 two
// primary keys, 42703 unknown column in a constraint, 42P01 unknown
// referenced table, 42830 a foreign key whose target is not a PRIMARY KEY or
// UNIQUE column set, 42804 incompatible foreign key column types, 54011 more
// than MaxColumns columns, 42622 names longer than MaxIdentifierBytes.
func CreateTable(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, stmt *ast.CreateTable) error {
	name := stmt.Name.Name
	if err := checkSchema(stmt.Name.Schema); err != nil {
		return err
	}
	if err := checkIdent("table", name); err != nil {
		return err
	}
	if cat.relationKind(name) != "" {
		if stmt.IfNotExists {
			return nil
		}
		return errDuplicateRelation(name)
	}
	d := newDDL(ctx, txn, cat)
	id, err := allocTableID(ctx, txn)
	if err != nil {
		return err
	}
	t := &Table{ID: id, Name: name, NextColumnID: 1, NextIndexID: PrimaryIndexID + 1}
	d.putTable(t)
	var cons []ast.Constraint
	for i := range stmt.Columns {
		more, err := d.addColumn(t, &stmt.Columns[i], true)
		if err != nil {
			return err
		}
		cons = append(cons, more...)
	}
	cons = append(cons, stmt.Constraints...)
	// The primary key, then unique constraints (a self-referencing foreign
	// key may target either), then CHECKs and foreign keys as written.
	for _, pass := range []func(ast.ConstraintKind) bool{
		func(k ast.ConstraintKind) bool { return k == ast.ConstrPrimaryKey },
		func(k ast.ConstraintKind) bool { return k == ast.ConstrUnique },
		func(k ast.ConstraintKind) bool { return k != ast.ConstrPrimaryKey && k != ast.ConstrUnique },
	} {
		for i := range cons {
			if !pass(cons[i].Kind) {
				continue
			}
			if err := d.addConstraint(t, &cons[i], nil); err != nil {
				return err
			}
		}
	}
	if len(t.PrimaryKey) == 0 {
		if err := d.addHiddenKey(t); err != nil {
			return err
		}
	}
	if len(t.Columns) > MaxColumns {
		return sqlerr.New(codeTooManyColumns, "tables can have at most %d columns", MaxColumns)
	}
	d.putTable(t)
	return d.commit()
}

// addColumn appends the column def describes to t (sequences included) and
// returns its inline PRIMARY KEY, UNIQUE, CHECK and REFERENCES constraints
// in table form, for the caller to add.
func (d *ddl) addColumn(t *Table, def *ast.ColumnDef, creating bool) ([]ast.Constraint, error) {
	if err := checkIdent("column", def.Name); err != nil {
		return nil, err
	}
	if o, dup := t.Column(def.Name); dup && t.Columns[o].Hidden {
		// The hidden rowid yields its name to a user column.
		d.renameHidden(t, o)
	} else if dup {
		if creating {
			return nil, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" specified more than once", def.Name)
		}
		return nil, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" of relation \"%s\" already exists", def.Name, t.Name)
	}
	col := Column{ID: t.NextColumnID, Name: def.Name}
	serialType, serial := serialTypes[def.Type.Name]
	switch {
	case def.Type.Array:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "array types are not supported (column \"%s\")", def.Name)
	case serial && len(def.Type.Mods) == 0:
		col.Type = serialType
	default:
		typ, err := value.ParseType(def.Type.Name, def.Type.Mods)
		if err != nil {
			return nil, err
		}
		col.Type = typ
	}
	var cons []ast.Constraint
	identity := false
	for _, c := range def.Constraints {
		switch c.Kind {
		case ast.ConstrNotNull:
			col.NotNull = true
		case ast.ConstrNull:
			if col.NotNull {
				return nil, sqlerr.New(sqlerr.SyntaxError, "conflicting NULL/NOT NULL declarations for column \"%s\" of table \"%s\"", def.Name, t.Name)
			}
		case ast.ConstrDefault:
			if col.Default != "" || serial {
				return nil, sqlerr.New(sqlerr.SyntaxError, "multiple default values specified for column \"%s\" of table \"%s\"", def.Name, t.Name)
			}
			if err := checkDefaultExpr(c.Expr); err != nil {
				return nil, err
			}
			if _, _, err := constValue(c.Expr, col.Type); err != nil {
				return nil, err
			}
			col.Default = ast.Format(c.Expr)
		case ast.ConstrIdentity:
			if col.Type.Kind != value.KindInt {
				return nil, sqlerr.New(sqlerr.InvalidParameterValue, "identity column type must be smallint, integer, or bigint")
			}
			identity = true
			col.IdentityAlways = c.Always
		default:
			c.Columns = []string{def.Name}
			cons = append(cons, c)
		}
	}
	if serial || identity {
		if col.Default != "" {
			return nil, sqlerr.New(sqlerr.SyntaxError, "both default and identity specified for column \"%s\" of table \"%s\"", def.Name, t.Name)
		}
		seq, err := d.newOwnedSequence(t, def.Name, col.Type)
		if err != nil {
			return nil, err
		}
		col.Sequence = seq
		col.Default = fmt.Sprintf("nextval('%s')", seq)
		col.NotNull = true
	}
	t.NextColumnID++
	t.Columns = append(t.Columns, col)
	if len(t.Columns) > MaxColumns {
		return nil, sqlerr.New(codeTooManyColumns, "tables can have at most %d columns", MaxColumns)
	}
	return cons, nil
}

// newOwnedSequence creates <table>_<col>_seq (suffixed when taken) owned by
// column col of t.
func (d *ddl) newOwnedSequence(t *Table, col string, typ value.Type) (string, error) {
	name := chooseName(t.Name, col, "seq", d.cat.nameInUse)
	s, err := newSequence(name, typ)
	if err != nil {
		return "", err
	}
	s.OwnerTable, s.OwnerColumn = t.Name, col
	d.putSequence(s)
	return name, nil
}

// hiddenName returns the first of rowid, rowid_1, rowid_2, … not a column of t.
func hiddenName(t *Table) string {
	name := "rowid"
	for i := 1; ; i++ {
		if _, taken := t.Column(name); !taken {
			return name
		}
		name = fmt.Sprintf("rowid_%d", i)
	}
}

// renameHidden moves hidden column o out of a user column's way.
func (d *ddl) renameHidden(t *Table, o int) {
	old := t.Columns[o].Name
	t.Columns[o].Name = hiddenName(t) // t still has old, so the new name differs
	for _, sn := range d.ownedSequences(t.Name, old) {
		d.cat.seqs[sn].OwnerColumn = t.Columns[o].Name
		d.putSequence(d.cat.seqs[sn])
	}
}

// addHiddenKey gives t a hidden int8 rowid primary key drawn from a sequence.
func (d *ddl) addHiddenKey(t *Table) error {
	name := hiddenName(t)
	seq, err := d.newOwnedSequence(t, name, value.Int8)
	if err != nil {
		return err
	}
	t.Columns = append(t.Columns, Column{ID: t.NextColumnID, Name: name, Type: value.Int8, NotNull: true,
		Default: fmt.Sprintf("nextval('%s')", seq), Sequence: seq, Hidden: true})
	t.NextColumnID++
	t.PrimaryKey = []int{len(t.Columns) - 1}
	t.PrimaryKeyName = ""
	return nil
}

// resolveColumns maps names to ordinals of t; what names the list in errors.
func resolveColumns(t *Table, names []string, what string) ([]int, error) {
	cols := make([]int, len(names))
	seen := map[string]bool{}
	for i, n := range names {
		o, ok := t.Column(n)
		if !ok || t.Columns[o].Hidden {
			return nil, sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" named in key does not exist", n)
		}
		if seen[n] {
			return nil, sqlerr.New(sqlerr.DuplicateColumn, "column \"%s\" appears twice in %s constraint", n, what)
		}
		seen[n] = true
		cols[i] = o
	}
	return cols, nil
}

// tableEmpty reports whether t has no rows.
func tableEmpty(ctx context.Context, txn *kvtxn.Txn, t *Table) (bool, error) {
	empty := true
	err := Scan(ctx, txn, t, -1, nil, nil, func(Row) (bool, error) {
		empty = false
		return false, nil
	})
	return empty, err
}
