package engine

import (
	"context"
	"errors"
	"fmt"
	"io"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/pgwire"
	"cairn.dev/cairn/raftkv/sql/schema"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// copyFormat reads COPY's format options.
func copyFormat(c *ast.Copy) (pgwire.CopyFormat, error) {
	var f pgwire.CopyFormat
	switch c.Format {
	case "", "text":
		f.Kind = pgwire.CopyText
	case "csv":
		f.Kind = pgwire.CopyCSV
	case "binary":
		f.Kind = pgwire.CopyBinary
	default:
		return f, sqlerr.New(sqlerr.InvalidParameterValue, "COPY format %q not recognized", c.Format)
	}
	f.Header = c.Header
	if c.Delimiter != "" {
		if len(c.Delimiter) != 1 {
			return f, sqlerr.New(sqlerr.FeatureNotSupported, "COPY delimiter must be a single one-byte character")
		}
		f.Delimiter = c.Delimiter[0]
	}
	return f, nil
}

// CopyFrom runs COPY … FROM STDIN: every row is inserted in one
// transaction (the open transaction block, or one of its own), so the COPY
// is all or nothing; past kvtxn's write limits it fails 54000.
func (st *Statement) CopyFrom(ctx context.Context, format pgwire.CopyFormat, next func() ([]*string, error)) (string, error) {
	s := st.s
	c, ok := st.stmt.(*ast.Copy)
	if !ok {
		return "", sqlerr.New(sqlerr.ProtocolViolation, "not a COPY statement")
	}
	if s.failed {
		return "", errAborted()
	}
	st.beginImplicit()
	tx := s.tx
	auto := tx == nil
	if auto {
		tx = s.begin(s.isolation(""), false)
	} else {
		tx.t.StartStatement()
		tx.used = true
	}
	n, err := st.copyRows(ctx, tx, c, format, next)
	if auto {
		if err == nil {
			err = tx.t.Commit(ctx)
		} else {
			tx.t.Rollback()
		}
	}
	if err != nil {
		if !auto {
			err = s.fail(mapErr(err))
		}
		_, err = st.finishImplicit(ctx, "", mapErr(err))
		return "", err
	}
	return st.finishImplicit(ctx, fmt.Sprintf("COPY %d", n), nil)
}

func (st *Statement) copyRows(ctx context.Context, tx *txnState, c *ast.Copy, format pgwire.CopyFormat, next func() ([]*string, error)) (int, error) {
	cat, err := st.s.e.catalog(ctx, tx.t)
	if err != nil {
		return 0, err
	}
	tx.cat = cat
	t, err := cat.Table(c.Table.Name)
	if err != nil {
		return 0, err
	}
	targets, err := targetColumns(t, c.Columns, c.Pos)
	if err != nil {
		return 0, err
	}
	ec := &execCtx{ctx: ctx, sess: st.s, tx: tx, cache: map[any]any{}}
	ev := &evaluator{ec: ec}
	n := 0
	for {
		fields, err := next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if len(fields) != len(targets) {
			return n, sqlerr.New("22P04", "row %d has %d columns, want %d", n+1, len(fields), len(targets))
		}
		full := newRow(len(t.Columns))
		given := make([]bool, len(t.Columns))
		for i, o := range targets {
			given[o] = true
			typ := t.Columns[o].Type
			if fields[i] == nil || (c.NullStr != nil && *fields[i] == *c.NullStr && format.Kind != pgwire.CopyBinary) {
				full[o] = value.NullOf(typ)
				continue
			}
			var v value.Value
			if format.Kind == pgwire.CopyBinary {
				v, err = value.ParseBinary(typ, []byte(*fields[i]))
			} else {
				v, err = value.ParseText(typ, []byte(*fields[i]))
			}
			if err != nil {
				return n, fmt.Errorf("COPY %s, line %d, column %s: %w", t.Name, n+1, t.Columns[o].Name, err)
			}
			full[o] = v
		}
		for o, col := range t.Columns {
			if given[o] || col.Hidden {
				continue
			}
			if full[o], err = ev.EvalDefault(t, o); err != nil {
				return n, err
			}
		}
		if err := schema.Insert(ctx, tx.t, cat, t, schema.Row(full), ev); err != nil {
			return n, err
		}
		lockInserted(ec, t, full)
		n++
	}
}
