package schema

import (
	"context"
	"testing"

	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

func TestConstraintViolations(t *testing.T) {
	e := newEnv(t)
	e.mustExec(usersOrders)
	e.mustInsert("users", []any{1, "john@ex.com", "John", 30})
	e.mustInsert("orders", []any{1, 1, num("9.50"), "n"})
	for _, tc := range []struct {
		name              string
		run               func() error
		code, msg, detail string
	}{
		{"not null", func() error { return e.insert("users", []any{2, nil, "x", 1}) },
			sqlerr.NotNullViolation, `null value in column "email" of relation "users" violates not-null constraint`,
			"Failing row contains (2, null, x, 1)."},
		{"check", func() error { return e.insert("orders", []any{2, 1, num("-1.00"), "n"}) },
			sqlerr.CheckViolation, `new row for relation "orders" violates check constraint "orders_amount_check"`,
			"Failing row contains (2, 1, -1.00, n)."},
		{"unique", func() error { return e.insert("users", []any{2, "john@ex.com", "J2", 1}) },
			sqlerr.UniqueViolation, `duplicate key value violates unique constraint "users_email_key"`,
			"Key (email)=(john@ex.com) already exists."},
		{"primary key", func() error { return e.insert("users", []any{1, "other@ex.com", "J2", 1}) },
			sqlerr.UniqueViolation, `duplicate key value violates unique constraint "users_pkey"`,
			"Key (id)=(1) already exists."},
		{"fk insert", func() error { return e.insert("orders", []any{2, 99, num("1.00"), "n"}) },
			sqlerr.ForeignKeyViolation, `insert or update on table "orders" violates foreign key constraint "orders_user_id_fkey"`,
			`Key (user_id)=(99) is not present in table "users".`},
		{"fk update child", func() error { return e.updateWhere("orders", "id", 1, "user_id", 42) },
			sqlerr.ForeignKeyViolation, `insert or update on table "orders" violates foreign key constraint "orders_user_id_fkey"`,
			`Key (user_id)=(42) is not present in table "users".`},
		{"fk delete", func() error { return e.deleteWhere("users", "id", 1) },
			sqlerr.ForeignKeyViolation, `update or delete on table "users" violates foreign key constraint "orders_user_id_fkey" on table "orders"`,
			`Key (id)=(1) is still referenced from table "orders".`},
		{"fk update parent", func() error { return e.updateWhere("users", "id", 1, "id", 5) },
			sqlerr.ForeignKeyViolation, `update or delete on table "users" violates foreign key constraint "orders_user_id_fkey" on table "orders"`,
			`Key (id)=(1) is still referenced from table "orders".`},
		{"unique on update", func() error {
			if err := e.insert("users", []any{3, "x@ex.com", "X", 2}); err != nil {
				return err
			}
			return e.updateWhere("users", "id", 3, "email", "john@ex.com")
		}, sqlerr.UniqueViolation, `duplicate key value violates unique constraint "users_email_key"`,
			"Key (email)=(john@ex.com) already exists."},
		{"varchar length", func() error {
			long := make([]byte, 101)
			for i := range long {
				long[i] = 'a'
			}
			return e.insert("users", []any{4, string(long), "x", 1})
		}, sqlerr.StringDataRightTruncation, "value too long for type character varying(100)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.run(), tc.code, tc.msg, tc.detail)
		})
	}
	// The failed statements changed nothing.
	if got := join(e.rows("users")); got != "(1, john@ex.com, John, 30) (3, x@ex.com, X, 2)" {
		t.Fatalf("users %s", got)
	}
	if got := join(e.rows("orders")); got != "(1, 1, 9.50, n)" {
		t.Fatalf("orders %s", got)
	}
	// A NULL foreign key passes (MATCH SIMPLE); a NULL check passes.
	e.mustInsert("orders", []any{3, nil, num("1.00"), "n"})
	e.mustInsert("users", []any{5, "n@ex.com", "N", nil})
	// Updating a row to itself keeps its unique entries.
	if err := e.updateWhere("users", "id", 5, "name", "M"); err != nil {
		t.Fatal(err)
	}
	if got := lookupText(t, e, "users", 0, "n@ex.com"); join(got) != "(5, n@ex.com, M, null)" {
		t.Fatalf("lookup by email after update: %v", got)
	}
}

func TestForeignKeyActions(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`
CREATE TABLE parent (id INT PRIMARY KEY, code TEXT UNIQUE);
CREATE TABLE casc (id INT PRIMARY KEY, pid INT REFERENCES parent ON DELETE CASCADE);
CREATE TABLE grand (id INT PRIMARY KEY, cid INT REFERENCES casc (id) ON DELETE CASCADE);
CREATE TABLE setn (id INT PRIMARY KEY, pcode TEXT REFERENCES parent (code) ON DELETE SET NULL);
CREATE INDEX ON setn (pcode);
CREATE TABLE restr (id INT PRIMARY KEY, pid INT, FOREIGN KEY (pid) REFERENCES parent ON DELETE RESTRICT);
CREATE TABLE tree (id INT PRIMARY KEY, up INT REFERENCES tree ON DELETE CASCADE);
`)
	e.mustInsert("parent", []any{1, "a"}, []any{2, "b"}, []any{3, "c"})
	e.mustInsert("casc", []any{10, 1}, []any{11, 1}, []any{12, 2})
	e.mustInsert("grand", []any{100, 10}, []any{101, 11}, []any{102, 12})
	e.mustInsert("setn", []any{20, "a"}, []any{21, "b"})
	e.mustInsert("restr", []any{30, 3})

	if err := e.deleteWhere("parent", "id", 1); err != nil {
		t.Fatal(err)
	}
	if got := join(e.rows("casc")); got != "(12, 2)" {
		t.Fatalf("casc after cascade: %s", got)
	}
	if got := join(e.rows("grand")); got != "(102, 12)" {
		t.Fatalf("grand after two-level cascade: %s", got)
	}
	if got := join(e.rows("setn")); got != "(20, null) (21, b)" {
		t.Fatalf("setn after SET NULL: %s", got)
	}
	if got := lookupText(t, e, "setn", 0, "a"); len(got) != 0 {
		t.Fatalf("setn index still finds the old key: %v", got)
	}
	wantErr(t, e.deleteWhere("parent", "id", 3), sqlerr.ForeignKeyViolation,
		`update or delete on table "parent" violates foreign key constraint "restr_pid_fkey" on table "restr"`,
		`Key (id)=(3) is still referenced from table "restr".`)

	// Self-referencing cascade: deleting the root deletes the whole tree.
	e.mustInsert("tree", []any{1, nil}, []any{2, 1}, []any{3, 2}, []any{4, 2}, []any{5, nil})
	e.mustInsert("tree", []any{6, 6}) // references itself
	if err := e.deleteWhere("tree", "id", 1); err != nil {
		t.Fatal(err)
	}
	if err := e.deleteWhere("tree", "id", 6); err != nil {
		t.Fatal(err)
	}
	if got := join(e.rows("tree")); got != "(5, null)" {
		t.Fatalf("tree after cascade: %s", got)
	}
	// One statement deleting a parent and its children passes NO ACTION
	// (checked after the statement's deletes, as PostgreSQL does), whatever
	// the row order; deleting the parent alone does not.
	e.mustExec(`CREATE TABLE emp (id INT PRIMARY KEY, boss INT REFERENCES emp)`)
	e.mustInsert("emp", []any{1, nil}, []any{2, 1}, []any{3, 2})
	wantErr(t, e.deleteWhere("emp", "id", 1), sqlerr.ForeignKeyViolation,
		`update or delete on table "emp" violates foreign key constraint "emp_boss_fkey" on table "emp"`,
		`Key (id)=(1) is still referenced from table "emp".`)
	err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		tb, _ := cat.Table("emp")
		var all []Row
		if err := Scan(ctx, txn, tb, -1, nil, nil, func(r Row) (bool, error) {
			all = append(all, r)
			return true, nil
		}); err != nil {
			return err
		}
		return DeleteRows(ctx, txn, cat, tb, all)
	})
	if err != nil {
		t.Fatalf("DELETE of a whole self-referencing table: %v", err)
	}
	if got := e.rows("emp"); len(got) != 0 {
		t.Fatalf("emp after delete: %v", got)
	}
	// SET NULL into a NOT NULL column fails as PostgreSQL does.
	e.mustExec(`CREATE TABLE strict (id INT PRIMARY KEY, p INT NOT NULL REFERENCES parent ON DELETE SET NULL)`)
	e.mustInsert("strict", []any{1, 2})
	wantErr(t, e.deleteWhere("parent", "id", 2), sqlerr.NotNullViolation,
		`null value in column "p" of relation "strict" violates not-null constraint`, "Failing row contains (1, null).")
	// ON DELETE SET DEFAULT / ON UPDATE CASCADE are refused at CREATE.
	wantCode(t, e.exec(`CREATE TABLE x (p INT REFERENCES parent ON DELETE SET DEFAULT)`), sqlerr.FeatureNotSupported)
	wantCode(t, e.exec(`CREATE TABLE x (p INT REFERENCES parent ON UPDATE CASCADE)`), sqlerr.FeatureNotSupported)
}

func TestUniqueWithNulls(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE TABLE u (id INT PRIMARY KEY, a INT, b TEXT, UNIQUE (a, b))`)
	// NULLs never conflict, in one column or all.
	e.mustInsert("u", []any{1, 1, nil}, []any{2, 1, nil}, []any{3, nil, nil}, []any{4, nil, nil}, []any{5, 1, "x"})
	wantErr(t, e.insert("u", []any{6, 1, "x"}), sqlerr.UniqueViolation,
		`duplicate key value violates unique constraint "u_a_b_key"`, "Key (a, b)=(1, x) already exists.")
	// Moving a row out of and into the NULL form keeps the index right.
	if err := e.updateWhere("u", "id", 2, "b", "y"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.insert("u", []any{7, 1, "y"}), sqlerr.UniqueViolation)
	if err := e.updateWhere("u", "id", 5, "b", nil); err != nil {
		t.Fatal(err)
	}
	e.mustInsert("u", []any{8, 1, "x"})
	// Scanning the unique index yields every row once, NULL forms included,
	// in index order (NULLs first).
	var got []string
	err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		tb, _ := cat.Table("u")
		return Scan(ctx, txn, tb, 0, nil, nil, func(r Row) (bool, error) {
			got = append(got, rowText(tb, r))
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "(3, null, null) (4, null, null) (1, 1, null) (5, 1, null) (8, 1, x) (2, 1, y)"
	if join(got) != want {
		t.Fatalf("unique index scan:\n got %s\nwant %s", join(got), want)
	}
	if got := lookupText(t, e, "u", 0, 1, nil); len(got) != 0 {
		t.Fatalf("lookup with a NULL key: %v", got)
	}
	if got := lookupText(t, e, "u", 0, 1, "x"); join(got) != "(8, 1, x)" {
		t.Fatalf("lookup (1, x): %v", got)
	}
}

// TestFailedWriteLeavesNothing checks that a statement that failed a
// unique, foreign key or check constraint wrote nothing, so a transaction
// that goes on (ON CONFLICT DO NOTHING) commits no trace of it.
func TestFailedWriteLeavesNothing(t *testing.T) {
	e := newEnv(t)
	e.mustExec(usersOrders)
	e.mustInsert("users", []any{1, "john@ex.com", "John", 30}, []any{2, "ann@ex.com", "Ann", 20})
	err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		users, _ := cat.Table("users")
		orders, _ := cat.Table("orders")
		ev := e.ev(cat)
		wantCode(t, Insert(ctx, txn, cat, users, row(users, 3, "john@ex.com", "dup", 1), ev), sqlerr.UniqueViolation)
		wantCode(t, Insert(ctx, txn, cat, orders, row(orders, 1, 99, num("1.00"), "x"), ev), sqlerr.ForeignKeyViolation)
		old, err := Lookup(ctx, txn, users, -1, row(users, 2, "", "", 0)[:1])
		if err != nil || len(old) != 1 {
			t.Fatalf("lookup 2: %v %v", old, err)
		}
		moved := append(Row(nil), old[0]...)
		moved[0] = row(users, 7, "", "", 0)[0]
		moved[1] = row(users, 0, "john@ex.com", "", 0)[1]
		wantCode(t, Update(ctx, txn, cat, users, old[0], moved, ev), sqlerr.UniqueViolation)
		return Insert(ctx, txn, cat, users, row(users, 4, "new@ex.com", "New", 1), ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := join(e.rows("users")); got != "(1, john@ex.com, John, 30) (2, ann@ex.com, Ann, 20) (4, new@ex.com, New, 1)" {
		t.Fatalf("users %s", got)
	}
	if got := e.rows("orders"); len(got) != 0 {
		t.Fatalf("orders %v", got)
	}
	for _, email := range []string{"ann@ex.com", "john@ex.com"} {
		if got := lookupText(t, e, "users", 0, email); len(got) != 1 {
			t.Fatalf("lookup %s: %v", email, got)
		}
	}
	if got := lookupText(t, e, "users", -1, 7); len(got) != 0 {
		t.Fatalf("row of the failed update: %v", got)
	}
}
