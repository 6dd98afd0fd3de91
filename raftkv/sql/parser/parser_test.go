package parser

import (
	"reflect"
	"strings"
	"testing"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

func col(name string) *ast.ColumnRef { return &ast.ColumnRef{Column: name} }
func qcol(table, name string) *ast.ColumnRef {
	return &ast.ColumnRef{Table: table, Column: name}
}
func intLit(s string) *ast.Literal { return &ast.Literal{Kind: ast.LitInteger, Text: s} }
func numLit(s string) *ast.Literal { return &ast.Literal{Kind: ast.LitNumeric, Text: s} }
func strLit(s string) *ast.Literal { return &ast.Literal{Kind: ast.LitString, Text: s} }
func param(n int) *ast.Param       { return &ast.Param{N: n} }
func bin(op string, l, r ast.Expr) *ast.BinaryExpr {
	return &ast.BinaryExpr{Op: op, Left: l, Right: r}
}
func call(name string, args ...ast.Expr) *ast.FuncCall { return &ast.FuncCall{Name: name, Args: args} }
func star() *ast.ColumnRef                             { return &ast.ColumnRef{Star: true} }
func core(items []ast.SelectItem, from ...ast.TableExpr) *ast.SelectCore {
	return &ast.SelectCore{Items: items, From: from}
}
func items(exprs ...ast.Expr) []ast.SelectItem {
	var out []ast.SelectItem
	for _, e := range exprs {
		out = append(out, ast.SelectItem{Expr: e})
	}
	return out
}
func table(name string) *ast.TableName { return &ast.TableName{Name: name} }
func typ(name string, mods ...int) ast.TypeName {
	return ast.TypeName{Name: name, Mods: mods}
}

// TestParseTrees checks the exact trees of statements the engine relies on.
func TestParseTrees(t *testing.T) {
	yes := true
	tests := []struct {
		sql  string
		want ast.Statement
	}{
		{
			"CREATE TABLE pgbench_accounts(aid int not null,bid int,abalance int,filler char(84)) with (fillfactor=100)",
			&ast.CreateTable{
				Name: ast.TableName{Name: "pgbench_accounts"},
				Columns: []ast.ColumnDef{
					{Name: "aid", Type: typ("int"), Constraints: []ast.Constraint{{Kind: ast.ConstrNotNull}}},
					{Name: "bid", Type: typ("int")},
					{Name: "abalance", Type: typ("int")},
					{Name: "filler", Type: typ("char", 84)},
				},
			},
		},
		{
			"UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;",
			&ast.Update{
				Table: ast.TableName{Name: "pgbench_accounts"},
				Set:   []ast.SetClause{{Columns: []string{"abalance"}, Value: bin("+", col("abalance"), param(1))}},
				Where: bin("=", col("aid"), param(2)),
			},
		},
		{
			"SELECT abalance FROM pgbench_accounts WHERE aid = $1",
			&ast.Select{Body: &ast.SelectCore{
				Items: items(col("abalance")),
				From:  []ast.TableExpr{table("pgbench_accounts")},
				Where: bin("=", col("aid"), param(1)),
			}},
		},
		{
			"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)",
			&ast.Insert{
				Table:   ast.TableName{Name: "pgbench_history"},
				Columns: []string{"tid", "bid", "aid", "delta", "mtime"},
				Rows: &ast.Select{Body: &ast.Values{Rows: [][]ast.Expr{
					{param(1), param(2), param(3), param(4), call("current_timestamp")},
				}}},
			},
		},
		{"END", &ast.Commit{}},
		{
			"select count(*) from pgbench_branches",
			&ast.Select{Body: core(items(&ast.FuncCall{Name: "count", Star: true}), table("pgbench_branches"))},
		},
		{
			// OR < AND < NOT < comparison < + < * < ^ < unary minus < ::
			"SELECT a OR b AND NOT c = d + e * f ^ -g::int",
			&ast.Select{Body: core(items(
				bin("OR", col("a"), bin("AND", col("b"), &ast.UnaryExpr{Op: "NOT", Operand: bin("=", col("c"),
					bin("+", col("d"), bin("*", col("e"), bin("^", col("f"),
						&ast.UnaryExpr{Op: "-", Operand: &ast.CastExpr{Expr: col("g"), Type: typ("int")}}))))})),
			))},
		},
		{
			"SELECT 1 - 2 - 3, -5, - 2.5, a || b -> 'k' ->> 'j'",
			&ast.Select{Body: core(items(
				bin("-", bin("-", intLit("1"), intLit("2")), intLit("3")),
				intLit("-5"),
				numLit("-2.5"),
				bin("->>", bin("->", bin("||", col("a"), col("b")), strLit("k")), strLit("j")),
			))},
		},
		{
			"SELECT x FROM t WHERE a BETWEEN 1 AND 2 AND b NOT IN (1, 2) AND c IS NOT NULL AND d NOT LIKE 'x%' AND e != f",
			&ast.Select{Body: &ast.SelectCore{
				Items: items(col("x")),
				From:  []ast.TableExpr{table("t")},
				Where: bin("AND", bin("AND", bin("AND", bin("AND",
					&ast.BetweenExpr{Expr: col("a"), Low: intLit("1"), High: intLit("2")},
					&ast.InExpr{Expr: col("b"), List: []ast.Expr{intLit("1"), intLit("2")}, Not: true}),
					&ast.IsNullExpr{Expr: col("c"), Not: true}),
					bin("NOT LIKE", col("d"), strLit("x%"))),
					bin("<>", col("e"), col("f"))),
			}},
		},
		{
			"SELECT DATE '2024-01-01', TIMESTAMP WITH TIME ZONE 'now', CAST(x AS varchar(10)[]), y::double precision",
			&ast.Select{Body: core(items(
				&ast.CastExpr{Expr: strLit("2024-01-01"), Type: typ("date")},
				&ast.CastExpr{Expr: strLit("now"), Type: typ("timestamp with time zone")},
				&ast.CastExpr{Expr: col("x"), Type: ast.TypeName{Name: "varchar", Mods: []int{10}, Array: true}},
				&ast.CastExpr{Expr: col("y"), Type: typ("double precision")},
			))},
		},
		{
			"SELECT count(DISTINCT a) FILTER (WHERE b > 0), EXTRACT(YEAR FROM ts), SUBSTRING(s FROM 2 FOR 3), POSITION('x' IN s), TRIM(LEADING 'x' FROM s)",
			&ast.Select{Body: core(items(
				&ast.FuncCall{Name: "count", Args: []ast.Expr{col("a")}, Distinct: true, Filter: bin(">", col("b"), intLit("0"))},
				call("extract", strLit("year"), col("ts")),
				call("substring", col("s"), intLit("2"), intLit("3")),
				call("position", strLit("x"), col("s")),
				call("ltrim", col("s"), strLit("x")),
			))},
		},
		{
			"SELECT t.*, u.id AS uid, v total FROM t JOIN u ON t.id = u.tid LEFT JOIN v USING (id)",
			&ast.Select{Body: core(
				[]ast.SelectItem{{Expr: &ast.ColumnRef{Table: "t", Star: true}}, {Expr: qcol("u", "id"), Alias: "uid"}, {Expr: col("v"), Alias: "total"}},
				&ast.Join{Kind: "LEFT",
					Left:  &ast.Join{Kind: "INNER", Left: table("t"), Right: table("u"), On: bin("=", qcol("t", "id"), qcol("u", "tid"))},
					Right: table("v"), Using: []string{"id"}},
			)},
		},
		{
			"SELECT 1 UNION SELECT 2 INTERSECT SELECT 3 EXCEPT ALL SELECT 4 ORDER BY 1 DESC NULLS LAST LIMIT 2 OFFSET 1",
			&ast.Select{
				Body: &ast.SetOp{Op: "EXCEPT", All: true,
					Left: &ast.SetOp{Op: "UNION", Left: core(items(intLit("1"))),
						Right: &ast.SetOp{Op: "INTERSECT", Left: core(items(intLit("2"))), Right: core(items(intLit("3")))}},
					Right: core(items(intLit("4")))},
				OrderBy: []ast.OrderItem{{Expr: intLit("1"), Desc: true, NullsFirst: new(bool)}},
				Limit:   intLit("2"),
				Offset:  intLit("1"),
			},
		},
		{
			"WITH RECURSIVE r(n) AS (SELECT 1) SELECT n FROM r FOR UPDATE OF r SKIP LOCKED",
			&ast.Select{
				With:      &ast.With{Recursive: true, CTEs: []ast.CTE{{Name: "r", Columns: []string{"n"}, Query: &ast.Select{Body: core(items(intLit("1")))}}}},
				Body:      core(items(col("n")), table("r")),
				ForUpdate: &ast.Locking{Strength: "UPDATE", Of: []string{"r"}, SkipLocked: true},
			},
		},
		{
			"SELECT a FROM t WHERE x = ANY (SELECT y FROM u) AND NOT EXISTS (SELECT 1) AND (SELECT 2) > 1",
			&ast.Select{Body: &ast.SelectCore{
				Items: items(col("a")),
				From:  []ast.TableExpr{table("t")},
				Where: bin("AND", bin("AND",
					&ast.CompareSubquery{Op: "=", Left: col("x"), Subquery: &ast.Select{Body: core(items(col("y")), table("u"))}},
					&ast.ExistsExpr{Subquery: &ast.Select{Body: core(items(intLit("1")))}, Not: true}),
					bin(">", &ast.SubqueryExpr{Subquery: &ast.Select{Body: core(items(intLit("2")))}}, intLit("1"))),
			}},
		},
		{
			"INSERT INTO t AS x (a, b) VALUES (1, DEFAULT), (2, 3) ON CONFLICT (a) DO UPDATE SET b = excluded.b WHERE x.b < 5 RETURNING *",
			&ast.Insert{
				Table:   ast.TableName{Name: "t", Alias: "x"},
				Columns: []string{"a", "b"},
				Rows:    &ast.Select{Body: &ast.Values{Rows: [][]ast.Expr{{intLit("1"), &ast.Default{}}, {intLit("2"), intLit("3")}}}},
				OnConflict: &ast.OnConflict{Columns: []string{"a"},
					Set:   []ast.SetClause{{Columns: []string{"b"}, Value: qcol("excluded", "b")}},
					Where: bin("<", qcol("x", "b"), intLit("5"))},
				Returning: items(star()),
			},
		},
		{
			"DELETE FROM public.t a USING u WHERE a.id = u.id",
			&ast.Delete{Table: ast.TableName{Schema: "public", Name: "t", Alias: "a"}, Using: []ast.TableExpr{table("u")},
				Where: bin("=", qcol("a", "id"), qcol("u", "id"))},
		},
		{
			"UPDATE t SET (a, b) = (1, 2)",
			&ast.Update{Table: ast.TableName{Name: "t"},
				Set: []ast.SetClause{{Columns: []string{"a", "b"}, Value: &ast.RowExpr{Exprs: []ast.Expr{intLit("1"), intLit("2")}}}}},
		},
		{
			"COPY t (a, b) FROM STDIN WITH (FORMAT csv, HEADER false, DELIMITER '|', NULL 'n')",
			&ast.Copy{Table: ast.TableName{Name: "t"}, Columns: []string{"a", "b"}, Format: "csv", Delimiter: "|", NullStr: strPtr("n")},
		},
		{
			// what pgx's CopyFrom sends
			`copy "t" ( "a", "B" ) from stdin binary;`,
			&ast.Copy{Table: ast.TableName{Name: "t"}, Columns: []string{"a", "B"}, Format: "binary"},
		},
		{
			"COPY t FROM STDIN (FORMAT 'csv', HEADER MATCH)",
			&ast.Copy{Table: ast.TableName{Name: "t"}, Format: "csv", Header: true},
		},
		{
			"COPY t FROM STDIN WITH CSV HEADER DELIMITER AS ','",
			&ast.Copy{Table: ast.TableName{Name: "t"}, Format: "csv", Header: true, Delimiter: ","},
		},
		{
			"CREATE TABLE IF NOT EXISTS o (id serial PRIMARY KEY, c int CONSTRAINT fk REFERENCES cust (id) ON DELETE CASCADE, " +
				"s text DEFAULT 'x' NOT NULL CHECK (s <> ''), n int GENERATED ALWAYS AS IDENTITY, UNIQUE (c, s), CONSTRAINT ck CHECK (n > 0))",
			&ast.CreateTable{
				Name:        ast.TableName{Name: "o"},
				IfNotExists: true,
				Columns: []ast.ColumnDef{
					{Name: "id", Type: typ("serial"), Constraints: []ast.Constraint{{Kind: ast.ConstrPrimaryKey}}},
					{Name: "c", Type: typ("int"), Constraints: []ast.Constraint{{Kind: ast.ConstrForeignKey, Name: "fk",
						RefTable: ast.TableName{Name: "cust"}, RefColumns: []string{"id"}, OnDelete: "CASCADE"}}},
					{Name: "s", Type: typ("text"), Constraints: []ast.Constraint{
						{Kind: ast.ConstrDefault, Expr: strLit("x")}, {Kind: ast.ConstrNotNull},
						{Kind: ast.ConstrCheck, Expr: bin("<>", col("s"), strLit(""))}}},
					{Name: "n", Type: typ("int"), Constraints: []ast.Constraint{{Kind: ast.ConstrIdentity, Always: true}}},
				},
				Constraints: []ast.Constraint{
					{Kind: ast.ConstrUnique, Columns: []string{"c", "s"}},
					{Kind: ast.ConstrCheck, Name: "ck", Expr: bin(">", col("n"), intLit("0"))},
				},
			},
		},
		{
			"ALTER TABLE t ADD PRIMARY KEY (id), ADD COLUMN x int DEFAULT 1, ALTER COLUMN y SET NOT NULL",
			&ast.AlterTable{Name: ast.TableName{Name: "t"}, Actions: []ast.AlterAction{
				{Kind: "ADD CONSTRAINT", Constraint: &ast.Constraint{Kind: ast.ConstrPrimaryKey, Columns: []string{"id"}}},
				{Kind: "ADD COLUMN", Column: &ast.ColumnDef{Name: "x", Type: typ("int"), Constraints: []ast.Constraint{{Kind: ast.ConstrDefault, Expr: intLit("1")}}}},
				{Kind: "ALTER COLUMN SET NOT NULL", Name: "y"},
			}},
		},
		{
			"CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON t USING btree (a DESC, b) WHERE a > 0",
			&ast.CreateIndex{Name: "i", Table: ast.TableName{Name: "t"}, Unique: true, IfNotExists: true,
				Columns: []ast.IndexColumn{{Column: "a", Desc: true}, {Column: "b"}}, Where: bin(">", col("a"), intLit("0"))},
		},
		{"BEGIN ISOLATION LEVEL READ COMMITTED READ ONLY", &ast.Begin{Isolation: "READ COMMITTED", ReadOnly: &yes}},
		{"START TRANSACTION ISOLATION LEVEL SERIALIZABLE", &ast.Begin{Isolation: "SERIALIZABLE", Start: true}},
		{"ROLLBACK TO SAVEPOINT s1", &ast.Rollback{Savepoint: "s1"}},
		{"ABORT", &ast.Rollback{}},
		{"RELEASE s1", &ast.Savepoint{Name: "s1", Release: true}},
		{"SET TIME ZONE 'UTC'", &ast.Set{Name: "timezone", Values: []ast.Expr{strLit("UTC")}}},
		{"SET search_path = public, \"$user\"", &ast.Set{Name: "search_path", Values: []ast.Expr{col("public"), col("$user")}}},
		{"SET LOCAL x TO DEFAULT", &ast.Set{Name: "x", Local: true, Default: true}},
		{"RESET ALL", &ast.Set{Name: "all", Reset: true}},
		{"SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
			&ast.SetTransaction{Isolation: "READ COMMITTED", Session: true}},
		{"SET TRANSACTION READ ONLY", &ast.SetTransaction{ReadOnly: &yes}},
		{"SHOW TRANSACTION ISOLATION LEVEL", &ast.Show{Name: "transaction_isolation"}},
		{"SHOW DateStyle", &ast.Show{Name: "datestyle"}},
		{"EXPLAIN (ANALYZE true, VERBOSE) SELECT 1", &ast.Explain{Analyze: true, Verbose: true, Statement: &ast.Select{Body: core(items(intLit("1")))}}},
		{"CREATE USER u WITH PASSWORD 'p' LOGIN CREATEDB", &ast.CreateRole{Name: "u", User: true, Options: ast.RoleOptions{Password: strPtr("p"), Login: &yes}}},
		{"DROP TABLE IF EXISTS a, s.b CASCADE", &ast.DropTable{Names: []ast.TableName{{Name: "a"}, {Schema: "s", Name: "b"}}, IfExists: true, Cascade: true}},
		{"TRUNCATE a RESTART IDENTITY", &ast.Truncate{Names: []ast.TableName{{Name: "a"}}, RestartIdentity: true}},
		{"SELECT 'a'\n  'b', INTERVAL '2' hour, x = ANY (ARRAY[1, 2]), y <> ALL (ARRAY[3])", &ast.Select{Body: core(items(
			strLit("ab"),
			&ast.CastExpr{Expr: strLit("2 hour"), Type: typ("interval")},
			&ast.InExpr{Expr: col("x"), List: []ast.Expr{intLit("1"), intLit("2")}},
			&ast.InExpr{Expr: col("y"), List: []ast.Expr{intLit("3")}, Not: true},
		))}},
		{"SELECT a FROM t WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default AND x OPERATOR(pg_catalog.~~) y", &ast.Select{Body: &ast.SelectCore{
			Items: items(col("a")),
			From:  []ast.TableExpr{table("t")},
			Where: bin("AND", bin("~", qcol("c", "relname"), strLit("^(t)$")), bin("LIKE", col("x"), col("y"))),
		}}},
		{"SELECT \"Mixed\", MiXeD FROM \"T\"\"q\"", &ast.Select{Body: core(items(col("Mixed"), col("mixed")), table(`T"q`))}},
		{"SELECT E'a\\tb\\\\c\\'', 'x''y', $$a'b$$, $q$$$q$", &ast.Select{Body: core(items(strLit("a\tb\\c'"), strLit("x'y"), strLit("a'b"), strLit("$")))}},
	}
	for _, tt := range tests {
		got := mustParseOne(t, tt.sql)
		stripPos(got)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseOne(%q)\n got %s\nwant %s", tt.sql, ast.Format(got), ast.Format(tt.want))
			continue
		}
		roundTrip(t, tt.sql, got)
	}
}

func strPtr(s string) *string { return &s }

// TestPositions checks the 1-based character offsets recorded in the tree.
func TestPositions(t *testing.T) {
	st := mustParseOne(t, "SELECT é, bb + $1 FROM t")
	c := st.(*ast.Select).Body.(*ast.SelectCore)
	if p := c.Items[0].Expr.(*ast.ColumnRef).Pos; p != 8 {
		t.Errorf("é at %d, want 8", p)
	}
	b := c.Items[1].Expr.(*ast.BinaryExpr)
	if b.Pos != 14 || b.Left.(*ast.ColumnRef).Pos != 11 || b.Right.(*ast.Param).Pos != 16 {
		t.Errorf("positions %d %d %d, want 14 11 16", b.Pos, b.Left.(*ast.ColumnRef).Pos, b.Right.(*ast.Param).Pos)
	}
	if p := c.From[0].(*ast.TableName).Pos; p != 24 {
		t.Errorf("t at %d, want 24", p)
	}
}

// TestParseMany checks statement separation and empty statements.
func TestParseMany(t *testing.T) {
	stmts, err := Parse(";; BEGIN; SELECT 1;; COMMIT ;")
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 3 {
		t.Fatalf("got %d statements, want 3", len(stmts))
	}
	if _, ok := stmts[2].(*ast.Commit); !ok {
		t.Fatalf("third statement is %T", stmts[2])
	}
	for _, blank := range []string{"", "  ", ";", "-- only a comment", "/* c */ ;"} {
		stmts, err := Parse(blank)
		if err != nil || len(stmts) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want no statements", blank, stmts, err)
		}
	}
	if _, err := ParseOne("SELECT 1; SELECT 2"); sqlerr.Code(err) != sqlerr.SyntaxError {
		t.Errorf("ParseOne of two statements: %v", err)
	}
	if _, err := ParseOne(" "); sqlerr.Code(err) != sqlerr.SyntaxError {
		t.Errorf("ParseOne of nothing: %v", err)
	}
}

// TestParseExpr checks the expression entry point used for stored DEFAULT and CHECK text.
func TestParseExpr(t *testing.T) {
	for _, s := range []string{"now()", "price > 0 AND price < 100", "CAST('x' AS text)", "-1", "'a' || b", "nextval('s')", "status IN ('a', 'b')"} {
		e, err := ParseExpr(s)
		if err != nil {
			t.Fatalf("ParseExpr(%q): %v", s, err)
		}
		text := ast.Format(e)
		back, err := ParseExpr(text)
		if err != nil {
			t.Fatalf("ParseExpr(Format(%q) = %q): %v", s, text, err)
		}
		stripPos(e)
		stripPos(back)
		if !reflect.DeepEqual(e, back) {
			t.Errorf("%q → %q parses differently", s, text)
		}
	}
	if _, err := ParseExpr("1 2"); sqlerr.Code(err) != sqlerr.SyntaxError {
		t.Errorf("ParseExpr(\"1 2\") = %v, want a syntax error", err)
	}
}

// TestUnsupportedStatements checks that recognised but unsupported
// statements come back as *ast.Unsupported naming them, and that parsing
// resumes after them.
func TestUnsupportedStatements(t *testing.T) {
	tests := []struct{ sql, name string }{
		{"GRANT SELECT ON t TO bob", "GRANT"},
		{"REVOKE ALL ON t FROM bob", "REVOKE"},
		{"CREATE VIEW v AS SELECT 1", "CREATE VIEW"},
		{"CREATE OR REPLACE VIEW v AS SELECT ';'", "CREATE VIEW"},
		{"CREATE MATERIALIZED VIEW v AS SELECT 1", "CREATE MATERIALIZED VIEW"},
		{"CREATE SCHEMA s", "CREATE SCHEMA"},
		{"CREATE DATABASE d", "CREATE DATABASE"},
		{"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql", "CREATE FUNCTION"},
		{"CREATE OR REPLACE FUNCTION f() RETURNS int AS $body$ BEGIN; END $body$ LANGUAGE plpgsql", "CREATE FUNCTION"},
		{"CREATE TRIGGER tr AFTER INSERT ON t EXECUTE FUNCTION f()", "CREATE TRIGGER"},
		{"CREATE EXTENSION IF NOT EXISTS pgcrypto", "CREATE EXTENSION"},
		{"CREATE SEQUENCE s START 1", "CREATE SEQUENCE"},
		{"CREATE TYPE mood AS ENUM ('a', 'b')", "CREATE TYPE"},
		{"CREATE TEMP TABLE x (a int)", "CREATE TEMPORARY TABLE"},
		{"CREATE TABLE x AS SELECT 1", "CREATE TABLE AS"},
		{"DROP VIEW v", "DROP VIEW"},
		{"DROP SCHEMA s CASCADE", "DROP SCHEMA"},
		{"ALTER SEQUENCE s RESTART", "ALTER SEQUENCE"},
		{"ALTER SYSTEM SET work_mem = '1MB'", "ALTER SYSTEM"},
		{"CREATE CONSTRAINT TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", "CREATE CONSTRAINT TRIGGER"},
		{"ALTER ROLE bob SET search_path = x", "ALTER ROLE SET"},
		{"DROP FUNCTION f(int)", "DROP FUNCTION"},
		{"ALTER INDEX i RENAME TO j", "ALTER INDEX"},
		{"ALTER TABLE t OWNER TO bob", "ALTER TABLE OWNER"},
		{"ALTER TABLE t ALTER COLUMN a TYPE bigint", "ALTER TABLE ALTER COLUMN TYPE"},
		{"VACUUM ANALYZE t", "VACUUM"},
		{"ANALYZE t", "ANALYZE"},
		{"LISTEN ch", "LISTEN"},
		{"NOTIFY ch, 'x'", "NOTIFY"},
		{"DO $$ BEGIN RAISE NOTICE 'x;'; END $$", "DO"},
		{"CALL p(1)", "CALL"},
		{"LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "LOCK"},
		{"PREPARE q (int) AS SELECT $1", "PREPARE"},
		{"PREPARE TRANSACTION 'x'", "PREPARE TRANSACTION"},
		{"EXECUTE q (1)", "EXECUTE"},
		{"DEALLOCATE ALL", "DEALLOCATE"},
		{"DISCARD ALL", "DISCARD"},
		{"COMMENT ON TABLE t IS 'x'", "COMMENT"},
		{"MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", "MERGE"},
		{"REINDEX TABLE t", "REINDEX"},
		{"CLUSTER t", "CLUSTER"},
		{"CHECKPOINT", "CHECKPOINT"},
		{"DECLARE c CURSOR FOR SELECT 1", "DECLARE"},
		{"FETCH 10 FROM c", "FETCH"},
		{"CLOSE c", "CLOSE"},
		{"COPY (SELECT 1) TO STDOUT", "COPY (query) TO"},
		{"COPY t FROM '/tmp/x.csv'", "COPY FROM a file or program"},
		{"SET ROLE admin", "SET ROLE"},
		{"SET SESSION AUTHORIZATION bob", "SET SESSION AUTHORIZATION"},
	}
	for _, tt := range tests {
		stmts, err := Parse(tt.sql + "; SELECT 1")
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.sql, err)
			continue
		}
		if len(stmts) != 2 {
			t.Errorf("Parse(%q): %d statements, want 2", tt.sql, len(stmts))
			continue
		}
		u, ok := stmts[0].(*ast.Unsupported)
		if !ok || u.Name != tt.name || u.Pos != 1 {
			t.Errorf("Parse(%q)[0] = %#v, want Unsupported %q at 1", tt.sql, stmts[0], tt.name)
		}
	}
}

// TestErrors checks every class of error with its code, message and position.
func TestErrors(t *testing.T) {
	tests := []struct {
		sql  string
		code string
		msg  string
		pos  int32
	}{
		{"SELEC 1", sqlerr.SyntaxError, `syntax error at or near "SELEC"`, 1},
		{"SELECT * FORM t", sqlerr.SyntaxError, `syntax error at or near "FORM"`, 10},
		{"SELECT 1 +", sqlerr.SyntaxError, "syntax error at end of input", 11},
		{"SELECT (1", sqlerr.SyntaxError, "syntax error at end of input", 10},
		{"SELECT a FROM t WHERE", sqlerr.SyntaxError, "syntax error at end of input", 22},
		{"SELECT 1 2", sqlerr.SyntaxError, `syntax error at or near "2"`, 10},
		{"SELECT é FROM t WHERE )", sqlerr.SyntaxError, `syntax error at or near ")"`, 23},
		{"SELECT 'abc", sqlerr.SyntaxError, `unterminated quoted string at or near "'abc"`, 8},
		{"SELECT E'abc\\'", sqlerr.SyntaxError, `unterminated quoted string at or near "E'abc\'"`, 8},
		{`SELECT "abc`, sqlerr.SyntaxError, `unterminated quoted identifier at or near ""abc"`, 8},
		{`SELECT ""`, sqlerr.SyntaxError, `zero-length delimited identifier at or near """"`, 8},
		{"SELECT $$abc", sqlerr.SyntaxError, `unterminated dollar-quoted string at or near "$$abc"`, 8},
		{"SELECT 1 /* a /* b */", sqlerr.SyntaxError, `unterminated /* comment at or near "/* a /* b */"`, 10},
		{"SELECT é, 1 \\ 2", sqlerr.SyntaxError, `syntax error at or near "\"`, 13},
		{"SELECT 1 € 2", sqlerr.SyntaxError, `syntax error at or near "2"`, 12}, // € is an identifier character, as in PostgreSQL
		{"SELECT 123abc", sqlerr.SyntaxError, `trailing junk after numeric literal at or near "123a"`, 8},
		{"SELECT $0", sqlerr.SyntaxError, `syntax error at or near "$0"`, 8},
		{"SELECT $", sqlerr.SyntaxError, `syntax error at or near "$"`, 8},
		{"SELECT a FROM t WHERE a = ANY($1)", sqlerr.FeatureNotSupported, "ANY with an array is not supported; use a subquery or IN", 27},
		{"SELECT count(*) OVER () FROM t", sqlerr.FeatureNotSupported, "window functions are not supported", 17},
		{"SELECT a[1] FROM t", sqlerr.FeatureNotSupported, "array subscripts are not supported", 9},
		{"SELECT * FROM t LIMIT 1, 2", sqlerr.FeatureNotSupported, "LIMIT #,# syntax is not supported", 24},
		{"INSERT INTO t VALUES (1) ON CONFLICT DO UPDATE SET a = 1", sqlerr.SyntaxError, "ON CONFLICT DO UPDATE requires inference specification or constraint name", 52},
		{"COPY t FROM STDIN (FORMAT xml)", sqlerr.InvalidParameterValue, `COPY format "xml" not recognized`, 27},
		{"COPY t FROM STDIN (BOGUS 1)", sqlerr.SyntaxError, `option "bogus" not recognized`, 20},
		{"CREATE TABLE t (a int CONSTRAINT c)", sqlerr.SyntaxError, `syntax error at or near ")"`, 35},
		{"CREATE TABLE t (a varchar(x))", sqlerr.SyntaxError, `syntax error at or near "x"`, 27},
		{"CREATE INDEX ON t USING gin (a)", sqlerr.FeatureNotSupported, "index method gin is not supported", 25},
		{"CREATE INDEX ON t (lower(a))", sqlerr.FeatureNotSupported, "index expressions are not supported", 20},
		{`SELECT a FROM t ORDER BY a COLLATE "C"`, sqlerr.FeatureNotSupported, "COLLATE is not supported", 28},
		{"SELECT a OPERATOR(pg_catalog.foo) b", sqlerr.SyntaxError, `syntax error at or near "foo"`, 30},
		{"SELECT a FROM t AS select", sqlerr.SyntaxError, `syntax error at or near "select"`, 20},
		{"SELECT 1; SELEC 2", sqlerr.SyntaxError, `syntax error at or near "SELEC"`, 11},
		{"SELECT CASE END", sqlerr.SyntaxError, `syntax error at or near "END"`, 13},
		{"SELECT x FROM", sqlerr.SyntaxError, "syntax error at end of input", 14},
		{"SELECT 'a' 'b'", sqlerr.SyntaxError, `syntax error at or near "'b'"`, 12},
		{"SELECT * FROM (SELECT 1)", sqlerr.SyntaxError, "subquery in FROM must have an alias", 15},
		{"SELECT * FROM t JOIN u", sqlerr.SyntaxError, "syntax error at end of input", 23},
		{"SELECT * FROM t NATURAL JOIN u ON true", sqlerr.SyntaxError, `syntax error at or near "ON"`, 32},
		{"SELECT a FROM t GROUP a", sqlerr.SyntaxError, `syntax error at or near "GROUP"`, 17},
		{"BEGIN ISOLATION LEVEL FOO", sqlerr.SyntaxError, `syntax error at or near "FOO"`, 23},
		{"CREATE TABLE t (a int", sqlerr.SyntaxError, "syntax error at end of input", 22},
		{"CREATE FOO", sqlerr.SyntaxError, `syntax error at or near "FOO"`, 8},
		{"DROP", sqlerr.SyntaxError, "syntax error at end of input", 5},
		{"ALTER TABLE t", sqlerr.SyntaxError, "syntax error at end of input", 14},
		{"SET x", sqlerr.SyntaxError, "syntax error at end of input", 6},
		{"COPY t", sqlerr.SyntaxError, "syntax error at end of input", 7},
		{"INSERT INTO t", sqlerr.SyntaxError, "syntax error at end of input", 14},
		{"UPDATE t WHERE a = 1", sqlerr.SyntaxError, `syntax error at or near "WHERE"`, 10},
		{"DELETE t", sqlerr.SyntaxError, `syntax error at or near "t"`, 8},
		{"EXPLAIN COMMIT", sqlerr.SyntaxError, `syntax error at or near "COMMIT"`, 9},
		{"SELECT 1 FROM t WHERE a IN ()", sqlerr.SyntaxError, `syntax error at or near ")"`, 29},
		{"CREATE TABLE t (a int GENERATED ALWAYS AS (b) STORED)", sqlerr.FeatureNotSupported, "generated columns are not supported", 43},
		{"SELECT x <> ANY (ARRAY[1])", sqlerr.FeatureNotSupported, "ANY with an array is not supported; use a subquery or IN", 13},
		{"SELECT INTERVAL '1' YEAR TO MONTH", sqlerr.FeatureNotSupported, "interval field ranges are not supported", 26},
		{"SELECT numeric(99999999999) '1'", sqlerr.SyntaxError, `syntax error at or near "'1'"`, 29},
	}
	for _, tt := range tests {
		_, err := Parse(tt.sql)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want %s", tt.sql, tt.msg)
			continue
		}
		e := asSQLErr(t, err)
		if e.Code != tt.code || e.Message != tt.msg || e.Position != tt.pos {
			t.Errorf("Parse(%q) = %s %q at %d, want %s %q at %d", tt.sql, e.Code, e.Message, e.Position, tt.code, tt.msg, tt.pos)
		}
	}
}

// TestTooComplex checks that deep nesting is refused with an error, not a
// stack overflow, and that adversarial parenthesisation parses quickly.
func TestTooComplex(t *testing.T) {
	deep := "SELECT " + strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000)
	_, err := Parse(deep)
	if e := asSQLErr(t, err); e.Code != sqlerr.ProgramLimitExceeded {
		t.Fatalf("deep nesting: %v, want %s", err, sqlerr.ProgramLimitExceeded)
	}
	for _, q := range []string{
		"SELECT " + strings.Repeat("- ", 5000) + "1",
		"SELECT " + strings.Repeat("NOT ", 5000) + "true",
		"SELECT * FROM t WHERE a IN " + strings.Repeat("(SELECT a FROM t WHERE a IN ", 2000) + "(1)" + strings.Repeat(")", 2000),
		strings.Repeat("(", 3000) + "SELECT 1" + strings.Repeat(")", 3000),
	} {
		if _, err := Parse(q); sqlerr.Code(err) != sqlerr.ProgramLimitExceeded {
			t.Errorf("Parse(%.40q…) = %v, want %s", q, err, sqlerr.ProgramLimitExceeded)
		}
	}
	ok := "SELECT " + strings.Repeat("(", 200) + "1" + strings.Repeat(")", 200)
	if _, err := Parse(ok); err != nil {
		t.Errorf("200 levels of parentheses: %v", err)
	}
	// ((select (( select … ) + 1) + 1): each level is first tried as a
	// parenthesised query, then as an expression; memoisation keeps it linear.
	nested := "1"
	for i := 0; i < 60; i++ {
		nested = "((SELECT " + nested + ") + 1)"
	}
	if _, err := Parse("SELECT " + nested); err != nil {
		t.Fatalf("nested subquery expressions: %v", err)
	}
	bad := "1 +"
	for i := 0; i < 60; i++ {
		bad = "((SELECT " + bad + ") + 1)"
	}
	if _, err := Parse("SELECT " + bad); sqlerr.Code(err) != sqlerr.SyntaxError {
		t.Fatalf("nested bad subquery expressions: %v", err)
	}
}
