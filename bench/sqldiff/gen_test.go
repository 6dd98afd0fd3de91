package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const testSeed = 20261208

// A query depends only on (seed, i): the same on every call, different
// across i and across seeds.
func TestGenQueryDeterministic(t *testing.T) {
	t.Logf("seed %d", testSeed)
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		q1, m1 := genQuery(testSeed, i)
		q2, m2 := genQuery(testSeed, i)
		require.Equal(t, q1, q2)
		require.Equal(t, m1, m2)
		seen[q1] = true
	}
	require.Greater(t, len(seen), 190)
	q, _ := genQuery(testSeed+1, 0)
	q0, _ := genQuery(testSeed, 0)
	require.NotEqual(t, q0, q)
}

// The generated queries are shaped as the comparison expects: ORDER BY
// every output column exactly when compared in order, LIMIT only then,
// balanced parentheses and quotes, only model tables, and the features mix.
func TestGenQueryShape(t *testing.T) {
	t.Logf("seed %d", testSeed)
	features := map[string]int{}
	for i := 0; i < 2000; i++ {
		q, mode := genQuery(testSeed, i)
		hasOrder := strings.Contains(q, "\nORDER BY ")
		require.Equal(t, mode == ordered, hasOrder, q)
		if strings.Contains(q, "\nLIMIT ") {
			require.True(t, hasOrder, q)
		}
		if hasOrder {
			outs := strings.Count(q[:strings.Index(q, "\nFROM ")], " AS c")
			order := q[strings.Index(q, "\nORDER BY ")+10:]
			order, _, _ = strings.Cut(order, "\n")
			require.Len(t, strings.Split(order, ", "), outs, q)
		}
		require.Equal(t, strings.Count(q, "("), strings.Count(q, ")"), q)
		require.Zero(t, strings.Count(q, "'")%2, q)
		for _, f := range wantFeatures {
			if strings.Contains(q, f) {
				features[f]++
			}
		}
	}
	for _, f := range wantFeatures {
		require.Greater(t, features[f], 10, "feature %q appears in only %d of 2000 queries", f, features[f])
	}
}

// wantFeatures are the constructs TestGenQueryShape wants in the mix.
var wantFeatures = []string{" JOIN ", "LEFT JOIN", "RIGHT JOIN", "GROUP BY", "HAVING", "DISTINCT", "EXISTS", " IN (SELECT",
	"(SELECT", " BETWEEN ", " LIKE ", "ILIKE", " IS NULL", " OR ", "NOT ", "COALESCE", "CASE WHEN", "->>", "::", "avg(", "OFFSET", "WHERE",
	"\nUNION\n", "\nUNION ALL\n", "WITH q AS ("}

func TestGenDataShape(t *testing.T) {
	t.Logf("seed %d", testSeed)
	d := genData(testSeed, 1)
	d2 := genData(testSeed, 1)
	require.Equal(t, d, d2)
	for _, tb := range model {
		rows := d.rows[tb.name]
		require.NotEmpty(t, rows, tb.name)
		if n, ok := rowCounts[tb.name]; ok {
			require.Len(t, rows, n, tb.name)
		}
		for _, row := range rows {
			require.Len(t, row, len(d.cols[tb.name]), tb.name)
		}
		// Every nullable column has NULLs; no NOT NULL column has any.
		for j, name := range d.cols[tb.name] {
			c, ok := tb.col(name)
			require.True(t, ok, "%s.%s", tb.name, name)
			nulls := 0
			for _, row := range rows {
				if row[j].ref == "" && row[j].lit == "NULL" {
					nulls++
				}
			}
			if c.nullable {
				require.Positive(t, nulls, "%s.%s has no NULLs", tb.name, name)
			} else {
				require.Zero(t, nulls, "%s.%s", tb.name, name)
			}
		}
	}
	require.Len(t, genData(testSeed, 2).rows["users"], 2*rowCounts["users"])
}

func TestBatchesAndInsertSQL(t *testing.T) {
	d := &dataset{cols: map[string][]string{"categories": {"name", "parent_id"}}, rows: map[string][][]cell{"categories": {
		{{lit: "'a'"}, {lit: "NULL"}},
		{{lit: "'b'"}, {lit: "NULL"}},
		{{lit: "'c'"}, {ref: "categories", idx: 0}}, // refers to the current batch: cut before it
		{{lit: "'d'"}, {ref: "categories", idx: 1}},
		{{lit: "'e'"}, {lit: "NULL"}},
	}}}
	require.Equal(t, [][2]int{{0, 2}, {2, 4}, {4, 5}}, batches("categories", d.rows["categories"], 2))
	require.Equal(t, [][2]int{{0, 2}, {2, 5}}, batches("categories", d.rows["categories"], 50))
	ids := map[string][]string{"categories": {"10", "11"}}
	sql, err := insertSQL(d, "categories", 2, 4, ids)
	require.NoError(t, err)
	require.Equal(t, "INSERT INTO categories (name, parent_id) VALUES\n  ('c', 10),\n  ('d', 11)\nRETURNING id", sql)
	_, err = insertSQL(d, "categories", 2, 4, map[string][]string{})
	require.ErrorContains(t, err, "not loaded yet")
}

func TestQuote(t *testing.T) {
	require.Equal(t, `'O''Brien'`, quote("O'Brien"))
	require.Equal(t, `'\x01'`, quote(`\x01`))
	require.Equal(t, "Abc", capitalize("abc"))
	require.Equal(t, "50%", capitalize("50%"))
}

// The parameterised form of a query is the plain one with its constants
// replaced by placeholders: inlining the values gives it back.
func TestGenQueryParams(t *testing.T) {
	t.Logf("seed %d", testSeed)
	withParams := 0
	for i := 0; i < 500; i++ {
		plain, mode := genQuery(testSeed, i)
		sql, args, pmode := genQueryParams(testSeed, i)
		require.Equal(t, mode, pmode)
		if len(args) > 0 {
			withParams++
		}
		inlined := sql
		for j := len(args); j >= 1; j-- { // $12 before $1
			v := args[j-1]
			lit := v
			if !isNumberOrBool(v) {
				lit = quote(v)
			}
			inlined = strings.ReplaceAll(inlined, fmt.Sprintf("$%d", j), lit)
		}
		require.Equal(t, plain, inlined, "query %d", i)
	}
	require.Greater(t, withParams, 300)
}

func isNumberOrBool(v string) bool {
	if v == "true" || v == "false" {
		return true
	}
	if v == "" {
		return false
	}
	for _, r := range v {
		if (r < '0' || r > '9') && r != '.' {
			return false
		}
	}
	return true
}
