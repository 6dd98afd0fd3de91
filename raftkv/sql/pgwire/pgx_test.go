package pgwire

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	_ "github.com/jackc/pgx/v5/stdlib"
)

func TestPgxQueryModes(t *testing.T) {
	ts := startServer(t, Config{})
	modes := []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe, pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol}
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			c := ts.connect(t)
			ctx := testCtx(t)
			var one int32
			if err := c.QueryRow(ctx, "select 1", mode).Scan(&one); err != nil || one != 1 {
				t.Fatalf("select 1: %d, %v", one, err)
			}
			var n int64
			var s string
			if err := c.QueryRow(ctx, "select $1::int8, $2::text", mode, int64(-42), "héllo").Scan(&n, &s); err != nil {
				t.Fatal(err)
			}
			if n != -42 || s != "héllo" {
				t.Fatalf("got %d %q", n, s)
			}
			var np *int64
			var x string
			if err := c.QueryRow(ctx, "select null::int8, 'x'::text", mode).Scan(&np, &x); err != nil || np != nil || x != "x" {
				t.Fatalf("nulls: %v %q %v", np, x, err)
			}
			rows, err := c.Query(ctx, "select generate_series(1, $1)", mode, int64(5))
			if err != nil {
				t.Fatal(err)
			}
			got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
			if err != nil || len(got) != 5 || got[4] != 5 {
				t.Fatalf("series: %v %v", got, err)
			}
			if tag := rows.CommandTag().String(); tag != "SELECT 5" {
				t.Fatalf("tag %q", tag)
			}
		})
	}
}

func TestPreparedStatementReused(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.connect(t)
	ctx := testCtx(t)
	_, before, _, _, _ := ts.eng.snapshot()
	for i := range 10 {
		var n int64
		var s string
		if err := c.QueryRow(ctx, "select $1::int8, $2::text", int64(i), "v").Scan(&n, &s); err != nil || n != int64(i) {
			t.Fatalf("iteration %d: %d %v", i, n, err)
		}
	}
	_, after, _, _, _ := ts.eng.snapshot()
	if after-before != 1 {
		t.Fatalf("Prepare called %d times for 10 executions of a cached statement, want 1", after-before)
	}
	// An explicitly prepared statement, by name.
	if _, err := c.Prepare(ctx, "named", "select generate_series(1, $1)"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int64{0, 3, 7} {
		rows, _ := c.Query(ctx, "named", n)
		got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil || int64(len(got)) != n {
			t.Fatalf("named(%d): %v %v", n, got, err)
		}
	}
}

func TestBinaryResultFormat(t *testing.T) {
	ts := startServer(t, Config{})
	r := ts.raw(t)
	// pgx asks binary for int8; check what the server sends, byte for byte.
	r.send(&pgproto3.Parse{Query: "select $1::int8, $2::text"},
		bindMsg("", "", [][]byte{{0, 0, 0, 0, 0, 0, 1, 0}, []byte("t")}, []int16{1, 0}, []int16{1, 0}),
		describePortal(""), execMsg("", 0), syncMsg())
	r.expect("ParseComplete", "BindComplete", "RowDescription int8:20:1 text:25:0",
		`DataRow "\x00\x00\x00\x00\x00\x00\x01\x00" "t"`, "CommandComplete SELECT 1", "ReadyForQuery I")
}

func TestErrorsReachTheClient(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.connect(t)
	ctx := testCtx(t)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		_, err := c.Exec(ctx, "boom", mode)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			t.Fatalf("%v: got %v, want a PgError", mode, err)
		}
		if pe.Code != "23505" || pe.Severity != "ERROR" || pe.Detail != "Key (a)=(1) already exists." || pe.Hint != "pick another key" || pe.Position != 3 || !strings.Contains(pe.Message, "t_pkey") {
			t.Fatalf("%v: error %+v", mode, pe)
		}
		_, err = c.Exec(ctx, "internal", mode)
		if pgCode(err) != "XX000" || !strings.Contains(err.Error(), "disk on fire") {
			t.Fatalf("%v: internal error: %v", mode, err)
		}
		// The connection is still usable.
		var one int32
		if err := c.QueryRow(ctx, "select 1", mode).Scan(&one); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSimpleQueryStopsAtFirstError(t *testing.T) {
	ts := startServer(t, Config{})
	r := ts.raw(t)
	r.send(queryMsg("insert; boom; insert"))
	r.expect("CommandComplete INSERT 0 1", "ErrorResponse ERROR 23505", "ReadyForQuery I")
	rows, _, executed, _, _ := ts.eng.snapshot()
	if len(rows) != 1 || len(executed) != 2 {
		t.Fatalf("after the error: %d rows inserted, executed %v; want 1 and [insert boom]", len(rows), executed)
	}
	// Several result sets in one query string.
	r.send(queryMsg("select 1; select generate_series(1, 2)"))
	r.expect("RowDescription ?column?:23:0", `DataRow "1"`, "CommandComplete SELECT 1",
		"RowDescription generate_series:20:0", `DataRow "1"`, `DataRow "2"`, "CommandComplete SELECT 2", "ReadyForQuery I")
	// Empty queries.
	r.send(queryMsg("  "))
	r.expect("EmptyQueryResponse", "ReadyForQuery I")
	r.send(queryMsg(";"))
	r.expect("EmptyQueryResponse", "ReadyForQuery I")
	// Transaction status and reported parameters.
	r.send(queryMsg("begin; set application_name = 'x'"))
	r.expect("CommandComplete BEGIN", "CommandComplete SET", "ParameterStatus application_name=x", "ReadyForQuery T")
	r.send(queryMsg("boom"))
	r.expect("ErrorResponse ERROR 23505", "ReadyForQuery E")
	r.send(queryMsg("rollback"))
	r.expect("CommandComplete ROLLBACK", "ReadyForQuery I")
}

func TestDatabaseSQL(t *testing.T) {
	ts := startServer(t, Config{})
	db, err := sql.Open("pgx", ts.url("alice", testPassword))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := testCtx(t)
	var n int64
	var s string
	if err := db.QueryRowContext(ctx, "select $1::int8, $2::text", 7, "seven").Scan(&n, &s); err != nil || n != 7 || s != "seven" {
		t.Fatalf("got %d %q %v", n, s, err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tx.ExecContext(ctx, "insert")
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := res.RowsAffected(); k != 1 {
		t.Fatalf("rows affected %d", k)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var ns sql.NullInt64
	if err := db.QueryRowContext(ctx, "select null::int8, 'x'::text").Scan(&ns, &s); err != nil || ns.Valid {
		t.Fatalf("null: %+v %v", ns, err)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCancelRequest(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.connect(t)
	ctx, cancel := context.WithCancel(testCtx(t))
	errc := make(chan error, 1)
	go func() {
		_, err := c.Exec(ctx, "sleep")
		errc <- err
	}()
	<-ts.eng.started
	cancel() // pgx sends a CancelRequest on a new connection
	err := <-errc
	if err == nil {
		t.Fatal("a cancelled statement succeeded")
	}
	waitFor(t, "the statement to see its context end", func() bool {
		_, _, _, canceled, _ := ts.eng.snapshot()
		return canceled == 1
	})
	// With the raw protocol the 57014 error is visible, and the session survives.
	r := ts.raw(t)
	r.send(queryMsg("sleep"))
	<-ts.eng.started
	if err := sendCancel(ts.addr, r.pid, r.secret); err != nil {
		t.Fatal(err)
	}
	r.expect("ErrorResponse ERROR 57014", "ReadyForQuery I")
	// A wrong secret cancels nothing.
	r.send(queryMsg("select 1"))
	r.expect("RowDescription ?column?:23:0", `DataRow "1"`, "CommandComplete SELECT 1", "ReadyForQuery I")
	if err := sendCancel(ts.addr, r.pid, []byte{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
}

func TestConnectionDropCancelsStatement(t *testing.T) {
	ts := startServer(t, Config{})
	r := ts.raw(t)
	r.send(queryMsg("sleep"))
	<-ts.eng.started
	_ = r.conn.Close()
	waitFor(t, "the statement to be cancelled", func() bool {
		_, _, _, canceled, sessions := ts.eng.snapshot()
		return canceled == 1 && sessions == 0
	})
}
