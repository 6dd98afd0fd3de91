package store

import (
	"cairn.dev/cairn/node/raftnode"
)

// ApplyBatch applies committed entries in log order, in one bbolt write
// transaction that also records the last entry's index, and returns one
// proto-encoded CommandResult per entry. Entries at or below AppliedIndex are
// skipped with an empty result. A non-nil error is a storage failure: nothing
// of the batch was applied. Called by one goroutine at a time.
func (s *Store) ApplyBatch(entries []raftnode.Entry) ([][]byte, error) {
	return nil, ErrClosed
}
