package blobd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"cairn.dev/cairn/blobd/meta"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// objectService serves cairn.blobd.v1.ObjectService over the object API.
type objectService struct {
	blobdv1.UnimplementedObjectServiceServer
	s *Server
}

// dataStream is the receiving side of a PutObject or UploadPart stream:
// recv returns the next message's data, or its header when the message is
// one (which only the first may be).
type dataStream interface {
	recv() (data []byte, isHeader bool, err error)
}

// bodyReader reads the data messages of an upload stream after its header.
// With size >= 0 it fails (nothing is stored) when the client sends more
// than size bytes, and reads past the last byte to make sure of it; a
// short stream is the object API's ErrIncompleteBody.
type bodyReader struct {
	st   dataStream
	size int64 // -1: unknown
	read int64
	buf  []byte
	eof  bool
}

func (r *bodyReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.eof {
			return 0, io.EOF
		}
		if r.size >= 0 && r.read == r.size {
			// Every declared byte arrived: the stream must end here.
			if err := r.next(); err != nil {
				return 0, err
			}
			if len(r.buf) > 0 {
				return 0, invalid("data", "holds more than the %d bytes the header declared", r.size)
			}
			continue
		}
		if err := r.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// next receives one message into buf (setting eof at the stream's end).
func (r *bodyReader) next() error {
	data, isHeader, err := r.st.recv()
	switch {
	case errors.Is(err, io.EOF):
		r.eof = true
		return nil
	case err != nil:
		return err
	case isHeader:
		return invalid("header", "may only be sent in the first message")
	case len(data) > MaxDataMessageBytes:
		return invalid("data", "message is %d bytes, the most is %d", len(data), MaxDataMessageBytes)
	}
	r.read += int64(len(data))
	if r.size >= 0 && r.read > r.size {
		return invalid("data", "holds more than the %d bytes the header declared", r.size)
	}
	r.buf = data
	return nil
}

type putStream struct {
	blobdv1.ObjectService_PutObjectServer
}

func (p putStream) recv() ([]byte, bool, error) {
	m, err := p.Recv()
	if err != nil {
		return nil, false, err
	}
	return m.GetData(), m.GetHeader() != nil, nil
}

func validatePutHeader(h *blobdv1.PutObjectHeader) error {
	if h == nil {
		return invalid("header", "must be the first message")
	}
	if err := validBucketKey("header.bucket", h.GetBucket(), "header.key", h.GetKey()); err != nil {
		return err
	}
	if err := validSize("header.size", h.GetSize(), meta.MaxObjectBytes); err != nil {
		return err
	}
	if err := validHeaders("header.headers", h.GetHeaders()); err != nil {
		return err
	}
	if err := validTier("header.tier", h.GetTier(), true); err != nil {
		return err
	}
	if err := validMD5("header.content_md5", h.GetContentMd5()); err != nil {
		return err
	}
	if err := validCondition("header.if_match", h.GetIfMatch()); err != nil {
		return err
	}
	return validCondition("header.if_none_match", h.GetIfNoneMatch())
}

func (h *objectService) PutObject(stream blobdv1.ObjectService_PutObjectServer) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return toStatus(invalid("header", "must be the first message; the stream was empty"))
	}
	if err != nil {
		return err
	}
	hdr := first.GetHeader()
	if err := validatePutHeader(hdr); err != nil {
		return toStatus(err)
	}
	body := &bodyReader{st: putStream{stream}, size: hdr.GetSize()}
	o, err := h.s.PutObject(stream.Context(), PutInput{
		Bucket: hdr.GetBucket(), Key: hdr.GetKey(), Body: body, Size: hdr.GetSize(),
		Headers: headersRecord(hdr.GetHeaders()), Tier: blobdraftv1.Tier(hdr.GetTier()), ContentMD5: hdr.GetContentMd5(),
		IfMatch: unquote(hdr.GetIfMatch()), IfNoneMatch: unquote(hdr.GetIfNoneMatch()),
	})
	if err != nil {
		return toStatus(err)
	}
	return stream.SendAndClose(&blobdv1.PutObjectResponse{Header: h.s.header(o.GetVersion()), Object: objectProto(o)})
}

func validateGet(req *blobdv1.GetObjectRequest) error {
	if err := validBucketKey("bucket", req.GetBucket(), "key", req.GetKey()); err != nil {
		return err
	}
	if req.GetOffset() < 0 {
		return invalid("offset", "must not be negative, got %d", req.GetOffset())
	}
	if req.GetLength() < 0 {
		return invalid("length", "must not be negative (0 reads to the end), got %d", req.GetLength())
	}
	if err := validCondition("if_match", req.GetIfMatch()); err != nil {
		return err
	}
	return validCondition("if_none_match", req.GetIfNoneMatch())
}

// servedLength is how many bytes of an object of size a range returns.
func servedLength(size int64, r Range) int64 {
	n := size - r.Offset
	if n < 0 {
		return 0
	}
	if r.Length >= 0 && r.Length < n {
		return r.Length
	}
	return n
}

func (h *objectService) GetObject(req *blobdv1.GetObjectRequest, stream blobdv1.ObjectService_GetObjectServer) error {
	if err := validateGet(req); err != nil {
		return toStatus(err)
	}
	rg := Range{Offset: req.GetOffset(), Length: req.GetLength()}
	if rg.Length == 0 {
		rg.Length = -1
	}
	ctx := stream.Context()
	o, rc, err := h.s.GetObject(ctx, req.GetBucket(), req.GetKey(), rg)
	if err != nil {
		return toStatus(err)
	}
	defer rc.Close()
	if err := checkConditions(o, req.GetIfMatch(), req.GetIfNoneMatch()); err != nil {
		return toStatus(err)
	}
	length := servedLength(o.GetSize(), rg)
	if err := stream.Send(&blobdv1.GetObjectResponse{Header: h.s.header(0), Object: objectProto(o), Offset: rg.Offset, Length: length}); err != nil {
		return err
	}
	buf := make([]byte, min(int64(MaxDataMessageBytes), max(length, 1)))
	var sent int64
	for sent < length {
		n, err := io.ReadFull(rc, buf[:min(int64(len(buf)), length-sent)])
		if n > 0 {
			if serr := stream.Send(&blobdv1.GetObjectResponse{Data: buf[:n]}); serr != nil {
				return serr
			}
			sent += int64(n)
		}
		if err != nil {
			if sent < length {
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					err = fmt.Errorf("%w: the object's data ended at byte %d of %d", ErrDataUnavailable, rg.Offset+sent, rg.Offset+length)
				}
				return toStatus(err)
			}
			break
		}
	}
	return nil
}

func (h *objectService) HeadObject(ctx context.Context, req *blobdv1.HeadObjectRequest) (*blobdv1.HeadObjectResponse, error) {
	if err := validBucketKey("bucket", req.GetBucket(), "key", req.GetKey()); err != nil {
		return nil, toStatus(err)
	}
	o, err := h.s.HeadObject(ctx, req.GetBucket(), req.GetKey())
	if err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.HeadObjectResponse{Header: h.s.header(0), Object: objectProto(o)}, nil
}

func (h *objectService) DeleteObject(ctx context.Context, req *blobdv1.DeleteObjectRequest) (*blobdv1.DeleteObjectResponse, error) {
	if err := validBucketKey("bucket", req.GetBucket(), "key", req.GetKey()); err != nil {
		return nil, toStatus(err)
	}
	deleted, err := h.s.DeleteObject(ctx, req.GetBucket(), req.GetKey())
	if err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.DeleteObjectResponse{Header: h.s.header(0), Deleted: deleted}, nil
}

func validateCopy(req *blobdv1.CopyObjectRequest) error {
	if err := validBucketKey("source_bucket", req.GetSourceBucket(), "source_key", req.GetSourceKey()); err != nil {
		return err
	}
	if err := validBucketKey("bucket", req.GetBucket(), "key", req.GetKey()); err != nil {
		return err
	}
	if !req.GetReplaceHeaders() && req.GetHeaders() != nil {
		return invalid("headers", "are only taken with replace_headers")
	}
	if err := validHeaders("headers", req.GetHeaders()); err != nil {
		return err
	}
	if err := validTier("tier", req.GetTier(), true); err != nil {
		return err
	}
	if err := validCondition("if_match", req.GetIfMatch()); err != nil {
		return err
	}
	return validCondition("if_none_match", req.GetIfNoneMatch())
}

func (h *objectService) CopyObject(ctx context.Context, req *blobdv1.CopyObjectRequest) (*blobdv1.CopyObjectResponse, error) {
	if err := validateCopy(req); err != nil {
		return nil, toStatus(err)
	}
	dst := PutInput{
		Bucket: req.GetBucket(), Key: req.GetKey(), Tier: blobdraftv1.Tier(req.GetTier()),
		IfMatch: unquote(req.GetIfMatch()), IfNoneMatch: unquote(req.GetIfNoneMatch()),
	}
	if req.GetReplaceHeaders() {
		dst.Headers = headersRecord(req.GetHeaders())
		if dst.Headers == nil {
			dst.Headers = &blobdraftv1.ObjectHeaders{}
		}
	}
	o, err := h.s.CopyObject(ctx, req.GetSourceBucket(), req.GetSourceKey(), dst)
	if err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.CopyObjectResponse{Header: h.s.header(o.GetVersion()), Object: objectProto(o)}, nil
}

func validateList(req *blobdv1.ListObjectsRequest) error {
	if err := validBucket("bucket", req.GetBucket()); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{
		{"prefix", req.GetPrefix()}, {"delimiter", req.GetDelimiter()}, {"start_after", req.GetStartAfter()},
	} {
		if len(f.v) > meta.MaxKeyBytes {
			return invalid(f.name, "is %d bytes, the most is %d", len(f.v), meta.MaxKeyBytes)
		}
	}
	if len(req.GetContinuationToken()) > 4*meta.MaxKeyBytes {
		return invalid("continuation_token", "is %d bytes: not a token this API returned", len(req.GetContinuationToken()))
	}
	return validPage("max_keys", req.GetMaxKeys(), meta.MaxListKeys)
}

func (h *objectService) ListObjects(ctx context.Context, req *blobdv1.ListObjectsRequest) (*blobdv1.ListObjectsResponse, error) {
	if err := validateList(req); err != nil {
		return nil, toStatus(err)
	}
	res, err := h.s.ListObjects(ctx, req.GetBucket(), meta.ListOptions{
		Prefix: req.GetPrefix(), Delimiter: req.GetDelimiter(), StartAfter: req.GetStartAfter(),
		ContinuationToken: req.GetContinuationToken(), MaxKeys: int(req.GetMaxKeys()),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &blobdv1.ListObjectsResponse{
		Header: h.s.header(0), CommonPrefixes: res.CommonPrefixes,
		IsTruncated: res.IsTruncated, NextContinuationToken: res.NextContinuationToken,
	}
	for _, o := range res.Objects {
		resp.Objects = append(resp.Objects, objectProto(o))
	}
	return resp, nil
}

func (h *objectService) SetTier(ctx context.Context, req *blobdv1.SetTierRequest) (*blobdv1.SetTierResponse, error) {
	if err := validBucketKey("bucket", req.GetBucket(), "key", req.GetKey()); err != nil {
		return nil, toStatus(err)
	}
	if err := validTier("tier", req.GetTier(), false); err != nil {
		return nil, toStatus(err)
	}
	o, err := h.s.SetTier(ctx, req.GetBucket(), req.GetKey(), blobdraftv1.Tier(req.GetTier()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.SetTierResponse{Header: h.s.header(o.GetVersion()), Object: objectProto(o)}, nil
}

func (h *objectService) RestoreObject(ctx context.Context, req *blobdv1.RestoreObjectRequest) (*blobdv1.RestoreObjectResponse, error) {
	if err := validBucketKey("bucket", req.GetBucket(), "key", req.GetKey()); err != nil {
		return nil, toStatus(err)
	}
	if d := req.GetDays(); d < 1 || d > MaxRestoreDays {
		return nil, toStatus(invalid("days", "must be 1 to %d, got %d", MaxRestoreDays, d))
	}
	o, err := h.s.RestoreObject(ctx, req.GetBucket(), req.GetKey(), req.GetDays())
	if err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.RestoreObjectResponse{Header: h.s.header(o.GetVersion()), Object: objectProto(o)}, nil
}
