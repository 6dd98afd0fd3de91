package schema

import (
	"fmt"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// Row is one row: its values in table column order (hidden columns
// included), len(Row) == len(Table.Columns).
type Row []value.Value

// appendKeyCols appends the key encoding of row's cols.
func appendKeyCols(dst []byte, row Row, cols []int) []byte {
	for _, c := range cols {
		dst = value.AppendKey(dst, row[c], false)
	}
	return dst
}

// pkSuffix is the primary key part of a row's keys.
func pkSuffix(t *Table, row Row) []byte { return appendKeyCols(nil, row, t.PrimaryKey) }

// rowKey is the primary index key of the row whose primary key bytes are pk.
func rowKey(t *Table, pk []byte) []byte { return append(indexPrefix(t.ID, PrimaryIndexID), pk...) }

// encodeRowValue encodes every non-primary-key column of row, NULLs
// included (an absent id reads as the column's AddedDefault).
func encodeRowValue(t *Table, row Row) []byte {
	ids := make([]uint32, 0, len(row))
	vals := make([]value.Value, 0, len(row))
	for i, c := range t.Columns {
		if t.isPK(i) {
			continue
		}
		ids = append(ids, c.ID)
		vals = append(vals, row[i])
	}
	return value.EncodeRow(nil, ids, vals)
}

// decodeRow rebuilds a row from its primary index key suffix and value.
func decodeRow(t *Table, pk, val []byte) (Row, error) {
	row := make(Row, len(t.Columns))
	rest := pk
	for _, c := range t.PrimaryKey {
		v, r, err := value.DecodeKey(rest, t.Columns[c].Type, false)
		if err != nil {
			return nil, badRow(t, err)
		}
		row[c], rest = v, r
	}
	if len(rest) != 0 {
		return nil, badRow(t, fmt.Errorf("%d bytes after the primary key", len(rest)))
	}
	want := make(map[uint32]value.Type, len(t.Columns))
	for i, c := range t.Columns {
		if !t.isPK(i) {
			want[c.ID] = c.Type
		}
	}
	m, err := value.DecodeRowPresent(val, want)
	if err != nil {
		return nil, badRow(t, err)
	}
	for i, c := range t.Columns {
		if t.isPK(i) {
			continue
		}
		v, ok := m[c.ID]
		switch {
		case ok:
			if v.IsNull() {
				v = value.NullOf(c.Type)
			}
			row[i] = v
		case c.AddedDefault != nil:
			row[i] = *c.AddedDefault
		default:
			row[i] = value.NullOf(c.Type)
		}
	}
	return row, nil
}

func badRow(t *Table, err error) error {
	return sqlerr.Wrap(sqlerr.Internal, err, "corrupt row in table %q: %v", t.Name, err)
}

// hasNull reports whether any of row's cols is NULL.
func hasNull(row Row, cols []int) bool {
	for _, c := range cols {
		if row[c].IsNull() {
			return true
		}
	}
	return false
}

// indexEntry returns the key and value of row's entry in index ix; unique
// is true for the unique form (key = index columns, value = primary key).
func indexEntry(t *Table, ix *Index, row Row, pk []byte) (key, val []byte, unique bool) {
	key = appendKeyCols(indexPrefix(t.ID, ix.ID), row, ix.Columns)
	if ix.Unique && !hasNull(row, ix.Columns) {
		return key, pk, true
	}
	return append(key, pk...), []byte{}, false
}

// entryPK returns the primary key bytes an index entry points at.
func entryPK(t *Table, ix *Index, key, val []byte) ([]byte, error) {
	if len(val) > 0 {
		return val, nil
	}
	rest := key[len(indexPrefix(t.ID, ix.ID)):]
	for _, c := range ix.Columns {
		_, r, err := value.DecodeKey(rest, t.Columns[c].Type, false)
		if err != nil {
			return nil, badRow(t, fmt.Errorf("index %q: %w", ix.Name, err))
		}
		rest = r
	}
	return rest, nil
}

// coerceRow converts each non-NULL value whose kind differs from its
// column's to the column type by assignment rules; values of the right kind
// are checked for length/precision too (AssignCast), so stored keys always
// encode the column type.
func coerceRow(t *Table, row Row) (Row, error) {
	out := make(Row, len(row))
	for i, v := range row {
		typ := t.Columns[i].Type
		if v.IsNull() {
			out[i] = value.NullOf(typ)
			continue
		}
		if v.Type == typ {
			out[i] = v
			continue
		}
		c, err := value.AssignCast(v, typ)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// keyValue converts v to typ for an index key; exact is false when v has
// no equal value of typ (5.5 for an integer column), so an equality lookup
// matches nothing.
func keyValue(v value.Value, typ value.Type) (value.Value, bool, error) {
	if v.IsNull() {
		return value.NullOf(typ), true, nil
	}
	if v.Type.Kind == typ.Kind {
		return v, true, nil
	}
	c, err := value.Cast(v, typ)
	if err != nil {
		return value.Value{}, false, err
	}
	cmp, err := value.Compare(c, v)
	if err != nil {
		return value.Value{}, false, err
	}
	return c, cmp == 0, nil
}
