package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/cluster"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/kvcheck"
)

// TestLinearizableUnderLeaderKills runs concurrent clients doing gets, puts and
// compare-and-swaps on a few keys while the leader is SIGKILLed and restarted, and
// checks the history with porcupine. Then the whole cluster is stopped and started
// again, and every acknowledged write must still be there.
func TestLinearizableUnderLeaderKills(t *testing.T) {
	s := seed(t)
	rng := rand.New(rand.NewPCG(s, s>>1|1))
	dir := t.TempDir()
	c, opts := upCluster(t, rng, dir, "raftkv")
	st := c.State()
	endpoints := st.Endpoints("raftkv")

	const (
		clients = 8
		keys    = 4
		kills   = 3
	)
	rec := kvcheck.NewRecorder()
	var acked sync.Map // ack key -> true, for writes acknowledged to a client
	var stop atomic.Bool
	var wg sync.WaitGroup
	var opsDone atomic.Int64
	for i := 0; i < clients; i++ {
		cl, err := client.New(client.Config{Endpoints: endpoints, RequestTimeout: 3 * time.Second, TLS: clientTLS(t, c)})
		require.NoError(t, err)
		t.Cleanup(func() { cl.Close() })
		crng := rand.New(rand.NewPCG(s+uint64(i)+1, uint64(i)))
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			runClient(id, cl, crng, rec, &acked, &stop, &opsDone, keys)
		}(i)
	}

	// Nemesis: kill the leader a few times, restarting it after a pause.
	for k := 0; k < kills; k++ {
		time.Sleep(time.Duration(1500+rng.IntN(1500)) * time.Millisecond) // workload runs between faults
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		leader, err := c.WaitLeader(ctx, "raftkv")
		require.NoError(t, err)
		t.Logf("nemesis: SIGKILL leader %s", leader)
		require.NoError(t, c.Kill(leader))
		time.Sleep(time.Duration(500+rng.IntN(1000)) * time.Millisecond) // the node stays down a while
		require.NoError(t, c.Restart(ctx, leader))
		t.Logf("nemesis: restarted %s", leader)
		cancel()
	}
	time.Sleep(time.Second) // some load after the last fault
	stop.Store(true)
	wg.Wait()
	t.Logf("workload: %d operations", opsDone.Load())

	// Full-cluster stop and start: acknowledged writes must survive.
	require.NoError(t, c.Down())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c2, err := cluster.Up(ctx, opts)
	require.NoError(t, err)
	st2 := c2.State()
	cl, err := client.New(client.Config{Endpoints: st2.Endpoints("raftkv"), RequestTimeout: 10 * time.Second, TLS: clientTLS(t, c2)})
	require.NoError(t, err)
	defer cl.Close()
	resp, err := cl.Get(ctx, "ack/", client.WithPrefix())
	require.NoError(t, err)
	have := map[string]bool{}
	for _, kv := range resp.GetKvs() {
		have[string(kv.GetKey())] = true
	}
	missing := 0
	acked.Range(func(k, _ any) bool {
		if !have[k.(string)] {
			missing++
			t.Errorf("acknowledged write %s lost after a full restart", k)
		}
		return true
	})
	require.Zero(t, missing)
	// The register keys after the restart join the history as final reads.
	for k := 0; k < keys; k++ {
		key := fmt.Sprintf("reg/%d", k)
		call := rec.Invoke(clients, kvcheck.Get(key))
		r, err := cl.Get(ctx, key)
		require.NoError(t, err)
		rec.Return(call, kvcheck.Output{Outcome: kvcheck.OutcomeOK, Value: valueOf(r.GetKvs())})
	}

	res, err := kvcheck.Check(rec.History(), 60*time.Second)
	require.NoError(t, err)
	t.Logf("porcupine: %s", res)
	if !res.Ok() {
		out := filepath.Join(os.TempDir(), fmt.Sprintf("cairn-porcupine-%d.html", s))
		if err := res.WriteVisualization(out); err == nil {
			t.Logf("visualisation: %s", out)
		}
		t.Fatalf("history is not linearizable: %v", res.Err())
	}
}

func valueOf(kvs []*raftkvv1.KeyValue) kvcheck.Value {
	if len(kvs) == 0 {
		return kvcheck.Absent()
	}
	return kvcheck.Present(string(kvs[0].GetValue()))
}

// runClient issues random operations until stop is set.
func runClient(id int, cl *client.Client, rng *rand.Rand, rec *kvcheck.Recorder, acked *sync.Map, stop *atomic.Bool, done *atomic.Int64, keys int) {
	last := map[string]kvcheck.Value{}
	for n := 0; !stop.Load(); n++ {
		key := fmt.Sprintf("reg/%d", rng.IntN(keys))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		switch r := rng.IntN(10); {
		case r < 4:
			call := rec.Invoke(id, kvcheck.Get(key))
			resp, err := cl.Get(ctx, key)
			if err != nil {
				rec.Return(call, kvcheck.Output{Outcome: kvcheck.OutcomeFail})
				break
			}
			v := valueOf(resp.GetKvs())
			last[key] = v
			rec.Return(call, kvcheck.Output{Outcome: kvcheck.OutcomeOK, Value: v})
		case r < 7:
			val := fmt.Sprintf("c%d-%d", id, n)
			call := rec.Invoke(id, kvcheck.Put(key, val))
			_, err := cl.Put(ctx, key, val)
			rec.Return(call, writeOutput(err, false))
		default:
			expect := last[key]
			val := fmt.Sprintf("c%d-%d", id, n)
			call := rec.Invoke(id, kvcheck.CAS(key, expect, val))
			cmp := client.Compare(client.Version(key), "=", 0)
			if expect.Present {
				cmp = client.Compare(client.Value(key), "=", expect.Data)
			}
			resp, err := cl.Txn(ctx).If(cmp).Then(client.OpPut(key, val)).Commit()
			out := writeOutput(err, err == nil && resp.GetSucceeded())
			rec.Return(call, out)
		}
		if n%5 == 0 {
			ack := fmt.Sprintf("ack/%d/%d", id, n)
			if _, err := cl.Put(ctx, ack, "1"); err == nil {
				acked.Store(ack, true)
			}
		}
		cancel()
		done.Add(1)
	}
}

// writeOutput classifies a write's result: any error leaves the outcome unknown,
// since the write may have committed before the error.
func writeOutput(err error, succeeded bool) kvcheck.Output {
	if err != nil {
		return kvcheck.Output{Outcome: kvcheck.OutcomeUnknown}
	}
	return kvcheck.Output{Outcome: kvcheck.OutcomeOK, Succeeded: succeeded}
}
