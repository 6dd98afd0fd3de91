package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"

	"cairn.dev/cairn/raftkv/sql/parser"
)

// PostgreSQL type OIDs the printers treat specially.
const (
	oidBool    = 16
	oidInt8    = 20
	oidInt2    = 21
	oidInt4    = 23
	oidFloat4  = 700
	oidFloat8  = 701
	oidNumeric = 1700
	oidJSONB   = 3802
	oidJSON    = 114
)

// sqlPrinter prints query results in one --output format. Table output
// buffers a result's rows to align them, as psql does; csv and json stream.
type sqlPrinter struct {
	w      io.Writer
	format string
	fields []pgconn.FieldDescription
	rows   [][]*string // table: the buffered rows (nil = NULL)
	csv    *csv.Writer
}

func newSQLPrinter(w io.Writer, format string) *sqlPrinter {
	return &sqlPrinter{w: w, format: format}
}

// begin starts a result with columns.
func (p *sqlPrinter) begin(fields []pgconn.FieldDescription) error {
	p.fields = fields
	p.rows = p.rows[:0]
	if p.format == outputCSV {
		p.csv = csv.NewWriter(p.w)
		names := make([]string, len(fields))
		for i, f := range fields {
			names[i] = f.Name
		}
		return p.csv.Write(names)
	}
	return nil
}

// row prints or buffers one row of text-format values (nil = NULL).
func (p *sqlPrinter) row(vals [][]byte) error {
	switch p.format {
	case outputCSV:
		rec := make([]string, len(vals))
		for i, v := range vals {
			rec[i] = string(v)
		}
		return p.csv.Write(rec)
	case outputJSON:
		return p.jsonRow(vals)
	}
	r := make([]*string, len(vals))
	for i, v := range vals {
		if v != nil {
			s := string(v)
			r[i] = &s
		}
	}
	p.rows = append(p.rows, r)
	return nil
}

// jsonRow writes one row as a JSON object, in column order.
func (p *sqlPrinter) jsonRow(vals [][]byte) error {
	var b strings.Builder
	b.WriteByte('{')
	for i, v := range vals {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(p.fields[i].Name)
		b.Write(name)
		b.WriteByte(':')
		b.WriteString(jsonCell(p.fields[i].DataTypeOID, v))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(p.w, b.String())
	return err
}

// jsonCell encodes one text-format value as JSON by its type.
func jsonCell(oid uint32, v []byte) string {
	if v == nil {
		return "null"
	}
	s := string(v)
	switch oid {
	case oidBool:
		if s == "t" {
			return "true"
		}
		return "false"
	case oidInt2, oidInt4, oidInt8, oidNumeric, oidFloat4, oidFloat8:
		if json.Valid(v) { // NaN and Infinity are not JSON numbers
			return s
		}
	case oidJSONB, oidJSON:
		if json.Valid(v) {
			return s
		}
	}
	q, _ := json.Marshal(s)
	return string(q)
}

// end finishes a result: the aligned table and its row count, or the
// command tag of a statement without rows.
func (p *sqlPrinter) end(hadRows bool, tag string) error {
	switch p.format {
	case outputCSV:
		if hadRows {
			p.csv.Flush()
			return p.csv.Error()
		}
		return nil
	case outputJSON:
		if hadRows {
			return nil
		}
		return writeJSON(p.w, map[string]string{"command": tag})
	}
	if !hadRows {
		_, err := fmt.Fprintln(p.w, tag)
		return err
	}
	return p.table()
}

// table writes the buffered rows as psql's aligned format: centred headers,
// numbers right-aligned, "(n rows)" below.
func (p *sqlPrinter) table() error {
	widths := make([]int, len(p.fields))
	for i, f := range p.fields {
		widths[i] = utf8.RuneCountInString(f.Name)
	}
	for _, r := range p.rows {
		for i, v := range r {
			if v != nil {
				widths[i] = max(widths[i], utf8.RuneCountInString(*v))
			}
		}
	}
	var b strings.Builder
	for i, f := range p.fields {
		if i > 0 {
			b.WriteString("|")
		}
		pad := widths[i] - utf8.RuneCountInString(f.Name)
		left := pad / 2
		b.WriteString(" " + strings.Repeat(" ", left) + f.Name + strings.Repeat(" ", pad-left) + " ")
	}
	b.WriteString("\n")
	for i := range p.fields {
		if i > 0 {
			b.WriteString("+")
		}
		b.WriteString(strings.Repeat("-", widths[i]+2))
	}
	b.WriteString("\n")
	for _, r := range p.rows {
		for i, v := range r {
			if i > 0 {
				b.WriteString("|")
			}
			s := ""
			if v != nil {
				s = *v
			}
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(s))
			if numericOID(p.fields[i].DataTypeOID) {
				b.WriteString(" " + pad + s + " ")
			} else {
				b.WriteString(" " + s + pad + " ")
			}
		}
		b.WriteString("\n")
	}
	if len(p.rows) == 1 {
		b.WriteString("(1 row)\n\n")
	} else {
		fmt.Fprintf(&b, "(%d rows)\n\n", len(p.rows))
	}
	_, err := io.WriteString(p.w, b.String())
	return err
}

func numericOID(oid uint32) bool {
	switch oid {
	case oidInt2, oidInt4, oidInt8, oidNumeric, oidFloat4, oidFloat8:
		return true
	}
	return false
}

// splitSQL splits a script into statements (quotes, comments and dollar
// quotes respected) with the SQL parser's splitter.
func splitSQL(script string) []string { return parser.Split(script) }

// sqlComplete reports whether text ends a statement: its last token outside
// quotes and comments is ';'. A word appended after a complete text starts a
// statement of its own; after an incomplete one it joins the last.
func sqlComplete(text string) bool {
	return strings.TrimSpace(text) != "" && len(parser.Split(text+"\nx")) == len(parser.Split(text))+1
}
