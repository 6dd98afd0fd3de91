package raftkv

import (
	"io"
	"log/slog"

	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/failpoint"
	"cairn.dev/cairn/node/raftnode"
	raftkvraftv1 "cairn.dev/cairn/proto/cairn/raftkv/raft/v1"
	"cairn.dev/cairn/raftkv/mvcc"
)

// stateMachine adapts the mvcc store to raftnode.StateMachine. After each batch it
// publishes the batch's events to watchers and tells the lessor about lease changes.
type stateMachine struct {
	store  *mvcc.Store
	hub    *watchHub
	lessor *lessor
	logger *slog.Logger
}

var _ raftnode.StateMachine = (*stateMachine)(nil)

// badCommand is the result code for a log entry that does not decode; it is
// deterministic, so every replica reports the same.
const badCommand = "bad_command"

func (sm *stateMachine) ApplyBatch(entries []raftnode.Entry) ([][]byte, error) {
	out := make([][]byte, len(entries))
	batch := make([]mvcc.Entry, 0, len(entries))
	pos := make([]int, 0, len(entries))
	for i, e := range entries {
		cmd := &raftkvraftv1.Command{}
		if err := proto.Unmarshal(e.Data, cmd); err != nil {
			sm.logger.Error("undecodable log entry", "index", e.Index, "err", err)
			out[i], _ = proto.Marshal(&raftkvraftv1.CommandResult{Error: badCommand, ErrorMessage: err.Error()})
			continue
		}
		batch = append(batch, mvcc.Entry{Index: e.Index, Cmd: cmd})
		pos = append(pos, i)
	}
	failpoint.Inject("raftkv/before-apply")
	results, events, err := sm.store.ApplyBatch(batch)
	if err != nil {
		return nil, err
	}
	// The batch is applied (and durable in the Raft log, not necessarily in the
	// database); its results are not yet acknowledged.
	failpoint.Inject("raftkv/after-apply")
	for j, r := range results {
		if r == nil {
			continue // a replay of an entry already applied
		}
		b, err := proto.Marshal(r)
		if err != nil {
			return nil, err
		}
		out[pos[j]] = b
		sm.lessor.observe(batch[j].Cmd, r)
	}
	if len(events) > 0 {
		sm.hub.publish(events)
	}
	return out, nil
}

func (sm *stateMachine) AppliedIndex() uint64 { return sm.store.AppliedIndex() }

func (sm *stateMachine) Snapshot() (raftnode.Snapshot, error) {
	// The store writes a consistent copy from one read transaction. It may include
	// entries applied after Raft's snapshot index; that is safe because the copy
	// carries its own applied index and replays at or below it are skipped.
	return storeSnapshot{sm.store}, nil
}

func (sm *stateMachine) Restore(r io.Reader) error {
	if err := sm.store.Restore(r); err != nil {
		return err
	}
	sm.lessor.reload()
	// Watchers resynchronise from the store when they next look.
	sm.hub.resyncAll()
	return nil
}

type storeSnapshot struct{ s *mvcc.Store }

func (s storeSnapshot) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	err := s.s.Snapshot(cw)
	return cw.n, err
}

func (storeSnapshot) Release() {}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
