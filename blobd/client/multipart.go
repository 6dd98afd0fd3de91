package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"google.golang.org/grpc"

	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// Multipart limits and PutMultipart's defaults.
const (
	// MinPartSize is the smallest part but the last (S3's 5 MiB).
	MinPartSize = 5 << 20
	// MaxParts is the most parts an upload has.
	MaxParts = 10000
	// DefaultPartSize is PutMultipart's part size.
	DefaultPartSize = 16 << 20
	// DefaultConcurrency is how many parts PutMultipart uploads at once.
	DefaultConcurrency = 4
)

// CreateMultipartUpload starts an upload of bucket/key (WithHeaders,
// WithContentType, WithMetadata and WithTier apply).
func (c *Client) CreateMultipartUpload(ctx context.Context, bucket, key string, opts ...PutOption) (*blobdv1.Upload, error) {
	o := putOpts(opts)
	resp, err := call(ctx, c, "create-multipart-upload", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.CreateMultipartUploadResponse, error) {
		return c.objects.CreateMultipartUpload(ctx, &blobdv1.CreateMultipartUploadRequest{Bucket: bucket, Key: key, Headers: o.headers, Tier: o.tier}, co...)
	})
	return resp.GetUpload(), err
}

type partStream struct {
	blobdv1.ObjectService_UploadPartClient
}

func (s partStream) sendData(data []byte) error {
	return s.Send(&blobdv1.UploadPartRequest{Msg: &blobdv1.UploadPartRequest_Data{Data: data}})
}

// UploadPart stores part number of an upload from r (size bytes, or to EOF
// with -1), as Put stores an object (WithContentMD5 and WithProgress apply).
func (c *Client) UploadPart(ctx context.Context, bucket, key, uploadID string, number int32, r io.Reader, size int64, opts ...PutOption) (*blobdv1.Part, error) {
	o := putOpts(opts)
	hdr := &blobdv1.UploadPartHeader{Bucket: bucket, Key: key, UploadId: uploadID, PartNumber: number, Size: size, ContentMd5: o.md5}
	resp, err := upload(ctx, c, "upload-part", r, size, o.progress, func(ctx context.Context) (uploadStream[*blobdv1.UploadPartResponse], error) {
		s, err := c.objects.UploadPart(ctx, grpc.WaitForReady(true))
		if err != nil {
			return nil, err
		}
		if err := s.Send(&blobdv1.UploadPartRequest{Msg: &blobdv1.UploadPartRequest_Header{Header: hdr}}); err != nil {
			return partStream{s}, err
		}
		return partStream{s}, nil
	})
	return resp.GetPart(), err
}

// CompleteMultipartUpload assembles the parts, in ascending number order,
// into the object (WithIfMatch and WithIfNoneMatch apply).
func (c *Client) CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []*blobdv1.CompletedPart, opts ...PutOption) (*blobdv1.Object, error) {
	o := putOpts(opts)
	req := &blobdv1.CompleteMultipartUploadRequest{Bucket: bucket, Key: key, UploadId: uploadID, Parts: parts, IfMatch: o.ifMatch, IfNoneMatch: o.ifNoneMatch}
	resp, err := call(ctx, c, "complete-multipart-upload", kindWrite, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.CompleteMultipartUploadResponse, error) {
		return c.objects.CompleteMultipartUpload(ctx, req, co...)
	})
	return resp.GetObject(), err
}

// AbortMultipartUpload drops an upload and its parts.
func (c *Client) AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error {
	_, err := call(ctx, c, "abort-multipart-upload", kindIdempotent, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.AbortMultipartUploadResponse, error) {
		return c.objects.AbortMultipartUpload(ctx, &blobdv1.AbortMultipartUploadRequest{Bucket: bucket, Key: key, UploadId: uploadID}, co...)
	})
	return err
}

// ListParts lists an upload's parts numbered above marker, up to max (0:
// 1000).
func (c *Client) ListParts(ctx context.Context, bucket, key, uploadID string, marker, max int32) (*blobdv1.ListPartsResponse, error) {
	return call(ctx, c, "list-parts", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.ListPartsResponse, error) {
		return c.objects.ListParts(ctx, &blobdv1.ListPartsRequest{Bucket: bucket, Key: key, UploadId: uploadID, PartNumberMarker: marker, MaxParts: max}, co...)
	})
}

// ListUploads lists a bucket's uploads in progress.
func (c *Client) ListUploads(ctx context.Context, req *blobdv1.ListMultipartUploadsRequest) (*blobdv1.ListMultipartUploadsResponse, error) {
	return call(ctx, c, "list-uploads", kindRead, func(ctx context.Context, co ...grpc.CallOption) (*blobdv1.ListMultipartUploadsResponse, error) {
		return c.objects.ListMultipartUploads(ctx, req, co...)
	})
}

// partSizeFor returns the part size for an object of size bytes (-1:
// unknown): want (or DefaultPartSize), at least MinPartSize, and large
// enough that the object fits in MaxParts parts.
func partSizeFor(size, want int64) int64 {
	if want <= 0 {
		want = DefaultPartSize
	}
	want = max(want, MinPartSize)
	if size > 0 {
		want = max(want, (size+MaxParts-1)/MaxParts)
	}
	return want
}

// part is one part to upload: its number and a re-readable body.
type part struct {
	number int32
	body   io.ReadSeeker
	size   int64
	// release, when set, gives the part's buffer back once it is uploaded.
	release func()
}

// PutMultipart stores r's data as bucket/key in parts uploaded in parallel
// (WithPartSize, WithConcurrency; the options of Put apply, except
// WithContentMD5): faster than Put for large objects, and each part is
// retried on its own. With r an io.ReaderAt and size known, parts are read
// in place; otherwise r is read in order into at most concurrency part
// buffers. On failure the upload is aborted, so nothing is left behind.
// The object's etag is S3's multipart etag ("<md5 of part md5s>-N").
func (c *Client) PutMultipart(ctx context.Context, bucket, key string, r io.Reader, size int64, opts ...PutOption) (*blobdv1.Object, error) {
	o := putOpts(opts)
	psize := partSizeFor(size, o.partSize)
	workers := o.concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	up, err := c.CreateMultipartUpload(ctx, bucket, key, opts...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex // protects done and firstErr
		done     []*blobdv1.CompletedPart
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	parts := make(chan part)
	free := make(chan []byte, workers+2) // part buffers when r is read in order: never more than workers+1
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range parts {
				var popts []PutOption
				if o.progress != nil {
					popts = append(popts, func(po *putOptions) { po.progress = o.progress })
				}
				got, err := c.UploadPart(ctx, bucket, key, up.GetUploadId(), p.number, p.body, p.size, popts...)
				if p.release != nil {
					p.release()
				}
				if err != nil {
					fail(err)
					continue
				}
				mu.Lock()
				done = append(done, &blobdv1.CompletedPart{Number: p.number, Etag: got.GetEtag()})
				mu.Unlock()
			}
		}()
	}
	feedErr := feedParts(ctx, r, size, psize, parts, free, workers)
	close(parts)
	wg.Wait()
	if feedErr != nil {
		fail(feedErr)
	}
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		abortCtx, abortCancel := context.WithTimeout(context.WithoutCancel(ctx), c.conn.Config().RequestTimeout)
		defer abortCancel()
		_ = c.AbortMultipartUpload(abortCtx, bucket, key, up.GetUploadId())
		return nil, firstErr
	}
	sortParts(done)
	return c.CompleteMultipartUpload(ctx, bucket, key, up.GetUploadId(), done, opts...)
}

// feedParts cuts r into parts of psize bytes and hands them to the workers
// until r ends (or size bytes were cut), ctx ends or the part count runs
// over MaxParts.
func feedParts(ctx context.Context, r io.Reader, size, psize int64, parts chan<- part, free chan []byte, workers int) error {
	send := func(p part) error {
		select {
		case parts <- p:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if ra, ok := r.(io.ReaderAt); ok && size >= 0 {
		base := int64(0)
		if s, ok := r.(io.Seeker); ok {
			if pos, err := s.Seek(0, io.SeekCurrent); err == nil {
				base = pos
			}
		}
		n := int32(1)
		for off := int64(0); off < size || (size == 0 && n == 1); off += psize {
			length := min(psize, size-off)
			if err := send(part{number: n, body: io.NewSectionReader(ra, base+off, length), size: length}); err != nil {
				return err
			}
			n++
		}
		return nil
	}
	// Read in order: a part's buffer is reused once its upload is done, so at
	// most workers+1 buffers exist.
	if size >= 0 {
		r = io.LimitReader(r, size)
	}
	buffers := 0
	var read int64
	for n := int32(1); ; n++ {
		var buf []byte
		select {
		case buf = <-free:
		default:
			if buffers <= workers {
				buf = make([]byte, psize)
				buffers++
			} else {
				select {
				case buf = <-free:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		k, err := io.ReadFull(r, buf)
		read += int64(k)
		last := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !last {
			return fmt.Errorf("blobd client: put-multipart: reading the body: %w", err)
		}
		if k == 0 && n > 1 {
			break
		}
		if n > MaxParts {
			return errs.Local("put-multipart", fmt.Errorf("%w: the body needs more than %d parts of %d bytes (set a larger part size)", ErrLimitExceeded, MaxParts, psize))
		}
		release := func() { free <- buf }
		if err := send(part{number: n, body: bytes.NewReader(buf[:k]), size: int64(k), release: release}); err != nil {
			return err
		}
		if last {
			break
		}
	}
	if size >= 0 && read < size {
		return errs.Local("put-multipart", fmt.Errorf("%w: the body ended after %d of %d bytes", ErrIncompleteBody, read, size))
	}
	return nil
}

func sortParts(ps []*blobdv1.CompletedPart) {
	slices.SortFunc(ps, func(a, b *blobdv1.CompletedPart) int { return int(a.GetNumber() - b.GetNumber()) })
}
