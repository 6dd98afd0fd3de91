package schema

import (
	"context"
	"fmt"
	"sort"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// lookupTable resolves a table name for DROP/TRUNCATE/ALTER/CREATE INDEX:
// 42P01 when absent, 42809 when the name is an index or a sequence.
func (c *Catalog) lookupTable(n ast.TableName) (*Table, error) {
	if err := checkSchema(n.Schema); err != nil {
		return nil, err
	}
	if t, ok := c.tables[n.Name]; ok {
		return t, nil
	}
	if k := c.relationKind(n.Name); k != "" {
		return nil, sqlerr.New(codeWrongObjectType, "\"%s\" is not a table", n.Name)
	}
	return nil, errUndefinedTable(n.Name)
}

// DropTable drops the tables named (their rows, indexes and owned
// sequences). A table referenced by a foreign key of a table not dropped
// with it is 2BP01 unless CASCADE, which drops that foreign key constraint
// (not the referencing table), as PostgreSQL does. A missing table is 42P01
// unless IF EXISTS.
func DropTable(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, stmt *ast.DropTable) error {
	d := newDDL(ctx, txn, cat)
	drop := map[string]*Table{}
	var order []string
	for _, n := range stmt.Names {
		t, err := d.cat.lookupTable(n)
		if err != nil {
			if sqlerr.Code(err) != sqlerr.UndefinedTable {
				return err
			}
			if stmt.IfExists {
				continue
			}
			// DROP TABLE says "table", the other statements "relation".
			return sqlerr.New(sqlerr.UndefinedTable, "table \"%s\" does not exist", n.Name)
		}
		if drop[t.Name] == nil {
			drop[t.Name] = t
			order = append(order, t.Name)
		}
	}
	if len(order) == 0 {
		return nil
	}
	type fkName struct{ table, name string }
	var dropFKs []fkName
	for _, name := range order {
		t := drop[name]
		for _, ref := range t.ReferencedBy {
			if drop[ref.Table] != nil {
				continue
			}
			child := d.cat.tables[ref.Table]
			fk := child.ForeignKeys[ref.Index]
			if !stmt.Cascade {
				return &sqlerr.Error{Code: sqlerr.DependentObjectsStillExist,
					Message: fmt.Sprintf("cannot drop table %s because other objects depend on it", t.Name),
					Detail:  fmt.Sprintf("constraint %s on table %s depends on table %s", fk.Name, child.Name, t.Name),
					Hint:    "Use DROP ... CASCADE to drop the dependent objects too."}
			}
			dropFKs = append(dropFKs, fkName{child.Name, fk.Name})
		}
	}
	for _, f := range dropFKs {
		child := d.cat.tables[f.table]
		d.removeForeignKey(child, f.name)
	}
	for _, name := range order {
		if err := d.dropTableData(drop[name]); err != nil {
			return err
		}
	}
	return d.commit()
}

// dropTableData deletes t's rows and index entries, its owned sequences and
// its descriptor.
func (d *ddl) dropTableData(t *Table) error {
	start := tablePrefix(t.ID)
	if err := d.txn.DeleteRange(start, prefixEnd(start)); err != nil {
		return txnErr(err)
	}
	for _, s := range d.ownedSequences(t.Name, "") {
		d.dropSequence(s)
	}
	d.dropTable(t.Name)
	return nil
}

// ownedSequences names the sequences owned by table (and column, when not
// ""), sorted.
func (d *ddl) ownedSequences(table, column string) []string {
	var out []string
	for name, s := range d.cat.seqs {
		if s.OwnerTable == table && (column == "" || s.OwnerColumn == column) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// removeForeignKey drops t's foreign key named name.
func (d *ddl) removeForeignKey(t *Table, name string) {
	for i, fk := range t.ForeignKeys {
		if fk.Name == name {
			t.ForeignKeys = append(t.ForeignKeys[:i:i], t.ForeignKeys[i+1:]...)
			break
		}
	}
	d.putTable(t)
	d.cat.reindex()
}

// Truncate empties the tables named. A table referenced by a foreign key of
// a table not truncated with it is 0A000 unless CASCADE, which truncates the
// referencing tables too. RESTART IDENTITY restarts their owned sequences
// (transactionally). Each truncated table gets a new table id: its old rows
// are deleted by one range delete and new rows never share their keys.
func Truncate(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, stmt *ast.Truncate) error {
	d := newDDL(ctx, txn, cat)
	set := map[string]bool{}
	var order []string
	for _, n := range stmt.Names {
		t, err := d.cat.lookupTable(n)
		if err != nil {
			return err
		}
		if !set[t.Name] {
			set[t.Name] = true
			order = append(order, t.Name)
		}
	}
	for i := 0; i < len(order); i++ {
		t := d.cat.tables[order[i]]
		for _, ref := range t.ReferencedBy {
			if set[ref.Table] {
				continue
			}
			if !stmt.Cascade {
				return &sqlerr.Error{Code: sqlerr.FeatureNotSupported,
					Message: "cannot truncate a table referenced in a foreign key constraint",
					Detail:  fmt.Sprintf("Table \"%s\" references \"%s\".", ref.Table, t.Name),
					Hint:    fmt.Sprintf("Truncate table \"%s\" at the same time, or use TRUNCATE ... CASCADE.", ref.Table)}
			}
			set[ref.Table] = true
			order = append(order, ref.Table)
		}
	}
	for _, name := range order {
		t := d.cat.tables[name]
		start := tablePrefix(t.ID)
		if err := txn.DeleteRange(start, prefixEnd(start)); err != nil {
			return txnErr(err)
		}
		id, err := allocTableID(ctx, txn)
		if err != nil {
			return err
		}
		delete(d.cat.byID, t.ID)
		t.ID = id
		d.putTable(t)
		// Referencing tables store the referenced table's id.
		for _, ref := range t.ReferencedBy {
			d.putTable(d.cat.tables[ref.Table])
		}
		// Owned sequences store the owner's id: rewrite them all.
		for _, sn := range d.ownedSequences(name, "") {
			s := d.cat.seqs[sn]
			if stmt.RestartIdentity {
				if err := s.restart(); err != nil {
					return err
				}
			}
			d.putSequence(s)
		}
	}
	return d.commit()
}
