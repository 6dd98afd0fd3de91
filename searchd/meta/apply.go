package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
)

// Buckets of the database.
var (
	indexesBucket = []byte("indexes")
	allBuckets    = [][]byte{indexesBucket}
)

// ApplyBatch applies committed entries in order, in one bbolt transaction
// that also records the last entry's index, and returns one encoded Result
// per entry. A command that fails changes nothing and carries its failure
// in its result. An error is a storage failure. Called by one goroutine at
// a time.
func (s *Store) ApplyBatch(entries []raftnode.Entry) ([][]byte, error) {
	return s.sm.ApplyBatch(entries)
}

// apply is the boltsm.ApplyFunc of the store.
func apply(tx *bbolt.Tx, e raftnode.Entry) ([]byte, bool, error) {
	a := &applier{tx: tx, index: e.Index}
	res, err := a.applyEntry(e.Data)
	if err != nil {
		var f *failure
		if !errors.As(err, &f) {
			return nil, false, fmt.Errorf("meta: apply entry %d: %w", e.Index, err)
		}
		reason, msg, md := Sentinels.Split(f.err)
		if reason == "" {
			reason = rpcerr.InvalidArgument
		}
		res = &Result{Reason: reason, Message: msg, Metadata: md}
		a.changed = false
	}
	out, err := json.Marshal(res)
	if err != nil {
		return nil, false, fmt.Errorf("meta: encode result of entry %d: %w", e.Index, err)
	}
	return out, a.changed, nil
}

// applier applies one entry inside its batch's write transaction.
type applier struct {
	tx      *bbolt.Tx
	index   uint64
	changed bool
}

// applyEntry applies one command; a *failure is deterministic (nothing was
// written), any other error a storage failure.
func (a *applier) applyEntry(data []byte) (*Result, error) {
	cmd := &Command{}
	if err := json.Unmarshal(data, cmd); err != nil {
		return nil, fail(ErrInvalidArgument, "", "undecodable command: %v", err)
	}
	switch cmd.Op {
	case opCreateIndex:
		return a.createIndex(cmd)
	case opDeleteIndex:
		ix, err := a.lookup(cmd)
		if err != nil {
			return nil, err
		}
		a.changed = true
		return &Result{Index: ix}, a.tx.Bucket(indexesBucket).Delete([]byte(ix.Name))
	case opPutMapping:
		return a.update(cmd, func(ix *Index) error {
			if ix.MappingVersion != cmd.ExpectVersion {
				return fail(ErrMappingConflict, "mapping_version", "index %s is at mapping version %d, the update was made from %d", ix.Name, ix.MappingVersion, cmd.ExpectVersion)
			}
			ix.MappingsJSON = cmd.Mappings
			ix.MappingVersion++
			return nil
		})
	case opAddCopy:
		return a.update(cmd, func(ix *Index) error {
			if err := checkShard(ix, cmd.Shard); err != nil {
				return err
			}
			if _, ok := ix.CopyOn(cmd.Shard, cmd.Node); ok || cmd.Node == "" {
				return fail(ErrCopyConflict, "node", "node %q holds a copy of %s shard %d already (or is empty)", cmd.Node, ix.Name, cmd.Shard)
			}
			ix.Copies[cmd.Shard] = append(ix.Copies[cmd.Shard], Copy{Node: cmd.Node, State: Initializing, AllocID: a.index})
			return nil
		})
	case opRemoveCopy:
		return a.update(cmd, func(ix *Index) error {
			i, err := findCopy(ix, cmd)
			if err != nil {
				return err
			}
			ix.Copies[cmd.Shard] = slices.Delete(ix.Copies[cmd.Shard], i, i+1)
			return nil
		})
	case opSetCopyState:
		return a.update(cmd, func(ix *Index) error {
			if cmd.State < Initializing || cmd.State > Lost {
				return fail(ErrInvalidArgument, "state", "unknown copy state %d", cmd.State)
			}
			i, err := findCopy(ix, cmd)
			if err != nil {
				return err
			}
			ix.Copies[cmd.Shard][i].State = cmd.State
			return nil
		})
	}
	return nil, fail(ErrInvalidArgument, "op", "unknown command %q", cmd.Op)
}

func (a *applier) createIndex(cmd *Command) (*Result, error) {
	if cmd.Index == nil {
		return nil, fail(ErrInvalidArgument, "index", "no index")
	}
	ix := cmd.Index.clone()
	if err := validateIndex(ix); err != nil {
		return nil, err
	}
	b := a.tx.Bucket(indexesBucket)
	if b.Get([]byte(ix.Name)) != nil {
		return nil, fail(ErrIndexExists, "name", "index %s exists", ix.Name)
	}
	for s := range ix.Copies {
		for i := range ix.Copies[s] {
			ix.Copies[s][i].AllocID = a.index
		}
	}
	if ix.MappingVersion == 0 {
		ix.MappingVersion = 1
	}
	ix.CreatedUnixNs = cmd.UnixNanos
	if err := a.put(ix); err != nil {
		return nil, err
	}
	return &Result{Index: ix}, nil
}

// lookup reads the index the command names.
func (a *applier) lookup(cmd *Command) (*Index, error) {
	ix, err := getIndex(a.tx, cmd.Name)
	if err != nil {
		return nil, err
	}
	if ix == nil || (cmd.UUID != "" && ix.UUID != cmd.UUID) {
		return nil, fail(ErrIndexNotFound, "name", "no index %s (uuid %q)", cmd.Name, cmd.UUID)
	}
	return ix, nil
}

// update applies change to the index the command names and stores it.
func (a *applier) update(cmd *Command, change func(ix *Index) error) (*Result, error) {
	ix, err := a.lookup(cmd)
	if err != nil {
		return nil, err
	}
	if err := change(ix); err != nil {
		return nil, err
	}
	if err := a.put(ix); err != nil {
		return nil, err
	}
	return &Result{Index: ix}, nil
}

func (a *applier) put(ix *Index) error {
	b, err := json.Marshal(ix)
	if err != nil {
		return err
	}
	a.changed = true
	return a.tx.Bucket(indexesBucket).Put([]byte(ix.Name), b)
}

func checkShard(ix *Index, shard int) error {
	if shard < 0 || shard >= ix.Shards {
		return fail(ErrInvalidArgument, "shard", "index %s has no shard %d", ix.Name, shard)
	}
	return nil
}

// findCopy returns the position of the copy the command names.
func findCopy(ix *Index, cmd *Command) (int, error) {
	if err := checkShard(ix, cmd.Shard); err != nil {
		return 0, err
	}
	for i, c := range ix.Copies[cmd.Shard] {
		if c.Node == cmd.Node && (cmd.AllocID == 0 || c.AllocID == cmd.AllocID) {
			return i, nil
		}
	}
	return 0, fail(ErrCopyConflict, "node", "%s shard %d has no copy on %q (alloc %d)", ix.Name, cmd.Shard, cmd.Node, cmd.AllocID)
}

// getIndex reads one index record (nil when absent).
func getIndex(tx *bbolt.Tx, name string) (*Index, error) {
	v := tx.Bucket(indexesBucket).Get([]byte(name))
	if v == nil {
		return nil, nil
	}
	ix := &Index{}
	if err := json.Unmarshal(v, ix); err != nil {
		return nil, fmt.Errorf("%w: index %s: %v", ErrCorrupt, name, err)
	}
	return ix, nil
}
