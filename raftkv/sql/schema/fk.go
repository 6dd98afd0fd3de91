package schema

import (
	"context"
	"fmt"

	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// keyIndex finds the primary key (-1) or unique index of t whose column set
// is exactly cols; order[i] is the position in cols of the index's i-th
// column.
func keyIndex(t *Table, cols []int) (idx int, order []int, ok bool) {
	if order, ok := permutation(t.PrimaryKey, cols); ok && !t.HasHiddenKey() {
		return -1, order, true
	}
	for i := range t.Indexes {
		if !t.Indexes[i].Unique {
			continue
		}
		if order, ok := permutation(t.Indexes[i].Columns, cols); ok {
			return i, order, true
		}
	}
	return 0, nil, false
}

// leadingIndex finds an index of t (the primary key -1 first) whose leading
// columns are exactly the set cols, for finding referencing rows.
func leadingIndex(t *Table, cols []int) (idx int, order []int, ok bool) {
	if len(t.PrimaryKey) >= len(cols) {
		if order, ok := permutation(t.PrimaryKey[:len(cols)], cols); ok {
			return -1, order, true
		}
	}
	for i := range t.Indexes {
		ic := t.Indexes[i].Columns
		if len(ic) < len(cols) {
			continue
		}
		if order, ok := permutation(ic[:len(cols)], cols); ok {
			return i, order, true
		}
	}
	return 0, nil, false
}

// permutation returns, for each element of idxCols, its position in cols,
// when both hold the same set.
func permutation(idxCols, cols []int) ([]int, bool) {
	if len(idxCols) != len(cols) {
		return nil, false
	}
	order := make([]int, len(idxCols))
	for i, c := range idxCols {
		order[i] = -1
		for j, d := range cols {
			if c == d {
				order[i] = j
			}
		}
		if order[i] < 0 {
			return nil, false
		}
	}
	return order, true
}

// checkReference checks that row of child, for foreign key fk, references
// an existing row of the parent (MATCH SIMPLE: a NULL column passes).
func checkReference(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, child *Table, fk *ForeignKey, row Row) error {
	if hasNull(row, fk.Columns) {
		return nil
	}
	parent, err := cat.Table(fk.RefTable)
	if err != nil {
		return err
	}
	idx, order, ok := keyIndex(parent, fk.RefColumns)
	if !ok {
		return sqlerr.New(codeInvalidFK, "there is no unique constraint matching given keys for referenced table \"%s\"", parent.Name)
	}
	found, err := referencedExists(ctx, txn, parent, idx, order, fk, row)
	if err != nil {
		return err
	}
	if found {
		return nil
	}
	return &sqlerr.Error{Code: sqlerr.ForeignKeyViolation,
		Message: fmt.Sprintf("insert or update on table \"%s\" violates foreign key constraint \"%s\"", child.Name, fk.Name),
		Detail:  fmt.Sprintf("%s is not present in table \"%s\".", keyDetail(child, fk.Columns, pick(row, fk.Columns)), parent.Name)}
}

// referencedExists looks the parent key up through the unique index idx.
func referencedExists(ctx context.Context, txn *kvtxn.Txn, parent *Table, idx int, order []int, fk *ForeignKey, row Row) (bool, error) {
	cols := parent.IndexColumns(idx)
	var enc []byte
	if idx < 0 {
		enc = indexPrefix(parent.ID, PrimaryIndexID)
	} else {
		enc = indexPrefix(parent.ID, parent.Indexes[idx].ID)
	}
	for i, c := range cols {
		v, exact, err := keyValue(row[fk.Columns[order[i]]], parent.Columns[c].Type)
		if err != nil || !exact {
			return false, nil
		}
		enc = value.AppendKey(enc, v, false)
	}
	_, found, err := txn.Get(ctx, enc)
	if found {
		// Under READ COMMITTED too, a concurrent delete of the parent
		// makes this transaction's commit fail.
		txn.LockForUpdate(enc)
	}
	return found, err
}

// referencing returns up to limit (0: all) rows of child whose fk columns
// equal parentRow's referenced columns, read through an index of child led
// by the fk columns when there is one, else by scanning child whole (cost:
// every row of child per parent row deleted — index foreign key columns).
func referencing(ctx context.Context, txn *kvtxn.Txn, parent, child *Table, fk *ForeignKey, parentRow Row, limit int) ([]Row, error) {
	want := make([]value.Value, len(fk.Columns))
	for i := range fk.Columns {
		v, exact, err := keyValue(parentRow[fk.RefColumns[i]], child.Columns[fk.Columns[i]].Type)
		if err != nil || !exact {
			return nil, nil
		}
		want[i] = v
	}
	var rows []Row
	collect := func(r Row) (bool, error) {
		rows = append(rows, r)
		return limit == 0 || len(rows) < limit, nil
	}
	if idx, order, ok := leadingIndex(child, fk.Columns); ok {
		key := make([]value.Value, len(order))
		for i, p := range order {
			key[i] = want[p]
		}
		b := &Bound{Key: key, Inclusive: true}
		return rows, Scan(ctx, txn, child, idx, b, b, collect)
	}
	err := Scan(ctx, txn, child, -1, nil, nil, func(r Row) (bool, error) {
		for i, c := range fk.Columns {
			if r[c].IsNull() {
				return true, nil
			}
			cmp, err := value.Compare(r[c], want[i])
			if err != nil {
				return false, err
			}
			if cmp != 0 {
				return true, nil
			}
		}
		return collect(r)
	})
	return rows, err
}

// restrictReferenced fails with 23503 when a row of child references
// parentRow through fk.
func restrictReferenced(ctx context.Context, txn *kvtxn.Txn, parent, child *Table, fk *ForeignKey, parentRow Row) error {
	rows, err := referencing(ctx, txn, parent, child, fk, parentRow, 1)
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return nil
	}
	return &sqlerr.Error{Code: sqlerr.ForeignKeyViolation,
		Message: fmt.Sprintf("update or delete on table \"%s\" violates foreign key constraint \"%s\" on table \"%s\"", parent.Name, fk.Name, child.Name),
		Detail:  fmt.Sprintf("%s is still referenced from table \"%s\".", keyDetail(parent, fk.RefColumns, pick(parentRow, fk.RefColumns)), child.Name)}
}
