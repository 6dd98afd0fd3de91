package parser

import "testing"

func BenchmarkParsePgbench(b *testing.B) {
	stmts := []string{
		"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;",
		"SELECT abalance FROM pgbench_accounts WHERE aid = $1",
		"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)",
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, s := range stmts {
			if _, err := Parse(s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkParseJoin(b *testing.B) {
	q := "SELECT c.name, count(o.id) AS orders, sum(o.total) total FROM customers c LEFT JOIN orders o ON o.customer_id = c.id " +
		"WHERE c.created_at > DATE '2024-01-01' AND c.name LIKE 'A%' GROUP BY c.name HAVING count(o.id) > 2 ORDER BY total DESC NULLS LAST LIMIT 10"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(q); err != nil {
			b.Fatal(err)
		}
	}
}
