package schema

import (
	"context"
	"testing"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

func TestAddColumnDefaultForOldRows(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE TABLE t (id INT PRIMARY KEY, a TEXT)`)
	e.mustInsert("t", []any{1, "x"}, []any{2, "y"})
	e.mustExec(`ALTER TABLE t ADD COLUMN n INT NOT NULL DEFAULT 7`)
	_, tb := e.table("t")
	if c := tb.Columns[2]; c.AddedDefault == nil || c.AddedDefault.Int != 7 || c.Default != "7" {
		t.Fatalf("added column %+v", c)
	}
	e.mustInsert("t", []any{3, "z", 8})
	// An explicit NULL in a later-added nullable column stays NULL.
	e.mustExec(`ALTER TABLE t ADD COLUMN m TEXT DEFAULT 'd'`)
	e.mustInsert("t", []any{4, "w", 9, nil})
	if got := join(e.rows("t")); got != "(1, x, 7, d) (2, y, 7, d) (3, z, 8, d) (4, w, 9, null)" {
		t.Fatalf("rows %s", got)
	}
	// Updating an old row writes the default for real; dropping the
	// default later does not change what old rows read.
	if err := e.updateWhere("t", "id", 1, "a", "X"); err != nil {
		t.Fatal(err)
	}
	e.mustExec(`ALTER TABLE t ALTER COLUMN n DROP DEFAULT`)
	if got := join(e.rows("t")); got != "(1, X, 7, d) (2, y, 7, d) (3, z, 8, d) (4, w, 9, null)" {
		t.Fatalf("rows after DROP DEFAULT %s", got)
	}
	// NOT NULL without a default on a table with rows.
	wantErr(t, e.exec(`ALTER TABLE t ADD COLUMN q INT NOT NULL`), sqlerr.NotNullViolation,
		`column "q" of relation "t" contains null values`, "")
	wantErr(t, e.exec(`ALTER TABLE t ADD COLUMN q INT NOT NULL DEFAULT NULL`), sqlerr.NotNullViolation,
		`column "q" of relation "t" contains null values`, "")
	// SERIAL numbers the existing rows in primary key order and the
	// sequence goes on from there, without an evaluator.
	err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		return AlterTable(ctx, txn, cat, parse1(t, `ALTER TABLE t ADD COLUMN s SERIAL`).(*ast.AlterTable))
	})
	if err != nil {
		t.Fatal(err)
	}
	e.mustInsert("t", []any{5, "v", 1, "e", nil})
	if got := join(e.rows("t")); got != "(1, X, 7, d, 1) (2, y, 7, d, 2) (3, z, 8, d, 3) (4, w, 9, null, 4) (5, v, 1, e, 5)" {
		t.Fatalf("rows after ADD COLUMN SERIAL %s", got)
	}
	// A volatile default needs an evaluator.
	err = e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		return AlterTable(ctx, txn, cat, parse1(t, `ALTER TABLE t ADD COLUMN ts TIMESTAMP DEFAULT now()`).(*ast.AlterTable))
	})
	wantCode(t, err, sqlerr.FeatureNotSupported)
	// ADD COLUMN … UNIQUE with a constant default on 4 rows is a duplicate.
	wantErr(t, e.exec(`ALTER TABLE t ADD COLUMN u INT DEFAULT 1 UNIQUE`), sqlerr.UniqueViolation,
		`could not create unique index "t_u_key"`, "Key (u)=(1) is duplicated.")
	e.mustExec(`ALTER TABLE t ADD COLUMN IF NOT EXISTS a INT`)
	wantErr(t, e.exec(`ALTER TABLE t ADD COLUMN a INT`), sqlerr.DuplicateColumn, `column "a" of relation "t" already exists`, "")
}

func TestDropColumn(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE TABLE p (id INT PRIMARY KEY, code TEXT UNIQUE);
CREATE TABLE t (id INT PRIMARY KEY, a INT CHECK (a > 0), b TEXT, c INT REFERENCES p, d INT);
CREATE INDEX t_b ON t (b); CREATE INDEX t_bd ON t (b, d)`)
	e.mustInsert("p", []any{1, "one"})
	e.mustInsert("t", []any{1, 5, "x", 1, 10}, []any{2, 6, "y", nil, 20})
	e.mustExec(`ALTER TABLE t DROP COLUMN a`)
	_, tb := e.table("t")
	if len(tb.Checks) != 0 || len(tb.Columns) != 4 {
		t.Fatalf("after DROP COLUMN a: %+v", tb)
	}
	// The check went with the column: a row that would violate it is fine.
	e.mustInsert("t", []any{3, "z", nil, 30})
	if got := join(e.rows("t")); got != "(1, x, 1, 10) (2, y, null, 20) (3, z, null, 30)" {
		t.Fatalf("rows %s", got)
	}
	// Indexes on the column are dropped; the others still work with shifted ordinals.
	e.mustExec(`ALTER TABLE t DROP COLUMN b`)
	_, tb = e.table("t")
	if len(tb.Indexes) != 0 {
		t.Fatalf("indexes after DROP COLUMN b: %+v", tb.Indexes)
	}
	e.mustExec(`CREATE INDEX t_d ON t (d)`)
	if got := join(lookupText(t, e, "t", 0, 20)); got != "(2, null, 20)" {
		t.Fatalf("lookup by d: %s", got)
	}
	// The foreign key goes with its column; a referenced column needs CASCADE.
	e.mustExec(`ALTER TABLE t DROP COLUMN c`)
	_, tb = e.table("t")
	if len(tb.ForeignKeys) != 0 {
		t.Fatalf("fks after DROP COLUMN c: %+v", tb.ForeignKeys)
	}
	e.mustExec(`CREATE TABLE r (code TEXT REFERENCES p (code))`)
	wantCode(t, e.exec(`ALTER TABLE p DROP COLUMN code`), sqlerr.DependentObjectsStillExist)
	e.mustExec(`ALTER TABLE p DROP COLUMN code CASCADE`)
	if _, r := e.table("r"); len(r.ForeignKeys) != 0 {
		t.Fatalf("r keeps its fk: %+v", r.ForeignKeys)
	}
	wantErr(t, e.exec(`ALTER TABLE t DROP COLUMN nope`), sqlerr.UndefinedColumn, `column "nope" of relation "t" does not exist`, "")
	e.mustExec(`ALTER TABLE t DROP COLUMN IF EXISTS nope`)
	// Re-adding a column of a dropped name reads NULL, not the old data.
	e.mustExec(`ALTER TABLE t ADD COLUMN a INT`)
	if got := join(e.rows("t")); got != "(1, 10, null) (2, 20, null) (3, 30, null)" {
		t.Fatalf("rows after re-adding a: %s", got)
	}
	// Dropping the primary key column rewrites the rows under a hidden rowid.
	e.mustExec(`ALTER TABLE t DROP COLUMN id`)
	_, tb = e.table("t")
	if !tb.HasHiddenKey() || len(tb.Columns) != 3 {
		t.Fatalf("after DROP COLUMN id: %+v", tb)
	}
	e.mustInsert("t", []any{40, 4})
	if got := join(e.rows("t")); got != "(10, null) (20, null) (30, null) (40, 4)" {
		t.Fatalf("rows after DROP COLUMN id: %s", got)
	}
	if got := join(lookupText(t, e, "t", 0, 20)); got != "(20, null)" {
		t.Fatalf("index lookup after the rewrite: %s", got)
	}
}

func TestPrimaryKeyRewrite(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE TABLE h (a INT, b TEXT UNIQUE); CREATE TABLE c (x TEXT REFERENCES h (b))`)
	e.mustInsert("h", []any{2, "x"}, []any{1, "y"}, []any{1, "z"})
	e.mustInsert("c", []any{"y"})
	wantErr(t, e.exec(`ALTER TABLE h ADD PRIMARY KEY (a)`), sqlerr.UniqueViolation,
		`could not create unique index "h_pkey"`, "Key (a)=(1) is duplicated.")
	e.mustInsert("h", []any{nil, "w"})
	e.mustExec(`CREATE TABLE n (a INT, b INT)`)
	e.mustInsert("n", []any{1, 1}, []any{nil, 2})
	wantErr(t, e.exec(`ALTER TABLE n ADD PRIMARY KEY (a)`), sqlerr.NotNullViolation, `column "a" of relation "n" contains null values`, "")
	e.mustExec(`ALTER TABLE h ADD PRIMARY KEY (b)`)
	_, h := e.table("h")
	if h.HasHiddenKey() || len(h.Columns) != 2 {
		t.Fatalf("h after ADD PRIMARY KEY: %+v", h)
	}
	if got := join(e.rows("h")); got != "(null, w) (2, x) (1, y) (1, z)" {
		t.Fatalf("rows in the new key order: %s", got)
	}
	wantCode(t, e.insert("h", []any{5, "x"}), sqlerr.UniqueViolation)
	// The referencing table follows the new table id.
	wantErr(t, e.deleteWhere("h", "b", "y"), sqlerr.ForeignKeyViolation,
		`update or delete on table "h" violates foreign key constraint "c_x_fkey" on table "c"`, `Key (b)=(y) is still referenced from table "c".`)
	wantCode(t, e.insert("c", []any{"nope"}), sqlerr.ForeignKeyViolation)
	e.mustInsert("c", []any{"w"})
	// Back to a hidden rowid.
	e.mustExec(`ALTER TABLE h DROP CONSTRAINT h_pkey`)
	if got := join(e.rows("h")); got != "(null, w) (2, x) (1, y) (1, z)" {
		t.Fatalf("rows after DROP CONSTRAINT h_pkey: %s", got)
	}
	e.mustInsert("h", []any{3, "v"})
	if got := join(lookupText(t, e, "h", 0, "v")); got != "(3, v)" {
		t.Fatalf("lookup of a row inserted after the rewrite: %s", got)
	}
	// A user column named rowid pushes the hidden one aside.
	e.mustExec(`ALTER TABLE h ADD COLUMN rowid TEXT DEFAULT 'mine'`)
	cat, h := e.table("h")
	o, _ := h.Column("rowid")
	if h.Columns[o].Hidden || !h.HasHiddenKey() || h.Columns[h.PrimaryKey[0]].Name != "rowid_1" {
		t.Fatalf("columns %+v", h.Columns)
	}
	if s, _ := cat.Sequence(h.Columns[h.PrimaryKey[0]].Sequence); s.OwnerColumn != "rowid_1" {
		t.Fatalf("hidden sequence owner %+v", s)
	}
	e.mustInsert("h", []any{4, "u", "r"})
	if got := join(lookupText(t, e, "h", 0, "u")); got != "(4, u, r)" {
		t.Fatalf("row with a user rowid: %s", got)
	}
}

func TestAlterConstraintsAndRenames(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE TABLE p (id INT PRIMARY KEY); CREATE TABLE t (id INT PRIMARY KEY, a INT, pid INT)`)
	e.mustInsert("p", []any{1})
	e.mustInsert("t", []any{1, 5, 1}, []any{2, -1, 2})
	wantErr(t, e.exec(`ALTER TABLE t ADD CONSTRAINT pos CHECK (a > 0)`), sqlerr.CheckViolation,
		`check constraint "pos" of relation "t" is violated by some row`, "")
	wantErr(t, e.exec(`ALTER TABLE t ADD FOREIGN KEY (pid) REFERENCES p`), sqlerr.ForeignKeyViolation,
		`insert or update on table "t" violates foreign key constraint "t_pid_fkey"`, `Key (pid)=(2) is not present in table "p".`)
	e.mustInsert("p", []any{2})
	e.mustExec(`ALTER TABLE t ADD FOREIGN KEY (pid) REFERENCES p`)
	if err := e.updateWhere("t", "id", 2, "a", 3); err != nil {
		t.Fatal(err)
	}
	e.mustExec(`ALTER TABLE t ADD CONSTRAINT pos CHECK (a > 0), ADD UNIQUE (a)`)
	wantErr(t, e.exec(`ALTER TABLE t ADD CONSTRAINT pos CHECK (a > 1)`), sqlerr.DuplicateObject,
		`constraint "pos" for relation "t" already exists`, "")
	wantCode(t, e.insert("t", []any{3, 0, nil}), sqlerr.CheckViolation)
	wantErr(t, e.insert("t", []any{3, 5, nil}), sqlerr.UniqueViolation, `duplicate key value violates unique constraint "t_a_key"`, "Key (a)=(5) already exists.")

	// RENAME COLUMN rewrites the CHECK's expression.
	e.mustExec(`ALTER TABLE t RENAME COLUMN a TO amount`)
	_, tb := e.table("t")
	if tb.Checks[0].Expr != "amount > 0" && tb.Checks[0].Expr != "(amount > 0)" {
		t.Fatalf("check after rename: %q", tb.Checks[0].Expr)
	}
	wantCode(t, e.insert("t", []any{3, 0, nil}), sqlerr.CheckViolation)
	// RENAME TO keeps references working.
	e.mustExec(`ALTER TABLE p RENAME TO parent`)
	if _, tb := e.table("t"); tb.ForeignKeys[0].RefTable != "parent" {
		t.Fatalf("fk after rename: %+v", tb.ForeignKeys[0])
	}
	wantErr(t, e.insert("t", []any{4, 9, 7}), sqlerr.ForeignKeyViolation,
		`insert or update on table "t" violates foreign key constraint "t_pid_fkey"`, `Key (pid)=(7) is not present in table "parent".`)
	// DROP CONSTRAINT of each kind.
	e.mustExec(`ALTER TABLE t DROP CONSTRAINT pos, DROP CONSTRAINT t_a_key, DROP CONSTRAINT t_pid_fkey`)
	e.mustInsert("t", []any{4, 0, 7}, []any{5, 0, 8}, []any{6, 0, nil})
	wantErr(t, e.exec(`ALTER TABLE t DROP CONSTRAINT pos`), sqlerr.UndefinedObject, `constraint "pos" of relation "t" does not exist`, "")
	// SET / DROP NOT NULL.
	wantErr(t, e.exec(`ALTER TABLE t ALTER COLUMN pid SET NOT NULL`), sqlerr.NotNullViolation,
		`column "pid" of relation "t" contains null values`, "")
	e.mustExec(`ALTER TABLE t ALTER COLUMN amount SET NOT NULL`)
	wantCode(t, e.insert("t", []any{7, nil, 1}), sqlerr.NotNullViolation)
	wantErr(t, e.exec(`ALTER TABLE t ALTER COLUMN id DROP NOT NULL`), "42P16", `column "id" is in a primary key`, "")
	// ADD PRIMARY KEY to an empty table replaces the hidden rowid.
	e.mustExec(`CREATE TABLE h (a INT, b TEXT)`)
	e.mustExec(`ALTER TABLE h ADD PRIMARY KEY (a)`)
	_, h := e.table("h")
	if h.HasHiddenKey() || len(h.Columns) != 2 || h.PrimaryKeyName != "h_pkey" {
		t.Fatalf("h after ADD PRIMARY KEY: %+v", h)
	}
	e.mustInsert("h", []any{1, "x"})
	wantCode(t, e.insert("h", []any{1, "y"}), sqlerr.UniqueViolation)
	e.mustExec(`ALTER TABLE IF EXISTS nope ADD COLUMN x INT`)
	wantErr(t, e.exec(`ALTER TABLE nope ADD COLUMN x INT`), sqlerr.UndefinedTable, `relation "nope" does not exist`, "")
	wantErr(t, e.exec(`TRUNCATE nope`), sqlerr.UndefinedTable, `relation "nope" does not exist`, "")
	wantErr(t, e.exec(`CREATE INDEX ON nope (a)`), sqlerr.UndefinedTable, `relation "nope" does not exist`, "")
}

func TestHiddenRowidAndSequences(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE TABLE log (msg TEXT, n INT)`)
	cat, tb := e.table("log")
	if !tb.HasHiddenKey() || tb.Columns[2].Name != "rowid" || tb.Columns[2].Sequence != "log_rowid_seq" {
		t.Fatalf("hidden key: %+v", tb)
	}
	if _, ok := cat.Sequence("log_rowid_seq"); !ok {
		t.Fatal("no rowid sequence")
	}
	e.mustInsert("log", []any{"a", 1}, []any{"a", 1}, []any{"b", nil})
	if got := join(e.rows("log")); got != "(a, 1) (a, 1) (b, null)" {
		t.Fatalf("rows %s", got)
	}
	// Sequences are not transactional: a rolled-back insert leaves a gap.
	e.mustExec(`CREATE TABLE s (id SERIAL PRIMARY KEY, v TEXT NOT NULL)`)
	ctx := ctxT(t)
	next := func() int64 {
		t.Helper()
		var n int64
		err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
			var err error
			n, err = NextVal(ctx, e.db, cat, "s_id_seq")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := next(); n != 1 {
		t.Fatalf("first nextval %d", n)
	}
	txn := e.db.Begin(kvtxn.Serializable)
	cat, err := Load(ctx, txn)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := NextVal(ctx, e.db, cat, "s_id_seq"); err != nil || n != 2 {
		t.Fatalf("nextval in a txn: %d %v", n, err)
	}
	txn.Rollback()
	if n := next(); n != 3 {
		t.Fatalf("nextval after rollback %d, want 3", n)
	}
	// Concurrent callers get distinct values.
	const workers, each = 8, 10
	seen := make(chan int64, workers*each)
	errs := make(chan error, workers)
	_, _ = e.table("s")
	var scat *Catalog
	_ = e.in(func(_ context.Context, _ *kvtxn.Txn, c *Catalog) error { scat = c; return nil })
	for range workers {
		go func() {
			for range each {
				n, err := NextVal(ctx, e.db, scat, "s_id_seq")
				if err != nil {
					errs <- err
					return
				}
				seen <- n
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(seen)
	got := map[int64]bool{}
	for n := range seen {
		if got[n] {
			t.Fatalf("nextval returned %d twice", n)
		}
		got[n] = true
	}
	// TRUNCATE … RESTART IDENTITY restarts; without it the sequence goes on.
	e.mustExec(`TRUNCATE s`)
	if n := next(); n != 4+workers*each {
		t.Fatalf("nextval after TRUNCATE %d", n)
	}
	e.mustExec(`TRUNCATE s RESTART IDENTITY`)
	if n := next(); n != 1 {
		t.Fatalf("nextval after RESTART IDENTITY %d", n)
	}
	wantErr(t, e.in(func(ctx context.Context, _ *kvtxn.Txn, cat *Catalog) error {
		_, err := NextVal(ctx, e.db, cat, "nope")
		return err
	}), sqlerr.UndefinedTable, `relation "nope" does not exist`, "")
	// A smallserial runs out at 32767.
	e.mustExec(`CREATE TABLE tiny (id SMALLSERIAL)`)
	cat, _ = e.table("tiny")
	if s, _ := cat.Sequence("tiny_id_seq"); s.Max != 32767 {
		t.Fatalf("smallserial max %d", s.Max)
	}
}

func TestRoles(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE USER alice WITH PASSWORD 'pw1'; CREATE ROLE readers`)
	get := func(name string) (string, bool) {
		var s string
		var ok bool
		err := e.in(func(ctx context.Context, txn *kvtxn.Txn, _ *Catalog) error {
			var err error
			s, ok, err = RoleSecret(ctx, txn, name)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return s, ok
	}
	if s, ok := get("alice"); !ok || s != "SCRAM-SHA-256$4096:c2FsdA==$pw1:x" {
		t.Fatalf("alice secret %q %v", s, ok)
	}
	if _, ok := get("readers"); ok {
		t.Fatal("a NOLOGIN role without password has a secret")
	}
	wantErr(t, e.exec(`CREATE ROLE alice`), sqlerr.DuplicateObject, `role "alice" already exists`, "")
	e.mustExec(`CREATE ROLE IF NOT EXISTS alice`)
	wantCode(t, e.exec(`CREATE ROLE pg_x`), "42939")
	e.mustExec(`ALTER ROLE alice WITH PASSWORD 'SCRAM-SHA-256$1:abc$def:ghi' SUPERUSER`)
	if s, _ := get("alice"); s != "SCRAM-SHA-256$1:abc$def:ghi" {
		t.Fatalf("pre-hashed secret %q", s)
	}
	e.mustExec(`ALTER ROLE alice NOLOGIN`)
	if _, ok := get("alice"); ok {
		t.Fatal("NOLOGIN role still logs in")
	}
	var roles []Role
	_ = e.in(func(ctx context.Context, txn *kvtxn.Txn, _ *Catalog) error {
		var err error
		roles, err = Roles(ctx, txn)
		return err
	})
	if len(roles) != 2 || roles[0].Name != "alice" || !roles[0].Superuser || roles[1].Name != "readers" {
		t.Fatalf("roles %+v", roles)
	}
	e.mustExec(`DROP ROLE alice, readers`)
	wantErr(t, e.exec(`DROP ROLE alice`), sqlerr.UndefinedObject, `role "alice" does not exist`, "")
	e.mustExec(`DROP ROLE IF EXISTS alice`)
	wantErr(t, e.exec(`ALTER ROLE alice LOGIN`), sqlerr.UndefinedObject, `role "alice" does not exist`, "")
}
