package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/raftkvtest"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// newTestEngine starts an in-process raftkv and an engine over it.
func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	return newTestEngineWith(t, kvtxn.Options{})
}

// newTestEngineWith is newTestEngine with kvtxn limits.
func newTestEngineWith(t *testing.T, opts kvtxn.Options) *Engine {
	t.Helper()
	addr := raftkvtest.Start(t)
	kv, err := client.New(client.Config{Endpoints: []string{addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kv.Close() })
	return New(kvtxn.New(kv, opts), Options{})
}

// tsess is a session driven by test text.
type tsess struct {
	t *testing.T
	s *Session
}

func (e *Engine) testSession(t *testing.T) *tsess {
	t.Helper()
	s, err := e.newSession(context.Background(), RootUser, "cairn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return &tsess{t: t, s: s}
}

// result is the outcome of one statement.
type result struct {
	tag  string
	cols []string
	rows [][]string // NULL as "NULL"
	err  error
}

// query runs every statement of sql (simple protocol) and returns the last result,
// stopping at the first error.
func (ts *tsess) query(sql string) result {
	ts.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stmts, err := ts.s.PrepareAll(ctx, sql)
	if err != nil {
		return result{err: err}
	}
	var res result
	for _, st := range stmts {
		res = result{}
		for _, c := range st.Columns() {
			res.cols = append(res.cols, c.Name)
		}
		res.tag, res.err = st.Execute(ctx, nil, make([]int16, len(st.Columns())), func(vals [][]byte) error {
			r := make([]string, len(vals))
			for i, v := range vals {
				if v == nil {
					r[i] = "NULL"
				} else {
					r[i] = string(v)
				}
			}
			res.rows = append(res.rows, r)
			return nil
		})
		if res.err != nil {
			return res
		}
	}
	return res
}

// exec runs sql and fails the test on error.
func (ts *tsess) exec(sql string) result {
	ts.t.Helper()
	r := ts.query(sql)
	if r.err != nil {
		ts.t.Fatalf("%s: %v", sql, r.err)
	}
	return r
}

// rows runs a query and returns its rows joined as "a|b" lines.
func (ts *tsess) rows(sql string) string {
	ts.t.Helper()
	r := ts.exec(sql)
	lines := make([]string, len(r.rows))
	for i, row := range r.rows {
		lines[i] = strings.Join(row, "|")
	}
	return strings.Join(lines, "\n")
}

// wantRows checks a query's rows.
func (ts *tsess) wantRows(sql, want string) {
	ts.t.Helper()
	if got := ts.rows(sql); got != want {
		ts.t.Errorf("%s:\n got: %q\nwant: %q", sql, got, want)
	}
}

// wantCode checks that sql fails with SQLSTATE code.
func (ts *tsess) wantCode(sql, code string) *sqlerr.Error {
	ts.t.Helper()
	r := ts.query(sql)
	if r.err == nil {
		ts.t.Errorf("%s: no error, want %s", sql, code)
		return nil
	}
	if got := sqlerr.Code(r.err); got != code {
		ts.t.Errorf("%s: error %v (%s), want %s", sql, r.err, got, code)
	}
	return sqlerr.As(r.err)
}
