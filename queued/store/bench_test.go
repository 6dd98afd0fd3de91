package store

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/raftnode"
	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// commitPolicies are the commit policies benchmarks compare: batched
// commits as in production, and a commit (and fsync) of every ApplyBatch.
var commitPolicies = []struct {
	name string
	opts Options
}{
	{"batched", Options{}},
	{"each", Options{CommitEntries: 1}},
}

// benchStore opens a store with opts that fsyncs like production unless
// nosync.
func benchStore(b *testing.B, nosync bool, opts Options) *testStore {
	path := filepath.Join(b.TempDir(), "queued.db")
	opts.NoSync, opts.Logger = nosync, testLogger(b)
	s, err := Open(path, opts)
	require.NoError(b, err)
	ts := &testStore{t: b, s: s, path: path, now: t0}
	b.Cleanup(func() { s.Close() })
	return ts
}

// rawApply applies cmds as one batch without the test invariant checks.
func (ts *testStore) rawApply(cmds ...*queuedraftv1.Command) []*queuedraftv1.CommandResult {
	entries := make([]raftnode.Entry, len(cmds))
	for i, c := range cmds {
		entries[i] = ts.entry(c)
	}
	raw, err := ts.s.ApplyBatch(entries)
	require.NoError(ts.t, err)
	out := make([]*queuedraftv1.CommandResult, len(raw))
	for i, r := range raw {
		out[i] = &queuedraftv1.CommandResult{}
		require.NoError(ts.t, proto.Unmarshal(r, out[i]))
	}
	return out
}

// BenchmarkSend applies Send entries of batch 1 KiB messages, one entry per
// ApplyBatch, as the Raft apply loop hands them over, with batched commits
// and with a commit of every batch. b.N counts messages.
func BenchmarkSend(b *testing.B) {
	for _, sync := range []bool{true, false} {
		for _, batch := range []int{1, 10, 100} {
			for _, pol := range commitPolicies {
				b.Run(fmt.Sprintf("batch=%d/fsync=%v/commit=%s", batch, sync, pol.name), func(b *testing.B) {
					ts := benchStore(b, !sync, pol.opts)
					ts.rawApply(createQueue("q", stdAttrs()))
					entries := make([]*queuedv1.SendEntry, batch)
					for i := range entries {
						entries[i] = &queuedv1.SendEntry{Body: make([]byte, 1024)}
					}
					b.SetBytes(1024)
					b.ResetTimer()
					for sent := 0; sent < b.N; sent += batch {
						ts.advance(time.Microsecond)
						ts.rawApply(sendCmd("q", entries...))
					}
				})
			}
		}
	}
}

// BenchmarkReceiveAck receives batches of 10 from a full queue and acks
// them: two entries, in two ApplyBatch calls, per 10 messages. b.N counts
// messages.
func BenchmarkReceiveAck(b *testing.B) {
	for _, sync := range []bool{true, false} {
		for _, fifo := range []bool{false, true} {
			for _, pol := range commitPolicies {
				b.Run(fmt.Sprintf("fifo=%v/fsync=%v/commit=%s", fifo, sync, pol.name), func(b *testing.B) {
					ts := benchStore(b, !sync, pol.opts)
					at := stdAttrs()
					if fifo {
						at = fifoAttrs()
					}
					ts.rawApply(createQueue("q", at))
					entries := make([]*queuedv1.SendEntry, 100)
					for i := range entries {
						entries[i] = &queuedv1.SendEntry{Body: make([]byte, 1024)}
						if fifo {
							entries[i].GroupId = fmt.Sprint("g", i%20)
						}
					}
					for sent := 0; sent < b.N+10; sent += 1000 {
						cmds := make([]*queuedraftv1.Command, 10)
						for i := range cmds {
							cmds[i] = sendCmd("q", entries...)
						}
						ts.rawApply(cmds...)
					}
					b.SetBytes(1024)
					b.ResetTimer()
					for got := 0; got < b.N; {
						ts.advance(time.Microsecond)
						ms := ts.rawApply(receiveCmd("q", 10, time.Minute))[0].GetReceive().GetMessages()
						if len(ms) == 0 {
							b.Fatalf("queue ran dry after %d", got)
						}
						ts.rawApply(ackCmd("q", handles(ms)...))
						got += len(ms)
					}
				})
			}
		}
	}
}

// BenchmarkGetQueueWhileSending measures a read (GetQueue, which also reads
// the queue's oldest message) while another goroutine applies Send entries of
// 10 messages with fsync, as a server's readers run beside its apply loop:
// with batched commits the reads take turns with the applies and commits
// in the pending transaction. b.N counts reads.
func BenchmarkGetQueueWhileSending(b *testing.B) {
	for _, pol := range commitPolicies {
		b.Run("commit="+pol.name, func(b *testing.B) {
			ts := benchStore(b, false, pol.opts)
			ts.rawApply(createQueue("q", stdAttrs()))
			entries := make([]*queuedv1.SendEntry, 10)
			for i := range entries {
				entries[i] = &queuedv1.SendEntry{Body: make([]byte, 1024)}
			}
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					ts.advance(time.Microsecond)
					ts.rawApply(sendCmd("q", entries...))
				}
			})
			now := t0.Add(time.Hour)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := ts.s.GetQueue("q", now); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.StopTimer()
			close(stop)
			wg.Wait()
		})
	}
}
