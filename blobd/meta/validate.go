package meta

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// Limits, as S3 has them where S3 has one.
const (
	// MaxKeyBytes is the longest object key, in bytes of UTF-8.
	MaxKeyBytes = 1024
	// MaxUserMetadataBytes bounds the user metadata of an object: the sum
	// of the UTF-8 lengths of every name and value.
	MaxUserMetadataBytes = 2048
	// MaxHeaderBytes bounds each stored standard header.
	MaxHeaderBytes = 4096
	// MaxChunkBytes is the largest chunk of an object or part.
	MaxChunkBytes = 8 << 20
	// MaxObjectBytes is the largest object (S3's 5 TiB).
	MaxObjectBytes = 5 << 40
	// MaxPartBytes is the largest part (S3's 5 GiB).
	MaxPartBytes = 5 << 30
	// MinPartSize is the smallest part but the last of a completed
	// multipart upload (S3's 5 MiB).
	MinPartSize = 5 << 20
	// MaxParts is the highest part number and the most parts an upload
	// completes with.
	MaxParts = 10000
	// MaxListKeys is the most keys and common prefixes one ListObjects
	// returns, and the default.
	MaxListKeys = 1000
	// MaxNeedleBlock is the most needle ids one AllocateNeedles hands out.
	MaxNeedleBlock = 1 << 20
	// MaxLifecycleRules is the most rules a bucket has (S3's 1000).
	MaxLifecycleRules = 1000
	// MaxShards bounds data+parity of an erasure-coded chunk.
	MaxShards = 32
)

// ValidateBucketName checks S3's rules for general purpose bucket names:
// 3 to 63 characters of lowercase letters, digits, dots and hyphens,
// beginning and ending with a letter or digit, no two adjacent dots, not an
// IPv4 address, none of the reserved prefixes (xn--, sthree-,
// amzn-s3-demo-) and suffixes (-s3alias, --ol-s3, .mrap, --x-s3,
// --table-s3). The error wraps ErrInvalidArgument with field "bucket".
func ValidateBucketName(name string) error {
	bad := func(why string) error {
		return rpcerr.WithMetadata(fmt.Errorf("%w: bucket name %q %s", ErrInvalidArgument, name, why), rpcerr.KeyField, "bucket")
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad("may hold only lowercase letters, digits, dots and hyphens")
		}
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !alnum(name[0]) || !alnum(name[len(name)-1]) {
		return bad("must begin and end with a letter or digit")
	}
	if strings.Contains(name, "..") {
		return bad("must not hold two adjacent dots")
	}
	if a, err := netip.ParseAddr(name); err == nil && a.Is4() {
		return bad("must not be an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return bad("must not start with " + p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return bad("must not end with " + s)
		}
	}
	return nil
}

// ValidateKey checks an object key: 1 to MaxKeyBytes bytes of valid UTF-8
// without NUL (which no S3 XML listing could carry). Errors wrap
// ErrInvalidArgument or ErrLimitExceeded, with field "key".
func ValidateKey(key string) error {
	switch {
	case key == "":
		return rpcerr.WithMetadata(fmt.Errorf("%w: empty object key", ErrInvalidArgument), rpcerr.KeyField, "key")
	case len(key) > MaxKeyBytes:
		return rpcerr.WithMetadata(fmt.Errorf("%w: object key is %d bytes, the limit is %d", ErrLimitExceeded, len(key), MaxKeyBytes),
			rpcerr.KeyField, "key", rpcerr.KeySize, strconv.Itoa(len(key)), rpcerr.KeyLimit, strconv.Itoa(MaxKeyBytes))
	case !utf8.ValidString(key):
		return rpcerr.WithMetadata(fmt.Errorf("%w: object key is not valid UTF-8", ErrInvalidArgument), rpcerr.KeyField, "key")
	case strings.IndexByte(key, 0) >= 0:
		return rpcerr.WithMetadata(fmt.Errorf("%w: object key holds NUL", ErrInvalidArgument), rpcerr.KeyField, "key")
	}
	return nil
}

// ValidateHeaders checks stored headers: each standard header at most
// MaxHeaderBytes, user metadata names non-empty and at most
// MaxUserMetadataBytes of names and values together.
func ValidateHeaders(h *blobdraftv1.ObjectHeaders) error {
	for _, f := range []struct{ name, v string }{
		{"content_type", h.GetContentType()}, {"cache_control", h.GetCacheControl()},
		{"content_disposition", h.GetContentDisposition()}, {"content_encoding", h.GetContentEncoding()},
		{"expires", h.GetExpires()},
	} {
		if len(f.v) > MaxHeaderBytes {
			return rpcerr.WithMetadata(fmt.Errorf("%w: header %s is %d bytes, the limit is %d", ErrLimitExceeded, f.name, len(f.v), MaxHeaderBytes),
				rpcerr.KeyField, "headers."+f.name, rpcerr.KeySize, strconv.Itoa(len(f.v)), rpcerr.KeyLimit, strconv.Itoa(MaxHeaderBytes))
		}
	}
	total := 0
	for k, v := range h.GetUserMetadata() {
		if k == "" {
			return rpcerr.WithMetadata(fmt.Errorf("%w: empty user metadata name", ErrInvalidArgument), rpcerr.KeyField, "headers.user_metadata")
		}
		total += len(k) + len(v)
	}
	if total > MaxUserMetadataBytes {
		return rpcerr.WithMetadata(fmt.Errorf("%w: user metadata is %d bytes, the limit is %d", ErrLimitExceeded, total, MaxUserMetadataBytes),
			rpcerr.KeyField, "headers.user_metadata", rpcerr.KeySize, strconv.Itoa(total), rpcerr.KeyLimit, strconv.Itoa(MaxUserMetadataBytes))
	}
	return nil
}

// ValidateLifecycle checks a bucket's lifecycle rules: at most
// MaxLifecycleRules, ids unique and at most 255 bytes, days not negative,
// each rule with at least one action, and an archive transition after a
// cool one when both are set.
func ValidateLifecycle(rules []*blobdraftv1.LifecycleRule) error {
	bad := func(i int, format string, args ...any) error {
		return rpcerr.WithMetadata(fmt.Errorf("%w: lifecycle rule %d: %s", ErrInvalidArgument, i, fmt.Sprintf(format, args...)),
			rpcerr.KeyField, fmt.Sprintf("rules[%d]", i))
	}
	if len(rules) > MaxLifecycleRules {
		return rpcerr.WithMetadata(fmt.Errorf("%w: %d lifecycle rules, the limit is %d", ErrLimitExceeded, len(rules), MaxLifecycleRules),
			rpcerr.KeyField, "rules", rpcerr.KeyLimit, strconv.Itoa(MaxLifecycleRules))
	}
	ids := map[string]bool{}
	for i, r := range rules {
		if len(r.GetId()) > 255 {
			return bad(i, "id longer than 255 bytes")
		}
		if r.GetId() != "" {
			if ids[r.GetId()] {
				return bad(i, "duplicate id %q", r.GetId())
			}
			ids[r.GetId()] = true
		}
		if len(r.GetPrefix()) > MaxKeyBytes {
			return bad(i, "prefix longer than %d bytes", MaxKeyBytes)
		}
		c, a, e, u := r.GetTransitionCoolDays(), r.GetTransitionArchiveDays(), r.GetExpirationDays(), r.GetAbortIncompleteMultipartDays()
		if c < 0 || a < 0 || e < 0 || u < 0 {
			return bad(i, "negative days")
		}
		if c == 0 && a == 0 && e == 0 && u == 0 {
			return bad(i, "no action")
		}
		if c > 0 && a > 0 && a <= c {
			return bad(i, "archive transition (%d days) not after the cool one (%d days)", a, c)
		}
	}
	return nil
}

// ValidateAccessKey checks an access key: an id of 16 to 128 uppercase
// letters and digits (AKIA-style), a secret of 16 to 128 printable ASCII
// characters, a principal of 1 to 256 bytes.
func ValidateAccessKey(id, secret, principal string) error {
	bad := func(field, why string) error {
		return rpcerr.WithMetadata(fmt.Errorf("%w: access key %s", ErrInvalidArgument, why), rpcerr.KeyField, field)
	}
	if len(id) < 16 || len(id) > 128 {
		return bad("id", "id must be 16 to 128 characters")
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return bad("id", "id may hold only uppercase letters and digits")
		}
	}
	if len(secret) < 16 || len(secret) > 128 {
		return bad("secret", "secret must be 16 to 128 characters")
	}
	for i := 0; i < len(secret); i++ {
		if c := secret[i]; c <= ' ' || c > '~' {
			return bad("secret", "secret may hold only printable ASCII")
		}
	}
	if principal == "" || len(principal) > 256 {
		return bad("principal", "principal must be 1 to 256 bytes")
	}
	return nil
}

// isHexMD5 reports whether s is 32 lowercase hex digits.
func isHexMD5(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// checkBucketKey checks that the bucket exists and the key is valid.
func checkBucketKey(tx *bbolt.Tx, bucket, key string) (*blobdraftv1.BucketRecord, error) {
	b, err := getBucket(tx, bucket)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fail(rpcerr.BucketNotFound, "bucket %q", bucket).with(rpcerr.KeyField, "bucket")
	}
	if err := ValidateKey(key); err != nil {
		return nil, failureOf(err)
	}
	return b, nil
}

// checkChunks checks a manifest of size bytes: chunks in offset order,
// contiguous from 0, each of 1 to MaxChunkBytes bytes, together size; a
// replicated chunk's needle in a REPLICATED volume, an erasure-coded one's
// Data+Parity shards (at most MaxShards) in SINGLE volumes; every needle id
// allocated, no needle twice in a chunk.
func checkChunks(tx *bbolt.Tx, field string, size int64, chunks []*blobdraftv1.Chunk) error {
	next, err := nextNeedle(tx)
	if err != nil {
		return err
	}
	kinds := map[uint32]blobdraftv1.VolumeKind{}
	checkNeedle := func(f string, n *blobdraftv1.NeedleRef, want blobdraftv1.VolumeKind) error {
		if n.GetNid() == 0 || n.GetNid() >= next {
			return invalid(f, "needle id %d was never allocated", n.GetNid())
		}
		kind, ok := kinds[n.GetVid()]
		if !ok {
			v, err := getVolume(tx, n.GetVid())
			if err != nil {
				return err
			}
			if v == nil {
				return fail(rpcerr.VolumeNotFound, "volume %d", n.GetVid()).with(rpcerr.KeyField, f)
			}
			kind = v.GetKind()
			kinds[n.GetVid()] = kind
		}
		if kind != want {
			return invalid(f, "volume %d is %s, not %s", n.GetVid(), kind, want)
		}
		return nil
	}
	var off int64
	for i, c := range chunks {
		f := fmt.Sprintf("%s[%d]", field, i)
		if c.GetOffset() != off {
			return invalid(f, "chunk offset %d, want %d", c.GetOffset(), off)
		}
		if c.GetSize() <= 0 || c.GetSize() > MaxChunkBytes {
			return invalid(f, "chunk size %d not in 1..%d", c.GetSize(), MaxChunkBytes)
		}
		off += c.GetSize()
		switch l := c.GetLayout().(type) {
		case *blobdraftv1.Chunk_Replicated:
			if err := checkNeedle(f+".replicated", l.Replicated, blobdraftv1.VolumeKind_VOLUME_KIND_REPLICATED); err != nil {
				return err
			}
		case *blobdraftv1.Chunk_Ec:
			d, p := l.Ec.GetData(), l.Ec.GetParity()
			if d < 1 || p < 0 || d+p > MaxShards {
				return invalid(f+".ec", "scheme %d+%d: want data ≥ 1, parity ≥ 0, data+parity ≤ %d", d, p, MaxShards)
			}
			if len(l.Ec.GetShards()) != int(d+p) {
				return invalid(f+".ec", "%d shards for scheme %d+%d", len(l.Ec.GetShards()), d, p)
			}
			seen := map[[2]uint64]bool{}
			for j, s := range l.Ec.GetShards() {
				if err := checkNeedle(fmt.Sprintf("%s.ec.shards[%d]", f, j), s, blobdraftv1.VolumeKind_VOLUME_KIND_SINGLE); err != nil {
					return err
				}
				k := [2]uint64{uint64(s.GetVid()), s.GetNid()}
				if seen[k] {
					return invalid(f+".ec", "needle %d/%d is two shards", s.GetVid(), s.GetNid())
				}
				seen[k] = true
			}
		default:
			return invalid(f, "chunk has no layout")
		}
	}
	if off != size {
		return invalid(field, "chunks hold %d bytes, the size is %d", off, size)
	}
	return nil
}
