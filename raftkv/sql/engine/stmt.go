package engine

import (
	"fmt"
	"strings"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/pgwire"
	"cairn.dev/cairn/raftkv/sql/schema"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// boundStmt is a statement ready to run: its result columns and its body.
type boundStmt struct {
	cols []outCol // nil: no rows
	run  func(ec *execCtx, emit func(row) error) (string, error)
	plan plan // queries: for EXPLAIN
	// explain describes a DML statement's plan for EXPLAIN
	explain func(out *[]string)
}

// bindStatement binds any statement.
func (b *binder) bindStatement(stmt ast.Statement) (*boundStmt, error) {
	switch x := stmt.(type) {
	case *ast.Select:
		q, err := b.bindQuery(nil, x)
		if err != nil {
			return nil, err
		}
		return &boundStmt{cols: q.cols, plan: q.plan, run: func(ec *execCtx, emit func(row) error) (string, error) {
			n := 0
			err := q.plan.execute(ec, func(r row) error {
				n++
				return emit(r)
			})
			return fmt.Sprintf("SELECT %d", n), err
		}}, nil
	case *ast.Insert:
		return b.bindInsert(x)
	case *ast.Update:
		return b.bindUpdate(x)
	case *ast.Delete:
		return b.bindDelete(x)
	case *ast.Explain:
		return b.bindExplain(x)
	case *ast.Show:
		if strings.ToLower(x.Name) == "all" {
			return &boundStmt{cols: []outCol{{name: "name", typ: value.Text}, {name: "setting", typ: value.Text}, {name: "description", typ: value.Text}}}, nil
		}
		return &boundStmt{cols: []outCol{{name: showName(x.Name), typ: value.Text}}}, nil
	case *ast.Copy:
		if x.To {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "COPY TO is not supported").At(int32(x.Pos))
		}
		return &boundStmt{run: func(*execCtx, func(row) error) (string, error) {
			return "", sqlerr.New(sqlerr.ProtocolViolation, "COPY FROM STDIN needs the COPY sub-protocol")
		}}, nil
	case *ast.Begin, *ast.Commit, *ast.Rollback, *ast.Savepoint, *ast.SetTransaction, *ast.Set, *ast.Unsupported:
		return &boundStmt{run: func(*execCtx, func(row) error) (string, error) { return "", nil }}, nil
	}
	return b.bindDDL(stmt)
}

// showName is the column name of SHOW x.
func showName(n string) string {
	n = strings.ToLower(n)
	if sp, ok := paramSpelling[n]; ok {
		return sp
	}
	if n == "transaction isolation level" {
		return "transaction_isolation"
	}
	return n
}

// bindDDL binds DDL and role statements (run through the schema package).
func (b *binder) bindDDL(stmt ast.Statement) (*boundStmt, error) {
	var tag string
	var fn func(ec *execCtx) error
	hash := schema.SecretFunc(pgwire.NewSCRAMSecret)
	switch x := stmt.(type) {
	case *ast.CreateTable:
		tag = "CREATE TABLE"
		fn = func(ec *execCtx) error { return schema.CreateTable(ec.ctx, ec.tx.t, ec.tx.cat, x) }
	case *ast.DropTable:
		tag = "DROP TABLE"
		fn = func(ec *execCtx) error { return schema.DropTable(ec.ctx, ec.tx.t, ec.tx.cat, x) }
	case *ast.AlterTable:
		tag = "ALTER TABLE"
		fn = func(ec *execCtx) error {
			return schema.AlterTableWith(ec.ctx, ec.tx.t, ec.tx.cat, x, &evaluator{ec: ec})
		}
	case *ast.CreateIndex:
		tag = "CREATE INDEX"
		if x.Where != nil {
			return nil, sqlerr.New(sqlerr.FeatureNotSupported, "partial indexes are not supported").At(int32(x.Pos))
		}
		fn = func(ec *execCtx) error { return schema.CreateIndex(ec.ctx, ec.tx.t, ec.tx.cat, x) }
	case *ast.DropIndex:
		tag = "DROP INDEX"
		fn = func(ec *execCtx) error { return schema.DropIndex(ec.ctx, ec.tx.t, ec.tx.cat, x) }
	case *ast.Truncate:
		tag = "TRUNCATE TABLE"
		fn = func(ec *execCtx) error { return schema.Truncate(ec.ctx, ec.tx.t, ec.tx.cat, x) }
	case *ast.CreateRole:
		tag = "CREATE ROLE"
		fn = func(ec *execCtx) error {
			if err := b.requireSuper(ec); err != nil {
				return err
			}
			return schema.CreateRole(ec.ctx, ec.tx.t, x, hash)
		}
	case *ast.AlterRole:
		tag = "ALTER ROLE"
		fn = func(ec *execCtx) error {
			if x.Name != ec.sess.user {
				if err := b.requireSuper(ec); err != nil {
					return err
				}
			}
			return schema.AlterRole(ec.ctx, ec.tx.t, x, hash)
		}
	case *ast.DropRole:
		tag = "DROP ROLE"
		fn = func(ec *execCtx) error {
			if err := b.requireSuper(ec); err != nil {
				return err
			}
			for _, n := range x.Names {
				if n == RootUser {
					return sqlerr.New("42501", "cannot drop role %q", n)
				}
			}
			return schema.DropRole(ec.ctx, ec.tx.t, x)
		}
	default:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "statement %T is not supported", stmt)
	}
	return &boundStmt{run: func(ec *execCtx, _ func(row) error) (string, error) {
		if err := fn(ec); err != nil {
			return "", err
		}
		ec.tx.cat = nil // reload: the statement changed the catalog
		return tag, nil
	}}, nil
}

// requireSuper checks that the session user is a superuser.
func (b *binder) requireSuper(ec *execCtx) error {
	if ec.sess.user == RootUser {
		return nil
	}
	r, ok, err := schema.GetRole(ec.ctx, ec.tx.t, ec.sess.user)
	if err != nil {
		return err
	}
	if !ok || !r.Superuser {
		return sqlerr.New("42501", "permission denied to create or change roles")
	}
	return nil
}

// bindExplain binds EXPLAIN: the plan tree as text rows.
func (b *binder) bindExplain(x *ast.Explain) (*boundStmt, error) {
	if x.Analyze {
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "EXPLAIN ANALYZE is not supported").At(int32(x.Pos))
	}
	inner, err := b.bindStatement(x.Statement)
	if err != nil {
		return nil, err
	}
	var lines []string
	switch {
	case inner.plan != nil:
		inner.plan.explain(&lines, 0)
	case inner.explain != nil:
		inner.explain(&lines)
	default:
		return nil, sqlerr.New(sqlerr.FeatureNotSupported, "EXPLAIN of %T is not supported", x.Statement).At(int32(x.Pos))
	}
	return &boundStmt{cols: []outCol{{name: "QUERY PLAN", typ: value.Text}}, run: func(ec *execCtx, emit func(row) error) (string, error) {
		for _, l := range lines {
			if err := emit(row{value.NewText(l)}); err != nil {
				return "", err
			}
		}
		return "EXPLAIN", nil
	}}, nil
}
