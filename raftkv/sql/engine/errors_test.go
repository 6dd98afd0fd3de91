package engine

import (
	"context"
	"errors"
	"strings"

	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"testing"

	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

func TestErrorCodes(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(usersOrders)
	s.exec(`CREATE TABLE other (id INT PRIMARY KEY, name TEXT)`)
	tests := []struct{ sql, code string }{
		{`SELEC 1`, sqlerr.SyntaxError},
		{`SELECT * FROM nope`, sqlerr.UndefinedTable},
		{`SELECT nope FROM users`, sqlerr.UndefinedColumn},
		{`SELECT x.id FROM users`, sqlerr.UndefinedTable},
		{`SELECT name FROM users, other`, sqlerr.AmbiguousColumn},
		{`SELECT foo(1)`, sqlerr.UndefinedFunction},
		{`SELECT 1 + 'a'`, sqlerr.InvalidTextRepresentation},
		{`SELECT 1 / 0`, sqlerr.DivisionByZero},
		{`SELECT 2147483647::int + 1`, sqlerr.NumericValueOutOfRange},
		{`SELECT id = 'x' FROM users`, sqlerr.InvalidTextRepresentation},
		{`SELECT id FROM users WHERE name = 1`, sqlerr.UndefinedFunction},
		{`SELECT name, count(*) FROM users`, sqlerr.GroupingError},
		{`SELECT * FROM users WHERE count(*) > 1`, sqlerr.GroupingError},
		{`SELECT (SELECT id FROM users)`, ""},
		{`CREATE TABLE users (id INT)`, sqlerr.DuplicateTable},
		{`SET nope = 1`, sqlerr.UndefinedObject},
		{`SHOW nope`, sqlerr.UndefinedObject},
		{`CREATE VIEW v AS SELECT 1`, sqlerr.FeatureNotSupported},
		{`WITH RECURSIVE r AS (SELECT 1) SELECT * FROM r`, sqlerr.FeatureNotSupported},
		{`SELECT * FROM users FULL JOIN orders ON true`, sqlerr.FeatureNotSupported},
		{`INSERT INTO users (name, email) VALUES ('a', repeat('x', 200))`, sqlerr.UndefinedFunction},
		{`INSERT INTO users (name, email) VALUES ('a', '` + string(make([]byte, 0)) + `xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx')`, sqlerr.StringDataRightTruncation},
		{`INSERT INTO orders (user_id, amount) VALUES (NULL, 123456789012)`, sqlerr.NumericValueOutOfRange},
		{`SELECT 1 ORDER BY 2`, sqlerr.InvalidColumnReference},
		{`COMMIT`, ""},
	}
	for _, tc := range tests {
		if tc.code == "" {
			s.query(tc.sql)
			continue
		}
		s.wantCode(tc.sql, tc.code)
	}
	s.exec(`INSERT INTO users (name) VALUES ('a'), ('b')`)
	s.wantCode(`SELECT (SELECT id FROM users)`, sqlerr.CardinalityViolation)
	if e := s.wantCode(`SELECT nope FROM users`, sqlerr.UndefinedColumn); e != nil {
		if e.Message != `column "nope" does not exist` || e.Position != 8 {
			t.Errorf("42703: %q at %d", e.Message, e.Position)
		}
	}
	if e := s.wantCode(`SELECT * FROM nope`, sqlerr.UndefinedTable); e != nil && e.Message != `relation "nope" does not exist` {
		t.Errorf("42P01: %q", e.Message)
	}
	if e := s.wantCode(`SET nope = 1`, sqlerr.UndefinedObject); e != nil && e.Message != `unrecognized configuration parameter "nope"` {
		t.Errorf("42704: %q", e.Message)
	}
	if e := s.wantCode(`SELECT foo(1)`, sqlerr.UndefinedFunction); e != nil && e.Message != `function foo(integer) does not exist` {
		t.Errorf("42883: %q", e.Message)
	}
	if e := s.wantCode(`CREATE VIEW v AS SELECT 1`, sqlerr.FeatureNotSupported); e != nil && e.Message != `CREATE VIEW is not supported` {
		t.Errorf("0A000: %q", e.Message)
	}
}

// TestLimitsAndCancel: past kvtxn's write limit a statement fails 54000
// naming it; a cancelled context ends a statement with the context's error.
func TestLimitsAndCancel(t *testing.T) {
	t.Parallel()
	s := newTestEngineWith(t, kvtxn.Options{MaxWrites: 20}).testSession(t)
	s.exec(`CREATE TABLE w (id INT PRIMARY KEY)`)
	e := s.wantCode(`INSERT INTO w SELECT g FROM generate_series(1, 100) g`, sqlerr.ProgramLimitExceeded)
	if e != nil && !strings.Contains(e.Error(), "20") {
		t.Errorf("54000 does not name the limit: %v", e)
	}
	if e != nil && strings.Count(e.Message, "transaction too large") != 1 {
		t.Errorf("54000 message says it more than once: %q", e.Message)
	}
	s.wantRows(`SELECT count(*) FROM w`, "0")
	ctx, cancel := context.WithCancel(context.Background())
	stmts, err := s.s.PrepareAll(ctx, `SELECT count(*) FROM generate_series(1, 1000000000)`)
	if err != nil {
		t.Fatal(err)
	}
	go cancel()
	if _, err := stmts[0].Execute(ctx, nil, []int16{0}, func([][]byte) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
}
