package blobd

import (
	"context"
	"errors"
	"io"

	"cairn.dev/cairn/blobd/meta"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// maxUploadIDBytes bounds an upload id in a request.
const maxUploadIDBytes = 256

func validUploadID(field, id string) error {
	if id == "" || len(id) > maxUploadIDBytes {
		return invalid(field, "must be 1 to %d bytes, got %d", maxUploadIDBytes, len(id))
	}
	return nil
}

func validPartNumber(field string, n int32) error {
	if n < 1 || n > meta.MaxParts {
		return invalid(field, "must be 1 to %d, got %d", meta.MaxParts, n)
	}
	return nil
}

func (h *objectService) CreateMultipartUpload(ctx context.Context, req *blobdv1.CreateMultipartUploadRequest) (*blobdv1.CreateMultipartUploadResponse, error) {
	if err := validBucketKey("bucket", req.GetBucket(), "key", req.GetKey()); err != nil {
		return nil, toStatus(err)
	}
	if err := validHeaders("headers", req.GetHeaders()); err != nil {
		return nil, toStatus(err)
	}
	if err := validTier("tier", req.GetTier(), true); err != nil {
		return nil, toStatus(err)
	}
	u, err := h.s.CreateMultipartUpload(ctx, req.GetBucket(), req.GetKey(), headersRecord(req.GetHeaders()), blobdraftv1.Tier(req.GetTier()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.CreateMultipartUploadResponse{Header: h.s.header(0), Upload: uploadProto(u)}, nil
}

type partStream struct {
	blobdv1.ObjectService_UploadPartServer
}

func (p partStream) recv() ([]byte, bool, error) {
	m, err := p.Recv()
	if err != nil {
		return nil, false, err
	}
	return m.GetData(), m.GetHeader() != nil, nil
}

func validatePartHeader(h *blobdv1.UploadPartHeader) error {
	if h == nil {
		return invalid("header", "must be the first message")
	}
	if err := validBucketKey("header.bucket", h.GetBucket(), "header.key", h.GetKey()); err != nil {
		return err
	}
	if err := validUploadID("header.upload_id", h.GetUploadId()); err != nil {
		return err
	}
	if err := validPartNumber("header.part_number", h.GetPartNumber()); err != nil {
		return err
	}
	if err := validSize("header.size", h.GetSize(), meta.MaxPartBytes); err != nil {
		return err
	}
	return validMD5("header.content_md5", h.GetContentMd5())
}

func (h *objectService) UploadPart(stream blobdv1.ObjectService_UploadPartServer) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return toStatus(invalid("header", "must be the first message; the stream was empty"))
	}
	if err != nil {
		return err
	}
	hdr := first.GetHeader()
	if err := validatePartHeader(hdr); err != nil {
		return toStatus(err)
	}
	body := &bodyReader{st: partStream{stream}, size: hdr.GetSize()}
	p, err := h.s.UploadPart(stream.Context(), hdr.GetUploadId(), hdr.GetPartNumber(), PutInput{
		Bucket: hdr.GetBucket(), Key: hdr.GetKey(), Body: body, Size: hdr.GetSize(), ContentMD5: hdr.GetContentMd5(),
	})
	if err != nil {
		return toStatus(err)
	}
	return stream.SendAndClose(&blobdv1.UploadPartResponse{Header: h.s.header(0), Part: partProto(p)})
}

func validateComplete(req *blobdv1.CompleteMultipartUploadRequest) error {
	if err := validBucketKey("bucket", req.GetBucket(), "key", req.GetKey()); err != nil {
		return err
	}
	if err := validUploadID("upload_id", req.GetUploadId()); err != nil {
		return err
	}
	if n := len(req.GetParts()); n == 0 || n > meta.MaxParts {
		return invalid("parts", "must list 1 to %d parts, got %d", meta.MaxParts, n)
	}
	for _, p := range req.GetParts() {
		if err := validPartNumber("parts.number", p.GetNumber()); err != nil {
			return err
		}
		if p.GetEtag() == "" || len(p.GetEtag()) > 256 {
			return invalid("parts.etag", "of part %d must be 1 to 256 bytes", p.GetNumber())
		}
	}
	if err := validCondition("if_match", req.GetIfMatch()); err != nil {
		return err
	}
	return validCondition("if_none_match", req.GetIfNoneMatch())
}

func (h *objectService) CompleteMultipartUpload(ctx context.Context, req *blobdv1.CompleteMultipartUploadRequest) (*blobdv1.CompleteMultipartUploadResponse, error) {
	if err := validateComplete(req); err != nil {
		return nil, toStatus(err)
	}
	parts := make([]*blobdraftv1.CompletedPart, len(req.GetParts()))
	for i, p := range req.GetParts() {
		parts[i] = &blobdraftv1.CompletedPart{Number: p.GetNumber(), Etag: unquote(p.GetEtag())}
	}
	o, err := h.s.CompleteMultipartUpload(ctx, req.GetBucket(), req.GetKey(), req.GetUploadId(), parts, unquote(req.GetIfMatch()), unquote(req.GetIfNoneMatch()))
	if err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.CompleteMultipartUploadResponse{Header: h.s.header(o.GetVersion()), Object: objectProto(o)}, nil
}

func (h *objectService) AbortMultipartUpload(ctx context.Context, req *blobdv1.AbortMultipartUploadRequest) (*blobdv1.AbortMultipartUploadResponse, error) {
	if err := validBucketKey("bucket", req.GetBucket(), "key", req.GetKey()); err != nil {
		return nil, toStatus(err)
	}
	if err := validUploadID("upload_id", req.GetUploadId()); err != nil {
		return nil, toStatus(err)
	}
	if err := h.s.AbortMultipartUpload(ctx, req.GetBucket(), req.GetKey(), req.GetUploadId()); err != nil {
		return nil, toStatus(err)
	}
	return &blobdv1.AbortMultipartUploadResponse{Header: h.s.header(0)}, nil
}

func (h *objectService) ListParts(ctx context.Context, req *blobdv1.ListPartsRequest) (*blobdv1.ListPartsResponse, error) {
	if err := validBucketKey("bucket", req.GetBucket(), "key", req.GetKey()); err != nil {
		return nil, toStatus(err)
	}
	if err := validUploadID("upload_id", req.GetUploadId()); err != nil {
		return nil, toStatus(err)
	}
	if m := req.GetPartNumberMarker(); m < 0 || m > meta.MaxParts {
		return nil, toStatus(invalid("part_number_marker", "must be 0 to %d, got %d", meta.MaxParts, m))
	}
	if err := validPage("max_parts", req.GetMaxParts(), meta.MaxListKeys); err != nil {
		return nil, toStatus(err)
	}
	limit := int(req.GetMaxParts())
	if limit == 0 {
		limit = meta.MaxListKeys
	}
	parts, truncated, err := h.s.ListParts(ctx, req.GetBucket(), req.GetKey(), req.GetUploadId(), req.GetPartNumberMarker(), limit)
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &blobdv1.ListPartsResponse{Header: h.s.header(0), IsTruncated: truncated}
	for _, p := range parts {
		resp.Parts = append(resp.Parts, partProto(p))
	}
	if truncated && len(parts) > 0 {
		resp.NextPartNumberMarker = parts[len(parts)-1].GetNumber()
	}
	return resp, nil
}

func (h *objectService) ListMultipartUploads(ctx context.Context, req *blobdv1.ListMultipartUploadsRequest) (*blobdv1.ListMultipartUploadsResponse, error) {
	if err := validBucket("bucket", req.GetBucket()); err != nil {
		return nil, toStatus(err)
	}
	for _, f := range []struct{ name, v string }{{"prefix", req.GetPrefix()}, {"key_marker", req.GetKeyMarker()}} {
		if len(f.v) > meta.MaxKeyBytes {
			return nil, toStatus(invalid(f.name, "is %d bytes, the most is %d", len(f.v), meta.MaxKeyBytes))
		}
	}
	if len(req.GetUploadIdMarker()) > maxUploadIDBytes {
		return nil, toStatus(invalid("upload_id_marker", "is %d bytes, the most is %d", len(req.GetUploadIdMarker()), maxUploadIDBytes))
	}
	if err := validPage("max_uploads", req.GetMaxUploads(), meta.MaxListKeys); err != nil {
		return nil, toStatus(err)
	}
	ups, truncated, err := h.s.ListUploads(ctx, req.GetBucket(), meta.UploadListOptions{
		Prefix: req.GetPrefix(), KeyMarker: req.GetKeyMarker(), UploadIDMarker: req.GetUploadIdMarker(), MaxUploads: int(req.GetMaxUploads()),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &blobdv1.ListMultipartUploadsResponse{Header: h.s.header(0), IsTruncated: truncated}
	for _, u := range ups {
		resp.Uploads = append(resp.Uploads, uploadProto(u))
	}
	if truncated && len(ups) > 0 {
		last := ups[len(ups)-1]
		resp.NextKeyMarker, resp.NextUploadIdMarker = last.GetKey(), last.GetUploadId()
	}
	return resp, nil
}
