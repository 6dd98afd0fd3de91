package schema

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// scanText scans index idx of table between lo and hi, rendering rows.
func scanText(t *testing.T, e *env, table string, idx int, lo, hi *Bound) string {
	t.Helper()
	var out []string
	err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		tb, err := cat.Table(table)
		if err != nil {
			return err
		}
		return Scan(ctx, txn, tb, idx, lo, hi, func(r Row) (bool, error) {
			out = append(out, rowText(tb, r))
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return join(out)
}

func b(incl bool, vals ...any) *Bound {
	key := make([]value.Value, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
			key[i] = value.Null
		case int:
			key[i] = value.NewInt(int64(x))
		case string:
			key[i] = value.NewText(x)
		case value.Value:
			key[i] = x
		}
	}
	return &Bound{Key: key, Inclusive: incl}
}

func TestScanBounds(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE TABLE s (id INT PRIMARY KEY, g INT, name TEXT); CREATE INDEX s_g_name ON s (g, name)`)
	e.mustInsert("s", []any{1, 1, "a"}, []any{2, 1, "b"}, []any{3, 2, "a"}, []any{4, 2, "c"}, []any{5, 3, "a"}, []any{6, nil, "z"}, []any{7, 2, nil})
	for _, tc := range []struct {
		name   string
		idx    int
		lo, hi *Bound
		want   string
	}{
		{"pk all", -1, nil, nil, "(1, 1, a) (2, 1, b) (3, 2, a) (4, 2, c) (5, 3, a) (6, null, z) (7, 2, null)"},
		{"pk [2,4]", -1, b(true, 2), b(true, 4), "(2, 1, b) (3, 2, a) (4, 2, c)"},
		{"pk (2,4)", -1, b(false, 2), b(false, 4), "(3, 2, a)"},
		{"pk (5,", -1, b(false, 5), nil, "(6, null, z) (7, 2, null)"},
		{"pk ,2)", -1, nil, b(false, 2), "(1, 1, a)"},
		{"pk empty", -1, b(false, 3), b(false, 4), ""},
		{"pk numeric bound > 2.5", -1, b(false, num("2.5")), b(true, num("4.0")), "(3, 2, a) (4, 2, c)"},
		{"pk numeric bound >= 2.5 < 3.5", -1, b(true, num("2.5")), b(false, num("3.5")), "(3, 2, a)"},
		{"idx all (NULLs first)", 0, nil, nil, "(6, null, z) (1, 1, a) (2, 1, b) (7, 2, null) (3, 2, a) (4, 2, c) (5, 3, a)"},
		{"idx prefix g=2", 0, b(true, 2), b(true, 2), "(7, 2, null) (3, 2, a) (4, 2, c)"},
		{"idx g > NULL skips NULLs", 0, b(false, nil), b(false, 2), "(1, 1, a) (2, 1, b)"},
		{"idx g=2 name > NULL", 0, b(false, 2, nil), b(true, 2), "(3, 2, a) (4, 2, c)"},
		{"idx (1,b) .. (2,a)", 0, b(true, 1, "b"), b(true, 2, "a"), "(2, 1, b) (7, 2, null) (3, 2, a)"},
		{"idx g > 1 and g < 3", 0, b(false, 1), b(false, 3), "(7, 2, null) (3, 2, a) (4, 2, c)"},
		{"idx g >= 2 (exclusive hi prefix)", 0, b(true, 2), nil, "(7, 2, null) (3, 2, a) (4, 2, c) (5, 3, a)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scanText(t, e, "s", tc.idx, tc.lo, tc.hi); got != tc.want {
				t.Fatalf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	if got := join(lookupText(t, e, "s", -1, 4)); got != "(4, 2, c)" {
		t.Fatalf("pk lookup: %s", got)
	}
	if got := lookupText(t, e, "s", -1, 40); len(got) != 0 {
		t.Fatalf("pk lookup of a missing key: %v", got)
	}
	if got := join(lookupText(t, e, "s", 0, 2, "c")); got != "(4, 2, c)" {
		t.Fatalf("index lookup: %s", got)
	}
	// A value with no equal of the column's type matches nothing.
	var n int
	err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		tb, _ := cat.Table("s")
		rows, err := Lookup(ctx, txn, tb, -1, []value.Value{num("2.5")})
		n = len(rows)
		return err
	})
	if err != nil || n != 0 {
		t.Fatalf("lookup 2.5 in an int key: %d rows, %v", n, err)
	}
}

// TestScanPagesAndStops checks scans across page boundaries, early stops,
// and that fn may use the transaction while a scan is open.
func TestScanPagesAndStops(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed))
	e := newEnv(t)
	e.mustExec(`CREATE TABLE big (id INT PRIMARY KEY, k INT); CREATE INDEX ON big (k)`)
	n := scanPage*2 + 17
	ids := rng.Perm(n)
	var ks []int
	err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		tb, _ := cat.Table("big")
		for _, id := range ids {
			k := rng.IntN(50)
			ks = append(ks, k)
			if err := Insert(ctx, txn, cat, tb, row(tb, id, k), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Ints(ks)
	err = e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		tb, _ := cat.Table("big")
		var got []int
		if err := Scan(ctx, txn, tb, 0, nil, nil, func(r Row) (bool, error) {
			got = append(got, int(r[1].Int))
			// A nested read inside the callback.
			rows, err := Lookup(ctx, txn, tb, -1, []value.Value{r[0]})
			if err != nil || len(rows) != 1 {
				return false, fmt.Errorf("nested lookup: %d rows, %v", len(rows), err)
			}
			return true, nil
		}); err != nil {
			return err
		}
		if fmt.Sprint(got) != fmt.Sprint(ks) {
			return fmt.Errorf("index order %v, want %v", got, ks)
		}
		count := 0
		if err := Scan(ctx, txn, tb, -1, nil, nil, func(r Row) (bool, error) {
			if int(r[0].Int) != count {
				return false, fmt.Errorf("row %d has id %d", count, r[0].Int)
			}
			count++
			return count < scanPage+3, nil
		}); err != nil {
			return err
		}
		if count != scanPage+3 {
			return fmt.Errorf("early stop after %d rows", count)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestUpdateKeepsIndexes changes primary key and indexed columns and checks
// every index still finds exactly the new row.
func TestUpdateKeepsIndexes(t *testing.T) {
	e := newEnv(t)
	e.mustExec(`CREATE TABLE k (id INT PRIMARY KEY, email TEXT UNIQUE, g INT); CREATE INDEX ON k (g)`)
	e.mustInsert("k", []any{1, "a", 10}, []any{2, "b", 20})
	if err := e.updateWhere("k", "id", 1, "id", 5); err != nil {
		t.Fatal(err)
	}
	if err := e.updateWhere("k", "id", 2, "g", 30); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		idx  int
		key  any
		want string
	}{
		{-1, 1, ""}, {-1, 5, "(5, a, 10)"}, {0, "a", "(5, a, 10)"}, {1, 10, "(5, a, 10)"},
		{1, 20, ""}, {1, 30, "(2, b, 30)"}, {0, "b", "(2, b, 30)"},
	} {
		if got := join(lookupText(t, e, "k", c.idx, c.key)); got != c.want {
			t.Errorf("lookup %v in index %d: %q, want %q", c.key, c.idx, got, c.want)
		}
	}
	wantErr(t, e.updateWhere("k", "id", 5, "id", 2), sqlerr.UniqueViolation,
		`duplicate key value violates unique constraint "k_pkey"`, "Key (id)=(2) already exists.")
	if got := scanText(t, e, "k", 1, nil, nil); got != "(5, a, 10) (2, b, 30)" {
		t.Fatalf("index scan after updates: %s", got)
	}
}
