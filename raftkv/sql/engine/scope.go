package engine

import (
	"cairn.dev/cairn/raftkv/sql/schema"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// scopeCol is a column visible to name resolution.
type scopeCol struct {
	table    string // the relation's alias or name
	name     string
	typ      value.Type
	hidden   bool // not expanded by * (hidden rowid, the right side of USING)
	noUnqual bool // not found by an unqualified name (right side of USING)
	tableOID uint32
	attr     int16
	rel      int // relation number in the FROM clause (-1: none)
	tbl      *schema.Table
	ord      int // ordinal in tbl
}

// scope is the name space of one query level.
type scope struct {
	cols   []scopeCol
	rels   map[string]bool // relation names/aliases in this FROM clause
	parent *scope
	agg    *aggScope // set while binding expressions evaluated after aggregation
	// mask accumulates the relations referenced while binding a conjunct.
	mask uint64
	// outerRef is set when an expression bound below this scope referenced
	// a column of an enclosing query (the subquery is correlated).
	outerRef bool
}

// resolve finds a column by [table.]name in s and its enclosing scopes,
// returning the scope depth and slot.
func (s *scope) resolve(table, name string, pos int) (*scope, int, int, error) {
	depth := 0
	for sc := s; sc != nil; sc = sc.parent {
		idx, err := sc.find(table, name, pos)
		if err != nil {
			return nil, 0, 0, err
		}
		if idx >= 0 {
			for x, d := s, 0; d < depth; x, d = x.parent, d+1 {
				x.outerRef = true
			}
			return sc, depth, idx, nil
		}
		depth++
	}
	if table != "" {
		for sc := s; sc != nil; sc = sc.parent {
			if sc.rels[table] {
				return nil, 0, 0, sqlerr.New(sqlerr.UndefinedColumn, "column %s.%s does not exist", table, name).At(int32(pos))
			}
		}
		return nil, 0, 0, sqlerr.New(sqlerr.UndefinedTable, "missing FROM-clause entry for table %q", table).At(int32(pos))
	}
	return nil, 0, 0, sqlerr.New(sqlerr.UndefinedColumn, "column %q does not exist", name).At(int32(pos))
}

// find returns the slot of [table.]name in this scope only (-1 none). In an
// aggregated query's scope the slot is the column's group key.
func (s *scope) find(table, name string, pos int) (int, error) {
	if s.agg != nil {
		return s.agg.findGrouped(table, name, pos)
	}
	found := -1
	for i, c := range s.cols {
		if c.name != name {
			continue
		}
		if table != "" {
			if c.table != table {
				continue
			}
		} else if c.noUnqual {
			continue
		}
		if found >= 0 {
			ref := name
			if table != "" {
				ref = table + "." + name
			}
			return -1, sqlerr.New(sqlerr.AmbiguousColumn, "column reference %q is ambiguous", ref).At(int32(pos))
		}
		found = i
	}
	return found, nil
}

// colType returns the type of slot idx of this scope.
func (s *scope) colType(idx int) value.Type {
	if s.agg != nil {
		return s.agg.groups[idx].typ()
	}
	return s.cols[idx].typ
}

// tableScope returns the scope of one table's columns (for CHECK, DEFAULT,
// RETURNING and UPDATE … SET), named alias.
func tableScope(t *schema.Table, alias string, rel int) []scopeCol {
	cols := make([]scopeCol, len(t.Columns))
	for i, c := range t.Columns {
		cols[i] = scopeCol{table: alias, name: c.Name, typ: c.Type, hidden: c.Hidden, tableOID: t.ID, attr: int16(i + 1), rel: rel, tbl: t, ord: i}
	}
	return cols
}
