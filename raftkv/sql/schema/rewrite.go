package schema

import (
	"fmt"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// storedRow is a row by column id, layout-independent.
type storedRow map[uint32]value.Value

// readAll reads every row of t (under its current layout) by column id, for
// rewrite after a primary key change.
func (d *ddl) readAll(t *Table) ([]storedRow, error) {
	var rows []storedRow
	err := Scan(d.ctx, d.txn, t, -1, nil, nil, func(r Row) (bool, error) {
		m := make(storedRow, len(r))
		for i, c := range t.Columns {
			m[c.ID] = r[i]
		}
		rows = append(rows, m)
		return true, nil
	})
	return rows, err
}

// rewrite stores rows again under t's new layout (a new primary key):
// t moves to a new table id (its old keys go in one range delete, as in
// TRUNCATE), a new hidden rowid numbers the rows 1, 2, … and its sequence
// starts after them, and the new key is checked as CREATE UNIQUE INDEX
// does (23502 for a NULL, 23505 "could not create unique index" for a
// duplicate). Every row is one write of the caller's transaction, so the
// table must fit in the transaction's limits (54000 otherwise).
func (d *ddl) rewrite(t *Table, rows []storedRow) error {
	start := tablePrefix(t.ID)
	if err := d.txn.DeleteRange(start, prefixEnd(start)); err != nil {
		return txnErr(err)
	}
	id, err := allocTableID(d.ctx, d.txn)
	if err != nil {
		return err
	}
	delete(d.cat.byID, t.ID)
	t.ID = id
	d.putTable(t)
	for _, ref := range t.ReferencedBy {
		d.putTable(d.cat.tables[ref.Table])
	}
	for _, sn := range d.ownedSequences(t.Name, "") {
		d.putSequence(d.cat.seqs[sn])
	}
	if t.HasHiddenKey() {
		hidden := t.Columns[t.PrimaryKey[0]]
		for i, r := range rows {
			r[hidden.ID] = value.NewInt(int64(i) + 1)
		}
		s := d.cat.seqs[hidden.Sequence]
		s.Start = int64(len(rows)) + 1
		d.putSequence(s)
	}
	for _, m := range rows {
		r := make(Row, len(t.Columns))
		for i, c := range t.Columns {
			v, ok := m[c.ID]
			if !ok || v.IsNull() {
				v = value.NullOf(c.Type)
			}
			r[i] = v
		}
		for _, o := range t.PrimaryKey {
			if r[o].IsNull() {
				return sqlerr.New(sqlerr.NotNullViolation, "column \"%s\" of relation \"%s\" contains null values", t.Columns[o].Name, t.Name)
			}
		}
		pk := pkSuffix(t, r)
		if err := checkAbsent(d.ctx, d.txn, rowKey(t, pk)); err == errExists {
			return &sqlerr.Error{Code: sqlerr.UniqueViolation,
				Message: fmt.Sprintf("could not create unique index \"%s\"", t.PrimaryKeyName),
				Detail:  keyDetail(t, t.PrimaryKey, pick(r, t.PrimaryKey)) + " is duplicated."}
		} else if err != nil {
			return err
		}
		if err := d.txn.Put(rowKey(t, pk), encodeRowValue(t, r)); err != nil {
			return txnErr(err)
		}
		for i := range t.Indexes {
			ix := &t.Indexes[i]
			w, err := newEntry(d.ctx, d.txn, t, ix, r, pk, nil)
			if err != nil {
				return err
			}
			if err := d.txn.Put(w.key, w.val); err != nil {
				return txnErr(err)
			}
		}
	}
	return nil
}
