package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/raftnode"
	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// benchStore opens a store that fsyncs like production unless nosync.
func benchStore(b *testing.B, nosync bool) *testStore {
	path := filepath.Join(b.TempDir(), "queued.db")
	s, err := Open(path, Options{NoSync: nosync, Logger: testLogger(b)})
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
// ApplyBatch (one commit, one fsync unless nosync). b.N counts messages.
func BenchmarkSend(b *testing.B) {
	for _, sync := range []bool{true, false} {
		for _, batch := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("batch=%d/fsync=%v", batch, sync), func(b *testing.B) {
				ts := benchStore(b, !sync)
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

// BenchmarkReceiveAck receives batches of 10 from a full queue and acks
// them: two entries per 10 messages. b.N counts messages.
func BenchmarkReceiveAck(b *testing.B) {
	for _, fifo := range []bool{false, true} {
		b.Run(fmt.Sprintf("fifo=%v", fifo), func(b *testing.B) {
			ts := benchStore(b, true)
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
			for sent := 0; sent < b.N+10; sent += 100 {
				ts.rawApply(sendCmd("q", entries...))
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
