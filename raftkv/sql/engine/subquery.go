package engine

import (
	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// subKind is what a subquery expression computes.
type subKind uint8

const (
	subExists subKind = iota
	subScalar
	subIn  // left [NOT] IN (q)
	subAny // left op ANY (q)
	subAll // left op ALL (q)
)

// subqueryExpr evaluates a subquery; uncorrelated ones run once per statement.
type subqueryExpr struct {
	kind    subKind
	q       *query
	left    expr
	op      string
	not     bool
	keyType value.Type
	t       value.Type
}

// subResult is the cached result of an uncorrelated subquery.
type subResult struct {
	rows    []value.Value
	set     map[string]bool
	hasNull bool
}

func (s *subqueryExpr) run(ec *execCtx, r row, limit int) (*subResult, error) {
	if !s.q.correlated {
		if res, ok := ec.cache[s].(*subResult); ok {
			return res, nil
		}
	}
	ec.outer = append(ec.outer, r)
	defer func() { ec.outer = ec.outer[:len(ec.outer)-1] }()
	res := &subResult{}
	err := s.q.plan.execute(ec, func(out row) error {
		v := out[0]
		res.rows = append(res.rows, v)
		if limit > 0 && len(res.rows) >= limit {
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		return nil, err
	}
	if s.kind == subIn && !s.q.correlated {
		res.set = map[string]bool{}
		for _, v := range res.rows {
			if v.Null {
				res.hasNull = true
				continue
			}
			c, err := castValue(v, s.keyType)
			if err != nil {
				return nil, err
			}
			res.set[string(value.AppendKey(nil, normKey(c), false))] = true
		}
	}
	if !s.q.correlated {
		ec.cache[s] = res
	}
	return res, nil
}

func (s *subqueryExpr) eval(ec *execCtx, r row) (value.Value, error) {
	switch s.kind {
	case subExists:
		res, err := s.run(ec, r, 1)
		if err != nil {
			return value.Null, err
		}
		return value.NewBool((len(res.rows) > 0) != s.not), nil
	case subScalar:
		res, err := s.run(ec, r, 2)
		if err != nil {
			return value.Null, err
		}
		if len(res.rows) > 1 {
			return value.Null, sqlerr.New(sqlerr.CardinalityViolation, "more than one row returned by a subquery used as an expression")
		}
		if len(res.rows) == 0 {
			return value.NullOf(s.t), nil
		}
		return castValue(res.rows[0], s.t)
	}
	lv, err := s.left.eval(ec, r)
	if err != nil {
		return lv, err
	}
	res, err := s.run(ec, r, 0)
	if err != nil {
		return value.Null, err
	}
	if s.kind == subIn && res.set != nil {
		if len(res.rows) == 0 {
			return value.NewBool(s.not), nil
		}
		if lv.Null {
			return value.NullOf(value.Bool), nil
		}
		c, err := castValue(lv, s.keyType)
		if err != nil {
			return value.Null, err
		}
		if res.set[string(value.AppendKey(nil, normKey(c), false))] {
			return value.NewBool(!s.not), nil
		}
		if res.hasNull {
			return value.NullOf(value.Bool), nil
		}
		return value.NewBool(s.not), nil
	}
	op := s.op
	all := s.kind == subAll
	if s.kind == subIn {
		op = "="
	}
	sawNull := false
	for _, v := range res.rows {
		if lv.Null || v.Null {
			sawNull = true
			continue
		}
		n, err := compareValues(lv, v)
		if err != nil {
			return value.Null, err
		}
		hit := cmpResult(op, n)
		if all && !hit {
			return value.NewBool(false), nil
		}
		if !all && hit {
			return value.NewBool(!s.not), nil
		}
	}
	if sawNull {
		return value.NullOf(value.Bool), nil
	}
	if all {
		return value.NewBool(true), nil
	}
	return value.NewBool(s.not), nil
}
func (s *subqueryExpr) typ() value.Type { return s.t }

// bindSub binds a subquery in scope sc (its enclosing query).
func (b *binder) bindSub(sc *scope, sel *ast.Select, oneCol bool, pos int) (*query, error) {
	q, err := b.bindQuery(sc, sel)
	if err != nil {
		return nil, err
	}
	if oneCol && len(q.cols) != 1 {
		return nil, sqlerr.New(sqlerr.SyntaxError, "subquery must return only one column").At(int32(pos))
	}
	return q, nil
}

func (b *binder) bindExists(sc *scope, e *ast.ExistsExpr) (expr, error) {
	q, err := b.bindSub(sc, e.Subquery, false, e.Pos)
	if err != nil {
		return nil, err
	}
	return &subqueryExpr{kind: subExists, q: q, not: e.Not, t: value.Bool}, nil
}

func (b *binder) bindScalarSubquery(sc *scope, e *ast.SubqueryExpr) (expr, error) {
	q, err := b.bindSub(sc, e.Subquery, true, e.Pos)
	if err != nil {
		return nil, err
	}
	return &subqueryExpr{kind: subScalar, q: q, t: q.cols[0].typ}, nil
}

func (b *binder) bindInSubquery(sc *scope, e *ast.InExpr) (expr, error) {
	left, err := b.bindExpr(sc, e.Expr)
	if err != nil {
		return nil, err
	}
	q, err := b.bindSub(sc, e.Subquery, true, e.Pos)
	if err != nil {
		return nil, err
	}
	if left, err = b.coerce(left, q.cols[0].typ); err != nil {
		return nil, err
	}
	if err := checkComparable(left.typ(), q.cols[0].typ, "=", e.Pos); err != nil {
		return nil, err
	}
	kt, err := commonTypeOf([]value.Type{left.typ(), q.cols[0].typ}, "IN", e.Pos)
	if err != nil {
		return nil, err
	}
	return &subqueryExpr{kind: subIn, q: q, left: left, not: e.Not, keyType: kt, t: value.Bool}, nil
}

func (b *binder) bindCompareSubquery(sc *scope, e *ast.CompareSubquery) (expr, error) {
	left, err := b.bindExpr(sc, e.Left)
	if err != nil {
		return nil, err
	}
	q, err := b.bindSub(sc, e.Subquery, true, e.Pos)
	if err != nil {
		return nil, err
	}
	if left, err = b.coerce(left, q.cols[0].typ); err != nil {
		return nil, err
	}
	if err := checkComparable(left.typ(), q.cols[0].typ, e.Op, e.Pos); err != nil {
		return nil, err
	}
	k := subAny
	if e.All {
		k = subAll
	}
	return &subqueryExpr{kind: k, q: q, left: left, op: e.Op, t: value.Bool}, nil
}
