package engine

import (
	"testing"
)

const shop = `
CREATE TABLE customers (id INT PRIMARY KEY, name TEXT NOT NULL, city TEXT);
CREATE TABLE products (id INT PRIMARY KEY, name TEXT NOT NULL, price NUMERIC(10,2) NOT NULL, stock INT NOT NULL DEFAULT 0 CHECK (stock >= 0));
CREATE TABLE orders (id SERIAL PRIMARY KEY, customer_id INT NOT NULL REFERENCES customers(id), status TEXT NOT NULL DEFAULT 'new');
CREATE TABLE items (order_id INT REFERENCES orders(id) ON DELETE CASCADE, product_id INT REFERENCES products(id), qty INT NOT NULL, PRIMARY KEY (order_id, product_id));
INSERT INTO customers VALUES (1, 'Ann', 'Oslo'), (2, 'Bob', 'Rome'), (3, 'Cid', NULL);
INSERT INTO products (id, name, price, stock) VALUES (10, 'pen', 1.50, 100), (11, 'book', 12.00, 5), (12, 'lamp', 30.25, 0);
INSERT INTO orders (customer_id) VALUES (1), (1), (2);
INSERT INTO items VALUES (1, 10, 3), (1, 11, 1), (2, 12, 1), (3, 10, 10);
`

func TestQueries(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(shop)
	tests := []struct{ sql, want string }{
		{`SELECT 1 + 2, 'a' || 'b', 7 / 2, 7 % 3, -3`, "3|ab|3|1|-3"},
		{`SELECT name FROM customers WHERE city IS NULL`, "Cid"},
		{`SELECT name FROM customers WHERE id = '2'`, "Bob"},
		{`SELECT name FROM customers WHERE id IN (1, 3) ORDER BY name DESC`, "Cid\nAnn"},
		{`SELECT name FROM customers WHERE name LIKE 'A%' OR name ILIKE 'b%' ORDER BY 1`, "Ann\nBob"},
		{`SELECT id FROM products WHERE price BETWEEN 1 AND 20 ORDER BY id`, "10\n11"},
		{`SELECT c.name, count(*) AS n FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY n DESC, c.name`, "Ann|2\nBob|1"},
		{`SELECT c.name, count(o.id) FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.name ORDER BY c.name`, "Ann|2\nBob|1\nCid|0"},
		{`SELECT o.id, sum(p.price * i.qty) AS total FROM orders o JOIN items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id GROUP BY o.id ORDER BY o.id`, "1|16.50\n2|30.25\n3|15.00"},
		{`SELECT customer_id, count(*) FROM orders GROUP BY customer_id HAVING count(*) > 1`, "1|2"},
		{`SELECT avg(stock), min(price), max(name), sum(stock) FROM products`, "35.0000000000000000|1.50|pen|105"},
		{`SELECT name FROM products WHERE id IN (SELECT product_id FROM items WHERE qty > 2) ORDER BY name`, "pen"},
		{`SELECT name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id) ORDER BY name`, "Ann\nBob"},
		{`SELECT name FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id)`, "Cid"},
		{`SELECT name, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id) FROM customers c ORDER BY id`, "Ann|2\nBob|1\nCid|0"},
		{`SELECT name FROM products WHERE price > (SELECT avg(price) FROM products)`, "lamp"},
		{`WITH big AS (SELECT * FROM products WHERE price > 10) SELECT name FROM big ORDER BY name`, "book\nlamp"},
		{`SELECT name FROM customers UNION SELECT name FROM products ORDER BY 1 LIMIT 3`, "Ann\nBob\nCid"},
		{`SELECT city FROM customers UNION ALL SELECT city FROM customers`, "Oslo\nRome\nNULL\nOslo\nRome\nNULL"},
		{`SELECT id FROM customers INTERSECT SELECT customer_id FROM orders ORDER BY 1`, "1\n2"},
		{`SELECT id FROM customers EXCEPT SELECT customer_id FROM orders`, "3"},
		{`SELECT DISTINCT customer_id FROM orders ORDER BY customer_id`, "1\n2"},
		{`SELECT id FROM products ORDER BY id LIMIT 1 OFFSET 1`, "11"},
		{`SELECT * FROM (VALUES (1, 'x'), (2, 'y')) AS v(a, b) WHERE a = 2`, "2|y"},
		{`SELECT g FROM generate_series(1, 3) AS g`, "1\n2\n3"},
		{`SELECT coalesce(city, 'none'), upper(name), length(name) FROM customers ORDER BY id`, "Oslo|ANN|3\nRome|BOB|3\nnone|CID|3"},
		{`SELECT CASE WHEN stock = 0 THEN 'out' WHEN stock < 10 THEN 'low' ELSE 'ok' END FROM products ORDER BY id`, "ok\nlow\nout"},
		{`SELECT CAST('12' AS INT) + 1, '3'::numeric * 2, round(2.345, 2), abs(-4), greatest(1, 5, 3), nullif(1, 1)`, "13|6|2.35|4|5|NULL"},
		{`SELECT substring('hello', 2, 3), position('l' in 'hello'), trim('  x  '), replace('aXb', 'X', '-'), concat('a', NULL, 'b'), concat_ws(',', 'a', 'b')`, "ell|3|x|a-b|ab|a,b"},
		{`SELECT u.name FROM customers u, orders o WHERE u.id = o.customer_id AND o.id = 3`, "Bob"},
		{`SELECT c.name, o.id FROM orders o RIGHT JOIN customers c ON c.id = o.customer_id WHERE o.id IS NULL`, "Cid|NULL"},
		{`SELECT count(DISTINCT customer_id) FROM orders`, "2"},
		{`SELECT string_agg(name, ',') FROM customers`, "Ann,Bob,Cid"},
		{`SELECT bool_and(stock > 0), bool_or(stock > 0) FROM products`, "f|t"},
		{`SELECT extract(year FROM TIMESTAMP '2024-03-05 10:11:12'), date_trunc('month', TIMESTAMP '2024-03-05 10:11:12')`, "2024|2024-03-01 00:00:00"},
		{`SELECT version() LIKE 'PostgreSQL 15%', current_database(), current_user`, "t|cairn|root"},
		{`SELECT '{"a": {"b": 2}}'::jsonb -> 'a' ->> 'b', jsonb_typeof('[1]'::jsonb)`, "2|array"},
		{`SELECT name FROM customers WHERE id = ANY (SELECT customer_id FROM orders) ORDER BY 1`, "Ann\nBob"},
		{`SELECT c.name FROM customers c JOIN orders o USING (id) ORDER BY 1`, "Ann\nBob\nCid"},
		{`SELECT customer_id, count(*) FROM orders GROUP BY 1 ORDER BY 2 DESC, 1`, "1|2\n2|1"},
		{`SELECT c.id, c.name, count(*) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id ORDER BY c.id`, "1|Ann|2\n2|Bob|1"},
	}
	for _, tc := range tests {
		s.wantRows(tc.sql, tc.want)
	}
}

func TestDML(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(shop)
	r := s.exec(`INSERT INTO orders (customer_id) VALUES (3) RETURNING id, status`)
	if len(r.rows) != 1 || r.rows[0][0] != "4" || r.rows[0][1] != "new" || r.cols[0] != "id" {
		t.Fatalf("returning: %v %v", r.cols, r.rows)
	}
	if r := s.exec(`UPDATE products SET stock = stock - 1 WHERE id = 11 RETURNING stock`); r.tag != "UPDATE 1" || r.rows[0][0] != "4" {
		t.Fatalf("update: %v %v", r.tag, r.rows)
	}
	s.wantCode(`UPDATE products SET stock = stock - 1 WHERE id = 12`, "23514")
	s.exec(`INSERT INTO products (id, name, price) VALUES (10, 'pen2', 2) ON CONFLICT (id) DO NOTHING`)
	s.wantRows(`SELECT name, price FROM products WHERE id = 10`, "pen|1.50")
	r = s.exec(`INSERT INTO products (id, name, price) VALUES (10, 'pen2', 2), (13, 'cup', 4) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, price = products.price + EXCLUDED.price RETURNING id, name, price`)
	if r.tag != "INSERT 0 2" {
		t.Fatalf("upsert tag %q", r.tag)
	}
	s.wantRows(`SELECT id, name, price FROM products WHERE id IN (10, 13) ORDER BY id`, "10|pen2|3.50\n13|cup|4.00")
	s.exec(`INSERT INTO products (id, name, price) VALUES (13, 'x', 1) ON CONFLICT (id) DO UPDATE SET name = 'y' WHERE products.price > 100`)
	s.wantRows(`SELECT name FROM products WHERE id = 13`, "cup")
	// ON DELETE CASCADE removes the items of order 1.
	if r := s.exec(`DELETE FROM orders WHERE id = 1 RETURNING customer_id`); r.tag != "DELETE 1" || r.rows[0][0] != "1" {
		t.Fatalf("delete: %v %v", r.tag, r.rows)
	}
	s.wantRows(`SELECT count(*) FROM items WHERE order_id = 1`, "0")
	s.wantCode(`DELETE FROM customers WHERE id = 2`, "23503")
	s.exec(`UPDATE items SET qty = qty * 2 FROM products p WHERE p.id = items.product_id AND p.name = 'lamp'`)
	s.wantRows(`SELECT qty FROM items WHERE order_id = 2`, "2")
	s.exec(`DELETE FROM items USING products p WHERE p.id = items.product_id AND p.name = 'lamp'`)
	s.wantRows(`SELECT count(*) FROM items`, "1")
	s.exec(`INSERT INTO products VALUES (20, 'd', 1, DEFAULT)`)
	s.wantRows(`SELECT stock FROM products WHERE id = 20`, "0")
	s.wantCode(`INSERT INTO products (id, name) VALUES (21)`, "42601")
	s.wantCode(`INSERT INTO products (id, nope) VALUES (21, 1)`, "42703")
	s.exec(`TRUNCATE items`)
	s.wantRows(`SELECT count(*) FROM items`, "0")
}

func TestQueryEdges(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(`CREATE TABLE big (id BIGINT PRIMARY KEY, small INT, f DOUBLE PRECISION, d DATE, ts TIMESTAMPTZ, j JSONB, b BYTEA, flag BOOLEAN)`)
	s.exec(`INSERT INTO big VALUES (1, 1, 1.5, '2024-01-02', '2024-01-02 03:04:05+00', '{"k": [1, 2]}', '\x0102', true), (3000000000, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`)
	tests := []struct{ sql, want string }{
		{`SELECT id FROM big WHERE id = 1`, "1"},
		{`SELECT id FROM big WHERE id > 2147483647`, "3000000000"},
		{`SELECT id FROM big WHERE small < 3000000000`, "1"},
		{`SELECT id FROM big WHERE small = 3000000000`, ""},
		{`SELECT f * 2, d, ts, j -> 'k', b, flag FROM big WHERE id = 1`, "3|2024-01-02|2024-01-02 03:04:05+00|[1, 2]|\\x0102|t"},
		{`SELECT count(*), count(small), sum(id) FROM big`, "2|1|3000000001"},
		{`SELECT id FROM big ORDER BY small NULLS FIRST`, "3000000000\n1"},
		{`SELECT id FROM big ORDER BY small DESC`, "3000000000\n1"},
		{`SELECT x FROM (SELECT id AS x FROM big) s WHERE x < 10`, "1"},
		{`SELECT g, g * 2 FROM generate_series(1, 3) g WHERE g > 1`, "2|4\n3|6"},
		{`SELECT (SELECT max(g) FROM generate_series(1, b.small + 1) g) FROM big b WHERE id = 1`, "2"},
		{`SELECT 1 WHERE false`, ""},
		{`SELECT NULL IS NULL, 1 IS DISTINCT FROM NULL, NULL = NULL`, "t|t|NULL"},
		{`SELECT id FROM big WHERE small IN (SELECT 1) OR id = 3000000000 ORDER BY id`, "1\n3000000000"},
		{`SELECT count(*) FROM big a, big b`, "4"},
		{`SELECT 'x' AS y ORDER BY y`, "x"},
	}
	for _, tc := range tests {
		s.wantRows(tc.sql, tc.want)
	}
}

func TestFunctions(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	tests := []struct{ sql, want string }{
		{`SELECT now() = current_timestamp, now() = transaction_timestamp(), current_date = now()::date`, "t|t|t"},
		{`SELECT clock_timestamp() >= now()`, "t"},
		{`SELECT extract(epoch FROM TIMESTAMPTZ '1970-01-01 00:01:00+00'), date_part('hour', TIMESTAMP '2024-01-01 13:00:00')`, "60|13"},
		{`SELECT extract(month FROM DATE '2024-05-06'), extract(day FROM DATE '2024-05-06')`, "5|6"},
		{`SELECT pg_catalog.version() = version(), current_schema(), pg_catalog.current_database()`, "t|public|cairn"},
		{`SELECT jsonb_build_object('a', 1, 'b', 'x') ->> 'b', jsonb_typeof('{}'::jsonb)`, "x|object"},
		{`SELECT length(gen_random_uuid()), random() < 1`, "36|t"},
		{`SELECT round(2.5), round(-2.5), round(1.2345, 3), ceil(1.2), floor(-1.2), mod(7, 3), abs(-2.5)`, "3|-3|1.235|2|-2|1|2.5"},
		{`SELECT lower('AbC'), upper('abc'), char_length('héllo'), least(3, 1, 2), coalesce(NULL, NULL, 3)`, "abc|ABC|5|1|3"},
		{`SELECT trim(both 'x' from 'xxaxx'), substring('abcdef' from 2 for 3)`, "a|bcd"},
	}
	for _, tc := range tests {
		s.wantRows(tc.sql, tc.want)
	}
	s.wantCode(`SELECT nosuch(1, 'a')`, "42883")
	s.wantCode(`SELECT length(1, 2)`, "42883")
}

func TestJoinsAndGrouping(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(shop)
	tests := []struct{ sql, want string }{
		// three-way left joins
		{`SELECT c.name, o.id, i.qty FROM customers c LEFT JOIN orders o ON o.customer_id = c.id LEFT JOIN items i ON i.order_id = o.id AND i.qty > 2 ORDER BY c.name, o.id`,
			"Ann|1|3\nAnn|2|NULL\nBob|3|10\nCid|NULL|NULL"},
		// inner join of four tables, written in a bad order
		{`SELECT c.name, p.name FROM items i, products p, orders o, customers c WHERE i.product_id = p.id AND o.id = i.order_id AND c.id = o.customer_id AND p.price > 10 ORDER BY 1, 2`,
			"Ann|book\nAnn|lamp"},
		// correlated subquery reading a grouped column
		{`SELECT c.id, count(*), (SELECT count(*) FROM items i JOIN orders o2 ON o2.id = i.order_id WHERE o2.customer_id = c.id) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.id ORDER BY c.id`,
			"1|2|3\n2|1|1"},
		{`SELECT p.name FROM products p WHERE p.price = (SELECT max(price) FROM products p2 WHERE p2.stock >= p.stock - 100)`, "lamp"},
		{`SELECT status, count(*) FILTER (WHERE customer_id = 1) FROM orders GROUP BY status`, "new|2"},
		{`SELECT sum(qty) FROM items WHERE false`, "NULL"},
		{`SELECT count(*) FROM items WHERE false`, "0"},
		{`SELECT customer_id FROM orders GROUP BY customer_id HAVING sum(id) > 2 ORDER BY customer_id`, "1\n2"},
		{`SELECT lower(name) AS n FROM customers GROUP BY lower(name) ORDER BY n`, "ann\nbob\ncid"},
	}
	for _, tc := range tests {
		s.wantRows(tc.sql, tc.want)
	}
	s.wantCode(`INSERT INTO customers VALUES (5, 'x', NULL), (5, 'y', NULL) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name`, "21000")
	s.wantCode(`SELECT c.name, (SELECT count(*) FROM orders o WHERE o.customer_id = c.city::int) FROM customers c GROUP BY c.name`, "42803")
}

func TestDistinctOn(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.exec(shop)
	s.wantRows(`SELECT DISTINCT ON (customer_id) customer_id, id FROM orders ORDER BY customer_id, id DESC`, "1|2\n2|3")
	s.wantRows(`SELECT DISTINCT ON (i.order_id) i.order_id, p.name FROM items i JOIN products p ON p.id = i.product_id ORDER BY i.order_id, p.price DESC`, "1|book\n2|lamp\n3|pen")
}

func TestSeriesBounds(t *testing.T) {
	t.Parallel()
	s := newTestEngine(t).testSession(t)
	s.wantRows(`SELECT count(*) FROM generate_series(9223372036854775806, 9223372036854775807)`, "2")
	s.wantRows(`SELECT g FROM generate_series(3, 1, -1) g`, "3\n2\n1")
	s.wantCode(`SELECT * FROM generate_series(1, 2, 0)`, "22023")
}
