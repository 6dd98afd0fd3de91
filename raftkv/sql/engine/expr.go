package engine

import (
	"fmt"
	"strings"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// row is one row flowing through a plan; slots not filled are NULL.
type row = []value.Value

// expr is a bound, typed expression.
type expr interface {
	eval(ec *execCtx, r row) (value.Value, error)
	typ() value.Type
}

// newRow returns a row of width n with every slot NULL.
func newRow(n int) row {
	r := make(row, n)
	for i := range r {
		r[i] = value.Null
	}
	return r
}

// constExpr is a constant.
type constExpr struct{ v value.Value }

func (c *constExpr) eval(*execCtx, row) (value.Value, error) { return c.v, nil }
func (c *constExpr) typ() value.Type                         { return c.v.Type }

// paramExpr is $N; its value is decoded at Execute with the inferred type.
type paramExpr struct {
	idx int
	t   value.Type
}

func (p *paramExpr) eval(ec *execCtx, _ row) (value.Value, error) {
	if p.idx >= len(ec.params) {
		return value.Null, sqlerr.New(sqlerr.UndefinedParameter, "there is no parameter $%d", p.idx+1)
	}
	return ec.params[p.idx], nil
}
func (p *paramExpr) typ() value.Type { return p.t }

// colExpr reads slot idx of the current row (depth 0) or of the row of
// an enclosing query (depth d ≥ 1: the d-th pushed outer row).
type colExpr struct {
	depth, idx int
	t          value.Type
	name       string
}

func (c *colExpr) eval(ec *execCtx, r row) (value.Value, error) {
	if c.depth > 0 {
		if c.depth > len(ec.outer) {
			return value.Null, sqlerr.New(sqlerr.Internal, "outer column %q is not available here", c.name)
		}
		r = ec.outer[len(ec.outer)-c.depth]
	}
	if c.idx >= len(r) {
		return value.Null, sqlerr.New(sqlerr.Internal, "column %q slot %d out of range", c.name, c.idx)
	}
	return r[c.idx], nil
}
func (c *colExpr) typ() value.Type { return c.t }

// aggRef reads aggregate i of an aggregation's output row (after the group keys).
type aggRef struct {
	as *aggScope
	i  int
	t  value.Type
}

func (a *aggRef) eval(_ *execCtx, r row) (value.Value, error) {
	return r[len(a.as.groups)+a.i], nil
}
func (a *aggRef) typ() value.Type { return a.t }

// castExpr converts its operand to t.
type castExpr struct {
	e expr
	t value.Type
}

func (c *castExpr) eval(ec *execCtx, r row) (value.Value, error) {
	v, err := c.e.eval(ec, r)
	if err != nil {
		return v, err
	}
	return castValue(v, c.t)
}
func (c *castExpr) typ() value.Type { return c.t }

// castValue casts v to t; untyped values are read as text; NULL stays NULL with type t.
func castValue(v value.Value, t value.Type) (value.Value, error) {
	if v.Null {
		return value.NullOf(t), nil
	}
	if t.Kind == value.KindUnknown || sameType(v.Type, t) {
		return v, nil
	}
	if v.Type.Kind == value.KindUnknown {
		v.Type = value.Text
	}
	return value.Cast(v, t)
}

// sameType reports whether a and b are the same type, modifiers included.
func sameType(a, b value.Type) bool { return a == b }

// notExpr is NOT e.
type notExpr struct{ e expr }

func (n *notExpr) eval(ec *execCtx, r row) (value.Value, error) {
	v, err := n.e.eval(ec, r)
	if err != nil || v.Null {
		return value.NullOf(value.Bool), err
	}
	return value.NewBool(!v.Bool), nil
}
func (n *notExpr) typ() value.Type { return value.Bool }

// logicExpr is AND / OR with three-valued logic.
type logicExpr struct {
	and  bool
	l, r expr
}

func (e *logicExpr) eval(ec *execCtx, r row) (value.Value, error) {
	a, err := e.l.eval(ec, r)
	if err != nil {
		return a, err
	}
	if !a.Null && a.Bool != e.and { // false AND …, true OR …
		return value.NewBool(a.Bool), nil
	}
	b, err := e.r.eval(ec, r)
	if err != nil {
		return b, err
	}
	if !b.Null && b.Bool != e.and {
		return value.NewBool(b.Bool), nil
	}
	if a.Null || b.Null {
		return value.NullOf(value.Bool), nil
	}
	return value.NewBool(e.and), nil
}
func (e *logicExpr) typ() value.Type { return value.Bool }

// cmpExpr is a comparison = <> < <= > >=, or IS [NOT] DISTINCT FROM.
type cmpExpr struct {
	op   string
	l, r expr
}

func (c *cmpExpr) eval(ec *execCtx, r row) (value.Value, error) {
	a, err := c.l.eval(ec, r)
	if err != nil {
		return a, err
	}
	b, err := c.r.eval(ec, r)
	if err != nil {
		return b, err
	}
	switch c.op {
	case "IS DISTINCT FROM", "IS NOT DISTINCT FROM":
		same := a.Null && b.Null
		if !a.Null && !b.Null {
			n, err := compareValues(a, b)
			if err != nil {
				return value.Null, err
			}
			same = n == 0
		}
		return value.NewBool(same == (c.op == "IS NOT DISTINCT FROM")), nil
	}
	if a.Null || b.Null {
		return value.NullOf(value.Bool), nil
	}
	n, err := compareValues(a, b)
	if err != nil {
		return value.Null, err
	}
	return value.NewBool(cmpResult(c.op, n)), nil
}
func (c *cmpExpr) typ() value.Type { return value.Bool }

// cmpResult applies a comparison operator to a three-way result.
func cmpResult(op string, n int) bool {
	switch op {
	case "=":
		return n == 0
	case "<>":
		return n != 0
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	case ">=":
		return n >= 0
	}
	return false
}

// compareValues compares two non-NULL values; untyped ones compare as text.
func compareValues(a, b value.Value) (int, error) {
	if a.Type.Kind == value.KindUnknown {
		a.Type = value.Text
		if b.Type.Kind != value.KindUnknown && b.Type.Kind != value.KindText {
			var err error
			if a, err = value.Cast(a, b.Type); err != nil {
				return 0, err
			}
		}
	}
	if b.Type.Kind == value.KindUnknown {
		b.Type = value.Text
		if a.Type.Kind != value.KindText {
			var err error
			if b, err = value.Cast(b, a.Type); err != nil {
				return 0, err
			}
		}
	}
	return value.Compare(a, b)
}

// arithExpr is + - * / % ^ || and the jsonb operators.
type arithExpr struct {
	op   string
	l, r expr
	t    value.Type
}

func (e *arithExpr) eval(ec *execCtx, r row) (value.Value, error) {
	a, err := e.l.eval(ec, r)
	if err != nil {
		return a, err
	}
	b, err := e.r.eval(ec, r)
	if err != nil {
		return b, err
	}
	if a.Null || b.Null {
		return value.NullOf(e.t), nil
	}
	if a.Type.Kind == value.KindUnknown {
		a.Type = value.Text
	}
	if b.Type.Kind == value.KindUnknown {
		b.Type = value.Text
	}
	var v value.Value
	switch e.op {
	case "+":
		v, err = value.Add(a, b)
	case "-":
		v, err = value.Sub(a, b)
	case "*":
		v, err = value.Mul(a, b)
	case "/":
		v, err = value.Div(a, b)
	case "%":
		v, err = value.Mod(a, b)
	case "^":
		v, err = powValues(a, b)
	case "||":
		v, err = value.Concat(a, b)
	case "->":
		v, err = value.JSONField(a, b, false)
	case "->>":
		v, err = value.JSONField(a, b, true)
	default:
		return value.Null, sqlerr.New(sqlerr.UndefinedFunction, "operator does not exist: %s", e.op)
	}
	if err != nil {
		return v, err
	}
	if !v.Null && v.Type != e.t && e.t.Kind != value.KindUnknown {
		return castValue(v, e.t)
	}
	return v, nil
}
func (e *arithExpr) typ() value.Type { return e.t }

// negExpr is unary minus.
type negExpr struct{ e expr }

func (n *negExpr) eval(ec *execCtx, r row) (value.Value, error) {
	v, err := n.e.eval(ec, r)
	if err != nil || v.Null {
		return v, err
	}
	return value.Neg(v)
}
func (n *negExpr) typ() value.Type { return n.e.typ() }

// isNullExpr is IS [NOT] NULL.
type isNullExpr struct {
	e   expr
	not bool
}

func (n *isNullExpr) eval(ec *execCtx, r row) (value.Value, error) {
	v, err := n.e.eval(ec, r)
	if err != nil {
		return v, err
	}
	return value.NewBool(v.Null != n.not), nil
}
func (n *isNullExpr) typ() value.Type { return value.Bool }

// isBoolExpr is IS [NOT] TRUE|FALSE.
type isBoolExpr struct {
	e        expr
	not, val bool
}

func (n *isBoolExpr) eval(ec *execCtx, r row) (value.Value, error) {
	v, err := n.e.eval(ec, r)
	if err != nil {
		return v, err
	}
	is := !v.Null && v.Bool == n.val
	return value.NewBool(is != n.not), nil
}
func (n *isBoolExpr) typ() value.Type { return value.Bool }

// inListExpr is e [NOT] IN (list).
type inListExpr struct {
	e    expr
	list []expr
	not  bool
}

func (n *inListExpr) eval(ec *execCtx, r row) (value.Value, error) {
	v, err := n.e.eval(ec, r)
	if err != nil {
		return v, err
	}
	if v.Null {
		return value.NullOf(value.Bool), nil
	}
	sawNull := false
	for _, le := range n.list {
		w, err := le.eval(ec, r)
		if err != nil {
			return w, err
		}
		if w.Null {
			sawNull = true
			continue
		}
		c, err := compareValues(v, w)
		if err != nil {
			return value.Null, err
		}
		if c == 0 {
			return value.NewBool(!n.not), nil
		}
	}
	if sawNull {
		return value.NullOf(value.Bool), nil
	}
	return value.NewBool(n.not), nil
}
func (n *inListExpr) typ() value.Type { return value.Bool }

// likeExpr is [NOT] LIKE / ILIKE.
type likeExpr struct {
	l, r    expr
	not, ci bool
}

func (n *likeExpr) eval(ec *execCtx, r row) (value.Value, error) {
	a, err := n.l.eval(ec, r)
	if err != nil {
		return a, err
	}
	b, err := n.r.eval(ec, r)
	if err != nil {
		return b, err
	}
	if a.Null || b.Null {
		return value.NullOf(value.Bool), nil
	}
	as, err := textOf(a)
	if err != nil {
		return value.Null, err
	}
	bs, err := textOf(b)
	if err != nil {
		return value.Null, err
	}
	ok, err := value.Like(as, bs, n.ci)
	if err != nil {
		return value.Null, err
	}
	return value.NewBool(ok != n.not), nil
}
func (n *likeExpr) typ() value.Type { return value.Bool }

// textOf returns the text form of a non-NULL value.
func textOf(v value.Value) (string, error) {
	switch v.Type.Kind {
	case value.KindText:
		if v.Type.Fixed { // char(n) becomes text without its padding, as PostgreSQL casts it
			return strings.TrimRight(v.Str, " "), nil
		}
		return v.Str, nil
	case value.KindUnknown, value.KindJSON:
		return v.Str, nil
	}
	return string(value.AppendText(nil, v)), nil
}

// caseExpr is CASE [operand] WHEN … THEN … ELSE … END.
type caseExpr struct {
	operand expr
	conds   []expr
	results []expr
	els     expr
	t       value.Type
}

func (c *caseExpr) eval(ec *execCtx, r row) (value.Value, error) {
	var op value.Value
	if c.operand != nil {
		var err error
		if op, err = c.operand.eval(ec, r); err != nil {
			return op, err
		}
	}
	for i, ce := range c.conds {
		v, err := ce.eval(ec, r)
		if err != nil {
			return v, err
		}
		hit := false
		if c.operand != nil {
			if !op.Null && !v.Null {
				n, err := compareValues(op, v)
				if err != nil {
					return value.Null, err
				}
				hit = n == 0
			}
		} else {
			hit = !v.Null && v.Bool
		}
		if hit {
			res, err := c.results[i].eval(ec, r)
			if err != nil {
				return res, err
			}
			return castValue(res, c.t)
		}
	}
	if c.els == nil {
		return value.NullOf(c.t), nil
	}
	res, err := c.els.eval(ec, r)
	if err != nil {
		return res, err
	}
	return castValue(res, c.t)
}
func (c *caseExpr) typ() value.Type { return c.t }

// funcExpr is a scalar function call.
type funcExpr struct {
	name string
	args []expr
	fn   func(ec *execCtx, args []value.Value) (value.Value, error)
	t    value.Type
	// lazy functions (coalesce) get unevaluated args
	lazy func(ec *execCtx, r row, args []expr) (value.Value, error)
}

func (f *funcExpr) eval(ec *execCtx, r row) (value.Value, error) {
	if f.lazy != nil {
		return f.lazy(ec, r, f.args)
	}
	vals := make([]value.Value, len(f.args))
	for i, a := range f.args {
		v, err := a.eval(ec, r)
		if err != nil {
			return v, err
		}
		vals[i] = v
	}
	v, err := f.fn(ec, vals)
	if err != nil {
		return v, err
	}
	if v.Null {
		return value.NullOf(f.t), nil
	}
	if f.t.Kind != value.KindUnknown && v.Type != f.t {
		return castValue(v, f.t)
	}
	return v, nil
}
func (f *funcExpr) typ() value.Type { return f.t }

// truthy reports whether a WHERE/ON/HAVING condition holds (NULL does not).
func truthy(ec *execCtx, e expr, r row) (bool, error) {
	if e == nil {
		return true, nil
	}
	v, err := e.eval(ec, r)
	if err != nil {
		return false, err
	}
	if v.Null {
		return false, nil
	}
	if v.Type.Kind != value.KindBool {
		return false, sqlerr.New(sqlerr.DatatypeMismatch, "argument of WHERE must be type boolean, not type %s", v.Type)
	}
	return v.Bool, nil
}

// typeName returns a type's name for error messages.
func typeName(t value.Type) string {
	if t.Kind == value.KindUnknown {
		return "unknown"
	}
	return fmt.Sprint(t)
}
