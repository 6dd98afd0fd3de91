package origin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc/status"

	blobdclient "cairn.dev/cairn/blobd/client"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// Blob serves objects from blobd as an HTTP origin: the path
// /<bucket>/<key> (percent-decoded) names the object; the query is ignored.
//
//   - GET and HEAD only (other methods: 405 with Allow).
//   - Headers: the object's stored Content-Type (default
//     application/octet-stream), Cache-Control, Content-Disposition,
//     Content-Encoding and Expires; ETag (quoted), Last-Modified (the
//     object's creation), Accept-Ranges, Date, Content-Length; the user
//     metadata "surrogate-key" as Surrogate-Key and the other user
//     metadata as X-Amz-Meta-<name>. A stored value that is not a valid
//     header value (control characters) is left out.
//   - Conditions (RFC 9110 section 13): If-Match, If-Unmodified-Since
//     (412), If-None-Match, If-Modified-Since (304 with the validators and
//     caching headers, no body), If-Range.
//   - Range: one byte range of a GET (206 with Content-Range); an
//     unsatisfiable one 416 with "Content-Range: bytes */<size>"; several
//     ranges, a malformed header, a Range on HEAD or on an empty object
//     are ignored (the whole object, 200).
//   - Errors: a missing bucket or object 404, a path without bucket and key
//     or a key blobd refuses 400, an archived object not restored 403,
//     blobd unavailable (no answer within BlobOptions.OpenTimeout, or any
//     other failure) 503 with Cache-Control: no-store and Retry-After;
//     each with a one-line text body. Fetch returns an error only when ctx
//     ended.
//
// The body streams from blobd as it arrives (chunks verified by blobd);
// a stream that breaks makes the body's Read fail, never end short with
// io.EOF. Blob is safe for concurrent use.
type Blob struct {
	c           *blobdclient.Client
	openTimeout time.Duration
	now         func() time.Time
}

// BlobOptions tunes a Blob. Zero fields take the defaults named.
type BlobOptions struct {
	// OpenTimeout bounds the wait for blobd's first answer to one call (an
	// object's record, or the start of its data): the blobd client retries
	// an unavailable cluster until then, after which Fetch answers 503. The
	// body's transfer is bounded by the caller's ctx only. Default 5s.
	OpenTimeout time.Duration
	// Now is the clock of the Date header; nil: time.Now.
	Now func() time.Time
}

// DefaultOpenTimeout is BlobOptions.OpenTimeout's default.
const DefaultOpenTimeout = 5 * time.Second

// NewBlob returns a Blob over c, which the caller keeps and closes.
func NewBlob(c *blobdclient.Client, opts BlobOptions) *Blob {
	b := &Blob{c: c, openTimeout: opts.OpenTimeout, now: opts.Now}
	if b.openTimeout <= 0 {
		b.openTimeout = DefaultOpenTimeout
	}
	if b.now == nil {
		b.now = time.Now
	}
	return b
}

// stat reads an object's record within the open timeout.
func (b *Blob) stat(ctx context.Context, bucket, key string) (*blobdv1.Object, error) {
	ctx, cancel := context.WithTimeout(ctx, b.openTimeout)
	defer cancel()
	return b.c.Stat(ctx, bucket, key)
}

// open starts reading an object, giving up after the open timeout; the
// returned body then streams under ctx alone and releases its context
// when closed.
func (b *Blob) open(ctx context.Context, bucket, key string, opts ...blobdclient.GetOption) (*blobBody, error) {
	ctx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(b.openTimeout, cancel)
	rd, err := b.c.Get(ctx, bucket, key, opts...)
	if !timer.Stop() {
		// The timeout cancelled ctx: even a stream just opened is dead.
		if err == nil {
			rd.Close()
			err = context.DeadlineExceeded
		}
		err = fmt.Errorf("blobd gave no answer in %v: %w", b.openTimeout, err)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return &blobBody{Reader: rd, cancel: cancel}, nil
}

// blobBody is a response body reading an object.
type blobBody struct {
	*blobdclient.Reader
	cancel context.CancelFunc
}

// Close ends the stream.
func (b *blobBody) Close() error {
	err := b.Reader.Close()
	b.cancel()
	return err
}

// maxRaceRetries is how many times Fetch reads again when the object
// changed between its record and its data.
const maxRaceRetries = 3

// Fetch answers r from blobd; see Blob.
func (b *Blob) Fetch(ctx context.Context, r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		resp := TextResponse(r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: the blob origin serves GET and HEAD")
		resp.Header.Set("Allow", "GET, HEAD")
		return resp, nil
	}
	bucket, key, err := splitObjectPath(r.URL.Path)
	if err != nil {
		return TextResponse(r, http.StatusBadRequest, err.Error()), nil
	}
	if r.Method == http.MethodHead {
		obj, err := b.stat(ctx, bucket, key)
		if err != nil {
			return b.failure(ctx, r, bucket, key, err)
		}
		if code := evalConditions(r.Header, obj); code != 0 {
			return b.conditionFailed(r, obj, code), nil
		}
		resp := newResponse(r, http.StatusOK, b.objectHeaders(obj), obj.GetSize())
		resp.Header.Set("Content-Length", strconv.FormatInt(obj.GetSize(), 10))
		return resp, nil
	}
	rng, ranged := parseRange(r.Header.Get("Range"))
	for attempt := 0; ; attempt++ {
		resp, retry, err := b.get(ctx, r, bucket, key, rng, ranged)
		if !retry {
			return resp, err
		}
		if attempt+1 >= maxRaceRetries {
			return TextResponse(r, http.StatusServiceUnavailable, fmt.Sprintf("object %s/%s changed while being read %d times; try again", bucket, key, maxRaceRetries)), nil
		}
	}
}

// get serves one GET attempt. When the request needs the object's record
// before its data (conditions, a suffix range, If-Range), it reads the
// record first and the data on the condition that the etag is still the
// same; retry is true when it was not.
func (b *Blob) get(ctx context.Context, r *http.Request, bucket, key string, rng byteRange, ranged bool) (*http.Response, bool, error) {
	var opts []blobdclient.GetOption
	var size int64 = -1 // known once the record was read
	if hasConditions(r.Header) || (ranged && (rng.needsSize() || r.Header.Get("If-Range") != "")) {
		obj, err := b.stat(ctx, bucket, key)
		if err != nil {
			resp, err := b.failure(ctx, r, bucket, key, err)
			return resp, false, err
		}
		if code := evalConditions(r.Header, obj); code != 0 {
			return b.conditionFailed(r, obj, code), false, nil
		}
		if ranged && !ifRangeHolds(r.Header.Get("If-Range"), obj) {
			ranged = false
		}
		opts = append(opts, blobdclient.WithGetIfMatch(obj.GetEtag()))
		size = obj.GetSize()
	}
	if ranged && size >= 0 {
		off, n, ok := rng.resolve(size)
		switch {
		case size == 0:
			ranged = false
		case !ok:
			return rangeNotSatisfiable(r, size), false, nil
		default:
			opts = append(opts, blobdclient.WithRange(off, n))
		}
	} else if ranged {
		// A first-last or first- range: blobd clips it to the object.
		n := int64(0)
		if rng.last >= 0 {
			n = rng.last - rng.first + 1
		}
		opts = append(opts, blobdclient.WithRange(rng.first, n))
	}
	body, err := b.open(ctx, bucket, key, opts...)
	switch {
	case errors.Is(err, blobdclient.ErrPreconditionFailed):
		return nil, true, nil // changed since the record was read
	case errors.Is(err, blobdclient.ErrInvalidRange):
		obj, serr := b.stat(ctx, bucket, key)
		if serr != nil {
			resp, err := b.failure(ctx, r, bucket, key, serr)
			return resp, false, err
		}
		if obj.GetSize() == 0 {
			return b.get(ctx, r, bucket, key, rng, false) // a Range on an empty object is ignored
		}
		return rangeNotSatisfiable(r, obj.GetSize()), false, nil
	case err != nil:
		resp, err := b.failure(ctx, r, bucket, key, err)
		return resp, false, err
	}
	rd := body.Reader
	obj := rd.Object()
	h := b.objectHeaders(obj)
	code := http.StatusOK
	if ranged && obj.GetSize() > 0 {
		code = http.StatusPartialContent
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", rd.Offset(), rd.Offset()+rd.Length()-1, obj.GetSize()))
	}
	h.Set("Content-Length", strconv.FormatInt(rd.Length(), 10))
	resp := newResponse(r, code, h, rd.Length())
	resp.Body = body
	return resp, false, nil
}

// splitObjectPath splits /<bucket>/<key>.
func splitObjectPath(p string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(p, "/")
	if ok {
		bucket, key, ok = strings.Cut(rest, "/")
	}
	if !ok || bucket == "" || key == "" {
		return "", "", fmt.Errorf("path %q: want /<bucket>/<key>", p)
	}
	return bucket, key, nil
}

// failure turns a blobd error into an answer: 404, 400, 403 or 503; or,
// when ctx ended, the error.
func (b *Blob) failure(ctx context.Context, r *http.Request, bucket, key string, err error) (*http.Response, error) {
	if cerr := ctx.Err(); cerr != nil {
		return nil, fmt.Errorf("origin: blob %s/%s: %w", bucket, key, cerr)
	}
	switch {
	case errors.Is(err, blobdclient.ErrBucketNotFound):
		return TextResponse(r, http.StatusNotFound, fmt.Sprintf("no bucket %q", bucket)), nil
	case errors.Is(err, blobdclient.ErrObjectNotFound):
		return TextResponse(r, http.StatusNotFound, fmt.Sprintf("no object %q in bucket %q", key, bucket)), nil
	case errors.Is(err, blobdclient.ErrInvalidArgument), errors.Is(err, blobdclient.ErrLimitExceeded):
		return TextResponse(r, http.StatusBadRequest, fmt.Sprintf("object %s/%s: %s", bucket, key, statusMessage(err))), nil
	case errors.Is(err, blobdclient.ErrInvalidObjectState):
		return TextResponse(r, http.StatusForbidden, fmt.Sprintf("object %s/%s is archived and not restored", bucket, key)), nil
	}
	resp := TextResponse(r, http.StatusServiceUnavailable, fmt.Sprintf("blobd unavailable for %s/%s", bucket, key))
	resp.Header.Set("Retry-After", "1")
	return resp, nil
}

// statusMessage is the gRPC status message of err (its text otherwise).
func statusMessage(err error) string {
	if st, ok := status.FromError(err); ok {
		return st.Message()
	}
	return err.Error()
}

// objectHeaders are the headers of a GET or HEAD of obj.
func (b *Blob) objectHeaders(obj *blobdv1.Object) http.Header {
	h := http.Header{}
	hs := obj.GetHeaders()
	set := func(name, v string) {
		if v != "" && validHeaderValue(v) {
			h[name] = []string{v}
		}
	}
	ct := hs.GetContentType()
	if ct == "" {
		ct = "application/octet-stream"
	}
	set("Content-Type", ct)
	set("Cache-Control", hs.GetCacheControl())
	set("Content-Disposition", hs.GetContentDisposition())
	set("Content-Encoding", hs.GetContentEncoding())
	set("Expires", hs.GetExpires())
	for name, v := range hs.GetUserMetadata() {
		if strings.EqualFold(name, MetaSurrogateKey) {
			set("Surrogate-Key", v)
			continue
		}
		if validHeaderName(name) {
			set(http.CanonicalHeaderKey(MetaHeaderPrefix+name), v)
		}
	}
	set("Etag", quoteETag(obj.GetEtag()))
	if t := obj.GetCreated(); t != nil {
		set("Last-Modified", t.AsTime().UTC().Format(http.TimeFormat))
	}
	h.Set("Accept-Ranges", "bytes")
	h.Set("Date", b.now().UTC().Format(http.TimeFormat))
	return h
}

// MetaSurrogateKey is the user metadata name served as Surrogate-Key.
const MetaSurrogateKey = "surrogate-key"

// MetaHeaderPrefix starts the header of every other user metadata entry.
const MetaHeaderPrefix = "X-Amz-Meta-"

// conditionFailed answers 304 (with the validators and the headers a 200
// would carry that a cache updates: RFC 9110 section 15.4.5) or 412.
func (b *Blob) conditionFailed(r *http.Request, obj *blobdv1.Object, code int) *http.Response {
	if code == http.StatusPreconditionFailed {
		return TextResponse(r, code, fmt.Sprintf("object %s/%s: a precondition did not hold (etag %s)", obj.GetBucket(), obj.GetKey(), quoteETag(obj.GetEtag())))
	}
	full := b.objectHeaders(obj)
	h := http.Header{}
	for _, k := range []string{"Etag", "Last-Modified", "Cache-Control", "Expires", "Date", "Surrogate-Key"} {
		if v, ok := full[k]; ok {
			h[k] = v
		}
	}
	return newResponse(r, http.StatusNotModified, h, 0)
}

// rangeNotSatisfiable is the 416 answer for an object of size bytes.
func rangeNotSatisfiable(r *http.Request, size int64) *http.Response {
	resp := TextResponse(r, http.StatusRequestedRangeNotSatisfiable, fmt.Sprintf("range %q not satisfiable: the object has %d bytes", r.Header.Get("Range"), size))
	resp.Header.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
	return resp
}
