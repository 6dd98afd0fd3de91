package schema

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"cairn.dev/cairn/raftkv/sql/ast"
	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

const usersOrders = `
CREATE TABLE users (id SERIAL PRIMARY KEY, email VARCHAR(100) NOT NULL UNIQUE, name TEXT, age INT CHECK (age >= 0));
CREATE TABLE orders (id BIGSERIAL PRIMARY KEY, user_id INT REFERENCES users, amount NUMERIC(10,2) NOT NULL CHECK (amount > 0), note TEXT DEFAULT 'none');
`

func TestCreateTableDescriptor(t *testing.T) {
	e := newEnv(t)
	e.mustExec(usersOrders)
	cat, users := e.table("users")
	_, orders := e.table("orders")

	if got := users.PrimaryKeyName; got != "users_pkey" {
		t.Errorf("users primary key name %q", got)
	}
	if len(users.Indexes) != 1 || users.Indexes[0].Name != "users_email_key" || !users.Indexes[0].Unique || !users.Indexes[0].Constraint {
		t.Errorf("users indexes %+v", users.Indexes)
	}
	if len(users.Checks) != 1 || users.Checks[0].Name != "users_age_check" || users.Checks[0].Expr == "" {
		t.Errorf("users checks %+v", users.Checks)
	}
	id := users.Columns[0]
	if id.Type != value.Int4 || !id.NotNull || id.Sequence != "users_id_seq" || id.Default != "nextval('users_id_seq')" {
		t.Errorf("users.id %+v", id)
	}
	if s, ok := cat.Sequence("users_id_seq"); !ok || s.OwnerTable != "users" || s.OwnerColumn != "id" || s.Max != 1<<31-1 {
		t.Errorf("sequence users_id_seq %+v %v", s, ok)
	}
	if orders.Columns[0].Type != value.Int8 {
		t.Errorf("bigserial type %v", orders.Columns[0].Type)
	}
	if c := orders.Columns[2]; c.Type.Kind != value.KindNumeric || c.Type.Precision != 10 || c.Type.Scale != 2 {
		t.Errorf("numeric(10,2) column %+v", c.Type)
	}
	if len(orders.ForeignKeys) != 1 {
		t.Fatalf("orders foreign keys %+v", orders.ForeignKeys)
	}
	fk := orders.ForeignKeys[0]
	if fk.Name != "orders_user_id_fkey" || fk.RefTable != "users" || !slices.Equal(fk.RefColumns, []int{0}) || !slices.Equal(fk.Columns, []int{1}) || fk.OnDelete != NoAction {
		t.Errorf("orders fk %+v", fk)
	}
	if len(users.ReferencedBy) != 1 || users.ReferencedBy[0] != (ForeignKeyRef{Table: "orders", Index: 0}) {
		t.Errorf("users referenced by %+v", users.ReferencedBy)
	}
	if orders.Checks[0].Name != "orders_amount_check" {
		t.Errorf("orders check %+v", orders.Checks)
	}
	if orders.Columns[3].Default != "'none'" {
		t.Errorf("orders.note default %q", orders.Columns[3].Default)
	}
	if names := []string{cat.Tables()[0].Name, cat.Tables()[1].Name}; !slices.Equal(names, []string{"orders", "users"}) {
		t.Errorf("tables %v", names)
	}
	if cat.Version() == "" {
		t.Error("catalog version empty after DDL")
	}
}

func TestCreateTableErrors(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE TABLE p (id INT PRIMARY KEY, code TEXT UNIQUE, other INT)`)
	long := "t234567890123456789012345678901234567890123456789012345678901234"
	for _, tc := range []struct {
		sql, code, msg string
	}{
		{`CREATE TABLE p (a INT)`, sqlerr.DuplicateTable, `relation "p" already exists`},
		{`CREATE TABLE p_pkey (a INT)`, sqlerr.DuplicateTable, `relation "p_pkey" already exists`},
		{`CREATE TABLE t (a INT, a TEXT)`, sqlerr.DuplicateColumn, `column "a" specified more than once`},
		{`CREATE TABLE t (a INT PRIMARY KEY, b INT PRIMARY KEY)`, "42P16", `multiple primary keys for table "t" are not allowed`},
		{`CREATE TABLE t (a INT, PRIMARY KEY (b))`, sqlerr.UndefinedColumn, `column "b" named in key does not exist`},
		{`CREATE TABLE t (a INT REFERENCES nope)`, sqlerr.UndefinedTable, `relation "nope" does not exist`},
		{`CREATE TABLE t (a INT REFERENCES p (other))`, "42830", `there is no unique constraint matching given keys for referenced table "p"`},
		{`CREATE TABLE t (a TEXT REFERENCES p)`, sqlerr.DatatypeMismatch, `foreign key constraint "t_a_fkey" cannot be implemented`},
		{`CREATE TABLE t (a INT, b INT, FOREIGN KEY (a, b) REFERENCES p (id))`, "42830", `number of referencing and referenced columns for foreign key disagree`},
		{`CREATE TABLE t (a INT CHECK (zz > 0))`, sqlerr.UndefinedColumn, `column "zz" does not exist`},
		{`CREATE TABLE t (a INT DEFAULT b)`, sqlerr.InvalidColumnReference, `cannot use column reference in DEFAULT expression`},
		{`CREATE TABLE t (a INT DEFAULT 'x')`, sqlerr.InvalidTextRepresentation, ""},
		{`CREATE TABLE t (a foo)`, sqlerr.UndefinedObject, `type "foo" does not exist`},
		{`CREATE TABLE t (a INT[])`, sqlerr.FeatureNotSupported, ""},
		{`CREATE TABLE ` + long + ` (a INT)`, "42622", ""},
		{`CREATE TABLE other.t (a INT)`, sqlerr.InvalidSchemaName, `schema "other" does not exist`},
	} {
		err := e.exec(tc.sql)
		if tc.msg == "" {
			wantCode(t, err, tc.code)
		} else {
			wantErr(t, err, tc.code, tc.msg, "")
		}
	}
	if err := e.exec(`CREATE TABLE IF NOT EXISTS p (a INT)`); err != nil {
		t.Fatalf("IF NOT EXISTS: %v", err)
	}
	var cols string
	for i := 0; i < MaxColumns+1; i++ {
		if i > 0 {
			cols += ", "
		}
		cols += "c" + strconv.Itoa(i) + " INT"
	}
	wantCode(t, e.exec(`CREATE TABLE wide (`+cols+`)`), "54011")
	// Nothing was left behind by the failures.
	cat, _ := e.table("p")
	if n := len(cat.Tables()); n != 1 {
		t.Fatalf("%d tables after failed CREATEs", n)
	}
}

func TestTransactionalDDLRollback(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	txn := e.db.Begin(kvtxn.Serializable)
	cat, err := Load(ctx, txn)
	if err != nil {
		t.Fatal(err)
	}
	stmt := parse1(t, `CREATE TABLE gone (id SERIAL PRIMARY KEY, v TEXT)`)
	if err := runDDL(ctx, txn, cat, stmt, nil); err != nil {
		t.Fatal(err)
	}
	// The transaction sees its own table and can write rows to it.
	cat2, err := Load(ctx, txn)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := cat2.Table("gone")
	if err != nil {
		t.Fatalf("own CREATE not visible: %v", err)
	}
	if err := Insert(ctx, txn, cat2, tb, row(tb, 1, "x"), nil); err != nil {
		t.Fatal(err)
	}
	txn.Rollback()
	err = e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		_, err := cat.Table("gone")
		if _, ok := cat.Sequence("gone_id_seq"); ok {
			t.Error("sequence survived the rollback")
		}
		return err
	})
	wantErr(t, err, sqlerr.UndefinedTable, `relation "gone" does not exist`, "")
	// The name is free again and the new table starts empty.
	e.mustExec(`CREATE TABLE gone (id SERIAL PRIMARY KEY, v TEXT)`)
	if got := e.rows("gone"); len(got) != 0 {
		t.Fatalf("rows after re-create: %v", got)
	}
}

func TestConcurrentDDLConflicts(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE TABLE base (id INT PRIMARY KEY)`)
	ctx := ctxT(t)
	a, b := e.db.Begin(kvtxn.Serializable), e.db.Begin(kvtxn.Serializable)
	catA, err := Load(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	catB, err := Load(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := CreateTable(ctx, a, catA, parse1(t, `CREATE TABLE x (id INT PRIMARY KEY)`).(*ast.CreateTable)); err != nil {
		t.Fatal(err)
	}
	if err := CreateTable(ctx, b, catB, parse1(t, `CREATE TABLE y (id INT PRIMARY KEY)`).(*ast.CreateTable)); err != nil {
		t.Fatal(err)
	}
	if err := a.Commit(ctx); err != nil {
		t.Fatalf("first DDL commit: %v", err)
	}
	if err := b.Commit(ctx); !errors.Is(err, kvtxn.ErrConflict) {
		t.Fatalf("second DDL commit: %v, want ErrConflict", err)
	}
	// A DML transaction that loaded the catalog before a DDL commit conflicts too.
	c := e.db.Begin(kvtxn.Serializable)
	catC, err := Load(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	tb, _ := catC.Table("base")
	if err := Insert(ctx, c, catC, tb, row(tb, 1), nil); err != nil {
		t.Fatal(err)
	}
	e.mustExec(`ALTER TABLE base ADD COLUMN v TEXT`)
	if err := c.Commit(ctx); !errors.Is(err, kvtxn.ErrConflict) {
		t.Fatalf("DML over a stale catalog committed: %v", err)
	}
	// Version tokens differ across DDL.
	var v1, v2 string
	_ = e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error { v1 = cat.Version(); return nil })
	e.mustExec(`CREATE INDEX ON base (v)`)
	_ = e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		var err error
		v2, err = Version(ctx, txn)
		return err
	})
	if v1 == v2 || v1 == "" {
		t.Fatalf("versions %q then %q", v1, v2)
	}
}

func TestDropTable(t *testing.T) {
	e := newEnv(t)
	e.mustExec(usersOrders)
	e.mustInsert("users", []any{1, "a@x", "a", 30})
	err := e.exec(`DROP TABLE users`)
	wantErr(t, err, sqlerr.DependentObjectsStillExist, "cannot drop table users because other objects depend on it",
		"constraint orders_user_id_fkey on table orders depends on table users")
	e.mustExec(`DROP TABLE users CASCADE`)
	_, orders := e.table("orders")
	if len(orders.ForeignKeys) != 0 {
		t.Fatalf("orders keeps its foreign key: %+v", orders.ForeignKeys)
	}
	cat, _ := e.table("orders")
	if _, ok := cat.Sequence("users_id_seq"); ok {
		t.Fatal("owned sequence survived DROP TABLE")
	}
	wantErr(t, e.exec(`DROP TABLE users`), sqlerr.UndefinedTable, `table "users" does not exist`, "")
	if err := e.exec(`DROP TABLE IF EXISTS users`); err != nil {
		t.Fatal(err)
	}
	// Re-creating the table finds no old rows.
	e.mustExec(`CREATE TABLE users (id INT PRIMARY KEY)`)
	if got := e.rows("users"); len(got) != 0 {
		t.Fatalf("rows of re-created table: %v", got)
	}
	// Both sides of a reference dropped together need no CASCADE.
	e.mustExec(`CREATE TABLE a (id INT PRIMARY KEY); CREATE TABLE b (a INT REFERENCES a)`)
	e.mustExec(`DROP TABLE a, b`)
}

func TestTruncate(t *testing.T) {
	e := newEnv(t)
	e.mustExec(usersOrders)
	e.mustInsert("users", []any{1, "a@x", "a", 30}, []any{2, "b@x", "b", 31})
	e.mustInsert("orders", []any{1, 1, num("5.00"), "x"})
	err := e.exec(`TRUNCATE users`)
	wantErr(t, err, sqlerr.FeatureNotSupported, "cannot truncate a table referenced in a foreign key constraint",
		`Table "orders" references "users".`)
	e.mustExec(`TRUNCATE users CASCADE`)
	if u, o := e.rows("users"), e.rows("orders"); len(u)+len(o) != 0 {
		t.Fatalf("after TRUNCATE CASCADE: users %v orders %v", u, o)
	}
	// Unique entries were removed too: the same email inserts again.
	e.mustInsert("users", []any{1, "a@x", "a", 30})
	e.mustInsert("orders", []any{1, 1, num("5.00"), "x"})
	e.mustExec(`TRUNCATE orders`)
	if got := e.rows("orders"); len(got) != 0 {
		t.Fatalf("orders after TRUNCATE: %v", got)
	}
}

func TestCreateAndDropIndex(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE TABLE t (id INT PRIMARY KEY, a INT, b TEXT)`)
	e.mustInsert("t", []any{1, 10, "x"}, []any{2, 10, "y"}, []any{3, 30, "x"})
	wantErr(t, e.exec(`CREATE UNIQUE INDEX ON t (a)`), sqlerr.UniqueViolation, `could not create unique index "t_a_idx"`, "Key (a)=(10) is duplicated.")
	e.mustExec(`CREATE INDEX ON t (a)`)
	e.mustExec(`CREATE UNIQUE INDEX t_ab ON t (a, b)`)
	wantErr(t, e.exec(`CREATE INDEX t_ab ON t (b)`), sqlerr.DuplicateTable, `relation "t_ab" already exists`, "")
	if err := e.exec(`CREATE INDEX IF NOT EXISTS t_ab ON t (b)`); err != nil {
		t.Fatal(err)
	}
	_, tb := e.table("t")
	if len(tb.Indexes) != 2 || tb.Indexes[0].Name != "t_a_idx" || tb.Indexes[1].Name != "t_ab" || !tb.Indexes[1].Unique {
		t.Fatalf("indexes %+v", tb.Indexes)
	}
	got := lookupText(t, e, "t", 0, 10)
	if join(got) != "(1, 10, x) (2, 10, y)" {
		t.Fatalf("lookup a=10 through the backfilled index: %v", got)
	}
	wantErr(t, e.insert("t", []any{4, 10, "x"}), sqlerr.UniqueViolation, `duplicate key value violates unique constraint "t_ab"`, "Key (a, b)=(10, x) already exists.")
	e.mustExec(`DROP INDEX t_a_idx`)
	wantErr(t, e.exec(`DROP INDEX t_a_idx`), sqlerr.UndefinedObject, `index "t_a_idx" does not exist`, "")
	e.mustExec(`DROP INDEX IF EXISTS t_a_idx`)
	wantCode(t, e.exec(`DROP INDEX t_pkey`), sqlerr.DependentObjectsStillExist)
	e.mustExec(`CREATE TABLE u (id INT PRIMARY KEY, e TEXT UNIQUE)`)
	wantCode(t, e.exec(`DROP INDEX u_e_key`), sqlerr.DependentObjectsStillExist)
	// A unique index a foreign key relies on needs CASCADE, which drops the key.
	e.mustExec(`CREATE TABLE q (k TEXT); CREATE UNIQUE INDEX q_k_uniq ON q (k); CREATE TABLE ref (k TEXT REFERENCES q (k))`)
	wantErr(t, e.exec(`DROP INDEX q_k_uniq`), sqlerr.DependentObjectsStillExist,
		"cannot drop index q_k_uniq because other objects depend on it", "constraint ref_k_fkey on table ref depends on index q_k_uniq")
	e.mustExec(`DROP INDEX q_k_uniq CASCADE`)
	if _, r := e.table("ref"); len(r.ForeignKeys) != 0 {
		t.Fatalf("ref keeps its foreign key: %+v", r.ForeignKeys)
	}
	// An index re-created with the dropped one's columns starts clean.
	e.mustExec(`CREATE INDEX t_a_idx ON t (a)`)
	if got := lookupText(t, e, "t", 1, 10); join(got) != "(1, 10, x) (2, 10, y)" {
		t.Fatalf("lookup through the re-created index: %v", got)
	}
}

// lookupText looks key up in index idx of table and renders the rows.
func lookupText(t *testing.T, e *env, table string, idx int, key ...any) []string {
	t.Helper()
	var out []string
	err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		tb, err := cat.Table(table)
		if err != nil {
			return err
		}
		cols := tb.IndexColumns(idx)
		vals := make([]value.Value, len(key))
		for i := range key {
			vals[i] = row(&Table{Columns: []Column{tb.Columns[cols[i]]}}, key[i])[0]
		}
		rows, err := Lookup(ctx, txn, tb, idx, vals)
		for _, r := range rows {
			out = append(out, rowText(tb, r))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
