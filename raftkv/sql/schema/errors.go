package schema

import (
	"errors"
	"strings"

	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// SQLSTATE codes this package uses beyond sqlerr's constants.
const (
	codeNameTooLong         = "42622"
	codeTooManyColumns      = "54011"
	codeInvalidTableDef     = "42P16"
	codeInvalidFK           = "42830"
	codeSequenceLimit       = "2200H"
	codeReservedName        = "42939"
	codeWrongObjectType     = "42809"
	codeDuplicateConstraint = sqlerr.DuplicateObject
)

// Limits.
const (
	// MaxColumns is the most columns a table may have (PostgreSQL's limit),
	// hidden rowid included.
	MaxColumns = 1600
	// MaxIdentifierBytes is the longest name accepted (PostgreSQL's NAMEDATALEN-1;
	// PostgreSQL truncates longer names, cairn refuses them with 42622).
	MaxIdentifierBytes = 63
	// MaxRowBytes is the largest stored row (key plus value) and the largest
	// index entry.
	MaxRowBytes = 1 << 20
	// MaxKeyBytes is the largest encoded key of a row or index entry
	// (PostgreSQL's btree limit; raftkv's default key limit is 4 KiB).
	MaxKeyBytes = 2704
)

// checkKeySize refuses an index (or primary key) entry whose encoded key
// columns are longer than MaxKeyBytes, as PostgreSQL's btree does.
func checkKeySize(n int, index string) error {
	if n > MaxKeyBytes {
		return sqlerr.New(sqlerr.ProgramLimitExceeded, "index row size %d exceeds btree version 4 maximum %d for index \"%s\"", n, MaxKeyBytes, index)
	}
	return nil
}

// txnErr maps kvtxn's size error to 54000 and passes every other error
// through (the engine maps ErrConflict and ErrAmbiguous).
func txnErr(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlerr.Error
	if errors.Is(err, kvtxn.ErrTooLarge) && !errors.As(err, &se) { // kvtxn's own errors already say so
		return sqlerr.Wrap(sqlerr.ProgramLimitExceeded, err, "transaction too large: %v", err)
	}
	return err
}

func errUndefinedTable(name string) error {
	return sqlerr.New(sqlerr.UndefinedTable, "relation \"%s\" does not exist", name)
}

func errUndefinedColumn(table, col string) error {
	return sqlerr.New(sqlerr.UndefinedColumn, "column \"%s\" of relation \"%s\" does not exist", col, table)
}

func errDuplicateRelation(name string) error {
	return sqlerr.New(sqlerr.DuplicateTable, "relation \"%s\" already exists", name)
}

// checkIdent refuses names PostgreSQL would truncate.
func checkIdent(kind, name string) error {
	if name == "" {
		return sqlerr.New("42602", "zero-length %s name", kind)
	}
	if len(name) > MaxIdentifierBytes {
		return sqlerr.New(codeNameTooLong, "%s name \"%s\" is too long (%d bytes, the limit is %d)", kind, name, len(name), MaxIdentifierBytes)
	}
	return nil
}

// checkSchema accepts the public schema only.
func checkSchema(schema string) error {
	if schema == "" || schema == "public" {
		return nil
	}
	return sqlerr.New(sqlerr.InvalidSchemaName, "schema \"%s\" does not exist", schema)
}

// formatValues renders values as PostgreSQL does in error details: output
// text form, NULL as null, separated by ", ".
func formatValues(vals []value.Value) string {
	var b []byte
	for i, v := range vals {
		if i > 0 {
			b = append(b, ", "...)
		}
		if v.IsNull() {
			b = append(b, "null"...)
			continue
		}
		b = value.AppendText(b, v)
	}
	return string(b)
}

// keyDetail is "Key (a, b)=(1, x)".
func keyDetail(t *Table, cols []int, vals []value.Value) string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = t.Columns[c].Name
	}
	return "Key (" + strings.Join(names, ", ") + ")=(" + formatValues(vals) + ")"
}

// failingRow is PostgreSQL's "Failing row contains (…)." detail (hidden
// columns left out).
func failingRow(t *Table, row Row) string {
	vals := make([]value.Value, 0, len(row))
	for i, v := range row {
		if !t.Columns[i].Hidden {
			vals = append(vals, v)
		}
	}
	return "Failing row contains (" + formatValues(vals) + ")."
}

func pick(row Row, cols []int) []value.Value {
	out := make([]value.Value, len(cols))
	for i, c := range cols {
		out[i] = row[c]
	}
	return out
}
