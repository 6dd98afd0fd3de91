package blobd

// This file registers the public gRPC API (cairn.blobd.v1) and holds what
// its handlers share: response headers, request validation and the
// conversion of metadata records into the public messages. Each handler
// validates its request, calls the object API (api.go) and returns its
// errors through toStatus.

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// MaxDataMessageBytes is the most data one PutObject, UploadPart or
// GetObject message carries.
const MaxDataMessageBytes = 1 << 20

// DefaultOwner owns buckets created over gRPC without an owner: the
// principal of the harness's cluster access key.
const DefaultOwner = "cluster"

// MaxRestoreDays is the longest restore RestoreObject takes.
const MaxRestoreDays = 3650

func (s *Server) registerAPI() {
	g := s.d.GRPC()
	blobdv1.RegisterBucketServiceServer(g, &bucketService{s: s})
	blobdv1.RegisterObjectServiceServer(g, &objectService{s: s})
	blobdv1.RegisterAdminServiceServer(g, &adminService{s: s})
	blobdv1.RegisterClusterServiceServer(g, &clusterService{s: s})
}

// header is the response header of a read or write reflecting index (0: the
// index this node has applied).
func (s *Server) header(index uint64) *blobdv1.ResponseHeader {
	if index == 0 {
		index = s.meta.LastApplied()
	}
	return &blobdv1.ResponseHeader{ClusterId: s.cfg.ClusterID, MemberId: s.cfg.ID, RaftTerm: s.node.Term(), RaftIndex: index}
}

// invalid is ErrInvalidArgument about request field field.
func invalid(field, format string, args ...any) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s %s", ErrInvalidArgument, field, fmt.Sprintf(format, args...)), rpcerr.KeyField, field)
}

// asField renames the field a validation error names (meta's validators
// say "bucket" where the request field is "name").
func asField(err error, field string) error {
	if err == nil {
		return nil
	}
	return rpcerr.WithMetadata(err, rpcerr.KeyField, field)
}

// validBucket checks a bucket name in request field field.
func validBucket(field, name string) error {
	if name == "" {
		return invalid(field, "must be set")
	}
	return asField(meta.ValidateBucketName(name), field)
}

// validKey checks an object key in request field field.
func validKey(field, key string) error {
	return asField(meta.ValidateKey(key), field)
}

// validBucketKey checks the bucket and key of a request.
func validBucketKey(bucketField, bucket, keyField, key string) error {
	if err := validBucket(bucketField, bucket); err != nil {
		return err
	}
	return validKey(keyField, key)
}

// validTier checks a tier field; unspecified is allowed when optional.
func validTier(field string, t blobdv1.Tier, optional bool) error {
	switch t {
	case blobdv1.Tier_TIER_HOT, blobdv1.Tier_TIER_COOL, blobdv1.Tier_TIER_ARCHIVE:
		return nil
	case blobdv1.Tier_TIER_UNSPECIFIED:
		if optional {
			return nil
		}
		return invalid(field, "must be set (hot, cool or archive)")
	}
	return invalid(field, "%d is not a tier", int32(t))
}

// validHeaders checks stored headers in request field field.
func validHeaders(field string, h *blobdv1.ObjectHeaders) error {
	if err := meta.ValidateHeaders(headersRecord(h)); err != nil {
		f := field
		if md := rpcerr.MetadataOf(err); md[rpcerr.KeyField] != "" {
			f = field + strings.TrimPrefix(md[rpcerr.KeyField], "headers")
		}
		return asField(err, f)
	}
	return nil
}

// validMD5 checks a content_md5 field: empty or 16 bytes.
func validMD5(field string, md5 []byte) error {
	if len(md5) != 0 && len(md5) != 16 {
		return invalid(field, "must be 16 bytes (an MD5 digest), got %d", len(md5))
	}
	return nil
}

// validSize checks a declared body size: -1 (unknown) up to max.
func validSize(field string, size, max int64) error {
	switch {
	case size < -1:
		return invalid(field, "must be -1 (unknown) or at least 0, got %d", size)
	case size > max:
		return rpcerr.WithMetadata(fmt.Errorf("%w: %s is %d bytes, the limit is %d", ErrTooLarge, field, size, max),
			rpcerr.KeyField, field, rpcerr.KeySize, fmt.Sprint(size), rpcerr.KeyLimit, fmt.Sprint(max))
	}
	return nil
}

// validPage checks a page size field: 0 (the most) up to max.
func validPage(field string, n int32, max int) error {
	if n < 0 || int(n) > max {
		return invalid(field, "must be 0 to %d, got %d", max, n)
	}
	return nil
}

// validLifecycle checks lifecycle rules in request field field.
func validLifecycle(field string, rules []*blobdv1.LifecycleRule) error {
	if err := meta.ValidateLifecycle(rulesRecord(rules)); err != nil {
		return asField(err, field)
	}
	return nil
}

// validCondition checks an if_match / if_none_match value.
func validCondition(field, v string) error {
	if len(v) > 1024 {
		return invalid(field, "is %d bytes, the most is 1024", len(v))
	}
	return nil
}

// unquote drops the double quotes HTTP puts around an etag.
func unquote(etag string) string {
	return strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(etag), `"`), `"`)
}

// etagMatches reports whether an If-Match / If-None-Match value (a list of
// etags, or "*") matches etag.
func etagMatches(cond, etag string) bool {
	for _, c := range strings.Split(cond, ",") {
		c = strings.TrimPrefix(strings.TrimSpace(c), "W/")
		if c == "*" || unquote(c) == etag {
			return true
		}
	}
	return false
}

// checkConditions applies a read's if_match and if_none_match to the
// object's etag.
func checkConditions(o *blobdraftv1.ObjectRecord, ifMatch, ifNoneMatch string) error {
	if ifMatch != "" && !etagMatches(ifMatch, o.GetEtag()) {
		return fmt.Errorf("%w: if_match %s: the object's etag is %q", meta.ErrPreconditionFailed, ifMatch, o.GetEtag())
	}
	if ifNoneMatch != "" && etagMatches(ifNoneMatch, o.GetEtag()) {
		return fmt.Errorf("%w: if_none_match %s: the object's etag is %q", meta.ErrPreconditionFailed, ifNoneMatch, o.GetEtag())
	}
	return nil
}

// timestamp converts unix nanoseconds; 0 is unset.
func timestamp(ns int64) *timestamppb.Timestamp {
	if ns == 0 {
		return nil
	}
	return timestamppb.New(time.Unix(0, ns))
}

func headersRecord(h *blobdv1.ObjectHeaders) *blobdraftv1.ObjectHeaders {
	if h == nil {
		return nil
	}
	return &blobdraftv1.ObjectHeaders{
		ContentType: h.GetContentType(), CacheControl: h.GetCacheControl(), ContentDisposition: h.GetContentDisposition(),
		ContentEncoding: h.GetContentEncoding(), Expires: h.GetExpires(), UserMetadata: h.GetUserMetadata(),
	}
}

func headersProto(h *blobdraftv1.ObjectHeaders) *blobdv1.ObjectHeaders {
	if h == nil {
		return nil
	}
	return &blobdv1.ObjectHeaders{
		ContentType: h.GetContentType(), CacheControl: h.GetCacheControl(), ContentDisposition: h.GetContentDisposition(),
		ContentEncoding: h.GetContentEncoding(), Expires: h.GetExpires(), UserMetadata: h.GetUserMetadata(),
	}
}

func objectProto(o *blobdraftv1.ObjectRecord) *blobdv1.Object {
	if o == nil {
		return nil
	}
	return &blobdv1.Object{
		Bucket: o.GetBucket(), Key: o.GetKey(), Size: o.GetSize(), Etag: o.GetEtag(), Headers: headersProto(o.GetHeaders()),
		Created: timestamp(o.GetCreatedUnixNanos()), Version: o.GetVersion(), Tier: blobdv1.Tier(o.GetTier()),
		RestoreState: blobdv1.RestoreState(o.GetRestoreState()), RestoreUntil: timestamp(o.GetRestoreUntilUnixNanos()),
		Chunks: int32(len(o.GetChunks())), Parts: int32(len(o.GetPartSizes())),
	}
}

func rulesRecord(rules []*blobdv1.LifecycleRule) []*blobdraftv1.LifecycleRule {
	if rules == nil {
		return nil
	}
	out := make([]*blobdraftv1.LifecycleRule, len(rules))
	for i, r := range rules {
		out[i] = &blobdraftv1.LifecycleRule{
			Id: r.GetId(), Prefix: r.GetPrefix(), TransitionCoolDays: r.GetTransitionCoolDays(),
			TransitionArchiveDays: r.GetTransitionArchiveDays(), ExpirationDays: r.GetExpirationDays(),
			AbortIncompleteMultipartDays: r.GetAbortIncompleteMultipartDays(), Disabled: r.GetDisabled(),
		}
	}
	return out
}

func rulesProto(rules []*blobdraftv1.LifecycleRule) []*blobdv1.LifecycleRule {
	out := make([]*blobdv1.LifecycleRule, len(rules))
	for i, r := range rules {
		out[i] = &blobdv1.LifecycleRule{
			Id: r.GetId(), Prefix: r.GetPrefix(), TransitionCoolDays: r.GetTransitionCoolDays(),
			TransitionArchiveDays: r.GetTransitionArchiveDays(), ExpirationDays: r.GetExpirationDays(),
			AbortIncompleteMultipartDays: r.GetAbortIncompleteMultipartDays(), Disabled: r.GetDisabled(),
		}
	}
	return out
}

func bucketProto(b *blobdraftv1.BucketRecord) *blobdv1.Bucket {
	if b == nil {
		return nil
	}
	return &blobdv1.Bucket{
		Name: b.GetName(), Owner: b.GetOwner(), Created: timestamp(b.GetCreatedUnixNanos()),
		DefaultTier: blobdv1.Tier(b.GetDefaultTier()), Rules: rulesProto(b.GetRules()),
	}
}

func uploadProto(u *blobdraftv1.UploadRecord) *blobdv1.Upload {
	if u == nil {
		return nil
	}
	return &blobdv1.Upload{
		UploadId: u.GetUploadId(), Bucket: u.GetBucket(), Key: u.GetKey(), Initiated: timestamp(u.GetInitiatedUnixNanos()),
		Headers: headersProto(u.GetHeaders()), Tier: blobdv1.Tier(u.GetTier()),
	}
}

func partProto(p *blobdraftv1.PartRecord) *blobdv1.Part {
	if p == nil {
		return nil
	}
	return &blobdv1.Part{Number: p.GetNumber(), Size: p.GetSize(), Etag: p.GetEtag(), Uploaded: timestamp(p.GetUnixNanos())}
}

func accessKeyProto(k *blobdraftv1.AccessKeyRecord) *blobdv1.AccessKey {
	if k == nil {
		return nil
	}
	return &blobdv1.AccessKey{Id: k.GetId(), Secret: k.GetSecret(), Principal: k.GetPrincipal(), Created: timestamp(k.GetCreatedUnixNanos()), Enabled: k.GetEnabled()}
}

func serverProto(r *blobdraftv1.ServerRecord) *blobdv1.Server {
	return &blobdv1.Server{
		Id: r.GetId(), Addr: r.GetAddr(), S3Addr: r.GetS3Addr(), CapacityBytes: r.GetCapacityBytes(),
		FreeBytes: r.GetFreeBytes(), State: blobdv1.ServerState(r.GetState()),
	}
}

func volumeProto(v *blobdraftv1.VolumeRecord) *blobdv1.Volume {
	return &blobdv1.Volume{
		Id: v.GetId(), Kind: blobdv1.VolumeKind(v.GetKind()), Servers: v.GetServers(),
		State: blobdv1.VolumeState(v.GetState()), Created: timestamp(v.GetCreatedUnixNanos()),
	}
}
