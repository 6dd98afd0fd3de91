package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// target is one server under comparison, reached over one connection.
type target struct {
	name     string
	url      string
	tz       string
	extended bool // extended protocol (Parse/Bind/Execute, text results) instead of simple Query
	timeout  time.Duration
	conn     *pgconn.PgConn
}

// connect opens (or reopens) the target's connection. With tz set, the
// session's TimeZone is set by a startup parameter, so timestamptz values
// print the same on both sides.
func (t *target) connect(ctx context.Context) error {
	cfg, err := pgconn.ParseConfig(t.url)
	if err != nil {
		return fmt.Errorf("%s: url: %w", t.name, err)
	}
	if t.tz != "" {
		cfg.RuntimeParams["TimeZone"] = t.tz
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := pgconn.ConnectConfig(cctx, cfg)
	if err != nil {
		return fmt.Errorf("%s: connect: %w", t.name, err)
	}
	t.conn = c
	return nil
}

// close closes the connection.
func (t *target) close() {
	if t.conn != nil {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = t.conn.Close(cctx)
		t.conn = nil
	}
}

// run executes one statement and returns what the server answered. args
// are the values of its placeholders, sent as text parameters of
// unspecified type (extended protocol only; "\N" is NULL). A connection that broke (or
// timed out) is reopened for the next statement; the statement's result
// then has code "client".
func (t *target) run(ctx context.Context, sql string, args ...string) *result {
	if t.conn == nil || t.conn.IsClosed() {
		if err := t.connect(ctx); err != nil {
			return &result{code: "client", msg: err.Error()}
		}
	}
	sctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	var res *result
	if t.extended {
		var params [][]byte
		for _, a := range args {
			if a == `\N` {
				params = append(params, nil)
				continue
			}
			params = append(params, []byte(a))
		}
		res = readResult(t.conn.ExecParams(sctx, sql, params, nil, nil, nil))
	} else if len(args) > 0 {
		return &result{code: "client", msg: "parameters need the extended protocol"}
	} else {
		res = t.runSimple(sctx, sql)
	}
	if res.code == "" && t.conn.IsClosed() {
		res = &result{code: "client", msg: "connection closed"}
	}
	return res
}

// runSimple sends sql with the simple query protocol; the last statement's
// result is kept (an error anywhere wins).
func (t *target) runSimple(ctx context.Context, sql string) *result {
	mrr := t.conn.Exec(ctx, sql)
	var last *result
	for mrr.NextResult() {
		r := readResult(mrr.ResultReader())
		if last == nil || !last.failed() {
			last = r
		}
	}
	if err := mrr.Close(); err != nil {
		return errResult(err)
	}
	if last == nil {
		return &result{} // empty query
	}
	return last
}

// readResult reads one statement's rows, copying the values.
func readResult(rr *pgconn.ResultReader) *result {
	res := &result{}
	for rr.NextRow() {
		vals := rr.Values()
		row := make([]*string, len(vals))
		for i, v := range vals {
			if v != nil {
				s := string(v)
				row[i] = &s
			}
		}
		res.rows = append(res.rows, row)
	}
	for _, fd := range rr.FieldDescriptions() {
		res.names = append(res.names, fd.Name)
		res.oids = append(res.oids, fd.DataTypeOID)
	}
	tag, err := rr.Close()
	if err != nil {
		return errResult(err)
	}
	res.tag = tag.String()
	return res
}

// errResult is the result of a failed statement: the server's SQLSTATE, or
// "client" when the failure is not the server's answer.
func errResult(err error) *result {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return &result{code: pe.Code, msg: pe.Message}
	}
	return &result{code: "client", msg: err.Error()}
}
