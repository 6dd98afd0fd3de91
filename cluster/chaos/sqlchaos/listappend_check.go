package sqlchaos

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"cairn.dev/cairn/cluster/chaos"
)

// ListAppendChecker judges the list-append workload with CheckListAppend,
// from the history and a final read of every key taken after the run.
type ListAppendChecker struct {
	Workload *ListAppend
	// Serializable leaves out the real-time edges: by default the history
	// must be strictly serializable (a transaction that returned before
	// another was invoked precedes it), as cairn's linearizable snapshot
	// reads and Raft commits promise.
	Serializable bool
}

// Name implements chaos.Checker.
func (c *ListAppendChecker) Name() string { return "list-append" }

// Check implements chaos.Checker.
func (c *ListAppendChecker) Check(ctx context.Context, env *chaos.Env) chaos.Verdict {
	cfg := c.Workload.config()
	ctx, cancel := context.WithTimeout(ctx, finalReadTimeout)
	defer cancel()
	var final map[int][]int
	err := finalRead(ctx, env, cfg.dial, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := runTxn(ctx, conn, "", func(tx pgx.Tx) error {
			final = map[int][]int{}
			rows, err := tx.Query(ctx, "SELECT k, v FROM "+cfg.table)
			if err != nil {
				return err
			}
			var k int
			var v string
			_, err = pgx.ForEachRow(rows, []any{&k, &v}, func() error {
				list, err := splitInts(v)
				if err != nil {
					return fmt.Errorf("%w: final read of key %d: %q: %v", errMalformed, k, v, err)
				}
				final[k] = list
				return nil
			})
			return err
		})
		return err
	})
	if err != nil {
		return chaos.Verdict{Checker: c.Name(), Err: err.Error()}
	}
	return CheckListAppend(env.History.Ops(), final, !c.Serializable).Verdict(c.Name())
}
