package meta

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"cairn.dev/cairn/node/rpcerr"
)

// Command is one metadata change, JSON-encoded in the Raft log. Build it
// with the constructors below.
type Command struct {
	Op        string `json:"op"`
	UnixNanos int64  `json:"unix_nanos"`
	// Index is the new index of create_index.
	Index *Index `json:"index,omitempty"`
	// Name and UUID select the index (UUID empty: any).
	Name string `json:"name,omitempty"`
	UUID string `json:"uuid,omitempty"`
	// Shard, Node and AllocID select a copy.
	Shard   int    `json:"shard,omitempty"`
	Node    string `json:"node,omitempty"`
	AllocID uint64 `json:"alloc_id,omitempty"`
	// State is set_copy_state's new state.
	State CopyState `json:"state,omitempty"`
	// ExpectVersion and Mappings are put_mapping's.
	ExpectVersion uint64          `json:"expect_version,omitempty"`
	Mappings      json.RawMessage `json:"mappings,omitempty"`
}

// Result is a command's outcome: the index as it is after the command (as
// it was, for delete_index), or the failure.
type Result struct {
	Index    *Index            `json:"index,omitempty"`
	Reason   rpcerr.Reason     `json:"reason,omitempty"`
	Message  string            `json:"message,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Err returns the failure the result records, as a sentinel of this
// package, or nil.
func (r *Result) Err() error { return Sentinels.Error(r.Reason, r.Message, r.Metadata) }

// The operations.
const (
	opCreateIndex  = "create_index"
	opDeleteIndex  = "delete_index"
	opPutMapping   = "put_mapping"
	opAddCopy      = "add_copy"
	opRemoveCopy   = "remove_copy"
	opSetCopyState = "set_copy_state"
)

// CreateIndex creates ix (its copies as placed by the caller, each given
// the command's Raft index as AllocID); ErrIndexExists when the name is
// taken.
func CreateIndex(ix *Index) *Command { return &Command{Op: opCreateIndex, Index: ix} }

// DeleteIndex deletes the index name (of uuid, when not empty).
func DeleteIndex(name, uuid string) *Command {
	return &Command{Op: opDeleteIndex, Name: name, UUID: uuid}
}

// PutMapping replaces the mappings of index name with mappings, computed
// by the caller from version expect; ErrMappingConflict when the version
// moved on. The version becomes expect+1.
func PutMapping(name string, expect uint64, mappings []byte) *Command {
	return &Command{Op: opPutMapping, Name: name, ExpectVersion: expect, Mappings: mappings}
}

// AddCopy places a new INITIALIZING copy of a shard on node (AllocID: the
// command's Raft index); ErrCopyConflict when node holds one already.
func AddCopy(name, uuid string, shard int, node string) *Command {
	return &Command{Op: opAddCopy, Name: name, UUID: uuid, Shard: shard, Node: node}
}

// RemoveCopy removes the copy of a shard on node with allocID (0: any);
// ErrCopyConflict when there is none.
func RemoveCopy(name, uuid string, shard int, node string, allocID uint64) *Command {
	return &Command{Op: opRemoveCopy, Name: name, UUID: uuid, Shard: shard, Node: node, AllocID: allocID}
}

// SetCopyState sets the state of the copy of a shard on node with allocID
// (0: any); ErrCopyConflict when there is none.
func SetCopyState(name, uuid string, shard int, node string, allocID uint64, st CopyState) *Command {
	return &Command{Op: opSetCopyState, Name: name, UUID: uuid, Shard: shard, Node: node, AllocID: allocID, State: st}
}

// ApplyFunc commits an encoded command and returns the state machine's
// encoded result: raftnode's Node.Apply or ApplyAsLeader.
type ApplyFunc func(ctx context.Context, cmd []byte) ([]byte, error)

// Propose stamps cmd with now, commits it through apply and decodes its
// result. Errors of apply come back as they are; a failure the state
// machine recorded comes back as this package's sentinel (with rpcerr
// metadata), together with the result.
func Propose(ctx context.Context, apply ApplyFunc, now time.Time, cmd *Command) (*Result, error) {
	cmd.UnixNanos = now.UnixNano()
	b, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("meta: encode command: %w", err)
	}
	out, err := apply(ctx, b)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	if err := json.Unmarshal(out, res); err != nil {
		return nil, fmt.Errorf("%w: undecodable result: %v", ErrCorrupt, err)
	}
	return res, res.Err()
}
