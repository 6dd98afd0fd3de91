package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"cairn.dev/cairn/raftkv/sql/value"
)

// The stored forms of descriptors. They name columns by id, never by
// position, and other tables by id, so DROP COLUMN and RENAME rewrite only
// the descriptor they change.

type tableDesc struct {
	ID             uint32       `json:"id"`
	Name           string       `json:"name"`
	Columns        []columnDesc `json:"columns"`
	PrimaryKey     []uint32     `json:"primary_key"`
	PrimaryKeyName string       `json:"primary_key_name,omitempty"`
	Indexes        []indexDesc  `json:"indexes,omitempty"`
	Checks         []checkDesc  `json:"checks,omitempty"`
	ForeignKeys    []fkDesc     `json:"foreign_keys,omitempty"`
	NextColumnID   uint32       `json:"next_column_id"`
	NextIndexID    uint32       `json:"next_index_id"`
}

type columnDesc struct {
	ID             uint32     `json:"id"`
	Name           string     `json:"name"`
	Type           value.Type `json:"type"`
	NotNull        bool       `json:"not_null,omitempty"`
	Default        string     `json:"default,omitempty"`
	Sequence       string     `json:"sequence,omitempty"`
	Hidden         bool       `json:"hidden,omitempty"`
	IdentityAlways bool       `json:"identity_always,omitempty"`
	AddedDefault   []byte     `json:"added_default,omitempty"` // value.EncodeRow of the one column
}

type indexDesc struct {
	ID         uint32   `json:"id"`
	Name       string   `json:"name"`
	Columns    []uint32 `json:"columns"`
	Unique     bool     `json:"unique,omitempty"`
	Constraint bool     `json:"constraint,omitempty"`
}

type checkDesc struct {
	Name    string   `json:"name"`
	Expr    string   `json:"expr"`
	Columns []uint32 `json:"columns,omitempty"`
}

type fkDesc struct {
	Name       string   `json:"name"`
	Columns    []uint32 `json:"columns"`
	RefTableID uint32   `json:"ref_table_id"`
	RefColumns []uint32 `json:"ref_columns"`
	OnDelete   Action   `json:"on_delete,omitempty"`
}

type sequenceDesc struct {
	Name          string `json:"name"`
	Counter       string `json:"counter"` // hex id of the counter key s/<counter>
	Start         int64  `json:"start"`
	Increment     int64  `json:"increment"`
	Min           int64  `json:"min"`
	Max           int64  `json:"max"`
	OwnerTableID  uint32 `json:"owner_table_id,omitempty"`
	OwnerColumnID uint32 `json:"owner_column_id,omitempty"`
}

// columnIDs maps ordinals of t to column ids.
func columnIDs(t *Table, ords []int) []uint32 {
	ids := make([]uint32, len(ords))
	for i, o := range ords {
		ids[i] = t.Columns[o].ID
	}
	return ids
}

// ordinals maps column ids of t to ordinals.
func ordinals(t *Table, ids []uint32) ([]int, error) {
	ords := make([]int, len(ids))
	for i, id := range ids {
		o := -1
		for j := range t.Columns {
			if t.Columns[j].ID == id {
				o = j
				break
			}
		}
		if o < 0 {
			return nil, fmt.Errorf("table %q has no column with id %d", t.Name, id)
		}
		ords[i] = o
	}
	return ords, nil
}

// encodeTable returns the stored form of t; byID resolves foreign key targets.
func encodeTable(t *Table, byName map[string]*Table) ([]byte, error) {
	d := tableDesc{
		ID: t.ID, Name: t.Name, PrimaryKey: columnIDs(t, t.PrimaryKey), PrimaryKeyName: t.PrimaryKeyName,
		NextColumnID: t.NextColumnID, NextIndexID: t.NextIndexID,
	}
	for _, c := range t.Columns {
		cd := columnDesc{ID: c.ID, Name: c.Name, Type: c.Type, NotNull: c.NotNull, Default: c.Default,
			Sequence: c.Sequence, Hidden: c.Hidden, IdentityAlways: c.IdentityAlways}
		if c.AddedDefault != nil {
			cd.AddedDefault = value.EncodeRow(nil, []uint32{c.ID}, []value.Value{*c.AddedDefault})
		}
		d.Columns = append(d.Columns, cd)
	}
	for _, ix := range t.Indexes {
		d.Indexes = append(d.Indexes, indexDesc{ID: ix.ID, Name: ix.Name, Columns: columnIDs(t, ix.Columns), Unique: ix.Unique, Constraint: ix.Constraint})
	}
	for _, ck := range t.Checks {
		d.Checks = append(d.Checks, checkDesc{Name: ck.Name, Expr: ck.Expr, Columns: columnIDs(t, ck.Columns)})
	}
	for _, fk := range t.ForeignKeys {
		ref := byName[fk.RefTable]
		if fk.RefTable == t.Name {
			ref = t
		}
		if ref == nil {
			return nil, fmt.Errorf("foreign key %q of table %q references unknown table %q", fk.Name, t.Name, fk.RefTable)
		}
		d.ForeignKeys = append(d.ForeignKeys, fkDesc{Name: fk.Name, Columns: columnIDs(t, fk.Columns), RefTableID: ref.ID,
			RefColumns: columnIDs(ref, fk.RefColumns), OnDelete: fk.OnDelete})
	}
	return json.Marshal(d)
}

// decodeTable parses a stored table; foreign keys are resolved later by
// resolveForeignKeys, once every table is known.
func decodeTable(b []byte) (*Table, []fkDesc, error) {
	var d tableDesc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, nil, err
	}
	t := &Table{ID: d.ID, Name: d.Name, PrimaryKeyName: d.PrimaryKeyName, NextColumnID: d.NextColumnID, NextIndexID: d.NextIndexID}
	for _, cd := range d.Columns {
		c := Column{ID: cd.ID, Name: cd.Name, Type: cd.Type, NotNull: cd.NotNull, Default: cd.Default,
			Sequence: cd.Sequence, Hidden: cd.Hidden, IdentityAlways: cd.IdentityAlways}
		if len(cd.AddedDefault) > 0 {
			m, err := value.DecodeRow(cd.AddedDefault, map[uint32]value.Type{cd.ID: cd.Type})
			if err != nil {
				return nil, nil, fmt.Errorf("column %q: added default: %w", cd.Name, err)
			}
			if v, ok := m[cd.ID]; ok {
				c.AddedDefault = &v
			}
		}
		t.Columns = append(t.Columns, c)
	}
	var err error
	if t.PrimaryKey, err = ordinals(t, d.PrimaryKey); err != nil {
		return nil, nil, err
	}
	for _, id := range d.Indexes {
		cols, err := ordinals(t, id.Columns)
		if err != nil {
			return nil, nil, err
		}
		t.Indexes = append(t.Indexes, Index{ID: id.ID, Name: id.Name, Columns: cols, Unique: id.Unique, Constraint: id.Constraint})
	}
	for _, cd := range d.Checks {
		cols, err := ordinals(t, cd.Columns)
		if err != nil {
			return nil, nil, err
		}
		t.Checks = append(t.Checks, Check{Name: cd.Name, Expr: cd.Expr, Columns: cols})
	}
	sortChecks(t)
	return t, d.ForeignKeys, nil
}

// sortChecks keeps t.Checks in name order, the order PostgreSQL evaluates
// them in (so the same violation is reported first).
func sortChecks(t *Table) {
	slices.SortStableFunc(t.Checks, func(a, b Check) int { return strings.Compare(a.Name, b.Name) })
}

// resolveForeignKeys fills t.ForeignKeys from their stored forms.
func resolveForeignKeys(t *Table, fks []fkDesc, byID map[uint32]*Table) error {
	for _, fd := range fks {
		ref := byID[fd.RefTableID]
		if ref == nil {
			return fmt.Errorf("foreign key %q of table %q references unknown table id %d", fd.Name, t.Name, fd.RefTableID)
		}
		cols, err := ordinals(t, fd.Columns)
		if err != nil {
			return err
		}
		refCols, err := ordinals(ref, fd.RefColumns)
		if err != nil {
			return err
		}
		t.ForeignKeys = append(t.ForeignKeys, ForeignKey{Name: fd.Name, Columns: cols, RefTable: ref.Name,
			RefColumns: refCols, OnDelete: fd.OnDelete})
	}
	return nil
}
