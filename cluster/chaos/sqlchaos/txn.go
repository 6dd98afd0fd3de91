package sqlchaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"cairn.dev/cairn/cluster/chaos"
)

// runTxn runs body in a transaction of isolation level iso ("": SERIALIZABLE)
// on conn and commits it. It
// returns the outcome (txnOutcome) and the first error. When body fails (a
// statement error, or a refusal such as an insufficient balance) the
// transaction is rolled back and the outcome is Fail.
func runTxn(ctx context.Context, conn *pgx.Conn, iso pgx.TxIsoLevel, body func(pgx.Tx) error) (chaos.Outcome, error) {
	if iso == "" {
		iso = pgx.Serializable
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: iso})
	if err != nil {
		return chaos.Fail, err
	}
	if err := body(tx); err != nil {
		rctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = tx.Rollback(rctx)
		cancel()
		return chaos.Fail, err
	}
	err = tx.Commit(ctx)
	return txnOutcome(err, true), err
}

// setupTimeout bounds a workload's schema set-up, retried until it succeeds.
const setupTimeout = 60 * time.Second

// attemptTimeout bounds one attempt of a set-up step or of a final read: an
// attempt that reached an unhealthy node gives way to one on the next node.
const attemptTimeout = 5 * time.Second

// setup runs fn on a fresh connection of the checker's client (-1, which
// takes the nodes in turn) until it succeeds, for at most setupTimeout or
// until ctx ends. fn must be idempotent: an attempt whose outcome is unknown
// runs again.
func setup(ctx context.Context, env *chaos.Env, dial Dialer, what string, fn func(ctx context.Context, conn *pgx.Conn) error) error {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	if err := retry(ctx, env, dial, fn); err != nil {
		return fmt.Errorf("sqlchaos: %s: %w", what, err)
	}
	return nil
}

// finalRead runs fn on a fresh connection of the checker's client until it
// succeeds or ctx ends: the checkers' read of the final state, after the
// cluster healed.
func finalRead(ctx context.Context, env *chaos.Env, dial Dialer, fn func(ctx context.Context, conn *pgx.Conn) error) error {
	if err := retry(ctx, env, dial, fn); err != nil {
		return fmt.Errorf("read the final state: %w", err)
	}
	return nil
}

// retry runs fn on a fresh connection of client -1, each attempt bounded by
// attemptTimeout, until an attempt succeeds or ctx ends.
func retry(ctx context.Context, env *chaos.Env, dial Dialer, fn func(ctx context.Context, conn *pgx.Conn) error) error {
	for attempt := 0; ; attempt++ {
		err := func() error {
			actx, cancel := context.WithTimeout(ctx, attemptTimeout)
			defer cancel()
			conn, via, err := dial(actx, env, -1)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			if err := fn(actx, conn); err != nil {
				return fmt.Errorf("through %s: %w", via, err)
			}
			return nil
		}()
		if err == nil {
			return nil
		}
		env.Logger.Debug("sqlchaos: retry", "attempt", attempt, "err", err)
		if !chaos.Hold(ctx, retryPause) {
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		}
	}
}

// errorPause is how long a client waits after an operation failed for a
// reason other than a transaction conflict or a refusal.
const errorPause = 50 * time.Millisecond

// backoff pauses a client after an operation that ended with err, unless err
// is nil, a transaction conflict (class 40 but 40003) or a refusal of the
// workload's own (an insufficient balance, a sold-out product): an outage
// must not turn into a busy loop of failing operations.
func backoff(ctx context.Context, err error) {
	code := sqlState(err)
	switch {
	case err == nil, errors.Is(err, errRefused), errors.Is(err, soldOut):
		return
	case strings.HasPrefix(code, "40") && code != codeCompletionUnknown:
		return
	}
	chaos.Hold(ctx, errorPause)
}
