package schema

import (
	"errors"
	"strings"
	"testing"

	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// begin starts a transaction with the catalog loaded.
func (e *env) begin() (*kvtxn.Txn, *Catalog) {
	e.t.Helper()
	txn := e.db.Begin(kvtxn.Serializable)
	cat, err := Load(ctxT(e.t), txn)
	if err != nil {
		e.t.Fatal(err)
	}
	return txn, cat
}

func tbl(t *testing.T, cat *Catalog, name string) *Table {
	t.Helper()
	tb, err := cat.Table(name)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// TestConcurrentWritesConflict checks that the reads constraint checks make
// turn racing writes into serialization failures, never into duplicates or
// dangling references.
func TestConcurrentWritesConflict(t *testing.T) {
	e := newEnv(t)
	e.mustExec(usersOrders)
	e.mustInsert("users", []any{1, "a@x", "a", 1})
	ctx := ctxT(t)

	// Two inserts of the same unique email.
	a, catA := e.begin()
	b, catB := e.begin()
	if err := Insert(ctx, a, catA, tbl(t, catA, "users"), row(tbl(t, catA, "users"), 2, "same@x", "a", 1), e.ev(catA)); err != nil {
		t.Fatal(err)
	}
	if err := Insert(ctx, b, catB, tbl(t, catB, "users"), row(tbl(t, catB, "users"), 3, "same@x", "b", 1), e.ev(catB)); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx); !errors.Is(err, kvtxn.ErrConflict) {
		t.Fatalf("second insert of a unique key: %v, want ErrConflict", err)
	}

	// The same under READ COMMITTED: the unique keys found absent are locked.
	{
		a, b := e.db.Begin(kvtxn.ReadCommitted), e.db.Begin(kvtxn.ReadCommitted)
		catA, err := Load(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		catB, err := Load(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		ua, ub := tbl(t, catA, "users"), tbl(t, catB, "users")
		a.StartStatement()
		b.StartStatement()
		if err := Insert(ctx, a, catA, ua, row(ua, 10, "rc@x", "a", 1), e.ev(catA)); err != nil {
			t.Fatal(err)
		}
		if err := Insert(ctx, b, catB, ub, row(ub, 11, "rc@x", "b", 1), e.ev(catB)); err != nil {
			t.Fatal(err)
		}
		if err := a.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(ctx); !errors.Is(err, kvtxn.ErrConflict) {
			t.Fatalf("READ COMMITTED duplicate unique insert: %v, want ErrConflict", err)
		}
	}

	// An order for user 1 racing with the delete of user 1.
	a, catA = e.begin()
	b, catB = e.begin()
	orders := tbl(t, catA, "orders")
	if err := Insert(ctx, a, catA, orders, row(orders, 1, 1, num("1.00"), "x"), e.ev(catA)); err != nil {
		t.Fatal(err)
	}
	users := tbl(t, catB, "users")
	rows, err := Lookup(ctx, b, users, -1, row(users, 1, "", "", 0)[:1])
	if err != nil || len(rows) != 1 {
		t.Fatalf("lookup user 1: %v %v", rows, err)
	}
	if err := Delete(ctx, b, catB, users, rows[0]); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx); !errors.Is(err, kvtxn.ErrConflict) {
		t.Fatalf("order for a concurrently deleted user: %v, want ErrConflict", err)
	}
	if got := e.rows("orders"); len(got) != 0 {
		t.Fatalf("dangling orders %v", got)
	}
}

func TestLimitsAndMisc(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE TABLE blob (id INT PRIMARY KEY, body TEXT)`)
	err := e.insert("blob", []any{1, strings.Repeat("x", MaxRowBytes+1)})
	wantCode(t, err, sqlerr.ProgramLimitExceeded)
	e.mustExec(`CREATE TABLE keys (k TEXT PRIMARY KEY, v TEXT UNIQUE)`)
	wantCode(t, e.insert("keys", []any{strings.Repeat("k", MaxKeyBytes), "v"}), sqlerr.ProgramLimitExceeded)
	err = e.insert("keys", []any{"k", strings.Repeat("v", MaxKeyBytes)})
	wantCode(t, err, sqlerr.ProgramLimitExceeded)
	if !strings.Contains(err.Error(), `exceeds btree version 4 maximum 2704 for index "keys_v_key"`) {
		t.Fatalf("key size error %v", err)
	}
	e.mustInsert("keys", []any{strings.Repeat("k", 1000), strings.Repeat("v", 1000)})

	// Identity columns.
	e.mustExec(`CREATE TABLE ident (id INT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, v TEXT)`)
	cat, tb := e.table("ident")
	if c := tb.Columns[0]; !c.IdentityAlways || c.Sequence != "ident_id_seq" || !c.NotNull {
		t.Fatalf("identity column %+v", c)
	}
	if _, ok := cat.Sequence("ident_id_seq"); !ok {
		t.Fatal("no identity sequence")
	}
	e.mustInsert("ident", []any{nil, "a"}, []any{nil, "b"})
	if got := join(e.rows("ident")); got != "(1, a) (2, b)" {
		t.Fatalf("identity rows %s", got)
	}

	// DROP and CREATE of one name in one transaction.
	e.mustInsert("blob", []any{1, "old"})
	ctx := ctxT(t)
	txn, cat := e.begin()
	if err := runDDL(ctx, txn, cat, parse1(t, `DROP TABLE blob`), nil); err != nil {
		t.Fatal(err)
	}
	cat, err = Load(ctx, txn)
	if err != nil {
		t.Fatal(err)
	}
	if err := runDDL(ctx, txn, cat, parse1(t, `CREATE TABLE blob (id INT PRIMARY KEY, body TEXT)`), nil); err != nil {
		t.Fatal(err)
	}
	cat, err = Load(ctx, txn)
	if err != nil {
		t.Fatal(err)
	}
	nb := tbl(t, cat, "blob")
	if err := Insert(ctx, txn, cat, nb, row(nb, 1, "new"), nil); err != nil {
		t.Fatalf("insert into the re-created table: %v", err)
	}
	if err := txn.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := join(e.rows("blob")); got != "(1, new)" {
		t.Fatalf("blob rows %s", got)
	}

	// ALTER rolled back leaves the descriptor as it was.
	txn, cat = e.begin()
	if err := runDDL(ctx, txn, cat, parse1(t, `ALTER TABLE blob ADD COLUMN extra INT DEFAULT 5`), nil); err != nil {
		t.Fatal(err)
	}
	txn.Rollback()
	if _, tb := e.table("blob"); len(tb.Columns) != 2 {
		t.Fatalf("columns after a rolled-back ALTER: %+v", tb.Columns)
	}

	// LockRow makes a concurrent change of the row a conflict.
	a, catA := e.begin()
	ba := tbl(t, catA, "blob")
	rows, err := Lookup(ctx, a, ba, -1, row(ba, 1, "")[:1])
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	LockRow(a, ba, rows[0])
	// (A read-only transaction commits at its snapshot without validation,
	// so give it a write.)
	if err := Insert(ctx, a, catA, ba, row(ba, 2, "other"), nil); err != nil {
		t.Fatal(err)
	}
	if err := e.updateWhere("blob", "id", 1, "body", "changed"); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx); !errors.Is(err, kvtxn.ErrConflict) {
		t.Fatalf("commit after the locked row changed: %v", err)
	}
}
