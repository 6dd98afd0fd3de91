package engine

import (
	"strings"
	"testing"
)

func explain(s *tsess, sql string) string {
	s.t.Helper()
	r := s.exec("EXPLAIN " + sql)
	if len(r.cols) != 1 || r.cols[0] != "QUERY PLAN" || r.tag != "EXPLAIN" {
		s.t.Fatalf("EXPLAIN columns %v tag %q", r.cols, r.tag)
	}
	var lines []string
	for _, row := range r.rows {
		lines = append(lines, row[0])
	}
	return strings.Join(lines, "\n")
}

func TestExplain(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(usersOrders)
	tests := []struct {
		sql  string
		want []string // substrings, in order
		not  []string
	}{
		{`SELECT * FROM users WHERE id = 1`, []string{"Index Scan on users using users_pkey (id = 1)"}, []string{"Seq Scan"}},
		{`SELECT * FROM users WHERE name = 'x'`, []string{"Seq Scan on users", "Filter: name = 'x'"}, nil},
		{`SELECT * FROM users WHERE email = 'a@b'`, []string{"Index Scan on users using users_email_key"}, nil},
		{`SELECT * FROM users WHERE id > 5`, []string{"Index Scan on users using users_pkey (id > 5)"}, nil},
		{`SELECT u.name, o.amount FROM users u JOIN orders o ON u.id = o.user_id WHERE u.id = 1`,
			[]string{"Hash Join (u.id = o.user_id)", "Seq Scan on orders o", "Hash", "Index Scan on users u using users_pkey (u.id = 1)"}, []string{"Filter"}},
		{`SELECT u.name, o.amount FROM orders o JOIN users u ON u.id = o.user_id WHERE o.id = 5`,
			[]string{"Lookup Join on users u using users_pkey (u.id = o.user_id)", "Index Scan on orders o using orders_pkey (o.id = 5)"}, nil},
		{`SELECT u.name, o.amount FROM orders o JOIN users u ON u.id = o.user_id`,
			[]string{"Hash Join (u.id = o.user_id)"}, nil},
		{`SELECT u.name FROM users u JOIN orders o ON u.name < o.created_at::text`, []string{"Nested Loop"}, nil},
		{`SELECT count(*) FROM orders GROUP BY user_id`, []string{"HashAggregate", "Seq Scan on orders"}, nil},
		{`SELECT id FROM users ORDER BY name LIMIT 2`, []string{"Limit", "Sort", "Seq Scan on users"}, nil},
		{`SELECT name FROM users WHERE id > 3 ORDER BY id LIMIT 2`, []string{"Limit", "Index Scan on users using users_pkey (id > 3)"}, []string{"Sort"}},
		{`SELECT name FROM users ORDER BY id DESC`, []string{"Sort", "Seq Scan on users"}, nil},
		{`UPDATE users SET name = 'x' WHERE id = 2`, []string{"Update on users", "Index Scan on users using users_pkey"}, nil},
		{`DELETE FROM orders WHERE user_id = 3`, []string{"Delete on orders", "Seq Scan on orders"}, nil},
	}
	for _, tc := range tests {
		got := explain(s, tc.sql)
		rest := got
		for _, w := range tc.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("EXPLAIN %s:\n%s\nwant %q (in order)", tc.sql, got, w)
				break
			}
			rest = rest[i+len(w):]
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("EXPLAIN %s:\n%s\nwant no %q", tc.sql, got, n)
			}
		}
	}
	// With an index on orders.user_id the join becomes a lookup join.
	s.exec(`CREATE INDEX orders_user ON orders (user_id)`)
	got := explain(s, `SELECT u.name, o.amount FROM users u JOIN orders o ON u.id = o.user_id WHERE u.id = 1`)
	if !strings.Contains(got, "Lookup Join on orders o using orders_user") || !strings.Contains(got, "Index Scan on users u using users_pkey") {
		t.Errorf("with index:\n%s", got)
	}
	got = explain(s, `SELECT * FROM orders WHERE user_id = 7`)
	if !strings.Contains(got, "Index Scan on orders using orders_user (user_id = 7)") {
		t.Errorf("secondary index:\n%s", got)
	}
	// results are the same whatever the plan
	s.exec(`INSERT INTO users (name) VALUES ('a'), ('b'); INSERT INTO orders (user_id, amount) VALUES (1, 1), (1, 2), (2, 3)`)
	s.wantRows(`SELECT u.name, o.amount FROM users u JOIN orders o ON u.id = o.user_id WHERE u.id = 1 ORDER BY 2`, "a|1.00\na|2.00")
	s.wantRows(`SELECT u.name, sum(o.amount) FROM orders o JOIN users u ON u.id = o.user_id GROUP BY u.name ORDER BY 1`, "a|3.00\nb|3.00")
	s.wantRows(`SELECT u.name, o.amount FROM users u LEFT JOIN orders o ON u.id = o.user_id AND o.amount > 1 ORDER BY 1, 2`, "a|2.00\nb|3.00")
}
