package schema

import (
	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// exprInfo is what DDL needs to know about a CHECK or DEFAULT expression.
type exprInfo struct {
	columns  []string // column names referenced, first use order, no duplicates
	subquery bool
	params   bool
}

// inspect walks e and collects its column references.
func inspect(e ast.Expr) exprInfo {
	var info exprInfo
	seen := map[string]bool{}
	var walk func(e ast.Expr)
	walkAll := func(es []ast.Expr) {
		for _, x := range es {
			walk(x)
		}
	}
	walk = func(e ast.Expr) {
		switch e := e.(type) {
		case nil:
		case *ast.ColumnRef:
			if !e.Star && !seen[e.Column] {
				seen[e.Column] = true
				info.columns = append(info.columns, e.Column)
			}
		case *ast.Param:
			info.params = true
		case *ast.BinaryExpr:
			walk(e.Left)
			walk(e.Right)
		case *ast.UnaryExpr:
			walk(e.Operand)
		case *ast.IsNullExpr:
			walk(e.Expr)
		case *ast.IsBoolExpr:
			walk(e.Expr)
		case *ast.BetweenExpr:
			walk(e.Expr)
			walk(e.Low)
			walk(e.High)
		case *ast.InExpr:
			walk(e.Expr)
			walkAll(e.List)
			if e.Subquery != nil {
				info.subquery = true
			}
		case *ast.ExistsExpr, *ast.SubqueryExpr:
			info.subquery = true
		case *ast.CompareSubquery:
			walk(e.Left)
			info.subquery = true
		case *ast.FuncCall:
			walkAll(e.Args)
			walk(e.Filter)
		case *ast.CaseExpr:
			walk(e.Operand)
			for _, w := range e.Whens {
				walk(w.Cond)
				walk(w.Result)
			}
			walk(e.Else)
		case *ast.CastExpr:
			walk(e.Expr)
		case *ast.RowExpr:
			walkAll(e.Exprs)
		case *ast.ArrayExpr:
			walkAll(e.Elems)
		}
	}
	walk(e)
	return info
}

// renameColumnRefs returns a copy of e with references to column from
// renamed to to (only the nodes on the path are copied).
func renameColumnRefs(e ast.Expr, from, to string) ast.Expr {
	var r func(e ast.Expr) ast.Expr
	all := func(es []ast.Expr) []ast.Expr {
		out := make([]ast.Expr, len(es))
		for i, x := range es {
			out[i] = r(x)
		}
		return out
	}
	r = func(e ast.Expr) ast.Expr {
		switch e := e.(type) {
		case *ast.ColumnRef:
			if !e.Star && e.Column == from {
				c := *e
				c.Column = to
				return &c
			}
			return e
		case *ast.BinaryExpr:
			c := *e
			c.Left, c.Right = r(e.Left), r(e.Right)
			return &c
		case *ast.UnaryExpr:
			c := *e
			c.Operand = r(e.Operand)
			return &c
		case *ast.IsNullExpr:
			c := *e
			c.Expr = r(e.Expr)
			return &c
		case *ast.IsBoolExpr:
			c := *e
			c.Expr = r(e.Expr)
			return &c
		case *ast.BetweenExpr:
			c := *e
			c.Expr, c.Low, c.High = r(e.Expr), r(e.Low), r(e.High)
			return &c
		case *ast.InExpr:
			c := *e
			c.Expr = r(e.Expr)
			if e.List != nil {
				c.List = all(e.List)
			}
			return &c
		case *ast.FuncCall:
			c := *e
			c.Args = all(e.Args)
			if e.Filter != nil {
				c.Filter = r(e.Filter)
			}
			return &c
		case *ast.CaseExpr:
			c := *e
			if e.Operand != nil {
				c.Operand = r(e.Operand)
			}
			c.Whens = make([]ast.When, len(e.Whens))
			for i, w := range e.Whens {
				c.Whens[i] = ast.When{Cond: r(w.Cond), Result: r(w.Result)}
			}
			if e.Else != nil {
				c.Else = r(e.Else)
			}
			return &c
		case *ast.CastExpr:
			c := *e
			c.Expr = r(e.Expr)
			return &c
		case *ast.RowExpr:
			c := *e
			c.Exprs = all(e.Exprs)
			return &c
		case *ast.ArrayExpr:
			c := *e
			c.Elems = all(e.Elems)
			return &c
		default:
			return e
		}
	}
	return r(e)
}

// constValue evaluates e when it is a constant this package can fold
// without the engine (literals, casts of literals, signed numbers) and
// converts it to typ by assignment rules. ok is false for anything else.
func constValue(e ast.Expr, typ value.Type) (v value.Value, ok bool, err error) {
	v, ok, err = foldConst(e, typ)
	if !ok || err != nil {
		return v, ok, err
	}
	if v.IsNull() {
		return value.NullOf(typ), true, nil
	}
	v, err = value.AssignCast(v, typ)
	return v, true, err
}

// foldConst evaluates e with hint as the type an untyped string literal
// takes.
func foldConst(e ast.Expr, hint value.Type) (value.Value, bool, error) {
	switch e := e.(type) {
	case *ast.Literal:
		switch e.Kind {
		case ast.LitNull:
			return value.NullOf(hint), true, nil
		case ast.LitBool:
			return value.NewBool(e.Bool), true, nil
		case ast.LitInteger, ast.LitNumeric:
			if e.Kind == ast.LitInteger {
				if v, err := value.ParseText(value.Int8, []byte(e.Text)); err == nil {
					return v, true, nil
				}
			}
			v, err := value.NumericFromString(e.Text)
			return v, true, err
		case ast.LitString, ast.LitBytes:
			if hint.Kind == value.KindUnknown {
				return value.NewText(e.Text), true, nil
			}
			v, err := value.ParseText(hint, []byte(e.Text))
			return v, true, err
		}
	case *ast.CastExpr:
		if e.Type.Array {
			return value.Value{}, false, nil
		}
		to, err := value.ParseType(e.Type.Name, e.Type.Mods)
		if err != nil {
			return value.Value{}, false, nil
		}
		v, ok, err := foldConst(e.Expr, to)
		if !ok || err != nil {
			return v, ok, err
		}
		if v.IsNull() {
			return value.NullOf(to), true, nil
		}
		v, err = value.Cast(v, to)
		return v, true, err
	case *ast.UnaryExpr:
		lit, isLit := e.Operand.(*ast.Literal)
		if !isLit || (lit.Kind != ast.LitInteger && lit.Kind != ast.LitNumeric) {
			return value.Value{}, false, nil
		}
		if e.Op == "+" {
			return foldConst(lit, hint)
		}
		if e.Op == "-" {
			neg := *lit
			neg.Text = "-" + lit.Text
			return foldConst(&neg, hint)
		}
	}
	return value.Value{}, false, nil
}

// checkDefaultExpr refuses DEFAULT expressions PostgreSQL refuses.
func checkDefaultExpr(e ast.Expr) error {
	info := inspect(e)
	switch {
	case len(info.columns) > 0:
		return sqlerr.New(sqlerr.InvalidColumnReference, "cannot use column reference in DEFAULT expression")
	case info.subquery:
		return sqlerr.New(sqlerr.FeatureNotSupported, "cannot use subquery in DEFAULT expression")
	case info.params:
		return sqlerr.New(sqlerr.UndefinedParameter, "cannot use parameters in DEFAULT expression")
	}
	return nil
}
