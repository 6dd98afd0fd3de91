package meta

import (
	"context"
	"time"

	"cairn.dev/cairn/node/raftnode"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// ApplyFunc commits an encoded Command and returns the state machine's
// encoded result: raftnode's Node.Apply (forwarded to the leader) or
// ApplyAsLeader.
type ApplyFunc func(ctx context.Context, cmd []byte) ([]byte, error)

// Propose stamps cmd with now (the only clock the state machine sees),
// commits it through apply and decodes its result. Errors of apply
// (raftnode's sentinels) and decoding come back with a nil result. A failure
// the state machine recorded comes back as ResultError's error (a sentinel
// of this package, with rpcerr metadata) together with the result.
func Propose(ctx context.Context, apply ApplyFunc, now time.Time, cmd *blobdraftv1.Command) (*blobdraftv1.CommandResult, error) {
	cmd.UnixNanos = now.UnixNano()
	res, err := raftnode.Propose[blobdraftv1.CommandResult](ctx, apply, cmd)
	if err != nil {
		return nil, err
	}
	return res, ResultError(res)
}

// The constructors below build each command; the doc of each says what its
// result holds. Every result may carry freed needles (CommandResult.freed).

// RegisterServer adds or updates a volume server. Result: server.
func RegisterServer(id, addr, s3Addr string, capacity, free uint64) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_RegisterServer{RegisterServer: &blobdraftv1.RegisterServerOp{
		Id: id, Addr: addr, S3Addr: s3Addr, CapacityBytes: capacity, FreeBytes: free}}}
}

// SetServerState records a server as up, down or draining. Result: server.
func SetServerState(id string, st blobdraftv1.ServerState) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_SetServerState{SetServerState: &blobdraftv1.SetServerStateOp{Id: id, State: st}}}
}

// CreateVolume makes a volume on servers. Result: volume (with its id).
func CreateVolume(kind blobdraftv1.VolumeKind, servers []string, sizeHint uint64) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_CreateVolume{CreateVolume: &blobdraftv1.CreateVolumeOp{
		Kind: kind, Servers: servers, SizeHint: sizeHint}}}
}

// SetVolumeReplicas moves volume vid from expectOld to servers. Result:
// volume.
func SetVolumeReplicas(vid uint32, expectOld, servers []string) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_SetVolumeReplicas{SetVolumeReplicas: &blobdraftv1.SetVolumeReplicasOp{
		Vid: vid, Servers: servers, ExpectOld: expectOld}}}
}

// SetVolumeState marks a volume writable, full or read-only. Result: volume.
func SetVolumeState(vid uint32, st blobdraftv1.VolumeState) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_SetVolumeState{SetVolumeState: &blobdraftv1.SetVolumeStateOp{Vid: vid, State: st}}}
}

// DropVolume forgets an unreferenced volume. Result: volume (as it was).
func DropVolume(vid uint32) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_DropVolume{DropVolume: &blobdraftv1.DropVolumeOp{Vid: vid}}}
}

// AllocateNeedles hands out count needle ids. Result: needles.
func AllocateNeedles(count uint64) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_AllocateNeedles{AllocateNeedles: &blobdraftv1.AllocateNeedlesOp{Count: count}}}
}

// CreateBucket creates a bucket. Result: bucket.
func CreateBucket(name, owner string, tier blobdraftv1.Tier, rules []*blobdraftv1.LifecycleRule) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_CreateBucket{CreateBucket: &blobdraftv1.CreateBucketOp{
		Name: name, Owner: owner, DefaultTier: tier, Rules: rules}}}
}

// DeleteBucket deletes an empty bucket. Result: bucket (as it was).
func DeleteBucket(name string) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_DeleteBucket{DeleteBucket: &blobdraftv1.DeleteBucketOp{Name: name}}}
}

// PutLifecycle replaces a bucket's lifecycle rules. Result: bucket.
func PutLifecycle(bucket string, rules []*blobdraftv1.LifecycleRule) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_PutLifecycle{PutLifecycle: &blobdraftv1.PutLifecycleOp{Bucket: bucket, Rules: rules}}}
}

// PutObject stores o at bucket/key (o's size, etag, headers, tier, chunks
// and part sizes are used), under the conditions ifMatch and ifNoneMatch
// ("" for none). Result: object, and the replaced object's freed needles.
func PutObject(bucket, key string, o *blobdraftv1.ObjectRecord, ifMatch, ifNoneMatch string) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_PutObject{PutObject: &blobdraftv1.PutObjectOp{
		Bucket: bucket, Key: key, Object: o, IfMatch: ifMatch, IfNoneMatch: ifNoneMatch}}}
}

// DeleteObject deletes bucket/key if it exists. Result: deleted, and freed.
func DeleteObject(bucket, key string) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_DeleteObject{DeleteObject: &blobdraftv1.DeleteObjectOp{Bucket: bucket, Key: key}}}
}

// SetObjectTier moves bucket/key to tier with the manifest chunks if its
// etag and manifest index (ManifestIndex of the record the mover read) are
// still the expected ones, so of two movers that read the same manifest
// only the first swaps it (the other gets PRECONDITION_FAILED and reads the
// object again). Result: object, and the old manifest's freed needles.
func SetObjectTier(bucket, key, expectedETag string, expectedManifestIndex uint64, tier blobdraftv1.Tier, chunks []*blobdraftv1.Chunk) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_SetObjectTier{SetObjectTier: &blobdraftv1.SetObjectTierOp{
		Bucket: bucket, Key: key, ExpectedEtag: expectedETag, ExpectedManifestIndex: expectedManifestIndex, Tier: tier, Chunks: chunks}}}
}

// Tick changes nothing but advances the state machine's clock (Store.Clock)
// to the command's time. Result: empty.
func Tick() *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_Tick{Tick: &blobdraftv1.TickOp{}}}
}

// WithNeedleMaxAge sets cmd's needle_max_age_nanos (see the proto): the
// command fails with ErrNeedleTooOld if it references for the first time a
// needle allocated more than maxAge before the state machine's clock.
// Returns cmd.
func WithNeedleMaxAge(cmd *blobdraftv1.Command, maxAge time.Duration) *blobdraftv1.Command {
	cmd.NeedleMaxAgeNanos = int64(maxAge)
	return cmd
}

// SetRestore records the restore state of an archived object. Result:
// object.
func SetRestore(bucket, key string, st blobdraftv1.RestoreState, until time.Time) *blobdraftv1.Command {
	var u int64
	if !until.IsZero() {
		u = until.UnixNano()
	}
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_SetRestore{SetRestore: &blobdraftv1.SetRestoreOp{
		Bucket: bucket, Key: key, State: st, UntilUnixNanos: u}}}
}

// CreateMultipartUpload starts an upload. Result: upload (with its id).
func CreateMultipartUpload(bucket, key string, h *blobdraftv1.ObjectHeaders, tier blobdraftv1.Tier) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_CreateMultipartUpload{CreateMultipartUpload: &blobdraftv1.CreateMultipartUploadOp{
		Bucket: bucket, Key: key, Headers: h, Tier: tier}}}
}

// PutPart records part p of an upload (number, size, etag, chunks).
// Result: part, and the replaced part's freed needles.
func PutPart(bucket, key, uploadID string, p *blobdraftv1.PartRecord) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_PutPart{PutPart: &blobdraftv1.PutPartOp{
		Bucket: bucket, Key: key, UploadId: uploadID, Part: p}}}
}

// CompleteMultipartUpload makes the object of the listed parts. Result:
// object, and freed needles (unused parts, the replaced object).
func CompleteMultipartUpload(bucket, key, uploadID string, parts []*blobdraftv1.CompletedPart, ifMatch, ifNoneMatch string) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_CompleteMultipartUpload{CompleteMultipartUpload: &blobdraftv1.CompleteMultipartUploadOp{
		Bucket: bucket, Key: key, UploadId: uploadID, Parts: parts, IfMatch: ifMatch, IfNoneMatch: ifNoneMatch}}}
}

// AbortMultipartUpload drops an upload and its parts. Result: upload (as
// it was), and freed.
func AbortMultipartUpload(bucket, key, uploadID string) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_AbortMultipartUpload{AbortMultipartUpload: &blobdraftv1.AbortMultipartUploadOp{
		Bucket: bucket, Key: key, UploadId: uploadID}}}
}

// PutAccessKey creates or replaces an access key. Result: access_key.
func PutAccessKey(id, secret, principal string, enabled bool) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_PutAccessKey{PutAccessKey: &blobdraftv1.PutAccessKeyOp{
		Id: id, Secret: secret, Principal: principal, Enabled: enabled}}}
}

// DeleteAccessKey deletes an access key. Result: access_key (as it was).
func DeleteAccessKey(id string) *blobdraftv1.Command {
	return &blobdraftv1.Command{Op: &blobdraftv1.Command_DeleteAccessKey{DeleteAccessKey: &blobdraftv1.DeleteAccessKeyOp{Id: id}}}
}
