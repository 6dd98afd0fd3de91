package kvtxn

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/raftkvtest"
)

// BenchmarkCommit measures a read-modify-write transaction (one Get, one Put,
// Commit) and reports the commit alone as commit-ns/op; BenchmarkPut is a
// plain raftkv Put on the same node for comparison.
func BenchmarkCommit(b *testing.B) {
	for _, writes := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("writes=%d", writes), func(b *testing.B) {
			kv := benchClient(b)
			db := New(kv, Options{})
			var commit time.Duration
			i := 0
			for b.Loop() {
				tx := db.Begin(Serializable)
				_, _, err := tx.Get(b.Context(), []byte("bench/r"))
				require.NoError(b, err)
				for w := range writes {
					require.NoError(b, tx.Put(fmt.Appendf(nil, "bench/%d/%d", w, i), []byte("value")))
				}
				start := time.Now()
				require.NoError(b, tx.Commit(b.Context()))
				commit += time.Since(start)
				i++
			}
			b.ReportMetric(float64(commit.Nanoseconds())/float64(b.N), "commit-ns/op")
		})
	}
}

func BenchmarkPut(b *testing.B) {
	kv := benchClient(b)
	for b.Loop() {
		_, err := kv.Put(b.Context(), "bench/put", "value")
		require.NoError(b, err)
	}
}

// BenchmarkRawTxn is a raftkv Txn with one compare and two puts, the shape
// of a one-write commit, without kvtxn.
func BenchmarkRawTxn(b *testing.B) {
	kv := benchClient(b)
	i := 0
	for b.Loop() {
		_, err := kv.Txn(b.Context()).
			If(client.Compare(client.Changed("bench/r"), "<", 1<<40)).
			Then(client.OpPut(fmt.Sprintf("bench/raw/%d", i), "value"), client.OpPut(fmt.Sprintf("bench/m/%d", i), "committed")).
			Commit()
		require.NoError(b, err)
		i++
	}
}

func benchClient(b *testing.B) *client.Client {
	n := raftkvtest.StartNode(b)
	kv, err := client.New(client.Config{Endpoints: []string{n.Addr()}})
	require.NoError(b, err)
	b.Cleanup(func() { _ = kv.Close() })
	return kv
}
