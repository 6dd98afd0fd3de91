package schema

import (
	"context"
	"fmt"
	"strings"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// CreateIndex creates a secondary index and writes its entries for the
// table's existing rows; a duplicate key in a UNIQUE index is 23505 "could
// not create unique index". The name defaults to <table>_<cols>_idx as in
// PostgreSQL; a taken name is 42P07 (nil with IF NOT EXISTS). DESC is
// accepted and stored ascending (the engine sorts); partial indexes (WHERE)
// are 0A000. The backfill writes one entry per row in txn, so a table past
// the transaction's write limits cannot be indexed (54000).
func CreateIndex(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, stmt *ast.CreateIndex) error {
	if stmt.Where != nil {
		return sqlerr.New(sqlerr.FeatureNotSupported, "partial indexes (CREATE INDEX … WHERE) are not supported")
	}
	d := newDDL(ctx, txn, cat)
	t, err := d.cat.lookupTable(stmt.Table)
	if err != nil {
		return err
	}
	names := make([]string, len(stmt.Columns))
	for i, c := range stmt.Columns {
		names[i] = c.Column
	}
	cols := make([]int, len(names))
	for i, n := range names {
		o, ok := t.Column(n)
		if !ok || t.Columns[o].Hidden {
			return sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" does not exist", n)
		}
		cols[i] = o
	}
	name := stmt.Name
	if name == "" {
		name = chooseName(t.Name, strings.Join(names, "_"), "idx", d.cat.nameInUse)
	} else {
		if err := checkIdent("index", name); err != nil {
			return err
		}
		if d.cat.relationKind(name) != "" {
			if stmt.IfNotExists {
				return nil
			}
			return errDuplicateRelation(name)
		}
	}
	t.Indexes = append(t.Indexes, Index{ID: t.NextIndexID, Name: name, Columns: cols, Unique: stmt.Unique})
	t.NextIndexID++
	d.putTable(t)
	if err := d.backfill(t, len(t.Indexes)-1); err != nil {
		return err
	}
	return d.commit()
}

// DropIndex drops the indexes named (42704 when absent, unless IF EXISTS).
// The index of a PRIMARY KEY or UNIQUE constraint is 2BP01 (drop the
// constraint instead); a unique index a foreign key relies on is 2BP01
// unless CASCADE, which drops those foreign keys.
func DropIndex(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, stmt *ast.DropIndex) error {
	d := newDDL(ctx, txn, cat)
	dropped := false
	for _, name := range stmt.Names {
		t, idx, ok := d.cat.IndexOwner(name)
		if !ok {
			if stmt.IfExists {
				continue
			}
			return sqlerr.New(sqlerr.UndefinedObject, "index \"%s\" does not exist", name)
		}
		if idx < 0 || t.Indexes[idx].Constraint {
			return &sqlerr.Error{Code: sqlerr.DependentObjectsStillExist,
				Message: fmt.Sprintf("cannot drop index %s because constraint %s on table %s requires it", name, name, t.Name),
				Hint:    fmt.Sprintf("You can drop constraint %s on table %s instead.", name, t.Name)}
		}
		if err := d.dropIndex(t, idx, stmt.Cascade); err != nil {
			return err
		}
		dropped = true
	}
	if !dropped {
		return nil
	}
	return d.commit()
}

// dropIndex removes index idx of t and its entries. Foreign keys that need
// it (a unique index matching their referenced columns, with no other
// primary key or unique index to take over) are 2BP01 unless cascade.
func (d *ddl) dropIndex(t *Table, idx int, cascade bool) error {
	ix := t.Indexes[idx]
	rest := t.clone()
	rest.Indexes = append(rest.Indexes[:idx:idx], rest.Indexes[idx+1:]...)
	type fkName struct{ table, name string }
	var lost []fkName
	for _, ref := range t.ReferencedBy {
		child := d.cat.tables[ref.Table]
		fk := child.ForeignKeys[ref.Index]
		if _, _, ok := keyIndex(rest, fk.RefColumns); ok {
			continue
		}
		if !cascade {
			return &sqlerr.Error{Code: sqlerr.DependentObjectsStillExist,
				Message: fmt.Sprintf("cannot drop index %s because other objects depend on it", ix.Name),
				Detail:  fmt.Sprintf("constraint %s on table %s depends on index %s", fk.Name, child.Name, ix.Name),
				Hint:    "Use DROP ... CASCADE to drop the dependent objects too."}
		}
		lost = append(lost, fkName{child.Name, fk.Name})
	}
	for _, f := range lost {
		d.removeForeignKey(d.cat.tables[f.table], f.name)
	}
	start := indexPrefix(t.ID, ix.ID)
	if err := d.txn.DeleteRange(start, prefixEnd(start)); err != nil {
		return txnErr(err)
	}
	for i := range t.Indexes {
		if t.Indexes[i].ID == ix.ID {
			t.Indexes = append(t.Indexes[:i:i], t.Indexes[i+1:]...)
			break
		}
	}
	d.putTable(t)
	d.cat.reindex()
	return nil
}
