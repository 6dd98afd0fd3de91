package main

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseStatements(t *testing.T) {
	text := `-- a comment
SELECT 1;

-- @ordered
SELECT a,
       b
FROM t ORDER BY a, b;
-- @error 23505
-- @params 1 | O'Brien |  \N
INSERT INTO t VALUES ('x;y');
-- @rowcount
-- @known cairn prints now() in its own way
SELECT now();
`
	got, err := parseStatements("q.sql", text)
	require.NoError(t, err)
	require.Len(t, got, 4)
	require.Equal(t, stmt{file: "q.sql", line: 2, sql: "SELECT 1"}, got[0])
	require.Equal(t, stmt{file: "q.sql", line: 5, sql: "SELECT a,\n       b\nFROM t ORDER BY a, b", ordered: true}, got[1])
	require.Equal(t, "23505", got[2].wantCode)
	require.Equal(t, "INSERT INTO t VALUES ('x;y')", got[2].sql)
	require.Equal(t, []string{"1", "O'Brien", `\N`}, got[2].params)
	require.True(t, got[3].rowsOnly)
	require.Equal(t, "cairn prints now() in its own way", got[3].known)
	require.False(t, got[3].ordered)

	for _, bad := range []string{
		"SELECT 1",                 // unterminated
		"-- @sorted\nSELECT 1;",    // unknown directive
		"-- @error 235\nSELECT 1;", // not a SQLSTATE
		"SELECT 1;\n-- @ordered\n", // directive on nothing
		"  ;\n",                    // empty statement
		"-- @known\nSELECT 1;",     // a known difference needs a reason
	} {
		_, err := parseStatements("q.sql", bad)
		require.Error(t, err, bad)
	}
}

// The shipped files parse, and every error case names a SQLSTATE.
func TestShippedFilesParse(t *testing.T) {
	for _, f := range []string{"schema.sql", "queries.sql"} {
		ss, err := loadStatements(f)
		require.NoError(t, err, f)
		require.NotEmpty(t, ss, f)
	}
	qs, err := loadStatements("queries.sql")
	require.NoError(t, err)
	codes := map[string]bool{}
	for _, s := range qs {
		codes[s.wantCode] = true
	}
	for _, c := range []string{"23503", "23505", "23514", "23502", "42P01", "42703", "42601", "22012"} {
		require.True(t, codes[c], "queries.sql has no case for SQLSTATE %s", c)
	}
}

// model.go and schema.sql describe the same tables and columns.
func TestModelMatchesSchema(t *testing.T) {
	b, err := os.ReadFile("schema.sql")
	require.NoError(t, err)
	create := regexp.MustCompile(`(?s)CREATE TABLE (\w+) \((.*?)\n\);`)
	tables := map[string][]string{}
	for _, m := range create.FindAllStringSubmatch(string(b), -1) {
		var cols []string
		for _, line := range strings.Split(m[2], "\n") {
			f := strings.Fields(strings.TrimSpace(line))
			if len(f) == 0 || f[0] == "UNIQUE" || f[0] == "PRIMARY" || f[0] == "FOREIGN" || f[0] == "CHECK" {
				continue
			}
			cols = append(cols, f[0])
		}
		tables[m[1]] = cols
	}
	require.Len(t, tables, len(model))
	for _, tb := range model {
		var names []string
		for _, c := range tb.columns {
			names = append(names, c.name)
		}
		require.Equal(t, tables[tb.name], names, tb.name)
		for _, fk := range tb.fkeys {
			_, ok := tb.col(fk.column)
			require.True(t, ok, "%s.%s", tb.name, fk.column)
			require.NotNil(t, tableByName(fk.ref), fk.ref)
			require.Contains(t, string(b), fk.column+" INTEGER", "%s.%s", tb.name, fk.column)
		}
	}
}
