package meta

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"

	"go.etcd.io/bbolt"

	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// ListOptions are the parameters of ListObjectsV2.
type ListOptions struct {
	// Prefix limits the listing to keys that start with it.
	Prefix string
	// Delimiter, when not empty, rolls up the keys that hold it after the
	// prefix into one common prefix each: the key up to and including the
	// first delimiter after the prefix.
	Delimiter string
	// StartAfter lists only keys (and common prefixes of keys) after it.
	// A ContinuationToken overrides it.
	StartAfter string
	// ContinuationToken is a previous result's NextContinuationToken.
	ContinuationToken string
	// MaxKeys bounds keys plus common prefixes returned; ≤ 0 or over
	// MaxListKeys means MaxListKeys.
	MaxKeys int
}

// ListResult is one page of ListObjects.
type ListResult struct {
	// Objects are the keys listed, in UTF-8 binary order, without their
	// manifests (Chunks is nil).
	Objects []*blobdraftv1.ObjectRecord
	// CommonPrefixes are the rolled-up prefixes, in order. Objects and
	// CommonPrefixes interleave in key order.
	CommonPrefixes []string
	// IsTruncated tells that more keys or prefixes follow;
	// NextContinuationToken then continues after the last one returned.
	IsTruncated           bool
	NextContinuationToken string
}

// KeyCount is the number of keys and common prefixes returned.
func (r *ListResult) KeyCount() int { return len(r.Objects) + len(r.CommonPrefixes) }

// Continuation tokens are opaque to clients: base64url of a kind byte and
// the last key (tokenKey) or common prefix (tokenPrefix) returned.
const (
	tokenKey    = 'k'
	tokenPrefix = 'p'
)

func encodeToken(kind byte, last string) string {
	return base64.RawURLEncoding.EncodeToString(append([]byte{kind}, last...))
}

func decodeToken(tok string) (kind byte, last string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 || (b[0] != tokenKey && b[0] != tokenPrefix) {
		return 0, "", rpcerr.WithMetadata(fmt.Errorf("%w: malformed continuation token", ErrInvalidArgument), rpcerr.KeyField, "continuation_token")
	}
	return b[0], string(b[1:]), nil
}

// ListObjects lists a bucket as S3's ListObjectsV2 does: keys in UTF-8
// binary (byte) order after StartAfter or the continuation token, with
// Prefix, common prefixes rolled up at Delimiter, at most MaxKeys keys and
// prefixes together. Errors: ErrBucketNotFound, ErrInvalidArgument (a
// malformed token). The page is read in one transaction; a prefix rolled
// up is skipped with one seek, whatever it holds.
func (s *Store) ListObjects(bucket string, opts ListOptions) (*ListResult, error) {
	max := opts.MaxKeys
	if max <= 0 || max > MaxListKeys {
		max = MaxListKeys
	}
	after, skipPrefix := opts.StartAfter, ""
	if opts.ContinuationToken != "" {
		kind, last, err := decodeToken(opts.ContinuationToken)
		if err != nil {
			return nil, err
		}
		after = last
		if kind == tokenPrefix {
			skipPrefix = last
		}
	}
	res := &ListResult{}
	err := s.view(func(tx *bbolt.Tx) error {
		if b, err := getBucket(tx, bucket); err != nil || b == nil {
			return cmpErr(err, fmt.Errorf("%w: %q", ErrBucketNotFound, bucket))
		}
		base := bucketPrefix(bucket)
		scope := append(bytes.Clone(base), opts.Prefix...)
		c := tx.Bucket(bucketObjects).Cursor()
		// seek positions the cursor at the first key ≥ base‖from.
		seek := func(from []byte) ([]byte, []byte) { return c.Seek(append(bytes.Clone(base), from...)) }
		start := opts.Prefix
		if after > start {
			start = after
		}
		k, v := seek([]byte(start))
		if k != nil && string(k[len(base):]) == after {
			k, v = c.Next()
		}
		if skipPrefix != "" {
			succ := successor([]byte(skipPrefix))
			if succ == nil {
				return nil
			}
			if k != nil && hasPrefix(k[len(base):], []byte(skipPrefix)) {
				k, v = seek(succ)
			}
		}
		var last string
		var lastKind byte
		n := 0
		for k != nil && hasPrefix(k, scope) {
			name := string(k[len(base):])
			if opts.Delimiter != "" {
				if i := strings.Index(name[len(opts.Prefix):], opts.Delimiter); i >= 0 {
					cp := name[:len(opts.Prefix)+i+len(opts.Delimiter)]
					if n == max {
						res.IsTruncated = true
						break
					}
					res.CommonPrefixes = append(res.CommonPrefixes, cp)
					n, last, lastKind = n+1, cp, tokenPrefix
					succ := successor([]byte(cp))
					if succ == nil {
						break
					}
					k, v = seek(succ)
					continue
				}
			}
			if n == max {
				res.IsTruncated = true
				break
			}
			o, err := unmarshal("object", k, v, &blobdraftv1.ObjectRecord{})
			if err != nil {
				return err
			}
			o.Chunks = nil
			res.Objects = append(res.Objects, o)
			n, last, lastKind = n+1, name, tokenKey
			k, v = c.Next()
		}
		if res.IsTruncated {
			res.NextContinuationToken = encodeToken(lastKind, last)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

// UploadListOptions are the parameters of ListMultipartUploads.
type UploadListOptions struct {
	Prefix string
	// KeyMarker and UploadIDMarker: list uploads of keys after KeyMarker,
	// and, when UploadIDMarker is set, those of KeyMarker itself with ids
	// after it.
	KeyMarker, UploadIDMarker string
	// MaxUploads: ≤ 0 or over MaxListKeys means MaxListKeys.
	MaxUploads int
}

// ListUploads lists a bucket's multipart uploads in progress, by key then
// initiation, as S3's ListMultipartUploads does (without delimiter).
// truncated tells that more follow; the last upload returned gives the next
// markers. Error: ErrBucketNotFound.
func (s *Store) ListUploads(bucket string, opts UploadListOptions) (uploads []*blobdraftv1.UploadRecord, truncated bool, err error) {
	max := opts.MaxUploads
	if max <= 0 || max > MaxListKeys {
		max = MaxListKeys
	}
	err = s.view(func(tx *bbolt.Tx) error {
		if b, err := getBucket(tx, bucket); err != nil || b == nil {
			return cmpErr(err, fmt.Errorf("%w: %q", ErrBucketNotFound, bucket))
		}
		base := bucketPrefix(bucket)
		scope := append(bytes.Clone(base), opts.Prefix...)
		var from []byte
		switch {
		case opts.KeyMarker == "":
			from = scope
		case opts.UploadIDMarker == "":
			// Past every upload of KeyMarker: its entries are KeyMarker‖0‖id.
			from = append(append(bytes.Clone(base), opts.KeyMarker...), 1)
		default:
			from = append(uploadKeyKey(bucket, opts.KeyMarker, opts.UploadIDMarker), 0)
		}
		if bytes.Compare(from, scope) < 0 {
			from = scope
		}
		c := tx.Bucket(bucketUploadKeys).Cursor()
		for k, _ := c.Seek(from); k != nil && hasPrefix(k, scope); k, _ = c.Next() {
			if len(uploads) == max {
				truncated = true
				return nil
			}
			id := string(k[len(k)-UploadIDLen:])
			u, err := getUpload(tx, id)
			if err != nil {
				return err
			}
			if u == nil {
				return fmt.Errorf("%w: upload index names missing upload %q", ErrCorrupt, id)
			}
			uploads = append(uploads, u)
		}
		return nil
	})
	return uploads, truncated, err
}
