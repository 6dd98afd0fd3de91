package s3

import (
	"encoding/xml"
	"net/http"
	"strconv"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

type initiateResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	UploadID string   `xml:"UploadId"`
}

// createUpload is CreateMultipartUpload: the headers and storage class are
// the completed object's.
func (h *Handler) createUpload(c *call) error {
	tier, err := tierOf(c.r.Header.Get("x-amz-storage-class"))
	if err != nil {
		return err
	}
	u, err := h.backend.CreateMultipartUpload(c.ctx, c.bucket, c.key, objectHeaders(c.r.Header), tier)
	if err != nil {
		return err
	}
	writeXML(c.w, http.StatusOK, initiateResult{Bucket: c.bucket, Key: c.key, UploadID: u.GetUploadId()})
	return nil
}

// partNumber reads the partNumber parameter: 1 to meta.MaxParts.
func partNumber(c *call) (int32, error) {
	n, err := strconv.Atoi(c.q.Get("partNumber"))
	if err != nil || n < 1 || n > meta.MaxParts {
		return 0, invalidArg("partNumber", "Part number must be an integer between 1 and %d, inclusive", meta.MaxParts)
	}
	return int32(n), nil
}

// uploadID reads the uploadId parameter.
func uploadID(c *call) (string, error) {
	id := c.q.Get("uploadId")
	if id == "" {
		return "", errorf(http.StatusNotFound, CodeNoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
	}
	return id, nil
}

// uploadPart is UploadPart: the body streams as a PutObject's does.
func (h *Handler) uploadPart(c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	n, err := partNumber(c)
	if err != nil {
		return err
	}
	md5, err := contentMD5(c.r.Header)
	if err != nil {
		return err
	}
	body, size, err := objectBody(c)
	if err != nil {
		return err
	}
	if size > meta.MaxPartBytes {
		return errBodyLimit(size, meta.MaxPartBytes)
	}
	p, err := h.backend.UploadPart(c.ctx, id, n, blobd.PutInput{Bucket: c.bucket, Key: c.key, Body: body, Size: size, ContentMD5: md5})
	if err != nil {
		return err
	}
	c.w.Header().Set("ETag", quote(p.GetEtag()))
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// uploadPartCopy is UploadPartCopy: the part's data is read from the
// source object (x-amz-copy-source-range selects bytes) and stored as an
// uploaded part's, streaming.
func (h *Handler) uploadPartCopy(c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	n, err := partNumber(c)
	if err != nil {
		return err
	}
	sb, sk, err := copySource(c)
	if err != nil {
		return err
	}
	rng := blobd.FullRange
	var br byteRange
	if v := c.r.Header.Get("x-amz-copy-source-range"); v != "" {
		var ok bool
		if br, ok, _ = parseRange(v); !ok || br.suffix > 0 || br.end < 0 {
			return invalidArg("x-amz-copy-source-range", "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
		}
		rng = blobd.Range{Offset: br.start, Length: br.end - br.start + 1}
	}
	src, rd, err := h.backend.GetObject(c.ctx, sb, sk, rng)
	if err != nil {
		return err
	}
	defer rd.Close()
	if readConditions(c.r.Header, "x-amz-copy-source-", src) != 0 {
		return errorf(http.StatusPreconditionFailed, CodePreconditionFailed, "At least one of the pre-conditions you specified did not hold")
	}
	size := src.GetSize()
	if rng != blobd.FullRange {
		if br.end >= size {
			return errorf(http.StatusBadRequest, CodeInvalidRange, "The requested range %s is not satisfiable for an object of %d bytes", c.r.Header.Get("x-amz-copy-source-range"), size)
		}
		size = rng.Length
	}
	if size > meta.MaxPartBytes {
		return errBodyLimit(size, meta.MaxPartBytes)
	}
	p, err := h.backend.UploadPart(c.ctx, id, n, blobd.PutInput{Bucket: c.bucket, Key: c.key, Body: rd, Size: size})
	if err != nil {
		return err
	}
	writeXML(c.w, http.StatusOK, copyResult{XMLName: xml.Name{Space: s3NS, Local: "CopyPartResult"}, ETag: quote(p.GetEtag()), LastModified: s3Time(p.GetUnixNanos())})
	return nil
}

// completeRequest is CompleteMultipartUpload's body.
type completeRequest struct {
	XMLName xml.Name `xml:"CompleteMultipartUpload"`
	Parts   []struct {
		PartNumber int32  `xml:"PartNumber"`
		ETag       string `xml:"ETag"`
	} `xml:"Part"`
}

type completeResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// completeUpload is CompleteMultipartUpload: S3's checks (part order,
// parts and etags, sizes) are the metadata's.
func (h *Handler) completeUpload(c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	ifMatch, ifNoneMatch, err := writeConditions(c.r.Header)
	if err != nil {
		return err
	}
	var req completeRequest
	if err := h.readXML(c, &req); err != nil {
		return err
	}
	if len(req.Parts) == 0 {
		return errorf(http.StatusBadRequest, CodeMalformedXML, "You must specify at least one part")
	}
	if len(req.Parts) > meta.MaxParts {
		return errorf(http.StatusBadRequest, CodeMalformedXML, "You may specify at most %d parts", meta.MaxParts)
	}
	parts := make([]*blobdraftv1.CompletedPart, len(req.Parts))
	for i, p := range req.Parts {
		parts[i] = &blobdraftv1.CompletedPart{Number: p.PartNumber, Etag: unquote(p.ETag)}
	}
	rec, err := h.backend.CompleteMultipartUpload(c.ctx, c.bucket, c.key, id, parts, ifMatch, ifNoneMatch)
	if err != nil {
		if blobd.ReasonOf(err) == rpcerr.InvalidArgument {
			// A malformed part etag or number is S3's InvalidPart.
			e := toError(err)
			e.Status, e.Code = http.StatusBadRequest, CodeInvalidPart
			return e
		}
		return err
	}
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	writeXML(c.w, http.StatusOK, completeResult{Location: scheme + "://" + c.r.Host + "/" + c.bucket + "/" + c.key,
		Bucket: c.bucket, Key: c.key, ETag: quote(rec.GetEtag())})
	return nil
}

// abortUpload is AbortMultipartUpload.
func (h *Handler) abortUpload(c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	if err := h.backend.AbortMultipartUpload(c.ctx, c.bucket, c.key, id); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

type partEntry struct {
	PartNumber   int32  `xml:"PartNumber"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
}

type listPartsResult struct {
	XMLName              xml.Name    `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
	Bucket               string      `xml:"Bucket"`
	Key                  string      `xml:"Key"`
	UploadID             string      `xml:"UploadId"`
	Initiator            *owner      `xml:"Initiator"`
	Owner                *owner      `xml:"Owner"`
	StorageClass         string      `xml:"StorageClass"`
	PartNumberMarker     int32       `xml:"PartNumberMarker"`
	NextPartNumberMarker int32       `xml:"NextPartNumberMarker"`
	MaxParts             int         `xml:"MaxParts"`
	IsTruncated          bool        `xml:"IsTruncated"`
	Parts                []partEntry `xml:"Part"`
}

// listParts is ListParts.
func (h *Handler) listParts(c *call) error {
	id, err := uploadID(c)
	if err != nil {
		return err
	}
	var marker int32
	if s := c.q.Get("part-number-marker"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > meta.MaxParts {
			return invalidArg("part-number-marker", "Provided part-number-marker not an integer or within integer range")
		}
		marker = int32(n)
	}
	max := meta.MaxListKeys
	if s := c.q.Get("max-parts"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return invalidArg("max-parts", "Provided max-parts not an integer or within integer range")
		}
		max = min(n, meta.MaxListKeys)
	}
	b, err := h.backend.Bucket(c.ctx, c.bucket)
	if err != nil {
		return err
	}
	parts, truncated, err := h.backend.ListParts(c.ctx, c.bucket, c.key, id, marker, max)
	if err != nil {
		return err
	}
	o := ownerOf(b.GetOwner())
	res := listPartsResult{Bucket: c.bucket, Key: c.key, UploadID: id, Initiator: o, Owner: o, StorageClass: classStandard,
		PartNumberMarker: marker, MaxParts: max, IsTruncated: truncated, Parts: []partEntry{}}
	for _, p := range parts {
		res.Parts = append(res.Parts, partEntry{PartNumber: p.GetNumber(), LastModified: s3Time(p.GetUnixNanos()), ETag: quote(p.GetEtag()), Size: p.GetSize()})
		res.NextPartNumberMarker = p.GetNumber()
	}
	writeXML(c.w, http.StatusOK, res)
	return nil
}
