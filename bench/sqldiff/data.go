package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// cell is one value of a generated row: a SQL literal, or (ref != "") the id
// that the target gave row idx of table ref, known only after that row is
// loaded (SERIAL ids are the targets' to choose).
type cell struct {
	lit string
	ref string
	idx int
}

// dataset is the generated content of every table of the model: per table,
// the columns the load names (the SERIAL id is left to its default) and the
// rows, parents before children.
type dataset struct {
	cols map[string][]string
	rows map[string][][]cell
}

// rowCounts is the size of each table at scale 1 (order_items: up to 4 per order).
var rowCounts = map[string]int{"users": 200, "addresses": 300, "categories": 24, "products": 150, "orders": 400}

var (
	firstNames = []string{"Ada", "Alan", "Grace", "Linus", "Barbara", "Ken", "Dennis", "Margaret", "Edsger", "Frances",
		"Zoë", "José", "Sean", "Niamh", "Mary", "john", "ALICE", "bob"}
	lastNames = []string{"Lovelace", "Turing", "Hopper", "Torvalds", "Liskov", "Thompson", "Ritchie", "Hamilton",
		"Dijkstra", "Allen", "O'Brien", "Müller", "Smith", "smith", "de la Cruz", "Nguyen"}
	cities = []string{"Paris", "Berlin", "Zürich", "New York", "Tokyo", "São Paulo", "Oslo", "Lyon", "Austin",
		"austin", "Kraków", "Reykjavík"}
	countries = []string{"US", "FR", "DE", "CH", "JP", "BR", "NO", "PL", "IS"}
	words     = []string{"red", "blue", "steel", "oak", "mini", "pro", "max", "eco", "ultra", "basic", "50%", "a_b"}
	colors    = []string{"red", "green", "blue", "black"}
	statuses  = []string{"new", "paid", "shipped", "cancelled"}
)

// epoch is the start of the generated timestamps.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// capitalize is s with its first byte upper-cased (ASCII words).
func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// quote is s as a SQL string literal (standard_conforming_strings on).
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// genData generates the rows of every table from seed; scale multiplies the
// row counts (at least 1).
func genData(seed uint64, scale int) *dataset {
	if scale < 1 {
		scale = 1
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	d := &dataset{cols: map[string][]string{}, rows: map[string][][]cell{}}
	lit := func(s string) cell { return cell{lit: s} }
	null := cell{lit: "NULL"}
	maybe := func(p float64, c cell) cell {
		if r.Float64() < p {
			return null
		}
		return c
	}
	n := func(table string) int { return rowCounts[table] * scale }
	ts := func(maxDays int, micros bool) time.Time {
		t := epoch.Add(time.Duration(r.IntN(maxDays*86400)) * time.Second)
		if micros {
			t = t.Add(time.Duration(r.IntN(1000000)) * time.Microsecond)
		}
		return t
	}
	money := func(lo, hi int) string { // cents in [lo, hi]
		c := lo + r.IntN(hi-lo+1)
		return fmt.Sprintf("%d.%02d", c/100, c%100)
	}

	d.cols["users"] = []string{"email", "name", "age", "active", "score", "avatar", "profile", "created_at"}
	for i := 0; i < n("users"); i++ {
		first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		email := fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(first), strings.ToLower(strings.ReplaceAll(last, " ", "")), i)
		profile := fmt.Sprintf(`{"city": %q, "tier": %d, "tags": [%q, %q], "vip": %t, "ratio": %d.%02d}`,
			cities[r.IntN(len(cities))], r.IntN(4), words[r.IntN(len(words))], words[r.IntN(len(words))], r.IntN(5) == 0,
			r.IntN(3), r.IntN(100))
		avatar := make([]byte, 1+r.IntN(4))
		for j := range avatar {
			avatar[j] = byte(r.IntN(256))
		}
		d.rows["users"] = append(d.rows["users"], []cell{
			lit(quote(email)),
			lit(quote(first + " " + last)),
			maybe(0.15, lit(strconv.Itoa(18+r.IntN(73)))),
			lit(strconv.FormatBool(r.IntN(5) != 0)),
			maybe(0.2, lit(strconv.FormatFloat(float64(r.IntN(100000))/1000, 'f', -1, 64))),
			maybe(0.5, lit(quote(fmt.Sprintf(`\x%x`, avatar)))),
			maybe(0.2, lit(quote(profile))),
			lit(quote(ts(365, r.IntN(2) == 0).Format("2006-01-02 15:04:05.999999-07"))),
		})
	}

	d.cols["addresses"] = []string{"user_id", "city", "zip", "country", "is_primary"}
	for i := 0; i < n("addresses"); i++ {
		zip := fmt.Sprintf("%05d", r.IntN(100000))
		if r.IntN(10) == 0 {
			zip = zip[:3] // CHAR(5) pads it
		}
		d.rows["addresses"] = append(d.rows["addresses"], []cell{
			{ref: "users", idx: r.IntN(n("users"))},
			lit(quote(cities[r.IntN(len(cities))])),
			maybe(0.15, lit(quote(zip))),
			lit(quote(countries[r.IntN(len(countries))])),
			lit(strconv.FormatBool(r.IntN(3) == 0)),
		})
	}

	// The first quarter of the categories are roots; the others have a root
	// as parent (or none), so a row only refers to an earlier batch.
	d.cols["categories"] = []string{"name", "parent_id"}
	roots := n("categories") / 4
	for i := 0; i < n("categories"); i++ {
		parent := null
		if i >= roots && r.IntN(5) != 0 {
			parent = cell{ref: "categories", idx: r.IntN(roots)}
		}
		d.rows["categories"] = append(d.rows["categories"], []cell{
			lit(quote(fmt.Sprintf("%s %s %d", words[r.IntN(len(words))], words[r.IntN(len(words))], i))),
			parent,
		})
	}

	d.cols["products"] = []string{"sku", "name", "category_id", "price", "stock", "weight", "released", "attrs"}
	for i := 0; i < n("products"); i++ {
		attrs := fmt.Sprintf(`{"color": %q, "size": %d, "dims": {"w": %d, "h": %d}, "price_hint": %s}`,
			colors[r.IntN(len(colors))], r.IntN(50), r.IntN(100), r.IntN(100), money(1, 9999))
		d.rows["products"] = append(d.rows["products"], []cell{
			lit(quote(fmt.Sprintf("SKU-%04d", i))),
			lit(quote(fmt.Sprintf("%s %s", words[r.IntN(len(words))], capitalize(words[r.IntN(len(words))])))),
			maybe(0.1, cell{ref: "categories", idx: r.IntN(n("categories"))}),
			lit(money(50, 99999)),
			lit(strconv.Itoa(r.IntN(500))),
			maybe(0.2, lit(strconv.FormatFloat(float64(r.IntN(50000))/100, 'f', -1, 64))),
			maybe(0.2, lit(quote(epoch.AddDate(0, 0, -r.IntN(1500)).Format("2006-01-02")))),
			maybe(0.25, lit(quote(attrs))),
		})
	}

	d.cols["orders"] = []string{"user_id", "status", "total", "note", "created_at", "shipped_at"}
	notes := []string{"leave at door", "gift 100%", "call_first", "fragile", "", "Rush!"}
	for i := 0; i < n("orders"); i++ {
		status := statuses[r.IntN(len(statuses))]
		created := ts(365, r.IntN(2) == 0)
		shipped := null
		if status == "shipped" && r.IntN(6) != 0 {
			shipped = lit(quote(created.Add(time.Duration(1+r.IntN(200)) * time.Hour).Format("2006-01-02 15:04:05")))
		}
		d.rows["orders"] = append(d.rows["orders"], []cell{
			{ref: "users", idx: r.IntN(n("users"))},
			lit(quote(status)),
			maybe(0.1, lit(money(100, 500000))),
			maybe(0.6, lit(quote(notes[r.IntN(len(notes))]))),
			lit(quote(created.Format("2006-01-02 15:04:05.999999-07"))),
			shipped,
		})
	}

	d.cols["order_items"] = []string{"order_id", "product_id", "quantity", "unit_price", "discount"}
	for o := 0; o < n("orders"); o++ {
		seen := map[int]bool{}
		for k := r.IntN(5); k > 0; k-- {
			p := r.IntN(n("products"))
			if seen[p] {
				continue
			}
			seen[p] = true
			d.rows["order_items"] = append(d.rows["order_items"], []cell{
				{ref: "orders", idx: o},
				{ref: "products", idx: p},
				lit(strconv.Itoa(1 + r.IntN(10))),
				lit(money(50, 99999)),
				maybe(0.6, lit(fmt.Sprintf("0.%02d", r.IntN(31)))),
			})
		}
	}
	return d
}

// batches splits a table's rows into INSERT batches of at most size rows,
// cutting before a row that refers to a row of the same table in the
// current batch (its id is not known yet).
func batches(table string, rows [][]cell, size int) [][2]int {
	var out [][2]int
	start := 0
	for i, row := range rows {
		cut := i-start >= size
		for _, c := range row {
			if c.ref == table && c.idx >= start {
				cut = true
			}
		}
		if cut && i > start {
			out = append(out, [2]int{start, i})
			start = i
		}
	}
	if start < len(rows) {
		out = append(out, [2]int{start, len(rows)})
	}
	return out
}

// insertSQL renders rows [lo, hi) of table as one multi-row INSERT …
// RETURNING id, resolving references through ids (table -> id text per row).
func insertSQL(d *dataset, table string, lo, hi int, ids map[string][]string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES", table, strings.Join(d.cols[table], ", "))
	for i := lo; i < hi; i++ {
		if i > lo {
			b.WriteByte(',')
		}
		b.WriteString("\n  (")
		for j, c := range d.rows[table][i] {
			if j > 0 {
				b.WriteString(", ")
			}
			if c.ref == "" {
				b.WriteString(c.lit)
				continue
			}
			if c.idx >= len(ids[c.ref]) {
				return "", fmt.Errorf("%s row %d refers to %s row %d, not loaded yet", table, i, c.ref, c.idx)
			}
			b.WriteString(ids[c.ref][c.idx])
		}
		b.WriteByte(')')
	}
	b.WriteString("\nRETURNING id")
	return b.String(), nil
}
