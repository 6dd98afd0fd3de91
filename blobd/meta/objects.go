package meta

import (
	"strings"

	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

func objectResult(o *blobdraftv1.ObjectRecord, freed []*blobdraftv1.NeedleRef) *blobdraftv1.CommandResult {
	return &blobdraftv1.CommandResult{Freed: freed, Result: &blobdraftv1.CommandResult_Object{Object: o}}
}

// normETag strips the quotes and surrounding spaces of an etag as HTTP
// sends it.
func normETag(s string) string { return strings.Trim(strings.TrimSpace(s), `"`) }

// checkConditions applies If-Match and If-None-Match to the object at the
// key (nil: none), as S3's conditional writes do: If-None-Match "*" fails
// when an object exists; If-Match fails with OBJECT_NOT_FOUND when none
// does and PRECONDITION_FAILED when its etag differs ("*" matches any).
func checkConditions(cur *blobdraftv1.ObjectRecord, ifMatch, ifNoneMatch string) error {
	if ifNoneMatch != "" {
		if strings.TrimSpace(ifNoneMatch) != "*" {
			return invalid("if_none_match", "If-None-Match supports only *")
		}
		if cur != nil {
			return fail(rpcerr.PreconditionFailed, "an object exists at the key").with(rpcerr.KeyField, "if_none_match")
		}
	}
	if ifMatch != "" {
		if cur == nil {
			return fail(rpcerr.ObjectNotFound, "no object to match").with(rpcerr.KeyField, "if_match")
		}
		if m := normETag(ifMatch); m != "*" && m != cur.GetEtag() {
			return fail(rpcerr.PreconditionFailed, "etag is %q, not %q", cur.GetEtag(), m).with(rpcerr.KeyField, "if_match")
		}
	}
	return nil
}

// ManifestIndex is the generation of o's manifest: the Raft index of the
// command that last set its chunks (ObjectRecord.manifest_index), or its
// version for a record written before manifest indexes existed (its chunks
// were last set by the command that wrote it or by a tier move, which kept
// the version). Movers pass it to SetObjectTier.
func ManifestIndex(o *blobdraftv1.ObjectRecord) uint64 {
	if m := o.GetManifestIndex(); m != 0 {
		return m
	}
	return o.GetVersion()
}

func objectOwner(bucket, key string) owner { return owner{bucket: bucket, key: key} }

func (a *applier) putObject(op *blobdraftv1.PutObjectOp) (*blobdraftv1.CommandResult, error) {
	b, err := checkBucketKey(a.tx, op.GetBucket(), op.GetKey())
	if err != nil {
		return nil, err
	}
	in := op.GetObject()
	if in.GetSize() < 0 || in.GetSize() > MaxObjectBytes {
		return nil, fail(rpcerr.LimitExceeded, "object size %d not in 0..%d", in.GetSize(), int64(MaxObjectBytes)).with(rpcerr.KeyField, "object.size")
	}
	if e := in.GetEtag(); e == "" || len(e) > 64 {
		return nil, invalid("object.etag", "etag must be 1 to 64 bytes")
	}
	if err := ValidateHeaders(in.GetHeaders()); err != nil {
		return nil, failureOf(err)
	}
	tier := in.GetTier()
	if tier == blobdraftv1.Tier_TIER_UNSPECIFIED {
		tier = b.GetDefaultTier()
	}
	if !validTier(tier) {
		return nil, invalid("object.tier", "tier %v", tier)
	}
	if err := checkChunks(a.tx, "object.chunks", in.GetSize(), in.GetChunks()); err != nil {
		return nil, err
	}
	if err := a.checkNeedleAge("object.chunks", in.GetChunks()); err != nil {
		return nil, err
	}
	cur, err := getObject(a.tx, op.GetBucket(), op.GetKey())
	if err != nil {
		return nil, err
	}
	if err := checkConditions(cur, op.GetIfMatch(), op.GetIfNoneMatch()); err != nil {
		return nil, err
	}
	o := &blobdraftv1.ObjectRecord{Bucket: op.GetBucket(), Key: op.GetKey(), Size: in.GetSize(), Etag: in.GetEtag(),
		Headers: in.GetHeaders(), CreatedUnixNanos: a.now, Version: a.index, ManifestIndex: a.index, Tier: tier, Chunks: in.GetChunks(),
		PartSizes: in.GetPartSizes()}
	freed, err := a.replaceObject(cur, o)
	if err != nil {
		return nil, err
	}
	return objectResult(o, freed), nil
}

// replaceObject stores o at its key in place of cur (nil: none), moving
// the needle references, and returns the needles left unreferenced.
func (a *applier) replaceObject(cur, o *blobdraftv1.ObjectRecord) ([]*blobdraftv1.NeedleRef, error) {
	touched := refSet{}
	own := objectOwner(o.Bucket, o.Key)
	if cur != nil {
		if err := a.dropRefs(own, cur.GetChunks(), touched); err != nil {
			return nil, err
		}
	}
	if err := a.addRefs(own, o.GetChunks()); err != nil {
		return nil, err
	}
	if err := a.put(bucketObjects, objectKey(o.Bucket, o.Key), o); err != nil {
		return nil, err
	}
	return a.freed(touched), nil
}

func (a *applier) deleteObject(op *blobdraftv1.DeleteObjectOp) (*blobdraftv1.CommandResult, error) {
	if _, err := checkBucketKey(a.tx, op.GetBucket(), op.GetKey()); err != nil {
		return nil, err
	}
	cur, err := getObject(a.tx, op.GetBucket(), op.GetKey())
	if err != nil {
		return nil, err
	}
	res := &blobdraftv1.CommandResult{Result: &blobdraftv1.CommandResult_Deleted{Deleted: cur != nil}}
	if cur == nil {
		return res, nil
	}
	touched := refSet{}
	if err := a.dropRefs(objectOwner(cur.Bucket, cur.Key), cur.GetChunks(), touched); err != nil {
		return nil, err
	}
	if err := a.del(bucketObjects, objectKey(cur.Bucket, cur.Key)); err != nil {
		return nil, err
	}
	res.Freed = a.freed(touched)
	return res, nil
}

// object returns the object at bucket/key, or a BUCKET_NOT_FOUND or
// OBJECT_NOT_FOUND failure.
func (a *applier) object(bucket, key string) (*blobdraftv1.ObjectRecord, error) {
	if _, err := checkBucketKey(a.tx, bucket, key); err != nil {
		return nil, err
	}
	o, err := getObject(a.tx, bucket, key)
	if err == nil && o == nil {
		err = fail(rpcerr.ObjectNotFound, "object %q in bucket %q", key, bucket).with(rpcerr.KeyField, "key")
	}
	return o, err
}

func (a *applier) setObjectTier(op *blobdraftv1.SetObjectTierOp) (*blobdraftv1.CommandResult, error) {
	if !validTier(op.GetTier()) {
		return nil, invalid("tier", "tier %v", op.GetTier())
	}
	cur, err := a.object(op.GetBucket(), op.GetKey())
	if err != nil {
		return nil, err
	}
	if cur.GetEtag() != normETag(op.GetExpectedEtag()) || op.GetExpectedVersion() != 0 && op.GetExpectedVersion() != cur.GetVersion() {
		return nil, fail(rpcerr.PreconditionFailed, "object changed: etag %q version %d", cur.GetEtag(), cur.GetVersion()).with(rpcerr.KeyField, "expected_etag")
	}
	if m := op.GetExpectedManifestIndex(); m != 0 && m != ManifestIndex(cur) {
		return nil, fail(rpcerr.PreconditionFailed, "manifest changed: index %d, not %d", ManifestIndex(cur), m).
			with(rpcerr.KeyField, "expected_manifest_index")
	}
	if err := checkChunks(a.tx, "chunks", cur.GetSize(), op.GetChunks()); err != nil {
		return nil, err
	}
	if err := a.checkNeedleAge("chunks", op.GetChunks()); err != nil {
		return nil, err
	}
	o := &blobdraftv1.ObjectRecord{Bucket: cur.Bucket, Key: cur.Key, Size: cur.Size, Etag: cur.Etag, Headers: cur.Headers,
		CreatedUnixNanos: cur.CreatedUnixNanos, Version: cur.Version, ManifestIndex: a.index, Tier: op.GetTier(), Chunks: op.GetChunks(),
		PartSizes: cur.PartSizes}
	freed, err := a.replaceObject(cur, o)
	if err != nil {
		return nil, err
	}
	return objectResult(o, freed), nil
}

func (a *applier) setRestore(op *blobdraftv1.SetRestoreOp) (*blobdraftv1.CommandResult, error) {
	st := op.GetState()
	if st < blobdraftv1.RestoreState_RESTORE_STATE_UNSPECIFIED || st > blobdraftv1.RestoreState_RESTORE_STATE_RESTORED {
		return nil, invalid("state", "restore state %v", st)
	}
	o, err := a.object(op.GetBucket(), op.GetKey())
	if err != nil {
		return nil, err
	}
	if o.GetTier() != blobdraftv1.Tier_TIER_ARCHIVE {
		return nil, fail(rpcerr.InvalidObjectState, "object is %v, not archived", o.GetTier()).with(rpcerr.KeyField, "key")
	}
	o.RestoreState, o.RestoreUntilUnixNanos = st, op.GetUntilUnixNanos()
	if st == blobdraftv1.RestoreState_RESTORE_STATE_UNSPECIFIED {
		o.RestoreUntilUnixNanos = 0
	}
	return objectResult(o, nil), a.put(bucketObjects, objectKey(o.Bucket, o.Key), o)
}
