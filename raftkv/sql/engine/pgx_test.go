package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"cairn.dev/cairn/raftkv/sql/pgwire"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestThroughPgx drives the engine through pgwire with pgx (extended
// protocol, binary formats, parameter inference, COPY, errors).
func TestThroughPgx(t *testing.T) {
	t.Parallel()
	e := newTestEngine(t)
	s := e.testSession(t)
	s.exec(`CREATE USER app WITH PASSWORD 'secret'`)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := pgwire.NewServer(pgwire.Config{}, e)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://app:secret@%s/cairn?sslmode=disable", l.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, usersOrders); err != nil {
		t.Fatal(err)
	}
	var id int32
	if err := c.QueryRow(ctx, `INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id`, "John", "john@example.com").Scan(&id); err != nil || id != 1 {
		t.Fatalf("insert: %d %v", id, err)
	}
	if _, err := c.Exec(ctx, `INSERT INTO orders (user_id, amount) VALUES ($1, $2), ($1, $3)`, 1, "99.99", "149.99"); err != nil {
		t.Fatal(err)
	}
	rows, err := c.Query(ctx, `SELECT u.name, o.amount::text, o.created_at FROM users u JOIN orders o ON u.id = o.user_id WHERE u.id = $1 ORDER BY o.amount`, 1)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var name, amount string
		var at time.Time
		if err := rows.Scan(&name, &amount, &at); err != nil {
			t.Fatal(err)
		}
		if time.Since(at) > time.Hour {
			t.Errorf("created_at %v", at)
		}
		got = append(got, name+" "+amount)
	}
	if rows.Err() != nil || fmt.Sprint(got) != "[John 99.99 John 149.99]" {
		t.Fatalf("join: %v %v", got, rows.Err())
	}
	var n int64
	var sum float64
	if err := c.QueryRow(ctx, `SELECT count(*), sum(amount)::float8 FROM orders`).Scan(&n, &sum); err != nil || n != 2 || sum != 249.98 {
		t.Fatalf("count: %d %v %v", n, sum, err)
	}
	_, err = c.Exec(ctx, `INSERT INTO orders (user_id, amount) VALUES (999, 1)`)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23503" {
		t.Fatalf("fk: %v", err)
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE orders SET amount = amount + 1 WHERE user_id = $1`, 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	copied, err := c.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"name", "email"}, pgx.CopyFromRows([][]any{{"a", "a@x"}, {"b", nil}}))
	if err != nil || copied != 2 {
		t.Fatalf("copy: %d %v", copied, err)
	}
	var version string
	if err := c.QueryRow(ctx, `SELECT version()`).Scan(&version); err != nil {
		t.Fatal(err)
	}
}
