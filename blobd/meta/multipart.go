package meta

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// UploadIDLen is the length of an upload id: 16 hex digits of the creating
// Raft index (so a key's uploads sort by initiation) and 16 of a hash of
// the command.
const UploadIDLen = 32

// uploadID derives the id of the upload created by the entry at index.
func uploadID(index uint64, now int64, bucket, key string) string {
	h := sha256.New()
	var b [16]byte
	binary.BigEndian.PutUint64(b[:], index)
	binary.BigEndian.PutUint64(b[8:], uint64(now))
	h.Write(b[:])
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return fmt.Sprintf("%016x%s", index, hex.EncodeToString(h.Sum(nil)[:8]))
}

// MultipartETag is S3's etag of a multipart object: the hex MD5 of the
// concatenated binary MD5s of its parts, then "-" and the part count. The
// part etags are hex MD5s (quotes allowed).
func MultipartETag(partETags []string) (string, error) {
	h := md5.New()
	for i, e := range partETags {
		raw, err := hex.DecodeString(normETag(e))
		if err != nil || len(raw) != md5.Size {
			return "", fmt.Errorf("%w: part %d etag %q is not a hex MD5", ErrInvalidArgument, i, e)
		}
		h.Write(raw)
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(partETags)), nil
}

func uploadOwner(u *blobdraftv1.UploadRecord, part int32) owner {
	return owner{uploadID: u.GetUploadId(), part: part}
}

func (a *applier) createMultipartUpload(op *blobdraftv1.CreateMultipartUploadOp) (*blobdraftv1.CommandResult, error) {
	b, err := checkBucketKey(a.tx, op.GetBucket(), op.GetKey())
	if err != nil {
		return nil, err
	}
	if err := ValidateHeaders(op.GetHeaders()); err != nil {
		return nil, failureOf(err)
	}
	tier := op.GetTier()
	if tier == blobdraftv1.Tier_TIER_UNSPECIFIED {
		tier = b.GetDefaultTier()
	}
	if !validTier(tier) {
		return nil, invalid("tier", "tier %v", tier)
	}
	u := &blobdraftv1.UploadRecord{UploadId: uploadID(a.index, a.now, op.GetBucket(), op.GetKey()),
		Bucket: op.GetBucket(), Key: op.GetKey(), InitiatedUnixNanos: a.now, Headers: op.GetHeaders(), Tier: tier}
	if err := a.put(bucketUploads, []byte(u.UploadId), u); err != nil {
		return nil, err
	}
	if err := a.tx.Bucket(bucketUploadKeys).Put(uploadKeyKey(u.Bucket, u.Key, u.UploadId), []byte{}); err != nil {
		return nil, err
	}
	return &blobdraftv1.CommandResult{Result: &blobdraftv1.CommandResult_Upload{Upload: u}}, nil
}

// upload returns the upload id of bucket/key, or a BUCKET_NOT_FOUND or
// UPLOAD_NOT_FOUND failure (also when the id names an upload of another
// key, as S3 answers).
func (a *applier) upload(bucket, key, id string) (*blobdraftv1.UploadRecord, error) {
	if _, err := checkBucketKey(a.tx, bucket, key); err != nil {
		return nil, err
	}
	u, err := getUpload(a.tx, id)
	if err != nil {
		return nil, err
	}
	if u == nil || u.GetBucket() != bucket || u.GetKey() != key {
		return nil, fail(rpcerr.UploadNotFound, "upload %q of %q in bucket %q", id, key, bucket).with(rpcerr.KeyField, "upload_id")
	}
	return u, nil
}

func (a *applier) putPart(op *blobdraftv1.PutPartOp) (*blobdraftv1.CommandResult, error) {
	u, err := a.upload(op.GetBucket(), op.GetKey(), op.GetUploadId())
	if err != nil {
		return nil, err
	}
	p := op.GetPart()
	if n := p.GetNumber(); n < 1 || n > MaxParts {
		return nil, invalid("part.number", "part number %d not in 1..%d", n, MaxParts).with(rpcerr.KeyLimit, strconv.Itoa(MaxParts))
	}
	if p.GetSize() < 0 || p.GetSize() > MaxPartBytes {
		return nil, fail(rpcerr.LimitExceeded, "part size %d not in 0..%d", p.GetSize(), int64(MaxPartBytes)).with(rpcerr.KeyField, "part.size")
	}
	if !isHexMD5(p.GetEtag()) {
		return nil, invalid("part.etag", "part etag %q is not a lowercase hex MD5", p.GetEtag())
	}
	if err := checkChunks(a.tx, "part.chunks", p.GetSize(), p.GetChunks()); err != nil {
		return nil, err
	}
	if err := a.checkNeedleAge("part.chunks", p.GetChunks()); err != nil {
		return nil, err
	}
	cur, err := getPart(a.tx, u.UploadId, p.GetNumber())
	if err != nil {
		return nil, err
	}
	touched := refSet{}
	own := uploadOwner(u, p.GetNumber())
	if cur != nil {
		if err := a.dropRefs(own, cur.GetChunks(), touched); err != nil {
			return nil, err
		}
	}
	rec := &blobdraftv1.PartRecord{Number: p.GetNumber(), Size: p.GetSize(), Etag: p.GetEtag(), Chunks: p.GetChunks(), UnixNanos: a.now}
	if err := a.addRefs(own, rec.Chunks); err != nil {
		return nil, err
	}
	if err := a.put(bucketParts, partKey(u.UploadId, rec.Number), rec); err != nil {
		return nil, err
	}
	return &blobdraftv1.CommandResult{Freed: a.freed(touched), Result: &blobdraftv1.CommandResult_Part{Part: rec}}, nil
}

func (a *applier) completeMultipartUpload(op *blobdraftv1.CompleteMultipartUploadOp) (*blobdraftv1.CommandResult, error) {
	u, err := a.upload(op.GetBucket(), op.GetKey(), op.GetUploadId())
	if err != nil {
		return nil, err
	}
	want := op.GetParts()
	if len(want) == 0 {
		return nil, invalid("parts", "no parts")
	}
	if len(want) > MaxParts {
		return nil, fail(rpcerr.LimitExceeded, "%d parts, the limit is %d", len(want), MaxParts).with(rpcerr.KeyField, "parts", rpcerr.KeyLimit, strconv.Itoa(MaxParts))
	}
	for i, w := range want {
		if i > 0 && w.GetNumber() <= want[i-1].GetNumber() {
			return nil, fail(rpcerr.InvalidPartOrder, "part %d after part %d", w.GetNumber(), want[i-1].GetNumber()).
				with(rpcerr.KeyField, fmt.Sprintf("parts[%d]", i), KeyPart, strconv.Itoa(int(w.GetNumber())))
		}
	}
	have, err := uploadParts(a.tx, u.UploadId)
	if err != nil {
		return nil, err
	}
	byNum := make(map[int32]*blobdraftv1.PartRecord, len(have))
	for _, p := range have {
		byNum[p.Number] = p
	}
	used := make([]*blobdraftv1.PartRecord, len(want))
	etags := make([]string, len(want))
	for i, w := range want {
		p := byNum[w.GetNumber()]
		if p == nil || !strings.EqualFold(normETag(w.GetEtag()), p.Etag) {
			return nil, fail(rpcerr.InvalidPart, "part %d was not uploaded or has another etag", w.GetNumber()).
				with(rpcerr.KeyField, fmt.Sprintf("parts[%d]", i), KeyPart, strconv.Itoa(int(w.GetNumber())))
		}
		used[i], etags[i] = p, p.Etag
	}
	var size int64
	for i, p := range used {
		if i < len(used)-1 && p.Size < MinPartSize {
			return nil, fail(rpcerr.EntityTooSmall, "part %d is %d bytes, the minimum is %d", p.Number, p.Size, MinPartSize).
				with(rpcerr.KeyField, fmt.Sprintf("parts[%d]", i), KeyPart, strconv.Itoa(int(p.Number)),
					rpcerr.KeySize, strconv.FormatInt(p.Size, 10), rpcerr.KeyLimit, strconv.Itoa(MinPartSize))
		}
		size += p.Size
	}
	if size > MaxObjectBytes {
		return nil, fail(rpcerr.LimitExceeded, "object size %d over %d", size, int64(MaxObjectBytes)).with(rpcerr.KeyField, "parts")
	}
	etag, err := MultipartETag(etags)
	if err != nil {
		return nil, failureOf(err)
	}
	cur, err := getObject(a.tx, u.Bucket, u.Key)
	if err != nil {
		return nil, err
	}
	if err := checkConditions(cur, op.GetIfMatch(), op.GetIfNoneMatch()); err != nil {
		return nil, err
	}

	// Checks done: from here on, only writes.
	o := &blobdraftv1.ObjectRecord{Bucket: u.Bucket, Key: u.Key, Size: size, Etag: etag, Headers: u.Headers,
		CreatedUnixNanos: a.now, Version: a.index, ManifestIndex: a.index, Tier: u.Tier}
	var off int64
	for _, p := range used {
		for _, c := range p.Chunks {
			c.Offset += off
			o.Chunks = append(o.Chunks, c)
		}
		off += p.Size
		o.PartSizes = append(o.PartSizes, p.Size)
	}
	touched := refSet{}
	if err := a.dropUpload(u, have, touched); err != nil {
		return nil, err
	}
	own := objectOwner(o.Bucket, o.Key)
	if cur != nil {
		if err := a.dropRefs(own, cur.GetChunks(), touched); err != nil {
			return nil, err
		}
	}
	if err := a.addRefs(own, o.Chunks); err != nil {
		return nil, err
	}
	if err := a.put(bucketObjects, objectKey(o.Bucket, o.Key), o); err != nil {
		return nil, err
	}
	return objectResult(o, a.freed(touched)), nil
}

// dropUpload deletes an upload, its parts and their references.
func (a *applier) dropUpload(u *blobdraftv1.UploadRecord, parts []*blobdraftv1.PartRecord, touched refSet) error {
	for _, p := range parts {
		if err := a.dropRefs(uploadOwner(u, p.Number), p.Chunks, touched); err != nil {
			return err
		}
		if err := a.del(bucketParts, partKey(u.UploadId, p.Number)); err != nil {
			return err
		}
	}
	if err := a.del(bucketUploadKeys, uploadKeyKey(u.Bucket, u.Key, u.UploadId)); err != nil {
		return err
	}
	return a.del(bucketUploads, []byte(u.UploadId))
}

func (a *applier) abortMultipartUpload(op *blobdraftv1.AbortMultipartUploadOp) (*blobdraftv1.CommandResult, error) {
	u, err := a.upload(op.GetBucket(), op.GetKey(), op.GetUploadId())
	if err != nil {
		return nil, err
	}
	parts, err := uploadParts(a.tx, u.UploadId)
	if err != nil {
		return nil, err
	}
	touched := refSet{}
	if err := a.dropUpload(u, parts, touched); err != nil {
		return nil, err
	}
	return &blobdraftv1.CommandResult{Freed: a.freed(touched), Result: &blobdraftv1.CommandResult_Upload{Upload: u}}, nil
}
