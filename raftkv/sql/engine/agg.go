package engine

import (
	"fmt"
	"reflect"
	"strings"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
	"github.com/cockroachdb/apd/v3"
)

// aggNames are the aggregate functions.
var aggNames = map[string]bool{
	"count": true, "sum": true, "avg": true, "min": true, "max": true,
	"bool_and": true, "bool_or": true, "every": true, "string_agg": true,
}

// hasAggregate reports whether e calls an aggregate outside subqueries.
func hasAggregate(e ast.Node) bool {
	found := false
	walkAST(e, func(n ast.Node) bool {
		if f, ok := n.(*ast.FuncCall); ok && aggNames[trimCatalog(f.Name)] {
			found = true
		}
		return !found
	})
	return found
}

// walkAST visits expression nodes, not descending into subqueries.
func walkAST(n ast.Node, fn func(ast.Node) bool) {
	if n == nil || reflect.ValueOf(n).IsNil() {
		return
	}
	if !fn(n) {
		return
	}
	switch e := n.(type) {
	case *ast.BinaryExpr:
		walkAST(e.Left, fn)
		walkAST(e.Right, fn)
	case *ast.UnaryExpr:
		walkAST(e.Operand, fn)
	case *ast.IsNullExpr:
		walkAST(e.Expr, fn)
	case *ast.IsBoolExpr:
		walkAST(e.Expr, fn)
	case *ast.BetweenExpr:
		walkAST(e.Expr, fn)
		walkAST(e.Low, fn)
		walkAST(e.High, fn)
	case *ast.InExpr:
		walkAST(e.Expr, fn)
		for _, x := range e.List {
			walkAST(x, fn)
		}
	case *ast.CompareSubquery:
		walkAST(e.Left, fn)
	case *ast.FuncCall:
		for _, x := range e.Args {
			walkAST(x, fn)
		}
		if e.Filter != nil {
			walkAST(e.Filter, fn)
		}
	case *ast.CaseExpr:
		if e.Operand != nil {
			walkAST(e.Operand, fn)
		}
		for _, w := range e.Whens {
			walkAST(w.Cond, fn)
			walkAST(w.Result, fn)
		}
		if e.Else != nil {
			walkAST(e.Else, fn)
		}
	case *ast.CastExpr:
		walkAST(e.Expr, fn)
	case *ast.RowExpr:
		for _, x := range e.Exprs {
			walkAST(x, fn)
		}
	}
}

// astKey prints an expression tree ignoring positions, to match GROUP BY
// expressions with select-list expressions.
func astKey(n any) string {
	var sb strings.Builder
	keyOf(&sb, reflect.ValueOf(n))
	return sb.String()
}

func keyOf(sb *strings.Builder, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			sb.WriteString("nil")
			return
		}
		keyOf(sb, v.Elem())
	case reflect.Struct:
		sb.WriteString(v.Type().Name())
		sb.WriteByte('{')
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).Name == "Pos" {
				continue
			}
			keyOf(sb, v.Field(i))
			sb.WriteByte(',')
		}
		sb.WriteByte('}')
	case reflect.Slice:
		sb.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			keyOf(sb, v.Index(i))
			sb.WriteByte(',')
		}
		sb.WriteByte(']')
	default:
		fmt.Fprintf(sb, "%v", v.Interface())
	}
}

// aggScope binds the expressions evaluated on an aggregation's output:
// group keys and aggregate results.
type aggScope struct {
	pre       *scope // the FROM scope the groups and arguments are bound in
	groupKeys []string
	groupCols []int // slot in pre of a group key that is a plain column (-1 otherwise)
	groups    []expr
	aggs      []*aggCall
}

// aggCall is one aggregate computed per group.
type aggCall struct {
	name     string
	args     []expr
	star     bool
	distinct bool
	filter   expr
	t        value.Type
	key      string
}

// match binds e after aggregation if e is a group key, an aggregate or a
// column; ok false means bind e structurally (its parts are matched).
func (a *aggScope) match(b *binder, sc *scope, e ast.Expr) (expr, bool, error) {
	switch e.(type) {
	case *ast.Literal, *ast.Param, *ast.SubqueryExpr, *ast.ExistsExpr:
		return nil, false, nil
	}
	k := astKey(e)
	for i, gk := range a.groupKeys {
		if gk == k {
			return &colExpr{idx: i, t: a.groups[i].typ(), name: k}, true, nil
		}
	}
	switch e := e.(type) {
	case *ast.FuncCall:
		if !aggNames[trimCatalog(e.Name)] {
			return nil, false, nil
		}
		x, err := a.bindAgg(b, e)
		return x, true, err
	case *ast.ColumnRef:
		if e.Star {
			return nil, false, nil
		}
		_, depth, idx, err := a.pre.resolve(e.Table, e.Column, e.Pos)
		if err != nil {
			return nil, true, err
		}
		if depth > 0 {
			x, err := b.bindColumn(sc.parent, e)
			if c, ok := x.(*colExpr); ok {
				c.depth++
				sc.outerRef = true
			}
			return x, true, err
		}
		for i, gc := range a.groupCols {
			if gc == idx {
				return &colExpr{idx: i, t: a.groups[i].typ(), name: e.Column}, true, nil
			}
		}
		// functional dependency: every primary key column of the column's table is grouped
		col := a.pre.cols[idx]
		if col.tbl != nil && a.pkGrouped(col) {
			a.groups = append(a.groups, &colExpr{idx: idx, t: col.typ, name: col.name})
			a.groupCols = append(a.groupCols, idx)
			a.groupKeys = append(a.groupKeys, "\x00dep")
			return &colExpr{idx: len(a.groups) - 1, t: col.typ, name: col.name}, true, nil
		}
		ref := e.Column
		if e.Table != "" {
			ref = e.Table + "." + e.Column
		}
		return nil, true, sqlerr.New(sqlerr.GroupingError, "column %q must appear in the GROUP BY clause or be used in an aggregate function", ref).At(int32(e.Pos))
	}
	return nil, false, nil
}

// findGrouped resolves a column of the aggregated query (referenced from a
// subquery evaluated after aggregation) to its group key slot.
func (a *aggScope) findGrouped(table, name string, pos int) (int, error) {
	idx, err := a.pre.find(table, name, pos)
	if err != nil || idx < 0 {
		return idx, err
	}
	for i, gc := range a.groupCols {
		if gc == idx {
			return i, nil
		}
	}
	col := a.pre.cols[idx]
	if col.tbl != nil && a.pkGrouped(col) {
		a.groups = append(a.groups, &colExpr{idx: idx, t: col.typ, name: col.name})
		a.groupCols = append(a.groupCols, idx)
		a.groupKeys = append(a.groupKeys, "\x00dep")
		return len(a.groups) - 1, nil
	}
	ref := name
	if table != "" {
		ref = table + "." + name
	}
	return -1, sqlerr.New(sqlerr.GroupingError, "subquery uses ungrouped column %q from outer query", ref).At(int32(pos))
}

// pkGrouped reports whether the primary key of col's relation is grouped.
func (a *aggScope) pkGrouped(col scopeCol) bool {
	if len(col.tbl.PrimaryKey) == 0 {
		return false
	}
	for _, pk := range col.tbl.PrimaryKey {
		ok := false
		for _, gc := range a.groupCols {
			if gc >= 0 && a.pre.cols[gc].rel == col.rel && a.pre.cols[gc].ord == pk {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// bindAgg binds an aggregate call's arguments in the pre-aggregation scope.
func (a *aggScope) bindAgg(b *binder, e *ast.FuncCall) (expr, error) {
	name := trimCatalog(e.Name)
	for _, arg := range e.Args {
		if hasAggregate(arg) {
			return nil, sqlerr.New(sqlerr.GroupingError, "aggregate function calls cannot be nested").At(int32(e.Pos))
		}
	}
	c := &aggCall{name: name, star: e.Star, distinct: e.Distinct, key: astKey(e)}
	for _, prev := range a.aggs {
		if prev.key == c.key {
			return &aggRef{as: a, i: indexOf(a.aggs, prev), t: prev.t}, nil
		}
	}
	for _, arg := range e.Args {
		x, err := b.bindExpr(a.pre, arg)
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, x)
	}
	if e.Filter != nil {
		f, err := b.bindCond(a.pre, e.Filter, "FILTER")
		if err != nil {
			return nil, err
		}
		c.filter = f
	}
	want := 1
	switch name {
	case "count":
		if e.Star {
			want = 0
		}
	case "string_agg":
		want = 2
	}
	if len(c.args) != want {
		return nil, undefinedFunction(name, c.args, e.Pos)
	}
	var err error
	switch name {
	case "count":
		c.t = value.Int8
	case "sum":
		if c.args[0], err = b.coerce(c.args[0], value.Numeric); err != nil {
			return nil, err
		}
		switch at := c.args[0].typ(); at.Kind {
		case value.KindInt:
			if at.Width == 8 {
				c.t = value.Numeric
			} else {
				c.t = value.Int8
			}
		case value.KindNumeric:
			c.t = value.Numeric
		case value.KindFloat:
			c.t = value.Float8
		default:
			return nil, undefinedFunction(name, c.args, e.Pos)
		}
	case "avg":
		if c.args[0], err = b.coerce(c.args[0], value.Numeric); err != nil {
			return nil, err
		}
		switch c.args[0].typ().Kind {
		case value.KindInt, value.KindNumeric:
			c.t = value.Numeric
		case value.KindFloat:
			c.t = value.Float8
		default:
			return nil, undefinedFunction(name, c.args, e.Pos)
		}
	case "min", "max":
		if c.args[0], err = b.coerce(c.args[0], value.Text); err != nil {
			return nil, err
		}
		c.t = c.args[0].typ()
		if c.t.Kind == value.KindText { // min(bpchar) is bpchar; varchar goes through min(text)
			c.t = value.Type{Kind: value.KindText, Fixed: c.t.Fixed}
		}
	case "bool_and", "bool_or", "every":
		if c.args[0], err = b.coerce(c.args[0], value.Bool); err != nil {
			return nil, err
		}
		if c.args[0].typ().Kind != value.KindBool {
			return nil, undefinedFunction(name, c.args, e.Pos)
		}
		c.t = value.Bool
	case "string_agg":
		for i := range c.args {
			if c.args[i], err = b.coerce(c.args[i], value.Text); err != nil {
				return nil, err
			}
		}
		c.t = value.Text
	}
	a.aggs = append(a.aggs, c)
	return &aggRef{as: a, i: len(a.aggs) - 1, t: c.t}, nil
}

func indexOf(xs []*aggCall, x *aggCall) int {
	for i, y := range xs {
		if y == x {
			return i
		}
	}
	return -1
}

// aggState accumulates one aggregate over one group.
type aggState struct {
	c     *aggCall
	count int64
	acc   value.Value
	has   bool
	seen  map[string]bool
	sb    strings.Builder
}

func (s *aggState) add(ec *execCtx, r row) error {
	c := s.c
	if c.filter != nil {
		ok, err := truthy(ec, c.filter, r)
		if err != nil || !ok {
			return err
		}
	}
	if c.star {
		s.count++
		return nil
	}
	v, err := c.args[0].eval(ec, r)
	if err != nil {
		return err
	}
	if v.Null {
		return nil
	}
	if c.distinct {
		if s.seen == nil {
			s.seen = map[string]bool{}
		}
		k := string(value.AppendKey(nil, v, false))
		if s.seen[k] {
			return nil
		}
		s.seen[k] = true
	}
	s.count++
	switch c.name {
	case "count":
	case "sum", "avg":
		if c.t.Kind == value.KindNumeric && v.Type.Kind != value.KindNumeric {
			if v, err = value.Cast(v, value.Numeric); err != nil {
				return err
			}
		} else if c.t.Kind == value.KindInt {
			v.Type = value.Int8
		}
		if !s.has {
			s.acc, s.has = v, true
			return nil
		}
		s.acc, err = value.Add(s.acc, v)
		return err
	case "min", "max":
		if !s.has {
			s.acc, s.has = v, true
			return nil
		}
		n, err := value.Compare(v, s.acc)
		if err != nil {
			return err
		}
		if (c.name == "min" && n < 0) || (c.name == "max" && n > 0) {
			s.acc = v
		}
	case "bool_and", "every", "bool_or":
		if !s.has {
			s.acc, s.has = v, true
			return nil
		}
		if c.name == "bool_or" {
			s.acc = value.NewBool(s.acc.Bool || v.Bool)
		} else {
			s.acc = value.NewBool(s.acc.Bool && v.Bool)
		}
	case "string_agg":
		sep, err := c.args[1].eval(ec, r)
		if err != nil {
			return err
		}
		if s.has && !sep.Null {
			s.sb.WriteString(sep.Str)
		}
		t, err := textOf(v)
		if err != nil {
			return err
		}
		s.sb.WriteString(t)
		s.has = true
	}
	return nil
}

func (s *aggState) result() (value.Value, error) {
	c := s.c
	switch c.name {
	case "count":
		return value.NewInt(s.count), nil
	case "string_agg":
		if !s.has {
			return value.NullOf(value.Text), nil
		}
		return value.NewText(s.sb.String()), nil
	}
	if !s.has {
		return value.NullOf(c.t), nil
	}
	if c.name == "avg" {
		if c.t.Kind == value.KindFloat {
			return value.NewFloat(s.acc.Float / float64(s.count)), nil
		}
		return avgNumeric(s.acc, s.count)
	}
	return castValue(s.acc, c.t)
}

// avgNumeric divides a numeric sum by a count with PostgreSQL's scale
// (at least 16 significant digits).
func avgNumeric(sum value.Value, n int64) (value.Value, error) {
	return value.Div(sum, value.Value{Type: value.Numeric, Dec: apd.New(n, 0)})
}

// undefinedFunction is PostgreSQL's 42883 for a call no function matches.
func undefinedFunction(name string, args []expr, pos int) error {
	ts := make([]string, len(args))
	for i, a := range args {
		ts[i] = typeName(a.typ())
	}
	return sqlerr.New(sqlerr.UndefinedFunction, "function %s(%s) does not exist", name, strings.Join(ts, ", ")).
		WithHint("No function matches the given name and argument types. You might need to add explicit type casts.").At(int32(pos))
}

// trimCatalog drops a pg_catalog. qualifier.
func trimCatalog(name string) string {
	return strings.TrimPrefix(name, "pg_catalog.")
}
