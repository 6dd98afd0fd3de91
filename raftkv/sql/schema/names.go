package schema

import (
	"strconv"
	"strings"
)

// makeObjectName builds name1_name2_label as PostgreSQL does, shortening the
// longer of name1 and name2 until the whole fits MaxIdentifierBytes.
func makeObjectName(name1, name2, label string) string {
	over := func() int {
		n := len(name1) + len(label) + 1
		if name2 != "" {
			n += len(name2) + 1
		}
		return n - MaxIdentifierBytes
	}
	for over() > 0 {
		if len(name1) >= len(name2) && len(name1) > 1 {
			name1 = name1[:len(name1)-1]
		} else if len(name2) > 1 {
			name2 = name2[:len(name2)-1]
		} else {
			break
		}
	}
	parts := []string{name1}
	if name2 != "" {
		parts = append(parts, name2)
	}
	if label != "" {
		parts = append(parts, label)
	}
	return strings.Join(parts, "_")
}

// chooseName returns name1_name2_label, or with label suffixed 1, 2, … when
// the name is taken, as PostgreSQL's ChooseRelationName does.
func chooseName(name1, name2, label string, taken func(string) bool) string {
	name := makeObjectName(name1, name2, label)
	for pass := 1; taken(name); pass++ {
		name = makeObjectName(name1, name2, label+strconv.Itoa(pass))
	}
	return name
}

// constraintNameInUse reports whether any table uses name for a constraint
// or an index, or name is a relation.
func (c *Catalog) nameInUse(name string) bool {
	if c.relationKind(name) != "" {
		return true
	}
	for _, t := range c.tables {
		if t.hasConstraint(name) {
			return true
		}
	}
	return false
}

// hasConstraint reports whether t has a constraint or index named name.
func (t *Table) hasConstraint(name string) bool {
	if t.PrimaryKeyName == name {
		return true
	}
	for _, ix := range t.Indexes {
		if ix.Name == name {
			return true
		}
	}
	for _, ck := range t.Checks {
		if ck.Name == name {
			return true
		}
	}
	for _, fk := range t.ForeignKeys {
		if fk.Name == name {
			return true
		}
	}
	return false
}

// columnNames joins the names of cols with "_" (PostgreSQL's name part for
// multi-column constraints and indexes).
func columnNames(t *Table, cols []int) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = t.Columns[c].Name
	}
	return strings.Join(names, "_")
}
