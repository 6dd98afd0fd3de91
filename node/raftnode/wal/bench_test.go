package wal

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// BenchmarkStoreLogs appends batches of 300-byte entries with fsync on, to
// this WAL and to raft-boltdb configured as node/raftnode used it (no freelist
// sync). ns/op is per batch.
func BenchmarkStoreLogs(b *testing.B) {
	for _, batch := range []int{1, 32, 256} {
		b.Run(fmt.Sprintf("wal/batch=%d", batch), func(b *testing.B) {
			l, err := Open(Options{Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			benchAppend(b, l, batch)
		})
		b.Run(fmt.Sprintf("boltdb/batch=%d", batch), func(b *testing.B) {
			s, err := raftboltdb.New(raftboltdb.Options{
				Path:        filepath.Join(b.TempDir(), "raft.db"),
				BoltOptions: &bbolt.Options{NoFreelistSync: true, FreelistType: bbolt.FreelistMapType},
			})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchAppend(b, s, batch)
		})
	}
}

func benchAppend(b *testing.B, s raft.LogStore, batch int) {
	logs := make([]*raft.Log, batch)
	data := make([]byte, 300)
	for i := range logs {
		logs[i] = &raft.Log{Term: 1, Type: raft.LogCommand, Data: data}
	}
	b.SetBytes(int64(batch * len(data)))
	next := uint64(1)
	for b.Loop() {
		for _, l := range logs {
			l.Index = next
			next++
		}
		if err := s.StoreLogs(logs); err != nil {
			b.Fatal(err)
		}
	}
}
