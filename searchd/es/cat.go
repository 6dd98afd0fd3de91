package es

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
)

var errNotObject = errors.New("expected a JSON object")

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// catColumns are the columns of _cat/indices, in Elasticsearch's order.
var catColumns = []string{"health", "status", "index", "uuid", "pri", "rep", "docs.count", "docs.deleted", "store.size", "pri.store.size"}

// catIndices serves GET /_cat/indices[/<pattern>]: a text table (with ?v
// a header; ?h picks columns; ?bytes=b prints sizes in bytes) or, with
// ?format=json, an array of objects of strings.
func (h *Handler) catIndices(c *call) error {
	expr := ""
	if len(c.segs) == 3 {
		expr = c.segs[2]
	}
	names, err := h.resolve(c, expr, true)
	if err != nil {
		return err
	}
	cols := catColumns
	if hcols := c.q.Get("h"); hcols != "" {
		cols = nil
		for _, col := range strings.Split(hcols, ",") {
			col = strings.TrimSpace(col)
			if !contains(catColumns, col) {
				return badRequest("unknown column [%s] of _cat/indices (known: %s)", col, strings.Join(catColumns, ", "))
			}
			cols = append(cols, col)
		}
	}
	bytesUnit := c.q.Get("bytes")
	var rows []map[string]string
	for _, n := range names {
		st, err := h.indexes.IndexStats(c.ctx, &searchdv1.IndexStatsRequest{Name: n})
		if err != nil {
			return fromRPC(err, opIndexAdmin, n, "")
		}
		ix := st.GetIndex()
		pri, tot := indexTotals(st)
		rows = append(rows, map[string]string{
			"health":         ix.GetHealth(),
			"status":         "open",
			"index":          ix.GetName(),
			"uuid":           ix.GetUuid(),
			"pri":            strconv.Itoa(int(ix.GetSettings().GetShards())),
			"rep":            strconv.Itoa(int(ix.GetSettings().GetReplicas())),
			"docs.count":     itoa(pri.docs),
			"docs.deleted":   itoa(pri.deleted),
			"store.size":     humanBytes(tot.size, bytesUnit),
			"pri.store.size": humanBytes(pri.size, bytesUnit),
		})
	}
	if c.q.Get("format") == "json" {
		out := make([]obj, 0, len(rows))
		for _, row := range rows {
			o := obj{}
			for _, col := range cols {
				o = o.add(col, row[col])
			}
			out = append(out, o)
		}
		writeJSON(c.w, c.r, http.StatusOK, out)
		return nil
	}
	_, verbose := c.q["v"]
	table := [][]string{}
	if verbose {
		table = append(table, cols)
	}
	for _, row := range rows {
		line := make([]string, len(cols))
		for i, col := range cols {
			line[i] = row[col]
		}
		table = append(table, line)
	}
	c.w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	c.w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(c.w, alignTable(table))
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// alignTable pads every column to its widest cell, one space between.
func alignTable(rows [][]string) string {
	if len(rows) == 0 {
		return ""
	}
	width := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, cell := range r {
			width[i] = max(width[i], len(cell))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		for i, cell := range r {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(cell)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-len(cell)))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// humanBytes prints n as Elasticsearch's _cat does (225b, 4.5kb, 1.2mb),
// or in the unit ?bytes names (b, kb, mb, gb).
func humanBytes(n int64, unit string) string {
	units := []struct {
		name string
		size int64
	}{{"tb", 1 << 40}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"b", 1}}
	for _, u := range units {
		if unit == u.name {
			return itoa(n / u.size)
		}
	}
	for _, u := range units {
		if n >= u.size || u.size == 1 {
			if u.size == 1 {
				return itoa(n) + "b"
			}
			return strconv.FormatFloat(float64(n)/float64(u.size), 'f', 1, 64) + u.name
		}
	}
	return itoa(n) + "b"
}
