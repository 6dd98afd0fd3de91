package meta

import (
	"slices"
	"strconv"

	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

func serverResult(r *blobdraftv1.ServerRecord) *blobdraftv1.CommandResult {
	return &blobdraftv1.CommandResult{Result: &blobdraftv1.CommandResult_Server{Server: r}}
}

func volumeResult(v *blobdraftv1.VolumeRecord) *blobdraftv1.CommandResult {
	return &blobdraftv1.CommandResult{Result: &blobdraftv1.CommandResult_Volume{Volume: v}}
}

func (a *applier) registerServer(op *blobdraftv1.RegisterServerOp) (*blobdraftv1.CommandResult, error) {
	if op.GetId() == "" || len(op.GetId()) > 128 {
		return nil, invalid("id", "server id must be 1 to 128 bytes")
	}
	if op.GetAddr() == "" {
		return nil, invalid("addr", "empty server address")
	}
	r, err := getServer(a.tx, op.GetId())
	if err != nil {
		return nil, err
	}
	if r == nil {
		r = &blobdraftv1.ServerRecord{Id: op.GetId(), RegisteredIndex: a.index}
	}
	r.Addr, r.S3Addr, r.CapacityBytes, r.FreeBytes = op.GetAddr(), op.GetS3Addr(), op.GetCapacityBytes(), op.GetFreeBytes()
	if r.State != blobdraftv1.ServerState_SERVER_STATE_DRAINING {
		r.State = blobdraftv1.ServerState_SERVER_STATE_UP
	}
	return serverResult(r), a.put(bucketServers, []byte(r.Id), r)
}

func validServerState(s blobdraftv1.ServerState) bool {
	return s >= blobdraftv1.ServerState_SERVER_STATE_UP && s <= blobdraftv1.ServerState_SERVER_STATE_DRAINING
}

func (a *applier) setServerState(op *blobdraftv1.SetServerStateOp) (*blobdraftv1.CommandResult, error) {
	if !validServerState(op.GetState()) {
		return nil, invalid("state", "server state %v", op.GetState())
	}
	r, err := a.server(op.GetId(), "id")
	if err != nil {
		return nil, err
	}
	if r.State == op.GetState() {
		return serverResult(r), nil
	}
	r.State = op.GetState()
	return serverResult(r), a.put(bucketServers, []byte(r.Id), r)
}

// server returns a registered server or a SERVER_NOT_FOUND failure.
func (a *applier) server(id, field string) (*blobdraftv1.ServerRecord, error) {
	r, err := getServer(a.tx, id)
	if err == nil && r == nil {
		err = fail(rpcerr.ServerNotFound, "server %q", id).with(rpcerr.KeyField, field)
	}
	return r, err
}

// volume returns a volume or a VOLUME_NOT_FOUND failure.
func (a *applier) volume(vid uint32) (*blobdraftv1.VolumeRecord, error) {
	v, err := getVolume(a.tx, vid)
	if err == nil && v == nil {
		err = fail(rpcerr.VolumeNotFound, "volume %d", vid).with(rpcerr.KeyField, "vid")
	}
	return v, err
}

// checkPlacement checks a volume's servers: as many as its kind wants (one
// for SINGLE, at least one for REPLICATED), distinct, registered and UP.
func (a *applier) checkPlacement(kind blobdraftv1.VolumeKind, servers []string) error {
	switch kind {
	case blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED:
		if len(servers) == 0 {
			return invalid("servers", "a replicated volume needs servers")
		}
	case blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE:
		if len(servers) != 1 {
			return invalid("servers", "a single volume has one server, not %d", len(servers))
		}
	default:
		return invalid("kind", "volume kind %v", kind)
	}
	for i, id := range servers {
		f := "servers[" + strconv.Itoa(i) + "]"
		if slices.Index(servers, id) != i {
			return invalid(f, "server %q twice", id)
		}
		r, err := a.server(id, f)
		if err != nil {
			return err
		}
		if r.State != blobdraftv1.ServerState_SERVER_STATE_UP {
			return fail(rpcerr.PreconditionFailed, "server %q is %v", id, r.State).with(rpcerr.KeyField, f)
		}
	}
	return nil
}

func (a *applier) createVolume(op *blobdraftv1.CreateVolumeOp) (*blobdraftv1.CommandResult, error) {
	if err := a.checkPlacement(op.GetKind(), op.GetServers()); err != nil {
		return nil, err
	}
	mb := a.tx.Bucket(bucketMeta)
	next, err := getUint(mb, metaNextVolume)
	if err != nil {
		return nil, err
	}
	next = max(next, 1)
	if next > 1<<32-1 {
		return nil, fail(rpcerr.LimitExceeded, "volume ids exhausted")
	}
	v := &blobdraftv1.VolumeRecord{Id: uint32(next), Kind: op.GetKind(), Servers: op.GetServers(),
		State: blobdraftv1.VolumeState_VOLUME_STATE_WRITABLE, SizeHint: op.GetSizeHint(), CreatedUnixNanos: a.now}
	if err := putUint(mb, metaNextVolume, next+1); err != nil {
		return nil, err
	}
	return volumeResult(v), a.put(bucketVolumes, volumeKey(v.Id), v)
}

func (a *applier) setVolumeReplicas(op *blobdraftv1.SetVolumeReplicasOp) (*blobdraftv1.CommandResult, error) {
	v, err := a.volume(op.GetVid())
	if err != nil {
		return nil, err
	}
	if !slices.Equal(v.Servers, op.GetExpectOld()) {
		return nil, fail(rpcerr.PreconditionFailed, "volume %d is on %v, not %v", v.Id, v.Servers, op.GetExpectOld()).with(rpcerr.KeyField, "expect_old")
	}
	// A new server must be UP; one that stays may be down or draining.
	for i, id := range op.GetServers() {
		f := "servers[" + strconv.Itoa(i) + "]"
		if slices.Index(op.GetServers(), id) != i {
			return nil, invalid(f, "server %q twice", id)
		}
		r, err := a.server(id, f)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(v.Servers, id) && r.State != blobdraftv1.ServerState_SERVER_STATE_UP {
			return nil, fail(rpcerr.PreconditionFailed, "server %q is %v", id, r.State).with(rpcerr.KeyField, f)
		}
	}
	if n := len(op.GetServers()); n == 0 || v.Kind == blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE && n != 1 {
		return nil, invalid("servers", "%d servers for a %v volume", n, v.Kind)
	}
	v.Servers = op.GetServers()
	return volumeResult(v), a.put(bucketVolumes, volumeKey(v.Id), v)
}

func (a *applier) setVolumeState(op *blobdraftv1.SetVolumeStateOp) (*blobdraftv1.CommandResult, error) {
	if st := op.GetState(); st < blobdraftv1.VolumeState_VOLUME_STATE_WRITABLE || st > blobdraftv1.VolumeState_VOLUME_STATE_READONLY {
		return nil, invalid("state", "volume state %v", st)
	}
	v, err := a.volume(op.GetVid())
	if err != nil {
		return nil, err
	}
	if v.State == op.GetState() {
		return volumeResult(v), nil
	}
	v.State = op.GetState()
	return volumeResult(v), a.put(bucketVolumes, volumeKey(v.Id), v)
}

func (a *applier) dropVolume(op *blobdraftv1.DropVolumeOp) (*blobdraftv1.CommandResult, error) {
	v, err := a.volume(op.GetVid())
	if err != nil {
		return nil, err
	}
	if anyWithPrefix(a.tx.Bucket(bucketRefs), volumeKey(v.Id)) {
		return nil, fail(rpcerr.PreconditionFailed, "volume %d holds referenced needles", v.Id).with(rpcerr.KeyField, "vid")
	}
	return volumeResult(v), a.del(bucketVolumes, volumeKey(v.Id))
}

func (a *applier) allocateNeedles(op *blobdraftv1.AllocateNeedlesOp) (*blobdraftv1.CommandResult, error) {
	n := op.GetCount()
	if n == 0 || n > MaxNeedleBlock {
		return nil, invalid("count", "needle count %d not in 1..%d", n, MaxNeedleBlock).with(rpcerr.KeyLimit, strconv.Itoa(MaxNeedleBlock))
	}
	first, err := nextNeedle(a.tx)
	if err != nil {
		return nil, err
	}
	if err := putUint(a.tx.Bucket(bucketMeta), metaNextNeedle, first+n); err != nil {
		return nil, err
	}
	blk := &blobdraftv1.NeedleBlockRecord{First: first, Count: n, UnixNanos: a.now}
	if err := a.put(bucketNeedleBlocks, needleBlockKey(first), blk); err != nil {
		return nil, err
	}
	return &blobdraftv1.CommandResult{Result: &blobdraftv1.CommandResult_Needles{Needles: &blobdraftv1.NeedleRange{First: first, Count: n}}}, nil
}

func needleBlockKey(first uint64) []byte { return needleKey(0, first)[4:] }

// bucketUsed reports whether a bucket holds objects or uploads.
func bucketUsed(tx *bbolt.Tx, name string) bool {
	p := bucketPrefix(name)
	return anyWithPrefix(tx.Bucket(bucketObjects), p) || anyWithPrefix(tx.Bucket(bucketUploadKeys), p)
}
