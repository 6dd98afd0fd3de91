package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/raftkv/sql/pgwire"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

func TestParamInference(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(usersOrders)
	ctx := context.Background()
	tests := []struct {
		sql  string
		want []uint32
		cols []uint32
	}{
		{`SELECT name FROM users WHERE id = $1`, []uint32{23}, []uint32{25}},
		{`INSERT INTO orders (user_id, amount) VALUES ($1, $2)`, []uint32{23, 1700}, nil},
		{`SELECT $1`, []uint32{25}, []uint32{25}},
		{`SELECT $1::int8 + 1`, []uint32{20}, []uint32{20}},
		{`UPDATE users SET email = $1 WHERE id = $2`, []uint32{1043, 23}, nil},
		{`SELECT count(*), sum(amount), avg(user_id), max(created_at) FROM orders`, nil, []uint32{20, 1700, 1700, 1114}},
		{`SELECT sum(id) FROM users`, nil, []uint32{20}},
	}
	for _, tc := range tests {
		st, err := s.s.Prepare(ctx, tc.sql, nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if got := st.ParamOIDs(); fmt.Sprint(got) != fmt.Sprint(tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("%s: params %v, want %v", tc.sql, got, tc.want)
		}
		var cols []uint32
		for _, c := range st.Columns() {
			cols = append(cols, c.TypeOID)
		}
		if fmt.Sprint(cols) != fmt.Sprint(tc.cols) && !(len(cols) == 0 && len(tc.cols) == 0) {
			t.Errorf("%s: columns %v, want %v", tc.sql, cols, tc.cols)
		}
	}
	// execute with text and binary parameters
	st, err := s.s.Prepare(ctx, `INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id`, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	tag, err := st.Execute(ctx, []pgwire.Param{{Data: []byte("Ann")}, {Null: true}}, []int16{0}, func(v [][]byte) error {
		got = append(got, string(v[0]))
		return nil
	})
	if err != nil || tag != "INSERT 0 1" || len(got) != 1 || got[0] != "1" {
		t.Fatalf("execute: %q %v %v", tag, got, err)
	}
	st, err = s.s.Prepare(ctx, `SELECT name FROM users WHERE id = $1`, nil)
	if err != nil {
		t.Fatal(err)
	}
	bin, _ := value.AppendBinary(nil, value.NewInt4(1))
	got = nil
	if _, err := st.Execute(ctx, []pgwire.Param{{Format: 1, Data: bin}}, []int16{1}, func(v [][]byte) error {
		got = append(got, string(v[0]))
		return nil
	}); err != nil || len(got) != 1 || got[0] != "Ann" {
		t.Fatalf("binary: %v %v", got, err)
	}
	if _, err := s.s.Prepare(ctx, `SELECT 1; SELECT 2`, nil); sqlerr.Code(err) != sqlerr.SyntaxError {
		t.Errorf("two statements: %v", err)
	}
	st, err = s.s.Prepare(ctx, `-- nothing`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tag, err := st.Execute(ctx, nil, nil, nil); tag != "" || err != nil {
		t.Errorf("empty: %q %v", tag, err)
	}
}

func TestSetShow(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	r := s.exec(`SHOW search_path`)
	if r.cols[0] != "search_path" || r.tag != "SHOW" {
		t.Errorf("SHOW: %v %q", r.cols, r.tag)
	}
	if r := s.exec(`SET application_name = 'app'`); r.tag != "SET" {
		t.Errorf("SET tag %q", r.tag)
	}
	s.wantRows(`SHOW application_name`, "app")
	if got := s.s.ReportParams(); got["application_name"] != "app" || got["is_superuser"] != "on" {
		t.Errorf("reported %v", got)
	}
	if got := s.s.ReportParams(); len(got) != 0 {
		t.Errorf("reported twice: %v", got)
	}
	s.exec(`SET TIME ZONE 'UTC'; SET extra_float_digits = 3; SET search_path TO public`)
	s.wantRows(`SHOW extra_float_digits`, "3")
	s.exec(`RESET extra_float_digits`)
	s.wantRows(`SHOW extra_float_digits`, "1")
	s.wantRows(`SHOW transaction_isolation`, "serializable")
	s.exec(`SET default_transaction_isolation = 'read committed'`)
	s.exec(`BEGIN`)
	s.wantRows(`SHOW transaction_isolation`, "read committed")
	s.exec(`COMMIT`)
	s.exec(`BEGIN ISOLATION LEVEL REPEATABLE READ`)
	s.wantRows(`SHOW transaction_isolation`, "serializable")
	s.exec(`COMMIT`)
	s.exec(`SET statement_timeout = 50`)
	start := time.Now()
	s.wantCode(`SELECT count(*) FROM generate_series(1, 100000000)`, sqlerr.QueryCanceled)
	if time.Since(start) > 10*time.Second {
		t.Errorf("timeout took %v", time.Since(start))
	}
	s.exec(`SET statement_timeout = 0`)
	s.wantCode(`SET TimeZone = 'Europe/Oslo'`, sqlerr.InvalidParameterValue)
}

// copyRows feeds rows to CopyFrom.
func copyRows(rows [][]*string) func() ([]*string, error) {
	i := 0
	return func() ([]*string, error) {
		if i == len(rows) {
			return nil, io.EOF
		}
		i++
		return rows[i-1], nil
	}
}

func sp(s string) *string { return &s }

func TestCopyFrom(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(usersOrders)
	ctx := context.Background()
	stmts, err := s.s.PrepareAll(ctx, `COPY users (name, email) FROM STDIN WITH (FORMAT csv)`)
	if err != nil {
		t.Fatal(err)
	}
	n, f, ok := stmts[0].CopyIn()
	if !ok || n != 2 || f.Kind != pgwire.CopyCSV {
		t.Fatalf("CopyIn: %d %v %v", n, f, ok)
	}
	tag, err := stmts[0].CopyFrom(ctx, f, copyRows([][]*string{{sp("a"), sp("a@x")}, {sp("b"), nil}}))
	if err != nil || tag != "COPY 2" {
		t.Fatalf("copy: %q %v", tag, err)
	}
	s.wantRows(`SELECT id, name, email FROM users ORDER BY id`, "1|a|a@x\n2|b|NULL")
	// all or nothing: a duplicate email fails the whole COPY
	stmts, _ = s.s.PrepareAll(ctx, `COPY users (name, email) FROM STDIN`)
	_, err = stmts[0].CopyFrom(ctx, pgwire.CopyFormat{}, copyRows([][]*string{{sp("c"), sp("c@x")}, {sp("d"), sp("a@x")}}))
	if sqlerr.Code(err) != sqlerr.UniqueViolation {
		t.Fatalf("copy duplicate: %v", err)
	}
	s.wantRows(`SELECT count(*) FROM users`, "2")
	// an error from next ends the COPY as it is
	boom := errors.New("client went away")
	stmts, _ = s.s.PrepareAll(ctx, `COPY users (name) FROM STDIN`)
	if _, err := stmts[0].CopyFrom(ctx, pgwire.CopyFormat{}, func() ([]*string, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Fatalf("next error: %v", err)
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	s := e.testSession(t)
	ctx := context.Background()
	if _, ok, err := e.PasswordSecret(ctx, "root"); ok || err != nil {
		t.Errorf("root secret: %v %v", ok, err)
	}
	s.exec(`CREATE USER alice WITH PASSWORD 'pw'`)
	sec, ok, err := e.PasswordSecret(ctx, "alice")
	if err != nil || !ok || !strings.HasPrefix(sec, "SCRAM-SHA-256$") {
		t.Fatalf("alice secret: %q %v %v", sec, ok, err)
	}
	if _, ok, _ := e.PasswordSecret(ctx, "nobody"); ok {
		t.Errorf("nobody has a secret")
	}
	if _, err := e.NewSession(ctx, "nobody", "db"); sqlerr.Code(err) != sqlerr.InvalidAuthorization {
		t.Errorf("unknown user session: %v", err)
	}
	as, err := e.newSession(ctx, "alice", "db")
	if err != nil {
		t.Fatal(err)
	}
	a := &tsess{t: t, s: as}
	a.wantRows(`SELECT current_user`, "alice")
	a.wantCode(`CREATE ROLE bob`, "42501")
	s.exec(`DROP ROLE alice`)
}

// TestConcurrentAutocommit: concurrent increments all land (internal retries on 40001).
func TestConcurrentAutocommit(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	s := e.testSession(t)
	s.exec(`CREATE TABLE c (id INT PRIMARY KEY, n INT NOT NULL)`)
	s.exec(`INSERT INTO c VALUES (1, 0)`)
	const workers, each = 4, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		ws := e.testSession(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if r := ws.query(`UPDATE c SET n = n + 1 WHERE id = 1`); r.err != nil {
					errs <- r.err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if sqlerr.Code(err) != sqlerr.SerializationFailure {
			t.Fatalf("unexpected error: %v", err)
		}
		failed++
	}
	s.wantRows(`SELECT n FROM c`, fmt.Sprint(workers*each-failed))
}

func TestReadOnlyAndNoOps(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(`CREATE TABLE r (id INT PRIMARY KEY)`)
	s.exec(`BEGIN READ ONLY`)
	s.wantRows(`SHOW transaction_read_only`, "on")
	s.wantRows(`SELECT count(*) FROM r`, "0")
	s.wantCode(`INSERT INTO r VALUES (1)`, "25006")
	s.exec(`ROLLBACK`)
	if r := s.exec(`VACUUM ANALYZE r`); r.tag != "VACUUM" {
		t.Errorf("vacuum tag %q", r.tag)
	}
	r := s.exec(`SHOW ALL`)
	if len(r.cols) != 3 || len(r.rows) < 10 {
		t.Errorf("SHOW ALL: %v, %d rows", r.cols, len(r.rows))
	}
	s.wantCode(`LISTEN x`, "0A000")
}
