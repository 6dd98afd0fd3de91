package schema

import (
	"context"

	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// Scan reads index entries in pages that grow from firstScanPage to
// scanPage entries: a scan its caller stops early (LIMIT, EXISTS, a foreign
// key probe) reads, and records in the transaction's read set, little more
// than it used.
const (
	firstScanPage = 16
	scanPage      = 256
)

// Bound is one end of an index range: Key is a prefix of the index's
// columns (values of the columns' types; other kinds are cast). Inclusive
// says whether entries whose leading columns equal Key are in the range.
// NULL sorts before every value, so a lower Bound{Key: {NULL}} exclusive
// skips the NULLs that an unbounded (nil) lower end includes.
type Bound struct {
	Key       []value.Value
	Inclusive bool
}

// Scan calls fn for each row of t in the order of index idx (-1: the
// primary key; otherwise a position in t.Indexes) whose index columns lie
// between lo and hi (nil = unbounded), until fn returns false or an error.
// Entries are read in growing pages from the transaction's snapshot
// (including its own writes); fn is never called while a raftkv read is in
// progress, so it may use txn (Lookup, nested Scan). Rows fn's writes move
// ahead of the scan position may be seen again: an UPDATE should collect
// its rows before writing.
func Scan(ctx context.Context, txn *kvtxn.Txn, t *Table, idx int, lo, hi *Bound, fn func(Row) (bool, error)) error {
	ix, prefix, err := indexOf(t, idx)
	if err != nil {
		return err
	}
	cols := t.IndexColumns(idx)
	start, end := prefix, prefixEnd(prefix)
	if lo != nil {
		k, incl, err := boundKey(t, cols, prefix, lo, true)
		if err != nil {
			return err
		}
		if incl {
			start = k
		} else {
			start = prefixEnd(k)
		}
	}
	if hi != nil {
		k, incl, err := boundKey(t, cols, prefix, hi, false)
		if err != nil {
			return err
		}
		if incl {
			end = prefixEnd(k)
		} else {
			end = k
		}
	}
	size := firstScanPage
	for string(start) < string(end) {
		var page []kvtxn.KV
		err := txn.Scan(ctx, start, end, size, func(kv kvtxn.KV) (bool, error) {
			page = append(page, kv)
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, kv := range page {
			row, err := entryRow(ctx, txn, t, ix, prefix, kv)
			if err != nil {
				return err
			}
			more, err := fn(row)
			if err != nil || !more {
				return err
			}
		}
		if len(page) < size {
			return nil
		}
		start = append(append([]byte(nil), page[len(page)-1].Key...), 0)
		size = min(size*4, scanPage)
	}
	return nil
}

// indexOf returns index idx of t (nil for the primary key) and its key prefix.
func indexOf(t *Table, idx int) (*Index, []byte, error) {
	if idx < 0 {
		return nil, indexPrefix(t.ID, PrimaryIndexID), nil
	}
	if idx >= len(t.Indexes) {
		return nil, nil, sqlerr.New(sqlerr.Internal, "table %q has no index %d", t.Name, idx)
	}
	ix := &t.Indexes[idx]
	return ix, indexPrefix(t.ID, ix.ID), nil
}

// entryRow turns an index entry into its row (one more read for a secondary
// index).
func entryRow(ctx context.Context, txn *kvtxn.Txn, t *Table, ix *Index, prefix []byte, kv kvtxn.KV) (Row, error) {
	if ix == nil {
		return decodeRow(t, kv.Key[len(prefix):], kv.Value)
	}
	pk, err := entryPK(t, ix, kv.Key, kv.Value)
	if err != nil {
		return nil, err
	}
	return fetchRow(ctx, txn, t, pk)
}

// fetchRow reads the row whose primary key bytes are pk.
func fetchRow(ctx context.Context, txn *kvtxn.Txn, t *Table, pk []byte) (Row, error) {
	val, found, err := txn.Get(ctx, rowKey(t, pk))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, sqlerr.New(sqlerr.Internal, "table %q: an index entry points at a missing row", t.Name)
	}
	return decodeRow(t, pk, val)
}

// boundKey encodes a bound. A value of another kind than its column is
// cast; when the cast is inexact (5.5 for an integer column) the last
// value's inclusiveness is adjusted so the range is the same (x > 5.5 is
// x >= 6).
func boundKey(t *Table, cols []int, prefix []byte, b *Bound, lower bool) ([]byte, bool, error) {
	if len(b.Key) > len(cols) {
		return nil, false, sqlerr.New(sqlerr.Internal, "bound of %d values for an index of %d columns on %q", len(b.Key), len(cols), t.Name)
	}
	key := append([]byte(nil), prefix...)
	incl := b.Inclusive
	for i, v := range b.Key {
		typ := t.Columns[cols[i]].Type
		c, exact, err := keyValue(v, typ)
		if err != nil {
			return nil, false, err
		}
		if !exact && i == len(b.Key)-1 {
			up, err := value.Compare(c, v)
			if err != nil {
				return nil, false, err
			}
			// Rounded up: x > v and x >= v both mean x >= c (lower), and
			// x < v, x <= v both mean x < c (upper); rounded down the other way.
			if lower {
				incl = up > 0
			} else {
				incl = up < 0
			}
		}
		key = value.AppendKey(key, c, false)
	}
	return key, incl, nil
}

// Lookup returns the rows of t whose index idx columns (-1: the primary
// key) equal key, one value per index column. A NULL in key matches nothing
// (SQL equality), as does a value with no equal of the column's type.
func Lookup(ctx context.Context, txn *kvtxn.Txn, t *Table, idx int, key []value.Value) ([]Row, error) {
	ix, prefix, err := indexOf(t, idx)
	if err != nil {
		return nil, err
	}
	cols := t.IndexColumns(idx)
	if len(key) != len(cols) {
		return nil, sqlerr.New(sqlerr.Internal, "lookup of %d values in an index of %d columns on %q", len(key), len(cols), t.Name)
	}
	enc := append([]byte(nil), prefix...)
	for i, v := range key {
		if v.IsNull() {
			return nil, nil
		}
		c, exact, err := keyValue(v, t.Columns[cols[i]].Type)
		if err != nil || !exact {
			return nil, nil
		}
		enc = value.AppendKey(enc, c, false)
	}
	if ix == nil || ix.Unique {
		val, found, err := txn.Get(ctx, enc)
		if err != nil || !found {
			return nil, err
		}
		if ix == nil {
			row, err := decodeRow(t, enc[len(prefix):], val)
			if err != nil {
				return nil, err
			}
			return []Row{row}, nil
		}
		row, err := fetchRow(ctx, txn, t, val)
		if err != nil {
			return nil, err
		}
		return []Row{row}, nil
	}
	var rows []Row
	b := &Bound{Key: key, Inclusive: true}
	err = Scan(ctx, txn, t, idx, b, b, func(r Row) (bool, error) {
		rows = append(rows, r)
		return true, nil
	})
	return rows, err
}

// LockRow marks row of t for SELECT … FOR UPDATE: txn's commit fails if the
// row changed after txn's snapshot, even in READ COMMITTED.
func LockRow(txn *kvtxn.Txn, t *Table, row Row) {
	txn.LockForUpdate(rowKey(t, pkSuffix(t, row)))
}
