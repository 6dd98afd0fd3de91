package meta

import (
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// ApplyBatch applies committed entries in order, in one bbolt transaction
// that also records the last entry's index, and returns one encoded
// blobdraftv1.CommandResult per entry. Entries at or below the applied
// index are skipped (their result is empty). A command that fails (no such
// bucket, a failed precondition, ...) changes nothing and carries the
// failure in its result. An error is a storage failure: nothing in the
// batch was applied and the store refuses every later batch. Called by one
// goroutine at a time.
func (s *Store) ApplyBatch(entries []raftnode.Entry) ([][]byte, error) {
	return s.sm.ApplyBatch(entries)
}

// apply is the boltsm.ApplyFunc of the store: it applies one entry and
// encodes its result deterministically.
func apply(tx *bbolt.Tx, e raftnode.Entry) ([]byte, bool, error) {
	a := &applier{tx: tx}
	res, err := a.applyEntry(e)
	if err != nil {
		return nil, false, fmt.Errorf("meta: apply entry %d: %w", e.Index, err)
	}
	out, err := proto.MarshalOptions{Deterministic: true}.Marshal(res)
	if err != nil {
		return nil, false, fmt.Errorf("meta: encode result of entry %d: %w", e.Index, err)
	}
	return out, a.changed, nil
}

// applier applies one entry inside its batch's write transaction.
type applier struct {
	tx *bbolt.Tx
	// changed is set by every write.
	changed bool
	now     int64  // the command's unix_nanos
	index   uint64 // the entry's Raft index
	// clock is the state machine's clock: the largest unix_nanos applied,
	// this command's included (never decreasing, unlike now).
	clock int64
	// maxAge is the command's needle_max_age_nanos (0: no bound).
	maxAge int64
}

// applyEntry applies one entry. Deterministic failures are in the result
// (and changed nothing: every command checks before it writes); an error is
// a storage failure.
func (a *applier) applyEntry(e raftnode.Entry) (*blobdraftv1.CommandResult, error) {
	a.index = e.Index
	cmd := &blobdraftv1.Command{}
	if err := proto.Unmarshal(e.Data, cmd); err != nil {
		return failResult(fail(rpcerr.InvalidArgument, "undecodable command: %v", err)), nil
	}
	a.now = cmd.GetUnixNanos()
	a.maxAge = cmd.GetNeedleMaxAgeNanos()
	if err := a.advanceClock(); err != nil {
		return nil, err
	}
	res, err := a.dispatch(cmd)
	if err != nil {
		var f *failure
		if errors.As(err, &f) {
			return failResult(f), nil
		}
		return nil, err
	}
	return res, nil
}

func failResult(f *failure) *blobdraftv1.CommandResult {
	return &blobdraftv1.CommandResult{Error: string(f.reason), ErrorMessage: f.msg, ErrorMetadata: f.md}
}

func (a *applier) dispatch(cmd *blobdraftv1.Command) (*blobdraftv1.CommandResult, error) {
	switch op := cmd.GetOp().(type) {
	case *blobdraftv1.Command_RegisterServer:
		return a.registerServer(op.RegisterServer)
	case *blobdraftv1.Command_SetServerState:
		return a.setServerState(op.SetServerState)
	case *blobdraftv1.Command_CreateVolume:
		return a.createVolume(op.CreateVolume)
	case *blobdraftv1.Command_SetVolumeReplicas:
		return a.setVolumeReplicas(op.SetVolumeReplicas)
	case *blobdraftv1.Command_SetVolumeState:
		return a.setVolumeState(op.SetVolumeState)
	case *blobdraftv1.Command_DropVolume:
		return a.dropVolume(op.DropVolume)
	case *blobdraftv1.Command_AllocateNeedles:
		return a.allocateNeedles(op.AllocateNeedles)
	case *blobdraftv1.Command_CreateBucket:
		return a.createBucket(op.CreateBucket)
	case *blobdraftv1.Command_DeleteBucket:
		return a.deleteBucket(op.DeleteBucket)
	case *blobdraftv1.Command_PutLifecycle:
		return a.putLifecycle(op.PutLifecycle)
	case *blobdraftv1.Command_PutObject:
		return a.putObject(op.PutObject)
	case *blobdraftv1.Command_DeleteObject:
		return a.deleteObject(op.DeleteObject)
	case *blobdraftv1.Command_SetObjectTier:
		return a.setObjectTier(op.SetObjectTier)
	case *blobdraftv1.Command_SetRestore:
		return a.setRestore(op.SetRestore)
	case *blobdraftv1.Command_CreateMultipartUpload:
		return a.createMultipartUpload(op.CreateMultipartUpload)
	case *blobdraftv1.Command_PutPart:
		return a.putPart(op.PutPart)
	case *blobdraftv1.Command_CompleteMultipartUpload:
		return a.completeMultipartUpload(op.CompleteMultipartUpload)
	case *blobdraftv1.Command_AbortMultipartUpload:
		return a.abortMultipartUpload(op.AbortMultipartUpload)
	case *blobdraftv1.Command_PutAccessKey:
		return a.putAccessKey(op.PutAccessKey)
	case *blobdraftv1.Command_DeleteAccessKey:
		return a.deleteAccessKey(op.DeleteAccessKey)
	case *blobdraftv1.Command_Tick:
		return &blobdraftv1.CommandResult{}, nil
	default:
		return nil, fail(rpcerr.InvalidArgument, "command has no known op")
	}
}

// advanceClock moves the stored clock up to the command's time (a command
// stamped earlier than one applied before leaves it) and loads it into
// a.clock. It is bookkeeping, not a state change: it does not wake readers,
// and a command that fails still advances it.
func (a *applier) advanceClock() error {
	b := a.tx.Bucket(bucketMeta)
	c, err := getUint(b, metaClock)
	if err != nil {
		return err
	}
	a.clock = int64(c)
	if a.now > a.clock {
		a.clock = a.now
		return putUint(b, metaClock, uint64(a.now))
	}
	return nil
}

// checkNeedleAge refuses (REQUEST_TIMEOUT) chunks naming a needle that no
// reference holds yet and that was allocated more than the command's
// needle_max_age_nanos before the clock: garbage collection may have
// deleted it (see gc.go in blobd). Needles already referenced (the shards a
// shard rebuild keeps) are not checked: GC keeps referenced needles.
func (a *applier) checkNeedleAge(field string, chunks []*blobdraftv1.Chunk) error {
	if a.maxAge <= 0 {
		return nil
	}
	refs := a.tx.Bucket(bucketRefs)
	return eachNeedle(chunks, func(n *blobdraftv1.NeedleRef, chunk, shard int32) error {
		if anyWithPrefix(refs, needleKey(n.GetVid(), n.GetNid())) {
			return nil
		}
		at, ok, err := needleAllocatedAt(a.tx, n.GetNid())
		if err != nil || !ok {
			return err // checkChunks refused ids never allocated already
		}
		if age := a.clock - at; age > a.maxAge {
			return fail(rpcerr.RequestTimeout, "needle %d/%d was allocated %v before the metadata clock, over the command's limit of %v: garbage collection may have deleted it",
				n.GetVid(), n.GetNid(), time.Duration(age), time.Duration(a.maxAge)).with(rpcerr.KeyField, field)
		}
		return nil
	})
}

// put writes a record and marks the batch as changing state.
func (a *applier) put(bucket, key []byte, m proto.Message) error {
	a.changed = true
	return put(a.tx.Bucket(bucket), key, m)
}

// del deletes a key and marks the batch as changing state.
func (a *applier) del(bucket, key []byte) error {
	a.changed = true
	return a.tx.Bucket(bucket).Delete(key)
}
