package raftnode

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

var transportBenchKinds = []transportKind{transportGRPC, transportNet}

func transportBenchRaftConfig(id raft.ServerID) *raft.Config {
	conf := raft.DefaultConfig()
	conf.LocalID = id
	conf.HeartbeatTimeout = 500 * time.Millisecond
	conf.ElectionTimeout = 500 * time.Millisecond
	conf.LeaderLeaseTimeout = 250 * time.Millisecond
	conf.Logger = hclog.New(&hclog.LoggerOptions{Name: string(id), Output: io.Discard, Level: hclog.Error})
	return conf
}

// BenchmarkTransport measures committed Applies on a 3-node cluster with in-memory
// stores on loopback: 64 concurrent appliers of 256-byte commands, over this package's
// gRPC transport and over hashicorp/raft's NetworkTransport. One op is one committed
// Apply.
func BenchmarkTransport(b *testing.B) {
	const (
		appliers = 64
		cmdSize  = 256
	)
	for _, kind := range transportBenchKinds {
		b.Run(string(kind), func(b *testing.B) {
			c := newTransportTestCluster(b, 3, kind, transportBenchRaftConfig)
			leader := c.nodes[c.waitLeader(10*time.Second)].raft
			cmd := make([]byte, cmdSize)
			var (
				next     atomic.Int64
				wg       sync.WaitGroup
				firstErr atomic.Value
			)
			b.SetBytes(cmdSize)
			b.ResetTimer()
			for range appliers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						if err := leader.Apply(cmd, 10*time.Second).Error(); err != nil {
							firstErr.CompareAndSwap(nil, err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			if err := firstErr.Load(); err != nil {
				b.Fatalf("apply: %v", err)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "applies/s")
		})
	}
}

// BenchmarkTransportPipeline measures raw AppendEntries throughput through one
// AppendEntriesPipeline, with a receiver that answers at once. One op is one
// AppendEntries of 16 entries of 256 bytes.
func BenchmarkTransportPipeline(b *testing.B) {
	const (
		entries   = 16
		entrySize = 256
	)
	for _, kind := range transportBenchKinds {
		b.Run(string(kind), func(b *testing.B) {
			client, _ := newTransportOfKind(b, kind, "")
			server, _ := newTransportOfKind(b, kind, "")
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case rpc := <-server.Consumer():
						req := rpc.Command.(*raft.AppendEntriesRequest)
						rpc.Respond(&raft.AppendEntriesResponse{Term: req.Term, LastLog: req.PrevLogEntry + entries, Success: true}, nil)
					case <-stop:
						return
					}
				}
			}()
			b.Cleanup(func() {
				close(stop)
				wg.Wait()
			})

			pipe, err := client.AppendEntriesPipeline("server", server.LocalAddr())
			if err != nil {
				b.Fatal(err)
			}
			defer pipe.Close()
			logs := make([]*raft.Log, entries)
			for i := range logs {
				logs[i] = &raft.Log{Index: uint64(i + 1), Term: 1, Type: raft.LogCommand, Data: make([]byte, entrySize), AppendedAt: time.Now()}
			}
			hdr := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("client"), Addr: []byte(client.LocalAddr())}

			consumed := make(chan error, 1)
			b.SetBytes(entries * entrySize)
			b.ResetTimer()
			go func() {
				defer close(consumed)
				for i := 0; i < b.N; i++ {
					if err := (<-pipe.Consumer()).Error(); err != nil {
						consumed <- fmt.Errorf("future %d: %w", i, err)
						return
					}
				}
			}()
			for i := 0; i < b.N; i++ {
				req := &raft.AppendEntriesRequest{RPCHeader: hdr, Term: 1, PrevLogEntry: uint64(i), PrevLogTerm: 1, Entries: logs, LeaderCommitIndex: uint64(i)}
				if _, err := pipe.AppendEntries(req, new(raft.AppendEntriesResponse)); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-consumed; err != nil {
				b.Fatal(err)
			}
		})
	}
}
