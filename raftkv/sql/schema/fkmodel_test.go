package schema

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"testing"

	"cairn.dev/cairn/raftkv/sql/kvtxn"
	"cairn.dev/cairn/raftkv/sql/sqlerr"
)

// TestRandomForeignKeys runs random parent/child writes against a model:
// c cascades from p through an index, r restricts p without one (full
// scans), and no child ever outlives its parent.
func TestRandomForeignKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(testSeed(t), 7))
	e := newEnv(t)
	e.mustExec(`CREATE TABLE p (id INT PRIMARY KEY);
CREATE TABLE c (id INT PRIMARY KEY, pid INT REFERENCES p ON DELETE CASCADE); CREATE INDEX ON c (pid);
CREATE TABLE r (id INT PRIMARY KEY, pid INT REFERENCES p)`)
	parents := map[int]bool{}
	cs, rs := map[int]int{}, map[int]int{} // child id → parent id
	errRollback := errors.New("restricted")
	for round := range 15 {
		np, nc, nr := maps.Clone(parents), maps.Clone(cs), maps.Clone(rs)
		err := e.in(func(ctx context.Context, txn *kvtxn.Txn, cat *Catalog) error {
			pt, ct, rt := tbl(t, cat, "p"), tbl(t, cat, "c"), tbl(t, cat, "r")
			for range 10 {
				switch rng.IntN(4) {
				case 0:
					id := rng.IntN(8)
					err := Insert(ctx, txn, cat, pt, row(pt, id), nil)
					if np[id] != (sqlerr.Code(err) == sqlerr.UniqueViolation) || (!np[id] && err != nil) {
						return fmt.Errorf("insert parent %d (exists %v): %v", id, np[id], err)
					}
					np[id] = true
				case 1, 2:
					tb, m := ct, nc
					if rng.IntN(3) == 0 {
						tb, m = rt, nr
					}
					id, pid := rng.IntN(1000), rng.IntN(8)
					if _, dup := m[id]; dup {
						continue
					}
					err := Insert(ctx, txn, cat, tb, row(tb, id, pid), nil)
					if !np[pid] {
						if sqlerr.Code(err) != sqlerr.ForeignKeyViolation {
							return fmt.Errorf("insert %s child of missing %d: %v", tb.Name, pid, err)
						}
						continue
					}
					if err != nil {
						return fmt.Errorf("insert %s child: %v", tb.Name, err)
					}
					m[id] = pid
				default:
					id := rng.IntN(8)
					if !np[id] {
						continue
					}
					restricted := false
					for _, pid := range nr {
						restricted = restricted || pid == id
					}
					err := Delete(ctx, txn, cat, pt, row(pt, id))
					if restricted {
						if sqlerr.Code(err) != sqlerr.ForeignKeyViolation {
							return fmt.Errorf("delete restricted parent %d: %v", id, err)
						}
						return errRollback // a failed DELETE aborts the transaction
					}
					if err != nil {
						return fmt.Errorf("delete parent %d: %v", id, err)
					}
					delete(np, id)
					maps.DeleteFunc(nc, func(_, pid int) bool { return pid == id })
				}
			}
			return nil
		})
		switch {
		case errors.Is(err, errRollback):
		case err != nil:
			t.Fatalf("round %d: %v", round, err)
		default:
			parents, cs, rs = np, nc, nr
		}
		for name, m := range map[string]map[int]int{"c": cs, "r": rs} {
			want := 0
			for _, pid := range m {
				if !parents[pid] {
					t.Fatalf("round %d: model has an orphan in %s", round, name)
				}
				want++
			}
			if got := len(e.rows(name)); got != want {
				t.Fatalf("round %d: %s has %d rows, model %d", round, name, got, want)
			}
		}
		if got := len(e.rows("p")); got != len(parents) {
			t.Fatalf("round %d: p has %d rows, model %d", round, got, len(parents))
		}
	}
}
