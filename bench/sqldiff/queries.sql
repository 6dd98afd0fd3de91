-- The fixed corpus of bench/sqldiff, run in order on one session per
-- target after the random queries (so the DML below sees the data as
-- loaded, and later statements see what earlier ones changed).
--
-- One statement per `;`-terminated line group. Directives on the comment
-- lines just before a statement:
--   -- @ordered      compare rows in order (the ORDER BY must be total)
--   -- @rowcount     compare the columns, tag and number of rows only
--   -- @error CODE   PostgreSQL must fail with this SQLSTATE (cairn must too)
--   -- @known REASON a difference here is known: listed, but the run passes
--   -- @params A | B  values of $1, $2 … sent as text parameters of unspecified
--                    type (\N: NULL); extended protocol only (skipped with simple)
-- Without @ordered, rows are compared as multisets. Values are compared as
-- the text each server prints (numeric scale, float digits, timestamp and
-- jsonb spelling all count), with the session TimeZone set to UTC.

-- ===== expressions without tables ==========================================
SELECT 1;
SELECT 1 + 2 * 3 AS x, 7 / 2 AS int_div, 7 % 3 AS modulo, -7 / 2 AS neg_div, 2 - 5 AS neg;
SELECT 7.0 / 2 AS n1, 1 / 3.0 AS n2, 10.00 / 4 AS n3, 2.50 * 4 AS n4, 0.1 + 0.2 AS n5, 1.10 - 0.1 AS n6;
SELECT 1::numeric / 7 AS a, 100::numeric / 7 AS b, 123456789.123::numeric / 3 AS c, 2::numeric(10,2) AS d;
SELECT round(2.345, 2) AS r1, round(2.5) AS r2, round(-2.5) AS r3, round(1234.5678, 1) AS r4, abs(-3.20) AS a1, abs(-7) AS a2;
SELECT 0.1::float8 + 0.2::float8 AS f1, 1.0::float8 / 3 AS f2, 1e20::float8 AS f3, 123.456::double precision AS f4, 2.5::float8 * 2 AS f5;
SELECT CAST('42' AS INTEGER) AS i, '12.50'::numeric(6,2) AS n, '3.14159'::numeric(4,2) AS rounded, 'true'::boolean AS b, 't'::boolean AS t;
SELECT 42::text AS t, 3.50::text AS n, true::text AS b, 12.7::integer AS rounds_up, (-12.5)::integer AS rounds_away, 99::bigint AS big;
SELECT '2024-02-29'::date AS d, '2024-03-01 12:34:56'::timestamp AS ts, '2024-03-01 12:34:56.5+02'::timestamptz AS tstz;
SELECT '2024-03-01 12:34:56.123456'::timestamp AS micro, '2024-03-01'::date::timestamp AS from_date, '2024-03-01 23:59:59'::timestamp::date AS to_date;
SELECT 'abc' || 'def' AS c1, 'x' || 1 AS c2, concat('a', NULL, 'b', 2) AS c3, length('héllo') AS c4, lower('ÀBC') AS c5, upper('straße') AS c6;
SELECT substring('hello world', 7) AS s1, substring('hello world', 1, 5) AS s2, substring('hello' FROM 2 FOR 3) AS s3;
SELECT CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' ELSE 'c' END AS searched, CASE 3 WHEN 1 THEN 'one' WHEN 3 THEN 'three' END AS simple, CASE WHEN false THEN 1 END AS no_else;
SELECT COALESCE(NULL, NULL, 3) AS c1, COALESCE(NULL::text, 'x') AS c2, NULLIF(5, 5) AS n1, NULLIF(5, 6) AS n2, GREATEST(1, 5, 3) AS g, LEAST(2.5, 1.25) AS l;
SELECT 'abc' LIKE 'a%' AS l1, 'abc' LIKE '_b_' AS l2, 'ABC' LIKE 'a%' AS l3, 'ABC' ILIKE 'a%' AS l4, '50%' LIKE '50\%' AS l5, 'a_b' LIKE 'a\_b' AS l6, 'abc' NOT LIKE '%d' AS l7;
SELECT 5 BETWEEN 1 AND 10 AS b1, 5 BETWEEN 10 AND 1 AS b2, 5 NOT BETWEEN 1 AND 4 AS b3, 3 IN (1, 2, 3) AS i1, 3 NOT IN (1, 2) AS i2, 3 IN (1, NULL) AS i3;
SELECT NULL IS NULL AS n1, 1 IS NOT NULL AS n2, NULL = NULL AS eq, NULL IS DISTINCT FROM NULL AS d1, 1 IS DISTINCT FROM NULL AS d2, 2 IS NOT DISTINCT FROM 2 AS d3;
SELECT true AND NULL AS a1, false AND NULL AS a2, true OR NULL AS o1, false OR NULL AS o2, NOT NULL::boolean AS n;
SELECT '{"b": 1, "a": [1, 2, {"c": null}], "aa": "x"}'::jsonb AS normalized, '{"a":1.50}'::jsonb AS keeps_scale, '[]'::jsonb AS empty;
SELECT '{"a": {"b": [10, 20]}}'::jsonb -> 'a' AS obj, '{"a": {"b": [10, 20]}}'::jsonb -> 'a' -> 'b' ->> 1 AS elem, '{"a": "x"}'::jsonb ->> 'a' AS txt, '{"a": "x"}'::jsonb -> 'a' AS quoted, '{"a": 1}'::jsonb ->> 'missing' AS missing;
SELECT '\x0102ff'::bytea AS b1, ''::bytea AS b2, 'ab'::bytea AS b3;
SELECT 'a'::char(3) AS padded, 'abc'::varchar(5) AS v, 'abcdef'::varchar(3) AS cast_truncates, length('a '::char(3)) AS char_len;
SELECT 2147483647::bigint + 1 AS big, (-32768)::smallint AS small, 9223372036854775807 AS max_big;
SELECT (SELECT 1) AS scalar, (SELECT NULL::integer) AS null_scalar, EXISTS (SELECT 1) AS ex, 1 IN (SELECT 1) AS in_sub;

-- ===== single-table queries ================================================
SELECT count(*), count(age), count(DISTINCT country) FROM users, (SELECT 'x' AS country) c;
SELECT count(*) AS n, count(age) AS with_age, min(age), max(age), sum(age), avg(age) FROM users;
-- @ordered
SELECT id, email, name, age, active, avatar, profile, created_at FROM users ORDER BY id LIMIT 10;
-- @ordered
SELECT id, email FROM users ORDER BY id DESC LIMIT 5 OFFSET 3;
-- @ordered
SELECT id, name, age FROM users WHERE age IS NOT NULL ORDER BY age, id LIMIT 15;
-- @ordered
SELECT id, age FROM users ORDER BY age DESC, id LIMIT 15;
-- @ordered
SELECT id, age FROM users ORDER BY age, id DESC LIMIT 5 OFFSET 180;
SELECT id, name FROM users WHERE age IS NULL;
SELECT id, score FROM users WHERE score > 50 AND score <= 75.5;
-- @ordered
SELECT name, id FROM users WHERE name LIKE 'A%' OR name ILIKE 'z%' ORDER BY name, id;
-- @ordered
SELECT name, id FROM users WHERE name ILIKE '%o''brien%' ORDER BY name, id;
-- @ordered
SELECT id, name FROM users WHERE name LIKE '%Müller' ORDER BY id;
SELECT DISTINCT active FROM users;
-- @ordered
SELECT DISTINCT lower(substring(name, 1, 1)) AS initial FROM users ORDER BY initial;
SELECT DISTINCT country, is_primary FROM addresses;
-- @ordered
SELECT id, city, zip, length(zip) AS zip_len, zip = '123' AS short_eq FROM addresses WHERE zip IS NOT NULL ORDER BY id LIMIT 20;
SELECT zip FROM addresses WHERE length(zip) < 5 OR zip LIKE '%  ';
-- @ordered
SELECT id, sku, price, stock, weight, released, attrs FROM products ORDER BY id LIMIT 10;
-- @ordered
SELECT id, price FROM products WHERE price BETWEEN 100 AND 200.50 ORDER BY price DESC, id;
-- @ordered
SELECT id, released FROM products WHERE released BETWEEN '2021-01-01' AND '2022-06-30' ORDER BY released, id;
SELECT id FROM products WHERE category_id IS NULL;
SELECT id, sku FROM products WHERE sku IN ('SKU-0001', 'SKU-0010', 'SKU-9999');
SELECT id FROM products WHERE category_id NOT IN (1, 2, 3);
-- @ordered
SELECT id, price, price * 2 AS doubled, price * stock AS value, price / 3 AS third, price + 0.005 AS more_scale, -price AS neg FROM products ORDER BY id LIMIT 10;
-- @ordered
SELECT id, round(price / 7, 4) AS r, price::integer AS whole, price::text AS t, CAST(price AS NUMERIC(12,4)) AS wider FROM products ORDER BY id LIMIT 10;
-- @ordered
SELECT id, weight, weight * 2 AS w2, weight / 3 AS w3 FROM products WHERE weight IS NOT NULL ORDER BY id LIMIT 10;
-- @ordered
SELECT id, attrs -> 'color' AS color_json, attrs ->> 'color' AS color, attrs -> 'dims' AS dims, attrs -> 'dims' ->> 'w' AS w, attrs ->> 'price_hint' AS hint FROM products WHERE attrs IS NOT NULL ORDER BY id LIMIT 10;
SELECT count(*) FROM products WHERE attrs ->> 'color' = 'red';
-- @ordered
SELECT id, profile -> 'tags' AS tags, profile -> 'tags' ->> 0 AS first_tag, profile ->> 'vip' AS vip, profile -> 'ratio' AS ratio FROM users WHERE profile IS NOT NULL ORDER BY id LIMIT 10;
-- @ordered
SELECT id, status, total, note, created_at, shipped_at FROM orders ORDER BY id LIMIT 10;
-- @ordered
SELECT id, created_at FROM orders WHERE created_at >= '2024-06-01' AND created_at < '2024-07-01 00:00:00+00' ORDER BY created_at, id;
-- @ordered
SELECT id, shipped_at FROM orders WHERE shipped_at > '2024-10-01 00:00:00' ORDER BY shipped_at DESC, id LIMIT 10;
SELECT count(*) FROM orders WHERE created_at < now() AND shipped_at IS NOT NULL;
-- @ordered
SELECT id, note FROM orders WHERE note LIKE '%100\%%' OR note LIKE 'call\_%' OR note = '' ORDER BY id;
-- @ordered
SELECT id, CASE status WHEN 'new' THEN 0 WHEN 'paid' THEN 1 ELSE 2 END AS stage, COALESCE(total, 0) AS total0, COALESCE(note, '(none)') AS note FROM orders ORDER BY id LIMIT 12;
-- @ordered
SELECT id, order_id, quantity, unit_price, discount, quantity * unit_price AS line, quantity * unit_price * (1 - COALESCE(discount, 0)) AS net FROM order_items ORDER BY id LIMIT 12;

-- ===== aggregates ==========================================================
-- @ordered
SELECT status, count(*), sum(total), avg(total), min(total), max(total), count(note) FROM orders GROUP BY status ORDER BY status;
-- @ordered
SELECT country, count(*) AS n FROM addresses GROUP BY country HAVING count(*) > 30 ORDER BY n DESC, country;
-- @ordered
SELECT category_id, count(*) AS n, sum(stock) AS stock, avg(price) AS avg_price, round(avg(price), 2) AS avg2, min(released), max(released) FROM products GROUP BY category_id ORDER BY category_id;
-- @ordered
SELECT active, avg(age) AS avg_age, sum(age) AS sum_age, round(avg(score)::numeric, 6) AS avg_score, max(score) AS max_score FROM users GROUP BY active ORDER BY active;
-- @ordered
SELECT quantity, count(*), sum(quantity) AS s, avg(quantity) AS a, sum(unit_price) AS sp, avg(discount) AS ad FROM order_items GROUP BY quantity ORDER BY quantity;
-- @ordered
SELECT user_id, count(*) AS orders, sum(total) AS spent FROM orders GROUP BY user_id HAVING sum(total) > 8000 ORDER BY spent DESC, user_id;
-- @ordered
SELECT is_primary, country, count(*) FROM addresses GROUP BY is_primary, country HAVING count(*) BETWEEN 10 AND 25 ORDER BY is_primary, country;
SELECT count(*), sum(price), avg(price), min(price), max(price) FROM products WHERE price < 0;
SELECT count(DISTINCT user_id) AS buyers, count(DISTINCT status) AS statuses FROM orders;
-- @ordered
SELECT date_part_year, count(*) FROM (SELECT CASE WHEN released < '2022-01-01' THEN 'old' ELSE 'new' END AS date_part_year FROM products WHERE released IS NOT NULL) s GROUP BY date_part_year ORDER BY 1;
-- @ordered
SELECT status, max(created_at) AS latest, min(shipped_at) AS first_ship FROM orders GROUP BY status ORDER BY status;
SELECT sum(quantity * unit_price) AS gross, sum(quantity * unit_price * COALESCE(discount, 0)) AS discounts FROM order_items;

-- ===== joins ===============================================================
-- @ordered
SELECT u.id, u.email, o.id AS order_id, o.status FROM users u JOIN orders o ON o.user_id = u.id ORDER BY u.id, o.id LIMIT 20;
-- @ordered
SELECT u.id, count(o.id) AS n FROM users u LEFT JOIN orders o ON o.user_id = u.id GROUP BY u.id ORDER BY n, u.id LIMIT 20;
SELECT u.id FROM users u LEFT JOIN orders o ON o.user_id = u.id WHERE o.id IS NULL;
-- @ordered
SELECT c.id AS cat, c.name, p.id AS product FROM products p RIGHT JOIN categories c ON p.category_id = c.id ORDER BY c.id, p.id;
-- @ordered
SELECT o.id, u.name, p.sku, i.quantity, i.unit_price FROM orders o JOIN users u ON u.id = o.user_id JOIN order_items i ON i.order_id = o.id JOIN products p ON p.id = i.product_id WHERE o.status = 'paid' ORDER BY o.id, p.sku LIMIT 25;
-- @ordered
SELECT c.name, count(i.id) AS lines, sum(i.quantity) AS units, sum(i.quantity * i.unit_price) AS revenue FROM categories c LEFT JOIN products p ON p.category_id = c.id LEFT JOIN order_items i ON i.product_id = p.id GROUP BY c.name ORDER BY c.name;
-- @ordered
SELECT child.name AS child, parent.name AS parent FROM categories child LEFT JOIN categories parent ON child.parent_id = parent.id ORDER BY child.id;
-- @ordered
SELECT a.city, u.email FROM addresses a INNER JOIN users u ON a.user_id = u.id WHERE a.is_primary AND u.active ORDER BY a.id LIMIT 15;
SELECT u.id, a.id FROM users u, addresses a WHERE a.user_id = u.id AND u.age > 80;
-- @ordered
SELECT o.status, u.active, count(*), sum(o.total) FROM orders o JOIN users u ON u.id = o.user_id GROUP BY o.status, u.active ORDER BY o.status, u.active;
-- @ordered
SELECT p.id, p.sku, count(i.order_id) AS times_ordered FROM products p LEFT JOIN order_items i ON i.product_id = p.id GROUP BY p.id, p.sku HAVING count(i.order_id) = 0 ORDER BY p.id;
SELECT count(*) FROM orders o RIGHT JOIN users u ON u.id = o.user_id;
SELECT count(*) FROM order_items i JOIN orders o ON o.id = i.order_id JOIN users u ON u.id = o.user_id JOIN addresses a ON a.user_id = u.id;

-- ===== subqueries ==========================================================
SELECT id FROM users WHERE id IN (SELECT user_id FROM orders WHERE status = 'cancelled' AND total > 4000);
SELECT id FROM users WHERE id NOT IN (SELECT user_id FROM orders);
SELECT count(*) FROM categories WHERE id NOT IN (SELECT category_id FROM products);
SELECT count(*) FROM categories WHERE id NOT IN (SELECT category_id FROM products WHERE category_id IS NOT NULL);
SELECT id FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.total > 4900);
SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM addresses a WHERE a.user_id = u.id);
-- @ordered
SELECT id, price, (SELECT avg(price) FROM products) AS avg_all FROM products WHERE price > (SELECT avg(price) FROM products) * 1.8 ORDER BY id;
-- @ordered
SELECT u.id, (SELECT count(*) FROM orders o WHERE o.user_id = u.id) AS n, (SELECT max(o.total) FROM orders o WHERE o.user_id = u.id) AS biggest FROM users u ORDER BY u.id LIMIT 15;
-- @ordered
SELECT s.status, s.n FROM (SELECT status, count(*) AS n FROM orders GROUP BY status) s WHERE s.n > 10 ORDER BY s.status;
SELECT id FROM products WHERE category_id IN (SELECT id FROM categories WHERE parent_id IN (SELECT id FROM categories WHERE name LIKE 'red%'));
-- @error 21000
SELECT (SELECT id FROM users) AS too_many;

-- ===== CTEs and set operations =============================================
-- @ordered
WITH spend AS (SELECT user_id, sum(total) AS total FROM orders WHERE total IS NOT NULL GROUP BY user_id)
SELECT u.email, s.total FROM spend s JOIN users u ON u.id = s.user_id ORDER BY s.total DESC, u.email LIMIT 10;
-- @ordered
WITH big AS (SELECT * FROM orders WHERE total > 4000), lines AS (SELECT order_id, count(*) AS n FROM order_items GROUP BY order_id)
SELECT big.id, big.total, COALESCE(lines.n, 0) AS n FROM big LEFT JOIN lines ON lines.order_id = big.id ORDER BY big.id;
WITH a AS (SELECT 1 AS x), b AS (SELECT x + 1 AS y FROM a) SELECT * FROM a, b;
SELECT city FROM addresses UNION SELECT name FROM categories WHERE parent_id IS NULL;
SELECT country FROM addresses WHERE id < 20 UNION ALL SELECT country FROM addresses WHERE id < 10;
-- @ordered
SELECT status AS v FROM orders UNION SELECT 'other' ORDER BY v;
-- @ordered
SELECT id, 'user' AS kind FROM users WHERE id <= 3 UNION ALL SELECT id, 'order' FROM orders WHERE id <= 3 ORDER BY kind, id;
SELECT 1 UNION SELECT 1 UNION ALL SELECT 1;
SELECT 1.5 AS n UNION SELECT 2;
-- @ordered
SELECT x FROM (SELECT age AS x FROM users UNION SELECT quantity FROM order_items) u WHERE x IS NOT NULL ORDER BY x LIMIT 8;

-- ===== INSERT / UPDATE / DELETE ============================================
INSERT INTO users (email, name, age) VALUES ('new.user.1@example.com', 'New User', 30) RETURNING id, email, name, age, active, score, profile, created_at IS NOT NULL AS has_created;
INSERT INTO users (email, name) VALUES ('new.user.2@example.com', 'Two'), ('new.user.3@example.com', 'Three') RETURNING email, active;
INSERT INTO users (email, name, profile, avatar) VALUES ('new.user.4@example.com', 'Four', '{"z": 1, "a": {"y": [true, null]}}', '\xdeadbeef') RETURNING profile, avatar;
INSERT INTO users (email, name) VALUES ('new.user.5@example.com', 'Five');
-- @error 23505
INSERT INTO users (email, name) VALUES ('new.user.1@example.com', 'Dup');
INSERT INTO users (email, name) VALUES ('new.user.1@example.com', 'Dup') ON CONFLICT DO NOTHING;
INSERT INTO users (email, name) VALUES ('new.user.1@example.com', 'Dup') ON CONFLICT (email) DO NOTHING RETURNING id;
INSERT INTO users (email, name, age) VALUES ('new.user.1@example.com', 'Renamed', 31) ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name, age = users.age + 1 RETURNING email, name, age;
INSERT INTO users (email, name) VALUES ('new.user.6@example.com', 'Six'), ('new.user.2@example.com', 'Two again') ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name RETURNING email, name;
-- @params new.user.7@example.com | Seven | 27 | {"k": [1, 2]} | \N
INSERT INTO users (email, name, age, profile, score) VALUES ($1, $2, $3, $4, $5) RETURNING email, name, age, profile, score;
-- @params 3 | new.user.7@example.com
UPDATE users SET age = age + $1 WHERE email = $2 RETURNING age;
-- @params new.user.% | 2
-- @ordered
SELECT email, age FROM users WHERE email LIKE $1 ORDER BY email LIMIT $2;
-- @params 100 | 200.5 | 2022-01-01
SELECT count(*) FROM products WHERE price BETWEEN $1 AND $2 AND (released IS NULL OR released >= $3);
-- @params 1.5 | 2
SELECT $1::numeric * $2 AS product, $2::integer + 1 AS next;
SELECT email, name, age FROM users WHERE email LIKE 'new.user.%';
INSERT INTO categories (name) VALUES ('corpus root') RETURNING name, parent_id;
INSERT INTO categories (name, parent_id) SELECT 'corpus child', id FROM categories WHERE name = 'corpus root' RETURNING name;
INSERT INTO products (sku, name, category_id, price) SELECT 'CORPUS-1', 'Corpus product', id, 19.999 FROM categories WHERE name = 'corpus child' RETURNING sku, price, stock, weight, released, attrs;
INSERT INTO products (sku, name, price, stock) VALUES ('CORPUS-2', 'Cheap', 0.01, 5), ('CORPUS-3', 'Pricey', 99999999.99, 0) RETURNING sku, price;
INSERT INTO orders (user_id, total) SELECT id, 10.5 FROM users WHERE email = 'new.user.1@example.com' RETURNING status, total, note, shipped_at;
INSERT INTO order_items (order_id, product_id, quantity, unit_price) SELECT o.id, p.id, 3, p.price FROM orders o, products p WHERE o.total = 10.5 AND o.note IS NULL AND p.sku LIKE 'CORPUS-%' RETURNING quantity, unit_price;
UPDATE products SET stock = stock + 10 WHERE sku LIKE 'CORPUS-%' RETURNING sku, stock;
UPDATE products SET price = price * 1.1 WHERE sku = 'CORPUS-1' RETURNING price;
UPDATE orders SET status = 'paid', note = 'corpus' WHERE total = 10.5 RETURNING status, note;
UPDATE users SET age = NULL WHERE email = 'new.user.3@example.com';
UPDATE users SET active = NOT active WHERE email LIKE 'new.user.%' AND age IS NULL RETURNING email, active;
UPDATE addresses SET zip = NULL WHERE id < 0;
UPDATE order_items SET discount = 0.10 WHERE order_id IN (SELECT id FROM orders WHERE note = 'corpus') RETURNING discount, quantity * unit_price * (1 - discount) AS net;
DELETE FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE note = 'corpus') AND unit_price > 100 RETURNING unit_price;
DELETE FROM products WHERE sku = 'CORPUS-3' RETURNING sku;
DELETE FROM products WHERE sku = 'no such sku';
SELECT count(*) FROM products WHERE sku LIKE 'CORPUS-%';

-- cascades and restrictions
-- @error 23503
DELETE FROM products WHERE sku = 'CORPUS-1';
-- @error 23503
DELETE FROM categories WHERE name = 'corpus root';
SELECT count(*) FROM orders o JOIN users u ON u.id = o.user_id WHERE u.email = 'new.user.1@example.com';
DELETE FROM users WHERE email = 'new.user.1@example.com' RETURNING name;
SELECT count(*) FROM orders WHERE note = 'corpus';
SELECT count(*) FROM order_items i WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = i.order_id);
SELECT count(*) AS users_before FROM users;
DELETE FROM users WHERE id IN (SELECT user_id FROM orders WHERE status = 'cancelled' AND total > 4500);
SELECT count(*) AS users_after FROM users;
SELECT count(*) FROM addresses a WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = a.user_id);
DELETE FROM order_items WHERE product_id IN (SELECT id FROM products WHERE sku = 'CORPUS-1');
DELETE FROM products WHERE sku LIKE 'CORPUS-%';
DELETE FROM categories WHERE name = 'corpus child';
DELETE FROM categories WHERE name = 'corpus root';

-- ===== constraint and statement errors =====================================
-- @error 23503
INSERT INTO orders (user_id) VALUES (999999);
-- @error 23503
INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES (1, 999999, 1, 1.00);
-- @error 23505
INSERT INTO users (email, name) VALUES ('dup@example.com', 'a'), ('dup@example.com', 'b');
-- @error 23505
INSERT INTO categories (id, name) VALUES (1, 'pk clash');
-- @error 23505
UPDATE users SET email = 'new.user.2@example.com' WHERE email = 'new.user.4@example.com';
-- @error 23514
INSERT INTO products (sku, name, price) VALUES ('BAD-1', 'Free', 0);
-- @error 23514
UPDATE products SET stock = -1 WHERE id = 1;
-- @error 23514
INSERT INTO orders (user_id, status) SELECT id, 'lost' FROM users WHERE email = 'new.user.2@example.com';
-- @error 23502
INSERT INTO users (email) VALUES ('no.name@example.com');
-- @error 23502
UPDATE users SET name = NULL WHERE email = 'new.user.2@example.com';
-- @error 23502
INSERT INTO products (sku, name, price) VALUES ('BAD-2', 'No price', NULL);
-- @error 22001
INSERT INTO addresses (user_id, city, country) SELECT id, 'Nowhere', 'USA' FROM users WHERE email = 'new.user.2@example.com';
-- @error 22003
INSERT INTO products (sku, name, price) VALUES ('BAD-3', 'Too dear', 123456789.00);
-- @error 22003
SELECT 2147483647 + 1;
-- @error 22003
SELECT 32767::smallint + 1::smallint;
-- @error 22P02
SELECT 'abc'::integer;
-- @error 22P02
SELECT '1.2.3'::numeric;
-- @error 22P02
SELECT 'maybe'::boolean;
-- @error 22007
SELECT 'garbage'::date;
-- @error 22008
SELECT '2024-02-30'::date;
-- @error 22012
SELECT 1 / 0;
-- @error 22012
SELECT 1.5 / 0;
-- @error 22012
SELECT id / (stock - stock) FROM products WHERE id = 1;
-- @error 22012
SELECT 5 % 0;
-- @error 42P01
SELECT * FROM no_such_table;
-- @error 42P01
INSERT INTO no_such_table VALUES (1);
-- @error 42703
SELECT no_such_column FROM users;
-- @error 42703
SELECT u.id FROM users u WHERE u.nope = 1;
-- @error 42703
UPDATE users SET nope = 1;
-- @error 42702
SELECT id FROM users JOIN orders ON orders.user_id = users.id;
-- @error 42803
SELECT name, count(*) FROM users GROUP BY email;
-- @error 42883
SELECT 'a'::text - 1;
-- @error 42804
SELECT id FROM users WHERE 1;
-- @error 42601
SELEKT 1;
-- @error 42601
SELECT FROM WHERE;
-- @error 42601
SELECT 1 +;
-- @error 42601
INSERT INTO users (email, name VALUES ('x', 'y');
-- @error 42P07
CREATE TABLE users (id INTEGER PRIMARY KEY);

-- ===== transactions ========================================================
BEGIN;
INSERT INTO users (email, name) VALUES ('tx.1@example.com', 'In a transaction');
SELECT count(*) FROM users WHERE email = 'tx.1@example.com';
ROLLBACK;
SELECT count(*) FROM users WHERE email = 'tx.1@example.com';
BEGIN;
INSERT INTO users (email, name) VALUES ('tx.2@example.com', 'Committed');
UPDATE users SET age = 44 WHERE email = 'tx.2@example.com';
COMMIT;
SELECT email, age FROM users WHERE email = 'tx.2@example.com';
BEGIN;
-- @error 22012
SELECT 1 / 0;
-- @error 25P02
SELECT 1;
COMMIT;
SELECT count(*) FROM users WHERE email LIKE 'tx.%';
START TRANSACTION;
DELETE FROM users WHERE email = 'tx.2@example.com';
END;
SELECT count(*) FROM users WHERE email LIKE 'tx.%';
BEGIN ISOLATION LEVEL READ COMMITTED;
SELECT count(*) FROM orders WHERE status = 'new';
COMMIT;
SELECT 1 FROM users WHERE false FOR UPDATE;
BEGIN;
SELECT email FROM users WHERE email = 'tx.1@example.com' OR email LIKE 'new.user.2%' FOR UPDATE;
UPDATE users SET age = 50 WHERE email = 'new.user.2@example.com' RETURNING age;
COMMIT;

-- ===== DDL on a scratch table ==============================================
CREATE TABLE scratch (
    k INTEGER PRIMARY KEY,
    v TEXT DEFAULT 'dflt',
    n NUMERIC(5,1),
    flag BOOLEAN NOT NULL DEFAULT false,
    at DATE
);
INSERT INTO scratch (k) VALUES (1), (2), (3) RETURNING k, v, n, flag, at;
INSERT INTO scratch VALUES (4, 'four', 4.44, true, '2024-04-04') RETURNING *;
-- @ordered
SELECT * FROM scratch ORDER BY k;
CREATE INDEX scratch_v_idx ON scratch (v);
-- @ordered
SELECT k FROM scratch WHERE v = 'dflt' ORDER BY k;
ALTER TABLE scratch ADD COLUMN extra INTEGER DEFAULT 7;
-- @ordered
SELECT k, extra FROM scratch ORDER BY k;
ALTER TABLE scratch DROP COLUMN extra;
-- @error 42703
SELECT extra FROM scratch;
CREATE UNIQUE INDEX scratch_n_idx ON scratch (n);
-- @error 23505
INSERT INTO scratch (k, n) VALUES (5, 4.44);
DROP INDEX scratch_n_idx;
TRUNCATE scratch;
SELECT count(*) FROM scratch;
DROP TABLE scratch;
-- @error 42P01
SELECT * FROM scratch;
DROP TABLE IF EXISTS scratch;
