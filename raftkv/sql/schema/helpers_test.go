package schema

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/raftkvtest"
	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/parser"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// env is one in-process raftkv and a kvtxn.DB over it.
type env struct {
	t  *testing.T
	db *kvtxn.DB
}

// newEnv starts the test's own raftkv; tests using it run in parallel
// (they share nothing).
func newEnv(t *testing.T) *env {
	t.Helper()
	t.Parallel()
	addr := raftkvtest.Start(t)
	kv, err := client.New(client.Config{Endpoints: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.Close() })
	return &env{t: t, db: kvtxn.New(kv, kvtxn.Options{})}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// in runs fn in one transaction with the catalog loaded, and commits when
// fn succeeds (rolls back otherwise); it returns fn's or Commit's error.
func (e *env) in(fn func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error) error {
	ctx := ctxT(e.t)
	txn := e.db.Begin(kvtxn.Serializable)
	cat, err := Load(ctx, txn)
	if err != nil {
		txn.Rollback()
		return err
	}
	if err := fn(ctx, txn, cat); err != nil {
		txn.Rollback()
		return err
	}
	return txn.Commit(ctx)
}

// exec runs each statement of sql (DDL and roles) in its own transaction.
func (e *env) exec(sql string) error {
	stmts, err := parser.Parse(sql)
	if err != nil {
		e.t.Fatalf("parse %q: %v", sql, err)
	}
	for _, st := range stmts {
		err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
			return runDDL(ctx, txn, cat, st, e.ev(cat))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (e *env) mustExec(sql string) {
	e.t.Helper()
	if err := e.exec(sql); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

func runDDL(ctx context.Context, txn *kvtxn.Txn, cat *Catalog, st ast.Statement, ev Evaluator) error {
	switch st := st.(type) {
	case *ast.CreateTable:
		return CreateTable(ctx, txn, cat, st)
	case *ast.DropTable:
		return DropTable(ctx, txn, cat, st)
	case *ast.AlterTable:
		return AlterTableWith(ctx, txn, cat, st, ev)
	case *ast.CreateIndex:
		return CreateIndex(ctx, txn, cat, st)
	case *ast.DropIndex:
		return DropIndex(ctx, txn, cat, st)
	case *ast.Truncate:
		return Truncate(ctx, txn, cat, st)
	case *ast.CreateRole:
		return CreateRole(ctx, txn, st, fakeHash)
	case *ast.AlterRole:
		return AlterRole(ctx, txn, st, fakeHash)
	case *ast.DropRole:
		return DropRole(ctx, txn, st)
	}
	return fmt.Errorf("not DDL: %T", st)
}

func fakeHash(pw string) (string, error) { return "SCRAM-SHA-256$4096:c2FsdA==$" + pw + ":x", nil }

// ev is a test Evaluator: comparisons, AND/OR/NOT, IS NULL over columns and
// literals for CHECKs; constants and nextval for DEFAULTs.
func (e *env) ev(cat *Catalog) Evaluator { return &testEval{e: e, cat: cat} }

type testEval struct {
	e   *env
	cat *Catalog
}

func (ev *testEval) EvalCheck(t *Table, ck Check, row Row) (bool, error) {
	x, err := parser.ParseExpr(ck.Expr)
	if err != nil {
		return false, err
	}
	v, err := ev.eval(t, row, x)
	if err != nil {
		return false, err
	}
	return v.IsNull() || v.Bool, nil
}

func (ev *testEval) EvalDefault(t *Table, col int) (value.Value, error) {
	c := t.Columns[col]
	if c.Default == "" {
		return value.NullOf(c.Type), nil
	}
	x, err := parser.ParseExpr(c.Default)
	if err != nil {
		return value.Value{}, err
	}
	if f, ok := x.(*ast.FuncCall); ok && f.Name == "nextval" {
		lit := f.Args[0].(*ast.Literal)
		n, err := NextVal(ctxT(ev.e.t), ev.e.db, ev.cat, lit.Text)
		if err != nil {
			return value.Value{}, err
		}
		return value.NewInt(n), nil
	}
	v, ok, err := constValue(x, c.Type)
	if err != nil || !ok {
		return value.Value{}, fmt.Errorf("test evaluator: default %q: ok=%v err=%v", c.Default, ok, err)
	}
	return v, nil
}

func (ev *testEval) eval(t *Table, row Row, x ast.Expr) (value.Value, error) {
	switch x := x.(type) {
	case *ast.ColumnRef:
		o, ok := t.Column(x.Column)
		if !ok {
			return value.Value{}, fmt.Errorf("no column %q", x.Column)
		}
		return row[o], nil
	case *ast.Literal, *ast.CastExpr, *ast.UnaryExpr:
		v, ok, err := foldConst(x, value.Unknown)
		if !ok {
			return value.Value{}, fmt.Errorf("not constant: %s", ast.Format(x))
		}
		return v, err
	case *ast.IsNullExpr:
		v, err := ev.eval(t, row, x.Expr)
		return value.NewBool(v.IsNull() != x.Not), err
	case *ast.BinaryExpr:
		l, err := ev.eval(t, row, x.Left)
		if err != nil {
			return l, err
		}
		r, err := ev.eval(t, row, x.Right)
		if err != nil {
			return r, err
		}
		switch x.Op {
		case "AND", "OR":
			if l.IsNull() || r.IsNull() {
				return value.Null, nil
			}
			if x.Op == "AND" {
				return value.NewBool(l.Bool && r.Bool), nil
			}
			return value.NewBool(l.Bool || r.Bool), nil
		}
		if l.IsNull() || r.IsNull() {
			return value.Null, nil
		}
		c, err := value.Compare(l, r)
		if err != nil {
			return value.Value{}, err
		}
		m := map[string]bool{"=": c == 0, "<>": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}
		b, ok := m[x.Op]
		if !ok {
			return value.Value{}, fmt.Errorf("test evaluator: operator %s", x.Op)
		}
		return value.NewBool(b), nil
	}
	return value.Value{}, fmt.Errorf("test evaluator: %T", x)
}

// table loads table name in a fresh transaction.
func (e *env) table(name string) (*Catalog, *Table) {
	e.t.Helper()
	var cat *Catalog
	if err := e.in(func(_ context.Context, _ *kvtxn.Txn, c *Catalog) error { cat = c; return nil }); err != nil {
		e.t.Fatal(err)
	}
	t, err := cat.Table(name)
	if err != nil {
		e.t.Fatal(err)
	}
	return cat, t
}

// row builds a row of table from Go values (nil = NULL) for its visible
// columns; hidden columns are NULL (Insert fills them).
func row(t *Table, vals ...any) Row {
	r := make(Row, len(t.Columns))
	i := 0
	for o, c := range t.Columns {
		if c.Hidden {
			r[o] = value.NullOf(c.Type)
			continue
		}
		var v value.Value
		switch x := vals[i].(type) {
		case nil:
			v = value.NullOf(c.Type)
		case int:
			v = value.NewInt(int64(x))
		case string:
			v = value.NewText(x)
		case bool:
			v = value.NewBool(x)
		case value.Value:
			v = x
		default:
			panic(fmt.Sprintf("row: %T", x))
		}
		r[o] = v
		i++
	}
	return r
}

// insert inserts rows (Go values) into table in one transaction.
func (e *env) insert(table string, rows ...[]any) error {
	return e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		t, err := cat.Table(table)
		if err != nil {
			return err
		}
		for _, vals := range rows {
			r := row(t, vals...)
			for i, c := range t.Columns {
				if r[i].IsNull() && c.Sequence != "" && !c.Hidden {
					v, err := e.ev(cat).EvalDefault(t, i)
					if err != nil {
						return err
					}
					r[i] = v
				}
			}
			if err := Insert(ctx, txn, cat, t, r, e.ev(cat)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (e *env) mustInsert(table string, rows ...[]any) {
	e.t.Helper()
	if err := e.insert(table, rows...); err != nil {
		e.t.Fatalf("insert into %s: %v", table, err)
	}
}

// deleteWhere deletes the rows of table whose column col equals v.
func (e *env) deleteWhere(table, col string, v any) error {
	return e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		t, err := cat.Table(table)
		if err != nil {
			return err
		}
		for _, r := range e.matching(ctx, txn, t, col, v) {
			if err := Delete(ctx, txn, cat, t, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// updateWhere sets column set to nv in the rows of table whose col equals v.
func (e *env) updateWhere(table, col string, v any, set string, nv any) error {
	return e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		t, err := cat.Table(table)
		if err != nil {
			return err
		}
		so, _ := t.Column(set)
		for _, r := range e.matching(ctx, txn, t, col, v) {
			n := append(Row(nil), r...)
			n[so] = row(&Table{Columns: []Column{t.Columns[so]}}, nv)[0]
			if err := Update(ctx, txn, cat, t, r, n, e.ev(cat)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (e *env) matching(ctx context.Context, txn *kvtxn.Txn, t *Table, col string, v any) []Row {
	o, ok := t.Column(col)
	if !ok {
		e.t.Fatalf("no column %s", col)
	}
	want := row(&Table{Columns: []Column{t.Columns[o]}}, v)[0]
	var out []Row
	err := Scan(ctx, txn, t, -1, nil, nil, func(r Row) (bool, error) {
		if c, err := value.Compare(r[o], want); err == nil && !r[o].IsNull() && c == 0 {
			out = append(out, r)
		}
		return true, nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// rows returns every row of table as text, in primary key order.
func (e *env) rows(table string) []string {
	e.t.Helper()
	var out []string
	err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		t, err := cat.Table(table)
		if err != nil {
			return err
		}
		return Scan(ctx, txn, t, -1, nil, nil, func(r Row) (bool, error) {
			out = append(out, rowText(t, r))
			return true, nil
		})
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// rowText renders the visible columns of r.
func rowText(t *Table, r Row) string {
	var vals []value.Value
	for i, c := range t.Columns {
		if !c.Hidden {
			vals = append(vals, r[i])
		}
	}
	return "(" + formatValues(vals) + ")"
}

// wantErr checks err's SQLSTATE, message and detail ("" detail: not checked).
func wantErr(t *testing.T, err error, code, msg, detail string) {
	t.Helper()
	var se *sqlerr.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want %s %q", err, err, code, msg)
	}
	if se.Code != code || se.Message != msg || (detail != "" && se.Detail != detail) {
		t.Fatalf("error %s %q detail %q, want %s %q detail %q", se.Code, se.Message, se.Detail, code, msg, detail)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := sqlerr.Code(err); err == nil || got != code {
		t.Fatalf("error %v (code %s), want code %s", err, got, code)
	}
}

func join(s []string) string { return strings.Join(s, " ") }

func num(s string) value.Value {
	v, err := value.NumericFromString(s)
	if err != nil {
		panic(err)
	}
	return v
}

func parse1(t *testing.T, sql string) ast.Statement {
	t.Helper()
	stmts, err := parser.Parse(sql)
	if err != nil || len(stmts) != 1 {
		t.Fatalf("parse %q: %v (%d statements)", sql, err, len(stmts))
	}
	return stmts[0]
}

// testSeed returns the seed of a randomized test, logged; SCHEMA_SEED=<n>
// replays a run.
func testSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("SCHEMA_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SCHEMA_SEED: %v", err)
		}
		seed = n
	}
	t.Logf("seed %d (replay: SCHEMA_SEED=%d go test -run '^%s$')", seed, seed, t.Name())
	return seed
}
