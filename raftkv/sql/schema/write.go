package schema

import (
	"context"
	"errors"
	"fmt"

	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// Evaluator evaluates the SQL expressions stored in the catalog; the engine
// implements it. EvalCheck returns false only when the CHECK expression is
// FALSE (NULL passes, as in PostgreSQL). EvalDefault evaluates column col's
// DEFAULT (nextval for SERIAL and hidden rowid columns).
type Evaluator interface {
	EvalCheck(t *Table, check Check, row Row) (bool, error)
	EvalDefault(t *Table, col int) (value.Value, error)
}

// Insert writes a new row of t and its index entries after PostgreSQL's
// checks, in PostgreSQL's order: a hidden rowid that is NULL is filled by
// ev.EvalDefault; values are converted to their column types (value.AssignCast);
// NOT NULL (23502), CHECK (23514), PRIMARY KEY and UNIQUE (23505, Detail
// "Key (email)=(x) already exists."), then FOREIGN KEY (23503). The engine
// fills the row: given values, else defaults, else NULL. ev may be nil when
// t has no CHECK constraint and no hidden rowid.
func Insert(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, t *Table, row Row, ev Evaluator) error {
	if len(row) != len(t.Columns) {
		return sqlerr.New(sqlerr.Internal, "insert into %q: %d values for %d columns", t.Name, len(row), len(t.Columns))
	}
	row = append(Row(nil), row...)
	for i, c := range t.Columns {
		if c.Hidden && (row[i].IsNull() || row[i].Type.Kind == value.KindUnknown) {
			if ev == nil {
				return sqlerr.New(sqlerr.Internal, "insert into %q: no evaluator for the hidden column %q", t.Name, c.Name)
			}
			v, err := ev.EvalDefault(t, i)
			if err != nil {
				return err
			}
			row[i] = v
		}
	}
	if ev == nil && len(t.Checks) > 0 {
		return sqlerr.New(sqlerr.Internal, "insert into %q: no evaluator for its CHECK constraints", t.Name)
	}
	row, err := checkRow(t, row, ev)
	if err != nil {
		return err
	}
	pk := pkSuffix(t, row)
	val := encodeRowValue(t, row)
	if err := checkSize(t, len(pk)+len(val)); err != nil {
		return err
	}
	if err := checkKeySize(len(pk), t.PrimaryKeyName); err != nil {
		return err
	}
	key := rowKey(t, pk)
	// Every check that reads runs before the first write, so a failed
	// Insert leaves nothing in the transaction (ON CONFLICT may go on after
	// a 23505); only a self-referencing foreign key is checked after the
	// write, as the new row may be its own parent.
	// A hidden rowid comes from a sequence, so it is new: no read (and no
	// RPC, no read span) for it.
	if !t.HasHiddenKey() {
		if err := checkAbsent(ctx, txn, key); err == errExists {
			return uniqueViolation(t, t.PrimaryKeyName, t.PrimaryKey, row)
		} else if err != nil {
			return err
		}
	}
	entries := make([]indexWrite, len(t.Indexes))
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		if entries[i], err = newEntry(ctx, txn, t, ix, row, pk, nil); err != nil {
			return err
		}
	}
	for i := range t.ForeignKeys {
		if fk := &t.ForeignKeys[i]; fk.RefTable != t.Name {
			if err := checkReference(ctx, txn, cat, t, fk, row); err != nil {
				return err
			}
		}
	}
	if err := txn.Put(key, val); err != nil {
		return txnErr(err)
	}
	for _, w := range entries {
		if err := txn.Put(w.key, w.val); err != nil {
			return txnErr(err)
		}
	}
	return checkSelfReferences(ctx, txn, cat, t, nil, row)
}

// indexWrite is an index entry to write.
type indexWrite struct{ key, val []byte }

// newEntry computes row's entry in ix and, in the unique form, checks that
// no other row holds its key (23505); oldKey is the key of the entry the row
// had before an update (its own, not a conflict), nil for an insert.
func newEntry(ctx context.Context, txn *kvtxn.Txn, t *Table, ix *Index, row Row, pk, oldKey []byte) (indexWrite, error) {
	key, val, unique := indexEntry(t, ix, row, pk)
	if err := checkKeySize(len(key)+len(val)-len(indexPrefix(t.ID, ix.ID)), ix.Name); err != nil {
		return indexWrite{}, err
	}
	if unique && string(key) != string(oldKey) {
		if err := checkAbsent(ctx, txn, key); err == errExists {
			return indexWrite{}, uniqueViolation(t, ix.Name, ix.Columns, row)
		} else if err != nil {
			return indexWrite{}, err
		}
	}
	return indexWrite{key, val}, nil
}

// checkSelfReferences checks the foreign keys of t that reference t itself,
// after row was written (old: the row before an update, nil for an insert;
// only changed keys are checked then).
func checkSelfReferences(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, t *Table, old, row Row) error {
	for i := range t.ForeignKeys {
		fk := &t.ForeignKeys[i]
		if fk.RefTable != t.Name || (old != nil && !changed(old, row, fk.Columns)) {
			continue
		}
		if err := checkReference(ctx, txn, cat, t, fk, row); err != nil {
			return err
		}
	}
	return nil
}

// Update replaces row old of t (as read) with new: the checks of Insert
// (foreign keys only when their columns changed), then ON DELETE-style
// RESTRICT for foreign keys of other tables that reference a changed key
// (23503; ON UPDATE actions other than NO ACTION/RESTRICT are refused at
// CREATE). ev may be nil when t has no CHECK constraint; SET NULL actions
// pass nil, so CHECKs are not evaluated for them.
func Update(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, t *Table, old, new Row, ev Evaluator) error {
	if len(old) != len(t.Columns) || len(new) != len(t.Columns) {
		return sqlerr.New(sqlerr.Internal, "update of %q: %d old and %d new values for %d columns", t.Name, len(old), len(new), len(t.Columns))
	}
	new, err := checkRow(t, new, ev)
	if err != nil {
		return err
	}
	oldPK, newPK := pkSuffix(t, old), pkSuffix(t, new)
	pkChanged := string(oldPK) != string(newPK)
	val := encodeRowValue(t, new)
	if err := checkSize(t, len(newPK)+len(val)); err != nil {
		return err
	}
	if err := checkKeySize(len(newPK), t.PrimaryKeyName); err != nil {
		return err
	}
	// Referenced keys of old that change must not be referenced (checked
	// before writing: old's key is still there to find referencing rows of
	// a self-referencing table by).
	for _, ref := range t.ReferencedBy {
		child, err := cat.Table(ref.Table)
		if err != nil {
			return err
		}
		fk := &child.ForeignKeys[ref.Index]
		if !changed(old, new, fk.RefColumns) || hasNull(old, fk.RefColumns) {
			continue
		}
		if err := restrictReferenced(ctx, txn, t, child, fk, old); err != nil {
			return err
		}
	}
	// Reads first (a failed Update writes nothing), then the writes.
	if pkChanged {
		if err := checkAbsent(ctx, txn, rowKey(t, newPK)); err == errExists {
			return uniqueViolation(t, t.PrimaryKeyName, t.PrimaryKey, new)
		} else if err != nil {
			return err
		}
	}
	type rewrite struct {
		oldKey []byte
		w      indexWrite
	}
	var rewrites []rewrite
	for i := range t.Indexes {
		ix := &t.Indexes[i]
		if !pkChanged && !changed(old, new, ix.Columns) {
			continue
		}
		oldKey, _, _ := indexEntry(t, ix, old, oldPK)
		w, err := newEntry(ctx, txn, t, ix, new, newPK, oldKey)
		if err != nil {
			return err
		}
		rewrites = append(rewrites, rewrite{oldKey, w})
	}
	for i := range t.ForeignKeys {
		fk := &t.ForeignKeys[i]
		if fk.RefTable == t.Name || !changed(old, new, fk.Columns) {
			continue
		}
		if err := checkReference(ctx, txn, cat, t, fk, new); err != nil {
			return err
		}
	}
	if pkChanged {
		if err := txn.Delete(rowKey(t, oldPK)); err != nil {
			return txnErr(err)
		}
	}
	if err := txn.Put(rowKey(t, newPK), val); err != nil {
		return txnErr(err)
	}
	for _, r := range rewrites {
		if err := txn.Delete(r.oldKey); err != nil {
			return txnErr(err)
		}
		if err := txn.Put(r.w.key, r.w.val); err != nil {
			return txnErr(err)
		}
	}
	return checkSelfReferences(ctx, txn, cat, t, old, new)
}

// Delete removes row (as read) from t: DeleteRows with one row.
func Delete(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, t *Table, row Row) error {
	return DeleteRows(ctx, txn, cat, t, []Row{row})
}

// DeleteRows removes rows (as read) from t with their index entries, then
// applies the ON DELETE action of every foreign key referencing t, for each
// row: NO ACTION and RESTRICT fail with 23503 when a referencing row is
// left, CASCADE deletes the referencing rows (recursively, the same way),
// SET NULL updates them (NOT NULL still applies: 23502; their CHECKs are not
// evaluated). As in PostgreSQL, where these run as triggers at the end of
// the statement, the checks see every row of the statement deleted: pass all
// the rows one DELETE statement removes in one call, so DELETE FROM a
// self-referencing table succeeds whatever the row order. An error leaves
// the statement's deletes in the transaction: roll it back, as PostgreSQL
// aborts a transaction whose statement failed.
func DeleteRows(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, t *Table, rows []Row) error {
	for _, row := range rows {
		if len(row) != len(t.Columns) {
			return sqlerr.New(sqlerr.Internal, "delete from %q: %d values for %d columns", t.Name, len(row), len(t.Columns))
		}
		pk := pkSuffix(t, row)
		if err := txn.Delete(rowKey(t, pk)); err != nil {
			return txnErr(err)
		}
		for i := range t.Indexes {
			key, _, _ := indexEntry(t, &t.Indexes[i], row, pk)
			if err := txn.Delete(key); err != nil {
				return txnErr(err)
			}
		}
	}
	for _, ref := range t.ReferencedBy {
		child, err := cat.Table(ref.Table)
		if err != nil {
			return err
		}
		fk := &child.ForeignKeys[ref.Index]
		for _, row := range rows {
			if hasNull(row, fk.RefColumns) {
				continue
			}
			if err := onDelete(ctx, txn, cat, t, child, fk, row); err != nil {
				return err
			}
		}
	}
	return nil
}

// onDelete applies fk's ON DELETE action for the deleted parent row.
func onDelete(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, parent, child *Table, fk *ForeignKey, row Row) error {
	switch fk.OnDelete {
	case Cascade:
		rows, err := referencing(ctx, txn, parent, child, fk, row, 0)
		if err != nil || len(rows) == 0 {
			return err
		}
		return DeleteRows(ctx, txn, cat, child, rows)
	case SetNull:
		rows, err := referencing(ctx, txn, parent, child, fk, row, 0)
		if err != nil {
			return err
		}
		for _, r := range rows {
			n := append(Row(nil), r...)
			for _, c := range fk.Columns {
				n[c] = value.NullOf(child.Columns[c].Type)
			}
			if err := Update(ctx, txn, cat, child, r, n, nil); err != nil {
				return err
			}
		}
		return nil
	default:
		return restrictReferenced(ctx, txn, parent, child, fk, row)
	}
}

// checkRow converts row to t's column types and checks NOT NULL and CHECK.
func checkRow(t *Table, row Row, ev Evaluator) (Row, error) {
	row, err := coerceRow(t, row)
	if err != nil {
		return nil, err
	}
	for i, c := range t.Columns {
		if c.NotNull && row[i].IsNull() {
			return nil, &sqlerr.Error{Code: sqlerr.NotNullViolation,
				Message: fmt.Sprintf("null value in column \"%s\" of relation \"%s\" violates not-null constraint", c.Name, t.Name),
				Detail:  failingRow(t, row)}
		}
	}
	if len(t.Checks) == 0 || ev == nil {
		return row, nil
	}
	// In name order, as PostgreSQL evaluates them (t.Checks is kept sorted).
	for _, ck := range t.Checks {
		ok, err := ev.EvalCheck(t, ck, row)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, &sqlerr.Error{Code: sqlerr.CheckViolation,
				Message: fmt.Sprintf("new row for relation \"%s\" violates check constraint \"%s\"", t.Name, ck.Name),
				Detail:  failingRow(t, row)}
		}
	}
	return row, nil
}

func checkSize(t *Table, n int) error {
	if n > MaxRowBytes {
		return sqlerr.New(sqlerr.ProgramLimitExceeded, "row is too big: size %d, maximum size %d (table \"%s\")", n, MaxRowBytes, t.Name)
	}
	return nil
}

// errExists is checkAbsent's answer for a key that exists.
var errExists = errors.New("schema: key exists")

// checkAbsent reads key and locks it (LockForUpdate), so that under READ
// COMMITTED too the commit fails if another transaction creates the key
// after this read: uniqueness holds at every isolation level.
func checkAbsent(ctx context.Context, txn *kvtxn.Txn, key []byte) error {
	_, found, err := txn.Get(ctx, key)
	if err != nil {
		return err
	}
	if found {
		return errExists
	}
	txn.LockForUpdate(key)
	return nil
}

func uniqueViolation(t *Table, name string, cols []int, row Row) error {
	return &sqlerr.Error{Code: sqlerr.UniqueViolation,
		Message: fmt.Sprintf("duplicate key value violates unique constraint \"%s\"", name),
		Detail:  keyDetail(t, cols, pick(row, cols)) + " already exists."}
}

// changed reports whether any of cols differs between a and b (NULL equals
// NULL here: a change is a change of stored bytes).
func changed(a, b Row, cols []int) bool {
	for _, c := range cols {
		if a[c].IsNull() != b[c].IsNull() {
			return true
		}
		if a[c].IsNull() {
			continue
		}
		if string(value.AppendKey(nil, a[c], false)) != string(value.AppendKey(nil, b[c], false)) {
			return true
		}
	}
	return false
}
