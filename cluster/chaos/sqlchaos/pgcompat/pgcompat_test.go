//go:build pgcompat

// Package pgcompat runs the sqlchaos workloads and checkers against a real
// PostgreSQL server, without faults: the workloads' SQL must run unchanged
// on PostgreSQL, and the checkers must find nothing wrong. It is built only
// with -tags pgcompat, so `make test` leaves it out:
//
//	CAIRN_SQLCHAOS_PG_URL='postgres://postgres@127.0.0.1:55432/cairn?sslmode=disable' \
//	  go test -tags pgcompat -count=1 -v ./cluster/chaos/sqlchaos/pgcompat/
//
// CAIRN_SQLCHAOS_PG_DURATION sets how long the workloads run (default 20s),
// CAIRN_SQLCHAOS_SEED the seed (default: from the clock). The tables
// (bank, li_products, li_orders, la_lists) are dropped and created again.
package pgcompat

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"cairn.dev/cairn/cluster/chaos"
	"cairn.dev/cairn/cluster/chaos/sqlchaos"
	"cairn.dev/cairn/node/nodetest"
)

// settings returns the URL, the duration and the seed of the tests, from the
// environment.
func settings(t *testing.T) (url string, duration time.Duration, seed uint64) {
	t.Helper()
	url = os.Getenv("CAIRN_SQLCHAOS_PG_URL")
	if url == "" {
		t.Fatal("CAIRN_SQLCHAOS_PG_URL must name a throwaway PostgreSQL database (this test is built only with -tags pgcompat)")
	}
	duration = 20 * time.Second
	if s := os.Getenv("CAIRN_SQLCHAOS_PG_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("CAIRN_SQLCHAOS_PG_DURATION=%q: %v", s, err)
		}
		duration = d
	}
	seed = uint64(time.Now().UnixNano())
	if s := os.Getenv("CAIRN_SQLCHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("CAIRN_SQLCHAOS_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed=%d duration=%v", seed, duration)
	return url, duration, seed
}

// run runs workloads for duration, logs their rates, and returns the
// checkers' verdicts.
func run(t *testing.T, seed uint64, duration time.Duration, workloads []chaos.Workload, checkers []chaos.Checker) []chaos.Verdict {
	t.Helper()
	kinds := chaos.Kinds{}
	for _, w := range workloads {
		for k, c := range w.Kinds() {
			kinds[k] = c
		}
	}
	env := &chaos.Env{Seed: seed, Logger: nodetest.Logger(t), History: chaos.NewHistory(time.Now(), kinds), Timeline: &chaos.Timeline{}, Dir: t.TempDir(), Phase: duration}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(workloads))
	for i, w := range workloads {
		wg.Go(func() { errs[i] = w.Run(ctx, env) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("workload %s: %v", workloads[i].Name(), err)
		}
	}
	logRates(t, env.History.Ops(), duration)
	var out []chaos.Verdict
	for _, c := range checkers {
		v := c.Check(context.Background(), env)
		t.Logf("%s: pass=%v %s", c.Name(), v.Pass(), v.Summary)
		out = append(out, v)
	}
	return out
}

// TestWorkloadsOnPostgreSQL runs the bank, last-item and list-append
// workloads at once, SERIALIZABLE, and every checker must pass.
func TestWorkloadsOnPostgreSQL(t *testing.T) {
	url, duration, seed := settings(t)
	dial := sqlchaos.URLDialer(url)
	bank := &sqlchaos.Bank{Dial: dial}
	item := &sqlchaos.LastItem{Dial: dial, ClientBase: 100}
	lists := &sqlchaos.ListAppend{Dial: dial, ClientBase: 200}
	verdicts := run(t, seed, duration, []chaos.Workload{bank, item, lists},
		[]chaos.Checker{&sqlchaos.BankChecker{Workload: bank}, &sqlchaos.LastItemChecker{Workload: item}, &sqlchaos.ListAppendChecker{Workload: lists}})
	for _, v := range verdicts {
		if !v.Pass() {
			t.Errorf("%s: err %q, %d violations: %v", v.Checker, v.Err, v.Count, v.Violations)
		}
	}
}

// TestListAppendReadCommitted runs the list-append workload READ COMMITTED,
// for a quarter of the duration: the checker must find the anomalies that
// level allows (reads from several snapshots in one transaction).
func TestListAppendReadCommitted(t *testing.T) {
	url, duration, seed := settings(t)
	lists := &sqlchaos.ListAppend{Dial: sqlchaos.URLDialer(url), Table: "la_rc", Isolation: pgx.ReadCommitted}
	v := run(t, seed, duration/4, []chaos.Workload{lists}, []chaos.Checker{&sqlchaos.ListAppendChecker{Workload: lists}})[0]
	if v.Err != "" || v.Pass() {
		t.Fatalf("READ COMMITTED history: err %q, pass %v; want anomalies", v.Err, v.Pass())
	}
	for _, msg := range v.Violations[:min(5, len(v.Violations))] {
		t.Logf("as expected: %.300s", msg)
	}
}

// logRates logs the operations of every kind per second, by outcome, and
// the most frequent errors.
func logRates(t *testing.T, ops []chaos.Op, d time.Duration) {
	type count struct{ ok, fail, unknown int }
	byKind := map[chaos.OpKind]*count{}
	errs := map[string]int{}
	for _, op := range ops {
		c := byKind[op.Kind]
		if c == nil {
			c = &count{}
			byKind[op.Kind] = c
		}
		switch op.Outcome {
		case chaos.OK:
			c.ok++
		case chaos.Fail:
			c.fail++
		default:
			c.unknown++
		}
		if op.Err != "" {
			errs[fmt.Sprintf("%s: %.60s", op.Kind, op.Err)]++
		}
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, string(k))
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		c := byKind[chaos.OpKind(k)]
		n := c.ok + c.fail + c.unknown
		t.Logf("%-12s %6d ops %7.1f/s: ok %d, fail %d, unknown %d", k, n, float64(n)/d.Seconds(), c.ok, c.fail, c.unknown)
	}
	type e struct {
		msg string
		n   int
	}
	var top []e
	for m, n := range errs {
		top = append(top, e{m, n})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n })
	for _, x := range top[:min(8, len(top))] {
		t.Logf("%6d × %s", x.n, x.msg)
	}
}
