package schema

import (
	"cairn.dev/cairn/raftkv/sql/value"
)

// Table is a table as the engine sees it. Column positions ("ordinals") index
// Columns; a Table belongs to a Catalog and is never modified after Load.
type Table struct {
	ID             uint32
	Name           string
	Columns        []Column
	PrimaryKey     []int  // ordinals of the primary key columns (the hidden rowid when the table has no PRIMARY KEY)
	PrimaryKeyName string // "<table>_pkey" or the CONSTRAINT name; "" for the hidden rowid
	Indexes        []Index
	Checks         []Check
	ForeignKeys    []ForeignKey
	NextColumnID   uint32
	NextIndexID    uint32

	// ReferencedBy lists the foreign keys of every table (this one
	// included) that reference this table; filled by Load.
	ReferencedBy []ForeignKeyRef
}

// Column is one column of a table.
type Column struct {
	ID      uint32
	Name    string
	Type    value.Type
	NotNull bool
	// Default is the SQL text of the DEFAULT expression (ast.Format form),
	// "" when none. SERIAL and identity columns have nextval('<seq>').
	Default string
	// Sequence names the sequence a SERIAL, identity or hidden rowid column
	// draws from; "" otherwise.
	Sequence string
	// Hidden marks the implicit rowid primary key of a table declared
	// without one: not part of SELECT *, filled by Insert when NULL.
	Hidden bool
	// IdentityAlways marks GENERATED ALWAYS AS IDENTITY (the engine refuses
	// explicit values: 428C9).
	IdentityAlways bool
	// AddedDefault, when not nil, is the value rows written before this
	// column was added (ALTER TABLE ADD COLUMN … DEFAULT constant) read for it.
	AddedDefault *value.Value
}

// Index is a secondary index.
type Index struct {
	ID      uint32
	Name    string
	Columns []int // ordinals
	Unique  bool
	// Constraint marks the index of a UNIQUE constraint (dropped with ALTER
	// TABLE … DROP CONSTRAINT, not DROP INDEX).
	Constraint bool
}

// Check is a CHECK constraint.
type Check struct {
	Name    string
	Expr    string // SQL text (ast.Format form)
	Columns []int  // ordinals of the columns the expression references
}

// Action is what ON DELETE does to referencing rows.
type Action uint8

// The foreign key actions.
const (
	NoAction Action = iota
	Restrict
	Cascade
	SetNull
)

// String returns the action as SQL spells it.
func (a Action) String() string {
	switch a {
	case Restrict:
		return "RESTRICT"
	case Cascade:
		return "CASCADE"
	case SetNull:
		return "SET NULL"
	default:
		return "NO ACTION"
	}
}

// ForeignKey is a FOREIGN KEY constraint of the table holding it.
type ForeignKey struct {
	Name       string
	Columns    []int // ordinals in this table
	RefTable   string
	RefColumns []int // ordinals in RefTable, a PRIMARY KEY or UNIQUE column set, in the order matching Columns
	OnDelete   Action
}

// ForeignKeyRef names a foreign key by its table and position in that
// table's ForeignKeys.
type ForeignKeyRef struct {
	Table string
	Index int
}

// Column returns the ordinal of the column named name (hidden columns
// included).
func (t *Table) Column(name string) (int, bool) {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return i, true
		}
	}
	return -1, false
}

// IndexByName returns the position in Indexes of the index named name.
func (t *Table) IndexByName(name string) (int, bool) {
	for i := range t.Indexes {
		if t.Indexes[i].Name == name {
			return i, true
		}
	}
	return -1, false
}

// IndexColumns returns the column ordinals of index idx (-1: the primary key).
func (t *Table) IndexColumns(idx int) []int {
	if idx < 0 {
		return t.PrimaryKey
	}
	return t.Indexes[idx].Columns
}

// HasHiddenKey reports whether the primary key is the hidden rowid.
func (t *Table) HasHiddenKey() bool {
	return len(t.PrimaryKey) == 1 && t.Columns[t.PrimaryKey[0]].Hidden
}

// isPK reports whether ordinal i is a primary key column.
func (t *Table) isPK(i int) bool {
	for _, p := range t.PrimaryKey {
		if p == i {
			return true
		}
	}
	return false
}

// clone returns a deep copy of t (values of AddedDefault are shared: they are
// never modified).
func (t *Table) clone() *Table {
	c := *t
	c.Columns = append([]Column(nil), t.Columns...)
	c.PrimaryKey = append([]int(nil), t.PrimaryKey...)
	c.Indexes = make([]Index, len(t.Indexes))
	for i, ix := range t.Indexes {
		ix.Columns = append([]int(nil), ix.Columns...)
		c.Indexes[i] = ix
	}
	c.Checks = make([]Check, len(t.Checks))
	for i, ck := range t.Checks {
		ck.Columns = append([]int(nil), ck.Columns...)
		c.Checks[i] = ck
	}
	c.ForeignKeys = make([]ForeignKey, len(t.ForeignKeys))
	for i, fk := range t.ForeignKeys {
		fk.Columns = append([]int(nil), fk.Columns...)
		fk.RefColumns = append([]int(nil), fk.RefColumns...)
		c.ForeignKeys[i] = fk
	}
	c.ReferencedBy = append([]ForeignKeyRef(nil), t.ReferencedBy...)
	return &c
}
