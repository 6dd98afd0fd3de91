package client

import (
	"sync"

	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// PutOption sets a field of Put, PutMultipart, UploadPart,
// CreateMultipartUpload, CompleteMultipartUpload or Copy; each call uses
// the options that apply to it and ignores the others.
type PutOption func(*putOptions)

type putOptions struct {
	headers     *blobdv1.ObjectHeaders
	tier        blobdv1.Tier
	md5         []byte
	ifMatch     string
	ifNoneMatch string
	partSize    int64
	concurrency int
	progress    func(n int64)
}

func putOpts(opts []PutOption) putOptions {
	var o putOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

func (o *putOptions) hdrs() *blobdv1.ObjectHeaders {
	if o.headers == nil {
		o.headers = &blobdv1.ObjectHeaders{}
	}
	return o.headers
}

// WithHeaders sets the stored headers and user metadata (a copy replaces
// the source's with them).
func WithHeaders(h *blobdv1.ObjectHeaders) PutOption {
	return func(o *putOptions) { o.headers = h }
}

// WithContentType sets the stored Content-Type.
func WithContentType(ct string) PutOption {
	return func(o *putOptions) { o.hdrs().ContentType = ct }
}

// WithMetadata sets user metadata (S3's x-amz-meta-*).
func WithMetadata(md map[string]string) PutOption {
	return func(o *putOptions) { o.hdrs().UserMetadata = md }
}

// WithTier sets the storage tier (default: the bucket's; for a copy, the
// source's).
func WithTier(t blobdv1.Tier) PutOption {
	return func(o *putOptions) { o.tier = t }
}

// WithContentMD5 makes the server check the data against md5 (16 bytes)
// and store nothing on a mismatch (ErrBadDigest). Put and UploadPart only.
func WithContentMD5(md5 []byte) PutOption {
	return func(o *putOptions) { o.md5 = md5 }
}

// WithIfMatch writes only if the current object's etag is etag.
func WithIfMatch(etag string) PutOption {
	return func(o *putOptions) { o.ifMatch = etag }
}

// WithIfNoneMatch writes only if no object matches: "*" means only if
// there is no object at the key.
func WithIfNoneMatch(v string) PutOption {
	return func(o *putOptions) { o.ifNoneMatch = v }
}

// WithPartSize sets PutMultipart's part size (default DefaultPartSize; at
// least MinPartSize; raised when the object would need over MaxParts).
func WithPartSize(n int64) PutOption {
	return func(o *putOptions) { o.partSize = n }
}

// WithConcurrency sets how many parts PutMultipart uploads at once
// (default DefaultConcurrency).
func WithConcurrency(n int) PutOption {
	return func(o *putOptions) { o.concurrency = n }
}

// WithProgress calls f(n) after n more bytes of the body were sent; a
// transfer that is retried calls f with minus what it had sent. Calls are
// never concurrent.
func WithProgress(f func(n int64)) PutOption {
	return func(o *putOptions) {
		var mu sync.Mutex
		o.progress = func(n int64) {
			mu.Lock()
			defer mu.Unlock()
			f(n)
		}
	}
}

// GetOption sets a field of Get.
type GetOption func(*blobdv1.GetObjectRequest)

// WithRange reads length bytes from offset (length 0: to the end).
func WithRange(offset, length int64) GetOption {
	return func(r *blobdv1.GetObjectRequest) { r.Offset, r.Length = offset, length }
}

// WithGetIfMatch reads only if the object's etag matches.
func WithGetIfMatch(etag string) GetOption {
	return func(r *blobdv1.GetObjectRequest) { r.IfMatch = etag }
}

// WithGetIfNoneMatch reads only if the object's etag does not match.
func WithGetIfNoneMatch(etag string) GetOption {
	return func(r *blobdv1.GetObjectRequest) { r.IfNoneMatch = etag }
}

// ListOption sets a field of List.
type ListOption func(*blobdv1.ListObjectsRequest)

// WithPrefix lists only keys that start with prefix.
func WithPrefix(prefix string) ListOption {
	return func(r *blobdv1.ListObjectsRequest) { r.Prefix = prefix }
}

// WithDelimiter rolls keys holding delimiter after the prefix up into
// common prefixes ("/" lists one directory level).
func WithDelimiter(d string) ListOption {
	return func(r *blobdv1.ListObjectsRequest) { r.Delimiter = d }
}

// WithStartAfter lists only keys after key.
func WithStartAfter(key string) ListOption {
	return func(r *blobdv1.ListObjectsRequest) { r.StartAfter = key }
}

// WithPageSize sets how many entries each ListObjects call returns (at
// most 1000, the default).
func WithPageSize(n int) ListOption {
	return func(r *blobdv1.ListObjectsRequest) { r.MaxKeys = int32(n) }
}
