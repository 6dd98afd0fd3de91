package schema

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
	"cairn.dev/cairn/raftkv/sql/value"
)

// mrow is a row of the model table r: id, u (unique), g, s; -1 / "" = NULL.
type mrow struct {
	id, u, g int
	s        string
}

func (m mrow) values(tb *Table) Row {
	v := func(i int) any {
		if i < 0 {
			return nil
		}
		return i
	}
	sv := any(m.s)
	if m.s == "" {
		sv = nil
	}
	return row(tb, m.id, v(m.u), v(m.g), sv)
}

// TestRandomWritesKeepIndexesExact runs random inserts, updates and deletes
// (failing ones included, in transactions that go on after them) against a
// model and checks every index against it after each transaction.
func TestRandomWritesKeepIndexesExact(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))
	e := newEnv(t)
	e.mustExec(`CREATE TABLE r (id INT PRIMARY KEY, u INT UNIQUE, g INT, s TEXT); CREATE INDEX r_g ON r (g); CREATE INDEX r_sg ON r (s, g)`)
	model := map[int]mrow{}
	pickNull := func(n int) int {
		if rng.IntN(4) == 0 {
			return -1
		}
		return rng.IntN(n)
	}
	pickS := func() string {
		if rng.IntN(4) == 0 {
			return ""
		}
		return string(rune('a' + rng.IntN(5)))
	}
	uTaken := func(u, except int) bool {
		if u < 0 {
			return false
		}
		for id, m := range model {
			if id != except && m.u == u {
				return true
			}
		}
		return false
	}
	for round := range 12 {
		err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
			tb, _ := cat.Table("r")
			for range 12 {
				switch op := rng.IntN(3); {
				case op == 0 || len(model) == 0:
					m := mrow{id: rng.IntN(40), u: pickNull(30), g: pickNull(5), s: pickS()}
					err := Insert(ctx, txn, cat, tb, m.values(tb), nil)
					_, dup := model[m.id]
					if dup || uTaken(m.u, -1) {
						if sqlerr.Code(err) != sqlerr.UniqueViolation {
							return fmt.Errorf("insert %+v: %v, want 23505", m, err)
						}
						continue
					}
					if err != nil {
						return fmt.Errorf("insert %+v: %v", m, err)
					}
					model[m.id] = m
				case op == 1:
					old := model[randomKey(rng, model)]
					n := old
					switch rng.IntN(4) {
					case 0:
						n.id = rng.IntN(40)
					case 1:
						n.u = pickNull(30)
					case 2:
						n.g = pickNull(5)
					default:
						n.s = pickS()
					}
					err := Update(ctx, txn, cat, tb, old.values(tb), n.values(tb), nil)
					_, dup := model[n.id]
					if (n.id != old.id && dup) || uTaken(n.u, old.id) {
						if sqlerr.Code(err) != sqlerr.UniqueViolation {
							return fmt.Errorf("update %+v → %+v: %v, want 23505", old, n, err)
						}
						continue
					}
					if err != nil {
						return fmt.Errorf("update %+v → %+v: %v", old, n, err)
					}
					delete(model, old.id)
					model[n.id] = n
				default:
					m := model[randomKey(rng, model)]
					if err := Delete(ctx, txn, cat, tb, m.values(tb)); err != nil {
						return fmt.Errorf("delete %+v: %v", m, err)
					}
					delete(model, m.id)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		checkModel(t, e, model)
	}
}

func randomKey(rng *rand.Rand, m map[int]mrow) int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys[rng.IntN(len(keys))]
}

// checkModel compares the primary key and every index of r with model.
func checkModel(t *testing.T, e *env, model map[int]mrow) {
	t.Helper()
	var want []mrow
	for _, m := range model {
		want = append(want, m)
	}
	nullFirst := func(a, b int) int { return a - b } // -1 (NULL) sorts first
	orders := map[int]func(a, b mrow) int{
		-1: func(a, b mrow) int { return a.id - b.id },
		0: func(a, b mrow) int {
			if c := nullFirst(a.u, b.u); c != 0 {
				return c
			}
			return a.id - b.id
		},
		1: func(a, b mrow) int {
			if c := nullFirst(a.g, b.g); c != 0 {
				return c
			}
			return a.id - b.id
		},
		2: func(a, b mrow) int {
			if c := strings.Compare(a.s, b.s); c != 0 {
				return c
			}
			if c := nullFirst(a.g, b.g); c != 0 {
				return c
			}
			return a.id - b.id
		},
	}
	err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
		tb, _ := cat.Table("r")
		for idx, cmp := range orders {
			w := slices.Clone(want)
			slices.SortFunc(w, cmp)
			var got []string
			if err := Scan(ctx, txn, tb, idx, nil, nil, func(r Row) (bool, error) {
				got = append(got, rowText(tb, r))
				return true, nil
			}); err != nil {
				return err
			}
			var exp []string
			for _, m := range w {
				exp = append(exp, rowText(tb, m.values(tb)))
			}
			if join(got) != join(exp) {
				return fmt.Errorf("index %d:\n got %s\nwant %s", idx, join(got), join(exp))
			}
		}
		for _, m := range want {
			if m.u < 0 {
				continue
			}
			rows, err := Lookup(ctx, txn, tb, 0, []value.Value{value.NewInt(int64(m.u))})
			if err != nil || len(rows) != 1 || rows[0][0].Int != int64(m.id) {
				return fmt.Errorf("lookup u=%d: %v %v, want id %d", m.u, rows, err, m.id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
