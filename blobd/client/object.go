package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/clusterconn"
	"cairn.dev/cairn/node/rpcerr"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// Put stores r's data as bucket/key: exactly size bytes of it, or, with
// size -1, everything up to EOF. It returns once the data is fsynced on
// every server holding it and the object is committed. A failed Put leaves
// nothing visible; it is retried (from the body's starting position) only
// when the failure says it was not applied and r is an io.Seeker.
func (c *Client) Put(ctx context.Context, bucket, key string, r io.Reader, size int64, opts ...PutOption) (*blobdv1.Object, error) {
	o := putOpts(opts)
	hdr := &blobdv1.PutObjectHeader{
		Bucket: bucket, Key: key, Size: size, Headers: o.headers, Tier: o.tier, ContentMd5: o.md5,
		IfMatch: o.ifMatch, IfNoneMatch: o.ifNoneMatch,
	}
	resp, err := upload(ctx, c, "put", r, size, o.progress, func(ctx context.Context) (uploadStream[*blobdv1.PutObjectResponse], error) {
		s, err := c.objects.PutObject(ctx, grpc.WaitForReady(true))
		if err != nil {
			return nil, err
		}
		if err := s.Send(&blobdv1.PutObjectRequest{Msg: &blobdv1.PutObjectRequest_Header{Header: hdr}}); err != nil {
			return putStream{s}, err
		}
		return putStream{s}, nil
	})
	return resp.GetObject(), err
}

// uploadStream is an open PutObject or UploadPart stream past its header.
type uploadStream[R any] interface {
	sendData(data []byte) error
	CloseAndRecv() (R, error)
}

type putStream struct {
	blobdv1.ObjectService_PutObjectClient
}

func (s putStream) sendData(data []byte) error {
	return s.Send(&blobdv1.PutObjectRequest{Msg: &blobdv1.PutObjectRequest_Data{Data: data}})
}

// upload runs one upload stream (open sends the header), retrying it as the
// package documentation says.
func upload[R any](ctx context.Context, c *Client, op string, r io.Reader, size int64, progress func(int64), open func(ctx context.Context) (uploadStream[R], error)) (R, error) {
	var zero R
	if c.conn.Closed() {
		return zero, errs.Local(op, ErrClosed)
	}
	if progress == nil {
		progress = func(int64) {}
	}
	seeker, _ := r.(io.Seeker)
	var start int64
	if seeker != nil {
		var err error
		if start, err = seeker.Seek(0, io.SeekCurrent); err != nil {
			seeker = nil
		}
	}
	var b clusterconn.Backoff
	for {
		resp, sent, err := uploadOnce(ctx, r, size, progress, open)
		if err == nil {
			return resp, nil
		}
		if sent > 0 {
			progress(-sent)
		}
		if seeker == nil || !rpcerr.TryOther(err) || !b.Wait(ctx) {
			return zero, toError(op, kindWrite, err)
		}
		if _, serr := seeker.Seek(start, io.SeekStart); serr != nil {
			return zero, toError(op, kindWrite, err)
		}
	}
}

// uploadOnce opens a stream, sends the body and returns the response and
// how many body bytes it sent.
func uploadOnce[R any](ctx context.Context, r io.Reader, size int64, progress func(int64), open func(ctx context.Context) (uploadStream[R], error)) (resp R, sent int64, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s, err := open(ctx)
	if s == nil {
		return resp, 0, err
	}
	if err == nil {
		if size >= 0 {
			r = io.LimitReader(r, size)
		}
		buf := make([]byte, MaxDataMessageBytes)
		if size >= 0 && size < int64(len(buf)) {
			buf = buf[:max(size, 1)]
		}
		for {
			n, rerr := io.ReadFull(r, buf)
			if n > 0 {
				if err = s.sendData(buf[:n]); err != nil {
					break // the server ended the stream: CloseAndRecv says why
				}
				sent += int64(n)
				progress(int64(n))
			}
			if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
				break
			}
			if rerr != nil {
				// The body failed: cancel the stream so nothing is stored.
				cancel()
				return resp, sent, status.Error(codes.Canceled, fmt.Sprintf("reading the body: %v", rerr))
			}
		}
	}
	resp, err = s.CloseAndRecv()
	return resp, sent, err
}

// Reader reads an object's data from a GetObject stream. It is not safe for
// concurrent use; Close it when done.
type Reader struct {
	obj            *blobdv1.Object
	offset, length int64
	stream         blobdv1.ObjectService_GetObjectClient
	cancel         context.CancelFunc
	buf            []byte
	read           int64
	err            error
}

// Object is the object's record: size, etag, headers, tier.
func (r *Reader) Object() *blobdv1.Object { return r.obj }

// Offset and Length are the range the reader yields.
func (r *Reader) Offset() int64 { return r.offset }

// Length is the number of bytes the reader yields.
func (r *Reader) Length() int64 { return r.length }

// Read reads the data. A stream that fails or ends early returns an error
// (an *Error, or io.ErrUnexpectedEOF), never short data with io.EOF.
func (r *Reader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		m, err := r.stream.Recv()
		switch {
		case errors.Is(err, io.EOF) && r.read == r.length:
			r.err = io.EOF
		case errors.Is(err, io.EOF):
			r.err = fmt.Errorf("blobd client: get: the stream ended at byte %d of %d: %w", r.read, r.length, io.ErrUnexpectedEOF)
		case err != nil:
			r.err = toError("get", kindRead, err)
		default:
			r.buf = m.GetData()
			r.read += int64(len(r.buf))
			if r.read > r.length {
				r.err = fmt.Errorf("blobd client: get: the server sent %d bytes of a %d-byte range", r.read, r.length)
				r.buf = nil
			}
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// Close ends the stream. Idempotent.
func (r *Reader) Close() error {
	r.cancel()
	if r.err == nil {
		r.err = errs.Local("get", ErrClosed)
	}
	return nil
}

// Get opens bucket/key for reading: the Reader's Object is the record and
// Read yields the data (or the range WithRange selects), verified by the
// server against its checksums. Opening is retried on Unavailable until the
// first message arrives; the read itself is bounded by ctx only.
func (c *Client) Get(ctx context.Context, bucket, key string, opts ...GetOption) (*Reader, error) {
	if c.conn.Closed() {
		return nil, errs.Local("get", ErrClosed)
	}
	req := &blobdv1.GetObjectRequest{Bucket: bucket, Key: key}
	for _, o := range opts {
		o(req)
	}
	var b clusterconn.Backoff
	for {
		sctx, cancel := context.WithCancel(ctx)
		r, err := c.openGet(sctx, req)
		if err == nil {
			r.cancel = cancel
			return r, nil
		}
		cancel()
		if status.Code(err) != codes.Unavailable || !b.Wait(ctx) {
			return nil, toError("get", kindRead, err)
		}
	}
}

func (c *Client) openGet(ctx context.Context, req *blobdv1.GetObjectRequest) (*Reader, error) {
	s, err := c.objects.GetObject(ctx, req, grpc.WaitForReady(true))
	if err != nil {
		return nil, err
	}
	first, err := s.Recv()
	if err != nil {
		return nil, err
	}
	if first.GetObject() == nil {
		return nil, status.Error(codes.Internal, "the first message of GetObject carries no object")
	}
	return &Reader{obj: first.GetObject(), offset: first.GetOffset(), length: first.GetLength(), stream: s, buf: first.GetData(), read: int64(len(first.GetData()))}, nil
}

// Stat returns an object's record.
func (c *Client) Stat(ctx context.Context, bucket, key string) (*blobdv1.Object, error) {
	resp, err := call(ctx, c, "stat", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.HeadObjectResponse, error) {
		return c.objects.HeadObject(ctx, &blobdv1.HeadObjectRequest{Bucket: bucket, Key: key}, co...)
	})
	return resp.GetObject(), err
}

// Delete deletes an object; deleted tells whether there was one.
func (c *Client) Delete(ctx context.Context, bucket, key string) (deleted bool, err error) {
	resp, err := call(ctx, c, "delete", kindIdempotent, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.DeleteObjectResponse, error) {
		return c.objects.DeleteObject(ctx, &blobdv1.DeleteObjectRequest{Bucket: bucket, Key: key}, co...)
	})
	return resp.GetDeleted(), err
}

// Copy copies srcBucket/srcKey to bucket/key server-side. WithHeaders
// replaces the source's headers, WithTier its tier; WithIfMatch and
// WithIfNoneMatch are conditions on the destination.
func (c *Client) Copy(ctx context.Context, srcBucket, srcKey, bucket, key string, opts ...PutOption) (*blobdv1.Object, error) {
	o := putOpts(opts)
	req := &blobdv1.CopyObjectRequest{
		SourceBucket: srcBucket, SourceKey: srcKey, Bucket: bucket, Key: key,
		ReplaceHeaders: o.headers != nil, Headers: o.headers, Tier: o.tier, IfMatch: o.ifMatch, IfNoneMatch: o.ifNoneMatch,
	}
	resp, err := call(ctx, c, "copy", kindData, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.CopyObjectResponse, error) {
		return c.objects.CopyObject(ctx, req, co...)
	})
	return resp.GetObject(), err
}

// ListEntry is one entry of a listing: an object, or a common prefix when
// the listing has a delimiter.
type ListEntry struct {
	// Object is the object's record (no chunk count); nil for a prefix.
	Object *blobdv1.Object
	// Prefix is the common prefix, "" for an object.
	Prefix string
}

// Name is the entry's key or prefix.
func (e ListEntry) Name() string {
	if e.Object != nil {
		return e.Object.GetKey()
	}
	return e.Prefix
}

// ListPage runs one ListObjects call.
func (c *Client) ListPage(ctx context.Context, req *blobdv1.ListObjectsRequest) (*blobdv1.ListObjectsResponse, error) {
	return call(ctx, c, "list", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.ListObjectsResponse, error) {
		return c.objects.ListObjects(ctx, req, co...)
	})
}

// List iterates over a bucket's keys (and common prefixes, with
// WithDelimiter) in key order, a page at a time; each page is one call
// bounded as unary calls are. The iteration stops at the first error,
// which it yields.
func (c *Client) List(ctx context.Context, bucket string, opts ...ListOption) iter.Seq2[ListEntry, error] {
	return func(yield func(ListEntry, error) bool) {
		req := &blobdv1.ListObjectsRequest{Bucket: bucket}
		for _, o := range opts {
			o(req)
		}
		for {
			page, err := c.ListPage(ctx, req)
			if err != nil {
				yield(ListEntry{}, err)
				return
			}
			for _, e := range mergePage(page) {
				if !yield(e, nil) {
					return
				}
			}
			if !page.GetIsTruncated() {
				return
			}
			req.ContinuationToken = page.GetNextContinuationToken()
		}
	}
}

// mergePage interleaves a page's objects and common prefixes in key order.
func mergePage(page *blobdv1.ListObjectsResponse) []ListEntry {
	objs, prefixes := page.GetObjects(), page.GetCommonPrefixes()
	out := make([]ListEntry, 0, len(objs)+len(prefixes))
	i, j := 0, 0
	for i < len(objs) || j < len(prefixes) {
		if j == len(prefixes) || i < len(objs) && objs[i].GetKey() < prefixes[j] {
			out = append(out, ListEntry{Object: objs[i]})
			i++
		} else {
			out = append(out, ListEntry{Prefix: prefixes[j]})
			j++
		}
	}
	return out
}

// SetTier moves an object to another tier now.
func (c *Client) SetTier(ctx context.Context, bucket, key string, tier blobdv1.Tier) (*blobdv1.Object, error) {
	resp, err := call(ctx, c, "set-tier", kindIdempotent, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.SetTierResponse, error) {
		return c.objects.SetTier(ctx, &blobdv1.SetTierRequest{Bucket: bucket, Key: key, Tier: tier}, co...)
	})
	return resp.GetObject(), err
}

// Restore asks for an archived object to be readable for days days.
func (c *Client) Restore(ctx context.Context, bucket, key string, days int) (*blobdv1.Object, error) {
	resp, err := call(ctx, c, "restore", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.RestoreObjectResponse, error) {
		return c.objects.RestoreObject(ctx, &blobdv1.RestoreObjectRequest{Bucket: bucket, Key: key, Days: int32(days)}, co...)
	})
	return resp.GetObject(), err
}
