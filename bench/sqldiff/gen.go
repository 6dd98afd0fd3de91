package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The random query generator, in the manner of sqlsmith but over the known
// model: each query is built from its own PCG stream (seed, query number),
// so query i of a seed is the same on every run whatever N is.
//
// A query is a SELECT over a base table and up to two joins along foreign
// key edges (INNER, LEFT or RIGHT), with a select list of typed scalar
// expressions or, grouped, of group columns and aggregates (with HAVING);
// a WHERE of comparisons with constants or columns, IS NULL, BETWEEN, IN
// lists, LIKE, IN/EXISTS subqueries and scalar subqueries, combined with
// AND/OR/NOT; sometimes the UNION [ALL] of two such predicates over the
// same select list, sometimes wrapped in a CTE; then either ORDER BY every output column (with LIMIT/OFFSET)
// — compared in order — or no ORDER BY and no LIMIT — compared as
// multisets. It avoids what PostgreSQL itself answers nondeterministically
// (LIMIT without a total order, sum/avg of floats, now()).

// genQuery returns random query i of seed and whether its rows are ordered.
func genQuery(seed uint64, i int) (string, compareMode) {
	g := &gen{r: rand.New(rand.NewPCG(seed, uint64(i)+1))}
	return g.query()
}

// genQueryParams is genQuery with its constants (but for JSON keys and a
// few numbers) as placeholders $1, $2, … and their values as text, to be
// sent as parameters of unspecified type (OID 0): the server infers their
// types, as it must for pgx and libpq clients. Inlining the values as
// literals gives genQuery's query.
func genQueryParams(seed uint64, i int) (string, []string, compareMode) {
	g := &gen{r: rand.New(rand.NewPCG(seed, uint64(i)+1)), params: true}
	sql, mode := g.query()
	// Number the placeholders in order of appearance; constants drawn but
	// not used in the end have no placeholder and are dropped.
	var args []string
	var b strings.Builder
	for {
		start := strings.IndexByte(sql, 0)
		if start < 0 {
			break
		}
		end := start + 1 + strings.IndexByte(sql[start+1:], 0)
		k, _ := strconv.Atoi(sql[start+1 : end])
		args = append(args, g.args[k])
		fmt.Fprintf(&b, "%s$%d", sql[:start], len(args))
		sql = sql[end+1:]
	}
	b.WriteString(sql)
	return b.String(), args, mode
}

// scope is a table in the FROM clause under its alias.
type scope struct {
	alias string
	t     *table
}

// colRef is a column of a scope.
type colRef struct {
	s scope
	c column
}

func (c colRef) sql() string { return c.s.alias + "." + c.c.name }

type gen struct {
	r       *rand.Rand
	scopes  []scope
	nsub    int      // subquery aliases used
	fromSQL string   // the FROM clause from() built
	params  bool     // constants as placeholders (see genQueryParams)
	args    []string // the placeholders' values, in order
}

// lit is the SQL for constant v: a literal (quoted when str), or with
// params a marker (NUL, the index in g.args, NUL) that genQueryParams turns
// into a placeholder. It draws no random numbers, so a query is the same
// with and without params but for its constants.
func (g *gen) lit(v string, str bool) string {
	if g.params {
		g.args = append(g.args, v)
		return fmt.Sprintf("\x00%d\x00", len(g.args)-1)
	}
	if str {
		return quote(v)
	}
	return v
}

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func pick[T any](g *gen, xs []T) T { return xs[g.r.IntN(len(xs))] }

// query builds one SELECT.
func (g *gen) query() (string, compareMode) {
	g.from()
	var b strings.Builder
	var outs []string
	grouped := g.chance(0.3)
	var groupBy, having string
	if grouped {
		var gcols []string
		for k := 1 + g.r.IntN(2); k > 0; k-- {
			c := g.colOf(groupable)
			gcols = append(gcols, c.sql())
			outs = append(outs, c.sql())
		}
		for k := 1 + g.r.IntN(3); k > 0; k-- {
			outs = append(outs, g.aggregate())
		}
		groupBy = strings.Join(gcols, ", ")
		if g.chance(0.35) {
			if g.chance(0.5) {
				having = fmt.Sprintf("count(*) > %d", g.r.IntN(4))
			} else {
				agg := pick(g, []string{"sum", "avg", "max", "min"})
				having = fmt.Sprintf("%s(%s)", agg, g.colOf(numeric).sql()) + " " + pick(g, []string{">", "<", ">=", "<>"}) + " " + fmt.Sprint(g.r.IntN(200))
			}
		}
	} else {
		for k := 1 + g.r.IntN(4); k > 0; k-- {
			e, _ := g.scalar(2)
			outs = append(outs, e)
		}
	}
	var list strings.Builder
	for i, o := range outs {
		if i > 0 {
			list.WriteString(", ")
		}
		fmt.Fprintf(&list, "%s AS c%d", o, i+1)
	}
	union := !grouped && g.chance(0.1)
	b.WriteString("SELECT ")
	if !grouped && !union && g.chance(0.15) {
		b.WriteString("DISTINCT ")
	}
	b.WriteString(list.String())
	b.WriteString("\nFROM " + g.fromSQL)
	if g.chance(0.75) {
		b.WriteString("\nWHERE " + g.pred(2))
	}
	if grouped {
		b.WriteString("\nGROUP BY " + groupBy)
		if having != "" {
			b.WriteString("\nHAVING " + having)
		}
	}
	if union { // the same list and FROM under another predicate
		fmt.Fprintf(&b, "\n%s\nSELECT %s\nFROM %s\nWHERE %s", pick(g, []string{"UNION", "UNION ALL"}), list.String(), g.fromSQL, g.pred(2))
	}
	if g.chance(0.1) { // the same as a CTE
		core := b.String()
		b.Reset()
		fmt.Fprintf(&b, "WITH q AS (\n%s\n)\nSELECT * FROM q", core)
	}
	mode := unordered
	if g.chance(0.5) {
		mode = ordered
		b.WriteString("\nORDER BY ")
		for i := range outs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "c%d", i+1)
			if g.chance(0.3) {
				b.WriteString(" DESC")
			}
		}
		if g.chance(0.6) {
			fmt.Fprintf(&b, "\nLIMIT %d", 1+g.r.IntN(20))
			if g.chance(0.4) {
				fmt.Fprintf(&b, " OFFSET %d", g.r.IntN(10))
			}
		}
	}
	return b.String(), mode
}

// from picks a base table and up to two joins along foreign keys, and
// leaves the clause in g.fromSQL.
func (g *gen) from() {
	base := pick(g, model)
	g.scopes = []scope{{"t0", base}}
	from := base.name + " t0"
	joins := 0
	switch x := g.r.Float64(); {
	case x < 0.35:
	case x < 0.75:
		joins = 1
	default:
		joins = 2
	}
	for j := 1; j <= joins; j++ {
		type edge struct {
			on   string
			next *table
		}
		var edges []edge
		alias := fmt.Sprintf("t%d", j)
		for _, s := range g.scopes {
			for _, fk := range s.t.fkeys { // s is the child
				edges = append(edges, edge{fmt.Sprintf("%s.%s = %s.id", s.alias, fk.column, alias), tableByName(fk.ref)})
			}
			for _, t := range model { // s is the parent
				for _, fk := range t.fkeys {
					if fk.ref == s.t.name {
						edges = append(edges, edge{fmt.Sprintf("%s.%s = %s.id", alias, fk.column, s.alias), t})
					}
				}
			}
		}
		if len(edges) == 0 {
			break
		}
		e := pick(g, edges)
		kind := "JOIN"
		switch x := g.r.Float64(); {
		case x < 0.25:
			kind = "LEFT JOIN"
		case x < 0.4:
			kind = "RIGHT JOIN"
		case x < 0.5:
			kind = "INNER JOIN"
		}
		from += fmt.Sprintf("\n  %s %s %s ON %s", kind, e.next.name, alias, e.on)
		g.scopes = append(g.scopes, scope{alias, e.next})
	}
	g.fromSQL = from
}

// column filters.
func groupable(c column) bool   { return c.kind != kJSON && c.kind != kBytes }
func comparable_(c column) bool { return c.kind != kJSON && c.kind != kBytes && c.kind != kBool }
func numeric(c column) bool     { return c.kind == kInt || c.kind == kNumeric }
func textual(c column) bool     { return c.kind == kText }

// colOf picks a column of any scope that ok accepts (every table has an
// int id, so an int filter always finds one).
func (g *gen) colOf(ok func(column) bool) colRef {
	var cs []colRef
	for _, s := range g.scopes {
		for _, c := range s.t.columns {
			if ok(c) {
				cs = append(cs, colRef{s, c})
			}
		}
	}
	if len(cs) == 0 {
		s := g.scopes[0]
		return colRef{s, s.t.columns[0]}
	}
	return pick(g, cs)
}

// textCol is a text column of a scope, or an id cast to text when no
// scope has one.
func (g *gen) textCol() string {
	c := g.colOf(textual)
	if c.c.kind != kText {
		return c.sql() + "::text"
	}
	return c.sql()
}

// aggregate is one aggregate call over the scopes' columns.
func (g *gen) aggregate() string {
	switch g.r.IntN(6) {
	case 0:
		return "count(*)"
	case 1:
		return fmt.Sprintf("count(%s)", g.colOf(groupable).sql())
	case 2:
		return fmt.Sprintf("sum(%s)", g.colOf(numeric).sql())
	case 3:
		return fmt.Sprintf("avg(%s)", g.colOf(numeric).sql())
	case 4:
		return fmt.Sprintf("min(%s)", g.colOf(comparable_).sql())
	default:
		return fmt.Sprintf("max(%s)", g.colOf(comparable_).sql())
	}
}

// scalar is a typed scalar expression; depth bounds its nesting.
func (g *gen) scalar(depth int) (string, kind) {
	if depth <= 0 || g.chance(0.55) {
		c := g.colOf(func(column) bool { return true })
		return c.sql(), c.c.kind
	}
	switch g.r.IntN(10) {
	case 0: // arithmetic
		c := g.colOf(numeric)
		op := pick(g, []string{"+", "-", "*"})
		k := g.constFor(c)
		if g.chance(0.3) {
			return fmt.Sprintf("(%s / %d)", c.sql(), 1+g.r.IntN(7)), c.c.kind
		}
		return fmt.Sprintf("(%s %s %s)", c.sql(), op, k), c.c.kind
	case 1: // text functions
		c := g.textCol()
		switch g.r.IntN(5) {
		case 0:
			return fmt.Sprintf("lower(%s)", c), kText
		case 1:
			return fmt.Sprintf("upper(%s)", c), kText
		case 2:
			return fmt.Sprintf("length(%s)", c), kInt
		case 3:
			return fmt.Sprintf("substring(%s, %d, %d)", c, 1+g.r.IntN(4), 1+g.r.IntN(6)), kText
		default:
			return fmt.Sprintf("(%s || %s)", c, g.lit(pick(g, words), true)), kText
		}
	case 2: // COALESCE
		c := g.colOf(func(c column) bool { return c.nullable && comparable_(c) })
		if !c.c.nullable {
			return c.sql(), c.c.kind
		}
		return fmt.Sprintf("COALESCE(%s, %s)", c.sql(), g.constFor(c)), c.c.kind
	case 3: // CASE
		e1, k := g.scalar(depth - 1)
		return fmt.Sprintf("CASE WHEN %s THEN %s ELSE NULL END", g.pred(1), e1), k
	case 4: // casts
		c := g.colOf(func(c column) bool { return c.kind != kBytes && c.kind != kJSON })
		if c.c.kind == kNumeric && g.chance(0.5) {
			return fmt.Sprintf("CAST(%s AS INTEGER)", c.sql()), kInt
		}
		if c.c.kind == kInt && g.chance(0.5) {
			return fmt.Sprintf("%s::numeric(12,3)", c.sql()), kNumeric
		}
		return fmt.Sprintf("%s::text", c.sql()), kText
	case 5: // JSONB
		for _, s := range g.scopes {
			switch s.t.name {
			case "users":
				return fmt.Sprintf("%s.profile%s%s", s.alias, pick(g, []string{"->", "->>"}),
					quote(pick(g, []string{"city", "tier", "tags", "vip", "ratio", "missing"}))), kText
			case "products":
				if g.chance(0.3) {
					return fmt.Sprintf("%s.attrs->'dims'->>'w'", s.alias), kText
				}
				return fmt.Sprintf("%s.attrs%s%s", s.alias, pick(g, []string{"->", "->>"}),
					quote(pick(g, []string{"color", "size", "dims", "price_hint"}))), kText
			}
		}
		return g.colOf(groupable).sql(), kInt
	case 6: // numeric functions
		c := g.colOf(func(c column) bool { return numeric(c) || c.kind == kFloat })
		if c.c.kind == kNumeric && g.chance(0.5) {
			return fmt.Sprintf("round(%s, %d)", c.sql(), g.r.IntN(3)), kNumeric
		}
		return fmt.Sprintf("abs(%s)", c.sql()), c.c.kind
	case 7: // NULLIF, GREATEST/LEAST
		c := g.colOf(numeric)
		if g.chance(0.5) {
			return fmt.Sprintf("NULLIF(%s, %s)", c.sql(), g.constFor(c)), c.c.kind
		}
		return fmt.Sprintf("%s(%s, %s)", pick(g, []string{"GREATEST", "LEAST"}), c.sql(), g.constFor(c)), c.c.kind
	case 8: // boolean expression as a value
		return "(" + g.pred(1) + ")", kBool
	default: // scalar subquery
		t := pick(g, model)
		c := pick(g, t.columns)
		for !numeric(c) {
			c = pick(g, t.columns)
		}
		return fmt.Sprintf("(SELECT max(s.%s) FROM %s s)", c.name, t.name), c.kind
	}
}

// pred is a boolean expression; depth bounds the AND/OR/NOT nesting.
func (g *gen) pred(depth int) string {
	if depth > 0 && g.chance(0.45) {
		switch g.r.IntN(5) {
		case 0:
			return "NOT (" + g.pred(depth-1) + ")"
		case 1, 2:
			return "(" + g.pred(depth-1) + " AND " + g.pred(depth-1) + ")"
		default:
			return "(" + g.pred(depth-1) + " OR " + g.pred(depth-1) + ")"
		}
	}
	switch g.r.IntN(12) {
	case 0, 1, 2: // column op constant
		c := g.colOf(comparable_)
		return fmt.Sprintf("%s %s %s", c.sql(), pick(g, []string{"=", "<>", "<", "<=", ">", ">="}), g.constFor(c))
	case 3: // column op column of the same kind
		a := g.colOf(comparable_)
		b := g.colOf(func(c column) bool { return c.kind == a.c.kind })
		return fmt.Sprintf("%s %s %s", a.sql(), pick(g, []string{"=", "<>", "<", ">="}), b.sql())
	case 4: // IS [NOT] NULL
		c := g.colOf(func(c column) bool { return c.nullable })
		if g.chance(0.5) {
			return c.sql() + " IS NULL"
		}
		return c.sql() + " IS NOT NULL"
	case 5: // BETWEEN
		c := g.colOf(comparable_)
		lo, hi := g.constFor(c), g.constFor(c)
		not := ""
		if g.chance(0.2) {
			not = "NOT "
		}
		return fmt.Sprintf("%s %sBETWEEN %s AND %s", c.sql(), not, lo, hi)
	case 6: // IN list
		c := g.colOf(comparable_)
		var xs []string
		for k := 1 + g.r.IntN(4); k > 0; k-- {
			xs = append(xs, g.constFor(c))
		}
		not := ""
		if g.chance(0.25) {
			not = "NOT "
		}
		return fmt.Sprintf("%s %sIN (%s)", c.sql(), not, strings.Join(xs, ", "))
	case 7: // LIKE / ILIKE
		c := g.textCol()
		pat := pick(g, []string{"%a%", "A%", "%n", "_o%", "%.%", "%50\\%%", "%a\\_b%", "S%", "%Ü%", "%-00%"})
		return fmt.Sprintf("%s %s %s", c, pick(g, []string{"LIKE", "LIKE", "ILIKE", "NOT LIKE"}), g.lit(pat, true))
	case 8: // boolean column
		c := g.colOf(func(c column) bool { return c.kind == kBool })
		if c.c.kind != kBool {
			return "true"
		}
		if g.chance(0.3) {
			return "NOT " + c.sql()
		}
		return c.sql()
	case 9: // IS [NOT] DISTINCT FROM
		c := g.colOf(func(c column) bool { return c.nullable && comparable_(c) })
		return fmt.Sprintf("%s IS %sDISTINCT FROM %s", c.sql(), pick(g, []string{"", "NOT "}), g.constFor(c))
	default: // subqueries over a child table
		return g.subqueryPred()
	}
}

// subqueryPred is an EXISTS, IN or scalar-subquery comparison between a
// scope and a table that refers to it (or to which it refers).
func (g *gen) subqueryPred() string {
	g.nsub++
	sa := fmt.Sprintf("s%d", g.nsub)
	s := pick(g, g.scopes)
	for _, t := range model {
		for _, fk := range t.fkeys {
			if fk.ref != s.t.name || !g.chance(0.7) {
				continue
			}
			inner := g.innerPred(sa, t)
			switch g.r.IntN(3) {
			case 0:
				return fmt.Sprintf("%sEXISTS (SELECT 1 FROM %s %s WHERE %s.%s = %s.id AND %s)",
					pick(g, []string{"", "NOT "}), t.name, sa, sa, fk.column, s.alias, inner)
			case 1:
				return fmt.Sprintf("%s.id %sIN (SELECT %s.%s FROM %s %s WHERE %s)",
					s.alias, pick(g, []string{"", "NOT "}), sa, fk.column, t.name, sa, inner)
			default:
				return fmt.Sprintf("(SELECT count(*) FROM %s %s WHERE %s.%s = %s.id) %s %d",
					t.name, sa, sa, fk.column, s.alias, pick(g, []string{">", "=", "<"}), g.r.IntN(4))
			}
		}
	}
	c := g.colOf(numeric)
	return fmt.Sprintf("%s <= (SELECT avg(%s.%s) FROM %s %s)", c.sql(), sa, c.c.name, c.s.t.name, sa)
}

// innerPred is a simple predicate on alias a of table t (inside a subquery).
func (g *gen) innerPred(a string, t *table) string {
	var cs []column
	for _, c := range t.columns {
		if comparable_(c) {
			cs = append(cs, c)
		}
	}
	c := pick(g, cs)
	ref := colRef{scope{a, t}, c}
	return fmt.Sprintf("%s %s %s", ref.sql(), pick(g, []string{"=", "<", ">", "<>"}), g.constFor(ref))
}

// constFor is a constant that fits column c: of its type and mostly within
// the range of the generated data, so predicates select some rows.
func (g *gen) constFor(c colRef) string {
	switch c.c.name {
	case "id", "user_id", "order_id", "product_id", "category_id", "parent_id":
		n := rowCounts[refTable(c)]
		if n == 0 {
			n = 1000
		}
		return g.lit(fmt.Sprint(1+g.r.IntN(n)), false)
	case "age":
		return g.lit(fmt.Sprint(18+g.r.IntN(73)), false)
	case "stock":
		return g.lit(fmt.Sprint(g.r.IntN(500)), false)
	case "quantity":
		return g.lit(fmt.Sprint(1+g.r.IntN(10)), false)
	case "status":
		return g.lit(pick(g, statuses), true)
	case "country":
		return g.lit(pick(g, countries), true)
	case "city":
		return g.lit(pick(g, cities), true)
	case "discount":
		return g.lit(fmt.Sprintf("0.%02d", g.r.IntN(31)), false)
	}
	switch c.c.kind {
	case kInt:
		return g.lit(fmt.Sprint(g.r.IntN(100)), false)
	case kNumeric:
		return g.lit(fmt.Sprintf("%d.%02d", g.r.IntN(1000), g.r.IntN(100)), false)
	case kFloat:
		return g.lit(fmt.Sprintf("%d.%d", g.r.IntN(100), g.r.IntN(10)), false)
	case kText:
		return g.lit(pick(g, []string{"A", "M", "Zoë", "Ada Lovelace", "SKU-0042", "red", "m", "", "pro Max"}), true)
	case kBool:
		return g.lit(pick(g, []string{"true", "false"}), false)
	case kDate:
		d := epoch.AddDate(0, 0, -g.r.IntN(1500)).Format("2006-01-02")
		if g.chance(0.5) {
			return g.lit(d, true) + "::date"
		}
		return g.lit(d, true)
	case kTimestamp:
		return g.lit(epoch.Add(timeDays(g.r.IntN(365))).Format("2006-01-02 15:04:05"), true)
	case kTimestampTZ:
		return g.lit(epoch.Add(timeDays(g.r.IntN(365))).Format("2006-01-02 15:04:05-07"), true)
	}
	return "NULL"
}

// refTable is the table whose ids column c holds, for the id range.
func refTable(c colRef) string {
	if c.c.name == "id" {
		return c.s.t.name
	}
	for _, fk := range c.s.t.fkeys {
		if fk.column == c.c.name {
			return fk.ref
		}
	}
	return c.s.t.name
}

// timeDays is n days.
func timeDays(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
