package engine

import (
	"errors"
	"math/big"
	"strconv"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/schema"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// binder turns statements into plans: it resolves names against the
// catalog and scopes, types expressions and infers parameter types.
type binder struct {
	sess   *Session
	cat    *schema.Catalog
	params []value.Type // $N types; Unknown until inferred
	ctes   []map[string]*cteDef
	// forUpdate: relations locked by SELECT … FOR UPDATE (all when empty)
	nextRel int
}

// cteDef is a WITH query visible by name.
type cteDef struct {
	name string
	plan plan
	cols []outCol
}

// param returns the expression of $n, growing the parameter list.
func (b *binder) param(n, pos int) (expr, error) {
	if n < 1 || n > 65535 {
		return nil, sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $%d", n).At(int32(pos))
	}
	for len(b.params) < n {
		b.params = append(b.params, value.Unknown)
	}
	return &paramExpr{idx: n - 1, t: b.params[n-1]}, nil
}

// coerce gives an untyped expression (literal or parameter) the type t.
//
// The type's modifiers are dropped (varchar(n) → varchar, numeric(p,s) →
// numeric): an implicit coercion never truncates or rounds; assignments
// apply value.AssignCast, explicit casts value.Cast.
func (b *binder) coerce(e expr, t value.Type) (expr, error) {
	t = baseType(t)
	if t.Kind == value.KindUnknown || e.typ().Kind != value.KindUnknown {
		return e, nil
	}
	switch x := e.(type) {
	case *constExpr:
		v, err := castValue(x.v, t)
		if err != nil {
			return nil, err
		}
		return &constExpr{v: v}, nil
	case *paramExpr:
		if b.params[x.idx].Kind == value.KindUnknown {
			b.params[x.idx] = t
		}
		return &paramExpr{idx: x.idx, t: b.params[x.idx]}, nil
	}
	return &castExpr{e: e, t: t}, nil
}

// baseType drops a type's length, precision and scale.
func baseType(t value.Type) value.Type {
	switch t.Kind {
	case value.KindText:
		return value.Type{Kind: value.KindText, Varchar: t.Varchar, Fixed: t.Fixed}
	case value.KindNumeric:
		return value.Numeric
	}
	return t
}

// finalType is the type an expression reports to clients (unknown → text).
func finalType(t value.Type) value.Type {
	if t.Kind == value.KindUnknown {
		return value.Text
	}
	return t
}

// bindExpr binds e in scope sc.
func (b *binder) bindExpr(sc *scope, e ast.Expr) (expr, error) {
	if sc != nil && sc.agg != nil {
		if x, ok, err := sc.agg.match(b, sc, e); ok || err != nil {
			return x, err
		}
	}
	switch e := e.(type) {
	case *ast.Literal:
		return bindLiteral(e)
	case *ast.Param:
		return b.param(e.N, e.Pos)
	case *ast.ColumnRef:
		if e.Star {
			return nil, sqlerr.New(sqlerr.SyntaxError, "* is not allowed here").At(int32(e.Pos))
		}
		return b.bindColumn(sc, e)
	case *ast.BinaryExpr:
		return b.bindBinary(sc, e)
	case *ast.UnaryExpr:
		x, err := b.bindExpr(sc, e.Operand)
		if err != nil {
			return nil, err
		}
		switch e.Op {
		case "NOT":
			if x, err = b.coerce(x, value.Bool); err != nil {
				return nil, err
			}
			if err := wantBool(x, "NOT", e.Pos); err != nil {
				return nil, err
			}
			return &notExpr{e: x}, nil
		case "-":
			if c, ok := x.(*constExpr); ok && !c.v.Null && c.v.Type.Kind != value.KindUnknown {
				v, err := value.Neg(c.v)
				if err != nil {
					return nil, err
				}
				if c.v.Type.Kind == value.KindInt && c.v.Type.Width == 8 && v.Int >= -1<<31 {
					v.Type = value.Int4
				}
				return &constExpr{v: v}, nil
			}
			if x, err = b.coerce(x, value.Numeric); err != nil {
				return nil, err
			}
			return &negExpr{e: x}, nil
		}
		return b.coerce(x, value.Numeric)
	case *ast.IsNullExpr:
		x, err := b.bindExpr(sc, e.Expr)
		if err != nil {
			return nil, err
		}
		return &isNullExpr{e: x, not: e.Not}, nil
	case *ast.IsBoolExpr:
		x, err := b.bindExpr(sc, e.Expr)
		if err != nil {
			return nil, err
		}
		if x, err = b.coerce(x, value.Bool); err != nil {
			return nil, err
		}
		return &isBoolExpr{e: x, not: e.Not, val: e.Value}, nil
	case *ast.BetweenExpr:
		lo := &ast.BinaryExpr{Op: ">=", Left: e.Expr, Right: e.Low, Pos: e.Pos}
		hi := &ast.BinaryExpr{Op: "<=", Left: e.Expr, Right: e.High, Pos: e.Pos}
		var x ast.Expr = &ast.BinaryExpr{Op: "AND", Left: lo, Right: hi, Pos: e.Pos}
		if e.Not {
			x = &ast.UnaryExpr{Op: "NOT", Operand: x, Pos: e.Pos}
		}
		return b.bindExpr(sc, x)
	case *ast.InExpr:
		if e.Subquery != nil {
			return b.bindInSubquery(sc, e)
		}
		x, err := b.bindExpr(sc, e.Expr)
		if err != nil {
			return nil, err
		}
		list := make([]expr, len(e.List))
		for i, le := range e.List {
			if list[i], err = b.bindExpr(sc, le); err != nil {
				return nil, err
			}
		}
		t := x.typ()
		for _, l := range list {
			if t.Kind == value.KindUnknown {
				t = l.typ()
			}
		}
		if t.Kind == value.KindUnknown {
			t = value.Text
		}
		if x, err = b.coerce(x, t); err != nil {
			return nil, err
		}
		for i := range list {
			if list[i], err = b.coerce(list[i], t); err != nil {
				return nil, err
			}
			if err := checkComparable(t, list[i].typ(), "=", e.Pos); err != nil {
				return nil, err
			}
		}
		return &inListExpr{e: x, list: list, not: e.Not}, nil
	case *ast.ExistsExpr:
		return b.bindExists(sc, e)
	case *ast.SubqueryExpr:
		return b.bindScalarSubquery(sc, e)
	case *ast.CompareSubquery:
		return b.bindCompareSubquery(sc, e)
	case *ast.FuncCall:
		return b.bindFunc(sc, e)
	case *ast.CaseExpr:
		return b.bindCase(sc, e)
	case *ast.CastExpr:
		x, err := b.bindExpr(sc, e.Expr)
		if err != nil {
			return nil, err
		}
		if e.Type.Array {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "array types are not supported").At(int32(e.Type.Pos))
		}
		t, err := value.ParseType(e.Type.Name, e.Type.Mods)
		if err != nil {
			return nil, withPos(err, e.Type.Pos)
		}
		if x.typ().Kind == value.KindUnknown {
			if _, ok := x.(*paramExpr); ok {
				p, err := b.coerce(x, t)
				if err != nil || p.typ() == t {
					return p, err
				}
				return &castExpr{e: p, t: t}, nil
			}
		}
		if c, ok := x.(*constExpr); ok {
			v, err := castValue(c.v, t)
			if err != nil {
				return nil, withPos(err, e.Pos)
			}
			return &constExpr{v: v}, nil
		}
		return &castExpr{e: x, t: t}, nil
	case *ast.RowExpr:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "row expressions are not supported").At(int32(e.Pos))
	case *ast.ArrayExpr:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "ARRAY is not supported").At(int32(e.Pos))
	case *ast.Default:
		return nil, sqlerr.New(sqlerr.SyntaxError, "DEFAULT is not allowed in this context").At(int32(e.Pos))
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "expression %T is not supported", e)
}

// withPos sets a position on an *sqlerr.Error lacking one.
func withPos(err error, pos int) error {
	var se *sqlerr.Error
	if errors.As(err, &se) && se.Position == 0 && pos > 0 {
		c := *se
		c.Position = int32(pos)
		return &c
	}
	return err
}

// wantBool checks that a condition is boolean.
func wantBool(x expr, what string, pos int) error {
	if k := x.typ().Kind; k != value.KindBool && k != value.KindUnknown {
		return sqlerr.New(sqlerr.DatatypeMismatch, "argument of %s must be type boolean, not type %s", what, typeName(x.typ())).At(int32(pos))
	}
	return nil
}

// bindCond binds a WHERE/ON/HAVING condition.
func (b *binder) bindCond(sc *scope, e ast.Expr, what string) (expr, error) {
	x, err := b.bindExpr(sc, e)
	if err != nil {
		return nil, err
	}
	if x, err = b.coerce(x, value.Bool); err != nil {
		return nil, err
	}
	if err := wantBool(x, what, exprPos(e)); err != nil {
		return nil, err
	}
	return x, nil
}

// bindLiteral types a literal: integers int4/int8/numeric by size, strings untyped.
func bindLiteral(e *ast.Literal) (expr, error) {
	switch e.Kind {
	case ast.LitNull:
		return &constExpr{v: value.Null}, nil
	case ast.LitBool:
		return &constExpr{v: value.NewBool(e.Bool)}, nil
	case ast.LitInteger:
		n, err := strconv.ParseInt(e.Text, 10, 64)
		if err != nil {
			if _, ok := new(big.Int).SetString(e.Text, 10); !ok {
				return nil, sqlerr.New(sqlerr.SyntaxError, "invalid integer %q", e.Text).At(int32(e.Pos))
			}
			v, err := value.NumericFromString(e.Text)
			return &constExpr{v: v}, err
		}
		v := value.NewInt(n)
		if n >= -1<<31 && n < 1<<31 {
			v.Type = value.Int4
		} else {
			v.Type = value.Int8
		}
		return &constExpr{v: v}, nil
	case ast.LitNumeric:
		v, err := value.NumericFromString(e.Text)
		if err != nil {
			return nil, withPos(err, e.Pos)
		}
		return &constExpr{v: v}, nil
	case ast.LitString:
		return &constExpr{v: value.Value{Type: value.Unknown, Str: e.Text}}, nil
	case ast.LitBytes:
		return &constExpr{v: value.NewBytes([]byte(e.Text))}, nil
	}
	return nil, sqlerr.New(sqlerr.SyntaxError, "bad literal").At(int32(e.Pos))
}

// bindColumn resolves a column reference.
func (b *binder) bindColumn(sc *scope, e *ast.ColumnRef) (expr, error) {
	if sc == nil {
		return nil, sqlerr.New(sqlerr.UndefinedColumn, "column %q does not exist", e.Column).At(int32(e.Pos))
	}
	found, depth, idx, err := sc.resolve(e.Table, e.Column, e.Pos)
	if err != nil {
		return nil, err
	}
	if found.agg != nil {
		return &colExpr{depth: depth, idx: idx, t: found.colType(idx), name: e.Column}, nil
	}
	c := found.cols[idx]
	if c.rel >= 0 && c.rel < 64 {
		found.mask |= 1 << uint(c.rel)
	}
	return &colExpr{depth: depth, idx: idx, t: c.typ, name: e.Column}, nil
}

// comparable kinds: the numeric family, the time family, or equal kinds.
func kindFamily(k value.Kind) int {
	switch k {
	case value.KindInt, value.KindFloat, value.KindNumeric:
		return 1
	case value.KindTimestamp, value.KindTimestampTZ, value.KindDate:
		return 2
	}
	return 10 + int(k)
}

func checkComparable(a, b value.Type, op string, pos int) error {
	if a.Kind == value.KindUnknown || b.Kind == value.KindUnknown || kindFamily(a.Kind) == kindFamily(b.Kind) {
		return nil
	}
	return sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s %s", typeName(a), op, typeName(b)).
		WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.").At(int32(pos))
}

// unify gives untyped operands the type of the other side (text when both untyped).
func (b *binder) unify(l, r expr) (expr, expr, error) {
	var err error
	lt, rt := l.typ(), r.typ()
	switch {
	case lt.Kind == value.KindUnknown && rt.Kind != value.KindUnknown:
		l, err = b.coerce(l, rt)
	case rt.Kind == value.KindUnknown && lt.Kind != value.KindUnknown:
		r, err = b.coerce(r, lt)
	case lt.Kind == value.KindUnknown && rt.Kind == value.KindUnknown:
		if l, err = b.coerce(l, value.Text); err == nil {
			r, err = b.coerce(r, value.Text)
		}
	}
	return l, r, err
}

// bindBinary binds a binary operator.
func (b *binder) bindBinary(sc *scope, e *ast.BinaryExpr) (expr, error) {
	l, err := b.bindExpr(sc, e.Left)
	if err != nil {
		return nil, err
	}
	r, err := b.bindExpr(sc, e.Right)
	if err != nil {
		return nil, err
	}
	switch e.Op {
	case "AND", "OR":
		if l, err = b.coerce(l, value.Bool); err != nil {
			return nil, err
		}
		if r, err = b.coerce(r, value.Bool); err != nil {
			return nil, err
		}
		if err := wantBool(l, e.Op, e.Pos); err != nil {
			return nil, err
		}
		if err := wantBool(r, e.Op, e.Pos); err != nil {
			return nil, err
		}
		return &logicExpr{and: e.Op == "AND", l: l, r: r}, nil
	case "=", "<>", "<", "<=", ">", ">=", "IS DISTINCT FROM", "IS NOT DISTINCT FROM":
		if l, r, err = b.unify(l, r); err != nil {
			return nil, withPos(err, e.Pos)
		}
		if err := checkComparable(l.typ(), r.typ(), e.Op, e.Pos); err != nil {
			return nil, err
		}
		return &cmpExpr{op: e.Op, l: l, r: r}, nil
	case "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE":
		if l, err = b.coerce(l, value.Text); err != nil {
			return nil, err
		}
		if r, err = b.coerce(r, value.Text); err != nil {
			return nil, err
		}
		return &likeExpr{l: l, r: r, not: e.Op[0] == 'N', ci: e.Op == "ILIKE" || e.Op == "NOT ILIKE"}, nil
	case "||":
		if l, err = b.coerce(l, value.Text); err != nil {
			return nil, err
		}
		if r, err = b.coerce(r, value.Text); err != nil {
			return nil, err
		}
		t := value.Text
		if l.typ().Kind == value.KindJSON && r.typ().Kind == value.KindJSON {
			t = value.JSONB
		}
		return &arithExpr{op: e.Op, l: l, r: r, t: t}, nil
	case "->", "->>":
		if l, err = b.coerce(l, value.JSONB); err != nil {
			return nil, err
		}
		if r, err = b.coerce(r, value.Text); err != nil {
			return nil, err
		}
		if l.typ().Kind != value.KindJSON {
			return nil, sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s %s", typeName(l.typ()), e.Op, typeName(r.typ())).At(int32(e.Pos))
		}
		t := value.JSONB
		if e.Op == "->>" {
			t = value.Text
		}
		return &arithExpr{op: e.Op, l: l, r: r, t: t}, nil
	case "+", "-", "*", "/", "%", "^":
		if l, r, err = b.unify(l, r); err != nil {
			return nil, withPos(err, e.Pos)
		}
		t, ok := arithType(e.Op, l.typ(), r.typ())
		if !ok {
			return nil, sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s %s %s", typeName(l.typ()), e.Op, typeName(r.typ())).
				WithHint("No operator matches the given name and argument types. You might need to add explicit type casts.").At(int32(e.Pos))
		}
		return &arithExpr{op: e.Op, l: l, r: r, t: t}, nil
	}
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "operator %s is not supported", e.Op).At(int32(e.Pos))
}

// arithType is the result type of an arithmetic operator, as PostgreSQL types it.
func arithType(op string, a, b value.Type) (value.Type, bool) {
	if op == "^" {
		if a.Kind == value.KindNumeric || b.Kind == value.KindNumeric {
			return value.Numeric, true
		}
		return value.Float8, true
	}
	num := func(t value.Type) bool {
		return t.Kind == value.KindInt || t.Kind == value.KindFloat || t.Kind == value.KindNumeric
	}
	if num(a) && num(b) {
		switch {
		case a.Kind == value.KindFloat || b.Kind == value.KindFloat:
			return value.Float8, true
		case a.Kind == value.KindNumeric || b.Kind == value.KindNumeric:
			return value.Numeric, true
		}
		w := a.Width
		if b.Width > w {
			w = b.Width
		}
		return value.Type{Kind: value.KindInt, Width: w}, true
	}
	// date ± int, timestamp arithmetic: let the value package decide.
	if (a.Kind == value.KindDate || a.Kind == value.KindTimestamp || a.Kind == value.KindTimestampTZ) && (op == "+" || op == "-") {
		if b.Kind == value.KindInt {
			return a, true
		}
		if a.Kind == b.Kind && op == "-" && a.Kind == value.KindDate {
			return value.Int4, true
		}
	}
	return value.Type{}, false
}

// bindCase binds CASE.
func (b *binder) bindCase(sc *scope, e *ast.CaseExpr) (expr, error) {
	c := &caseExpr{}
	var err error
	if e.Operand != nil {
		if c.operand, err = b.bindExpr(sc, e.Operand); err != nil {
			return nil, err
		}
	}
	for _, w := range e.Whens {
		cond, err := b.bindExpr(sc, w.Cond)
		if err != nil {
			return nil, err
		}
		if c.operand != nil {
			if c.operand, cond, err = b.unify(c.operand, cond); err != nil {
				return nil, err
			}
		} else if cond, err = b.coerce(cond, value.Bool); err != nil {
			return nil, err
		}
		res, err := b.bindExpr(sc, w.Result)
		if err != nil {
			return nil, err
		}
		c.conds = append(c.conds, cond)
		c.results = append(c.results, res)
	}
	if e.Else != nil {
		if c.els, err = b.bindExpr(sc, e.Else); err != nil {
			return nil, err
		}
	}
	all := append([]expr(nil), c.results...)
	if c.els != nil {
		all = append(all, c.els)
	}
	t, err := commonType(all, "CASE", e.Pos)
	if err != nil {
		return nil, err
	}
	c.t = t
	for i := range c.results {
		if c.results[i], err = b.coerce(c.results[i], t); err != nil {
			return nil, err
		}
	}
	if c.els != nil {
		if c.els, err = b.coerce(c.els, t); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// commonType is the type a set of branches resolves to (CASE, COALESCE, UNION).
func commonType(xs []expr, what string, pos int) (value.Type, error) {
	ts := make([]value.Type, len(xs))
	for i, x := range xs {
		ts[i] = x.typ()
	}
	return commonTypeOf(ts, what, pos)
}

func commonTypeOf(ts []value.Type, what string, pos int) (value.Type, error) {
	t := value.Unknown
	untyped := false
	for _, xt := range ts {
		switch {
		case xt.Kind == value.KindUnknown:
			untyped = true
		case t.Kind == value.KindUnknown:
			t = xt
		case kindFamily(t.Kind) != kindFamily(xt.Kind):
			return t, sqlerr.New(sqlerr.DatatypeMismatch, "%s types %s and %s cannot be matched", what, typeName(t), typeName(xt)).At(int32(pos))
		case t.Kind == xt.Kind:
			if t.Kind == value.KindInt && xt.Width > t.Width {
				t = xt
			} else if t != xt && t.Kind != value.KindInt {
				// PostgreSQL keeps a type modifier only when every input
				// has the same one; char and varchar stay themselves
				// (unbounded) when both sides are, else become text.
				same := t.Kind == value.KindText && t.Fixed == xt.Fixed && t.Varchar == xt.Varchar
				t = value.Type{Kind: t.Kind, Width: t.Width}
				if same {
					t = value.Type{Kind: value.KindText, Fixed: xt.Fixed, Varchar: xt.Varchar}
				} else if t.Kind == value.KindText {
					t = value.Text
				}
			}
		case t.Kind == value.KindFloat || xt.Kind == value.KindFloat:
			t = value.Float8
		case t.Kind == value.KindNumeric || xt.Kind == value.KindNumeric:
			t = value.Numeric
		case t.Kind == value.KindTimestampTZ || xt.Kind == value.KindTimestampTZ:
			t = value.TimestampTZ
		default:
			t = value.Timestamp
		}
	}
	if t.Kind == value.KindUnknown {
		t = value.Text
	}
	if untyped { // an untyped literal has no modifier: the result has none either
		t.Length, t.Precision, t.Scale = 0, 0, 0
	}
	return t, nil
}

// exprPos returns the position of an AST expression when it has one.
func exprPos(e ast.Expr) int {
	switch e := e.(type) {
	case *ast.Literal:
		return e.Pos
	case *ast.Param:
		return e.Pos
	case *ast.ColumnRef:
		return e.Pos
	case *ast.BinaryExpr:
		return e.Pos
	case *ast.UnaryExpr:
		return e.Pos
	case *ast.FuncCall:
		return e.Pos
	case *ast.CastExpr:
		return e.Pos
	case *ast.SubqueryExpr:
		return e.Pos
	}
	return 0
}
