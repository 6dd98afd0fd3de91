package main

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// result is what a target answered to one statement, as text: the row
// description (names and type OIDs), the rows (values exactly as the server
// printed them in text format; nil = NULL), the command tag, or the error.
type result struct {
	names []string
	oids  []uint32
	rows  [][]*string
	tag   string
	code  string // SQLSTATE; "client" when the client failed (connection, timeout)
	msg   string
}

func (r *result) failed() bool { return r.code != "" }

// compareMode says how rows are compared.
type compareMode uint8

const (
	unordered compareMode = iota // a multiset: no ORDER BY, or one that does not fix the order
	ordered                      // the ORDER BY covers every output column
	rowCount                     // the header and the number of rows only
)

// compare says whether a (the anchor) and b agree, and if not, why.
// Errors agree when their SQLSTATEs do; messages are not compared.
func compare(a, b *result, mode compareMode) (bool, string) {
	switch {
	case a.code == "client" || b.code == "client":
		return false, fmt.Sprintf("the client failed (anchor: %s, cairn: %s)", orOK(a.msg), orOK(b.msg))
	case a.failed() && b.failed():
		if a.code != b.code {
			return false, fmt.Sprintf("SQLSTATE %s vs %s", a.code, b.code)
		}
		return true, ""
	case a.failed():
		return false, fmt.Sprintf("only the anchor failed (%s)", a.code)
	case b.failed():
		return false, fmt.Sprintf("only cairn failed (%s)", b.code)
	}
	if !equalStrings(a.names, b.names) {
		return false, "column names differ"
	}
	if len(a.oids) != len(b.oids) {
		return false, "column counts differ"
	}
	for i := range a.oids {
		if a.oids[i] != b.oids[i] {
			return false, fmt.Sprintf("column %d (%s) type %s vs %s", i+1, a.names[i], typeName(a.oids[i]), typeName(b.oids[i]))
		}
	}
	if a.tag != b.tag {
		return false, fmt.Sprintf("command tag %q vs %q", a.tag, b.tag)
	}
	if len(a.rows) != len(b.rows) {
		return false, fmt.Sprintf("%d rows vs %d", len(a.rows), len(b.rows))
	}
	switch mode {
	case rowCount:
		return true, ""
	case ordered:
		for i := range a.rows {
			if rowKey(a.rows[i]) != rowKey(b.rows[i]) {
				return false, fmt.Sprintf("row %d differs%s", i+1, firstCellDiff(a.names, a.rows[i], b.rows[i]))
			}
		}
		return true, ""
	}
	onlyA, onlyB := multisetDiff(a.rows, b.rows)
	if onlyA+onlyB > 0 {
		return false, fmt.Sprintf("rows differ (as multisets): %d only in the anchor, %d only in cairn", onlyA, onlyB)
	}
	return true, ""
}

func orOK(msg string) string {
	if msg == "" {
		return "ok"
	}
	return msg
}

// firstCellDiff describes the first differing value of two rows of the same
// width: " (column c: "x" vs "y")".
func firstCellDiff(names []string, a, b []*string) string {
	show := func(v *string) string {
		if v == nil {
			return "NULL"
		}
		return strconv.Quote(cut(*v, 60))
	}
	for j := range a {
		if j < len(b) && rowKey(a[j:j+1]) != rowKey(b[j:j+1]) {
			return fmt.Sprintf(" (column %s: %s vs %s)", names[j], show(a[j]), show(b[j]))
		}
	}
	return ""
}

// multisetDiff counts the rows of a not matched in b and of b not in a.
func multisetDiff(a, b [][]*string) (onlyA, onlyB int) {
	count := map[string]int{}
	for _, r := range a {
		count[rowKey(r)]++
	}
	for _, r := range b {
		count[rowKey(r)]--
	}
	for _, c := range count {
		if c > 0 {
			onlyA += c
		} else {
			onlyB -= c
		}
	}
	return onlyA, onlyB
}

// rowKey is an unambiguous encoding of a row (NULL differs from every text).
func rowKey(row []*string) string {
	var b strings.Builder
	for _, v := range row {
		if v == nil {
			b.WriteString("N;")
			continue
		}
		b.WriteString(strconv.Itoa(len(*v)))
		b.WriteByte(':')
		b.WriteString(*v)
	}
	return b.String()
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// typeNames are the PostgreSQL names of the OIDs the schema produces.
var typeNames = map[uint32]string{16: "bool", 17: "bytea", 20: "int8", 21: "int2", 23: "int4", 25: "text",
	114: "json", 700: "float4", 701: "float8", 705: "unknown", 1042: "bpchar", 1043: "varchar", 1082: "date",
	1114: "timestamp", 1184: "timestamptz", 1700: "numeric", 3802: "jsonb", 2249: "record", 19: "name", 26: "oid"}

func typeName(oid uint32) string {
	if n, ok := typeNames[oid]; ok {
		return n
	}
	return "oid " + strconv.FormatUint(uint64(oid), 10)
}

// format prints r for a report: a header line, then up to maxRows rows
// (values cut to maxWidth characters), sorted first unless ordered.
func (r *result) format(indent string, mode compareMode, maxRows, maxWidth int) string {
	var b strings.Builder
	if r.failed() {
		fmt.Fprintf(&b, "%sERROR %s: %s\n", indent, r.code, cut(r.msg, 4*maxWidth))
		return b.String()
	}
	cols := make([]string, len(r.names))
	for i := range r.names {
		cols[i] = r.names[i] + " " + typeName(r.oids[i])
	}
	fmt.Fprintf(&b, "%s%q, %d rows, columns (%s)\n", indent, r.tag, len(r.rows), strings.Join(cols, ", "))
	if mode == rowCount {
		return b.String()
	}
	rows := r.rows
	if mode != ordered {
		rows = append([][]*string(nil), rows...)
		sort.SliceStable(rows, func(i, j int) bool { return rowKey(rows[i]) < rowKey(rows[j]) })
	}
	b.WriteString((&result{rows: rows}).rowsText(indent, maxRows, maxWidth))
	return b.String()
}

// rowsText prints up to maxRows rows of r, one per line, values quoted and
// cut to maxWidth characters.
func (r *result) rowsText(indent string, maxRows, maxWidth int) string {
	var b strings.Builder
	if len(r.rows) == 0 {
		b.WriteString(indent + "(none)\n")
	}
	for i, row := range r.rows {
		if i == maxRows {
			fmt.Fprintf(&b, "%s… %d more\n", indent, len(r.rows)-maxRows)
			break
		}
		b.WriteString(indent + "|")
		for _, v := range row {
			if v == nil {
				b.WriteString(" NULL |")
			} else {
				b.WriteString(" " + strconv.Quote(cut(*v, maxWidth)) + " |")
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// cut shortens s to at most n runes, marking the cut.
func cut(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n]) + "…"
}
