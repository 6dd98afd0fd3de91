package kvtxn

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/raftkv/client"
)

// TestConcurrentTransfers: workers move random amounts between random
// accounts, retrying on ErrConflict, while auditors sum every account in
// read-only snapshots. Every snapshot and the final state hold the initial
// total: no lost update, no torn read.
func TestConcurrentTransfers(t *testing.T) {
	t.Parallel()
	const (
		accounts  = 8
		workers   = 6
		transfers = 25 // per worker
		initial   = 100
	)
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	db, kv, _ := testDB(t, Options{PageSize: 3})
	account := func(i int) []byte { return fmt.Appendf(nil, "bank/%02d", i) }
	for i := range accounts {
		put(t, kv, string(account(i)), strconv.Itoa(initial))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()

	readInt := func(tx *Txn, k []byte) (int, error) {
		v, ok, err := tx.Get(ctx, k)
		if err != nil || !ok {
			return 0, fmt.Errorf("account %s: found %v: %w", k, ok, err)
		}
		return strconv.Atoi(string(v))
	}
	transfer := func(r *rand.Rand) error {
		from, to := r.IntN(accounts), r.IntN(accounts-1)
		if to >= from {
			to++
		}
		amount := r.IntN(20) + 1
		for {
			tx := db.Begin(Serializable)
			a, err := readInt(tx, account(from))
			if err != nil {
				return err
			}
			b, err := readInt(tx, account(to))
			if err != nil {
				return err
			}
			if a < amount {
				tx.Rollback()
				return nil
			}
			if err := tx.Put(account(from), []byte(strconv.Itoa(a-amount))); err != nil {
				return err
			}
			if err := tx.Put(account(to), []byte(strconv.Itoa(b+amount))); err != nil {
				return err
			}
			err = tx.Commit(ctx)
			if !errors.Is(err, ErrConflict) {
				return err
			}
		}
	}
	audit := func() (int, error) {
		tx := db.Begin(Serializable)
		defer tx.Rollback()
		sum := 0
		err := tx.Scan(ctx, []byte("bank/"), client.PrefixEnd([]byte("bank/")), 0, func(kv KV) (bool, error) {
			n, err := strconv.Atoi(string(kv.Value))
			sum += n
			return true, err
		})
		return sum, err
	}

	var wg sync.WaitGroup
	errs := make(chan error, workers+1)
	for w := range workers {
		r := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Go(func() {
			for range transfers {
				if err := transfer(r); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	stop := make(chan struct{})
	audits := 0
	var auditWG sync.WaitGroup
	auditWG.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			sum, err := audit()
			if err == nil && sum != accounts*initial {
				err = fmt.Errorf("snapshot sum %d, want %d", sum, accounts*initial)
			}
			if err != nil {
				errs <- err
				return
			}
			audits++
		}
	})
	wg.Wait()
	close(stop)
	auditWG.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	sum, err := audit()
	require.NoError(t, err)
	require.Equal(t, accounts*initial, sum)
	t.Logf("%d transfers by %d workers, %d audits", workers*transfers, workers, audits)
}
