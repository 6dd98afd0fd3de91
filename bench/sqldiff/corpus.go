package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// stmt is one statement of a SQL file (schema.sql or queries.sql) with the
// directives written on the comment lines just before it.
type stmt struct {
	file     string
	line     int      // first line of the statement
	sql      string   // without the final ';'
	ordered  bool     // "-- @ordered": compare the rows in order
	wantCode string   // "-- @error CODE": PostgreSQL must fail with this SQLSTATE
	rowsOnly bool     // "-- @rowcount": compare the header and the number of rows, not the values
	known    string   // "-- @known REASON": a difference here is known (reported, not failing)
	params   []string // "-- @params a | b | \N": placeholder values as text ("\N" = NULL); extended protocol only
}

// loadStatements reads a SQL file (see parseStatements).
func loadStatements(path string) ([]stmt, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseStatements(filepath.Base(path), string(b))
}

// parseStatements splits a SQL file into statements. A statement ends at
// the first line whose text ends with ';'. Lines starting with "--" outside
// a statement are comments; "-- @ordered", "-- @error CODE" and
// "-- @rowcount", "-- @params V1 | V2 …" (placeholder values, trimmed;
// \N is NULL) and "-- @known REASON" apply to the next statement. A ';' inside a string literal
// at the end of a line is not supported (write it elsewhere on the line).
func parseStatements(file, text string) ([]stmt, error) {
	var (
		out  []stmt
		cur  stmt
		body []string
	)
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimSpace(line)
		if len(body) == 0 {
			if trimmed == "" {
				continue
			}
			if strings.HasPrefix(trimmed, "--") {
				d := strings.TrimSpace(strings.TrimPrefix(trimmed, "--"))
				if !strings.HasPrefix(d, "@") {
					continue
				}
				f := strings.Fields(d)
				switch {
				case f[0] == "@ordered" && len(f) == 1:
					cur.ordered = true
				case f[0] == "@rowcount" && len(f) == 1:
					cur.rowsOnly = true
				case f[0] == "@error" && len(f) == 2 && len(f[1]) == 5:
					cur.wantCode = strings.ToUpper(f[1])
				case f[0] == "@params" && len(f) > 1:
					for _, v := range strings.Split(strings.TrimSpace(strings.TrimPrefix(d, "@params")), "|") {
						cur.params = append(cur.params, strings.TrimSpace(v))
					}
				case f[0] == "@known" && len(f) > 1:
					cur.known = strings.TrimSpace(strings.TrimPrefix(d, "@known"))
				default:
					return nil, fmt.Errorf("%s:%d: unknown directive %q (want @ordered, @rowcount, @error CODE, @params V | V… or @known REASON)", file, n, d)
				}
				continue
			}
			cur.file, cur.line = file, n
		}
		body = append(body, line)
		if strings.HasSuffix(trimmed, ";") {
			sql := strings.TrimSpace(strings.Join(body, "\n"))
			cur.sql = strings.TrimSpace(strings.TrimSuffix(sql, ";"))
			if cur.sql == "" {
				return nil, fmt.Errorf("%s:%d: empty statement", file, n)
			}
			out = append(out, cur)
			cur, body = stmt{}, nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(body) > 0 {
		return nil, fmt.Errorf("%s:%d: statement not terminated by ';'", file, cur.line)
	}
	if cur.ordered || cur.rowsOnly || cur.wantCode != "" || cur.known != "" || cur.params != nil {
		return nil, fmt.Errorf("%s: directive at the end of the file applies to no statement", file)
	}
	return out, nil
}
