package engine

import (
	"strings"
	"testing"
)

const usersOrders = `
CREATE TABLE users (
  id SERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  email VARCHAR(100) UNIQUE
);
CREATE TABLE orders (
  id SERIAL PRIMARY KEY,
  user_id INT REFERENCES users(id),
  amount NUMERIC(10,2) CHECK (amount > 0),
  created_at TIMESTAMP DEFAULT now()
);`

// TestDoneWhen is the acceptance flow.
func TestDoneWhen(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(usersOrders)
	if r := s.exec(`INSERT INTO users (name, email) VALUES ('John', 'john@example.com')`); r.tag != "INSERT 0 1" {
		t.Fatalf("tag %q", r.tag)
	}
	s.exec(`INSERT INTO users (name, email) VALUES ('Jane', 'jane@example.com')`)
	s.exec(`INSERT INTO orders (user_id, amount) VALUES (1, 99.99), (1, 149.99), (2, 25.00)`)
	s.wantRows(`SELECT u.name, o.amount FROM users u JOIN orders o ON u.id = o.user_id WHERE u.id = 1 ORDER BY o.amount`,
		"John|99.99\nJohn|149.99")
	e := s.wantCode(`INSERT INTO orders (user_id, amount) VALUES (999, 10)`, "23503")
	if e != nil && !strings.Contains(e.Message, "foreign key") {
		t.Errorf("FK message %q", e.Message)
	}
	s.wantRows(`SELECT count(*) FROM orders`, "3")
	r := s.exec(`SELECT count(*) FROM orders`)
	if r.cols[0] != "count" {
		t.Errorf("column %q", r.cols[0])
	}
	s.wantCode(`INSERT INTO orders (user_id, amount) VALUES (1, -5)`, "23514")
	s.wantCode(`INSERT INTO users (name, email) VALUES ('X', 'john@example.com')`, "23505")
	s.wantCode(`INSERT INTO users (email) VALUES ('nobody@example.com')`, "23502")
}
