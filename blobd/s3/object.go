package s3

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// putObject is PutObject: the body streams to the backend, which commits it
// only once all of it is stored and every check held.
func (h *Handler) putObject(c *call) error {
	in, err := h.putInput(c)
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
	in.Body, in.Size = body, size
	rec, err := h.backend.PutObject(c.ctx, in)
	if err != nil {
		return err
	}
	c.w.Header().Set("ETag", quote(rec.GetEtag()))
	c.w.WriteHeader(http.StatusOK)
	return nil
}

// putInput reads what a PutObject or CreateMultipartUpload stores beside
// the data: headers, storage class, Content-MD5 and conditions.
func (h *Handler) putInput(c *call) (blobd.PutInput, error) {
	in := blobd.PutInput{Bucket: c.bucket, Key: c.key, Headers: objectHeaders(c.r.Header)}
	var err error
	if in.Tier, err = tierOf(c.r.Header.Get("x-amz-storage-class")); err != nil {
		return in, err
	}
	if in.ContentMD5, err = contentMD5(c.r.Header); err != nil {
		return in, err
	}
	if in.IfMatch, in.IfNoneMatch, err = writeConditions(c.r.Header); err != nil {
		return in, err
	}
	return in, nil
}

// getObject is GetObject and HeadObject: conditions, ranges (a suffix range
// needs the size first), and the body streamed from the backend's lazy
// reader.
func (h *Handler) getObject(c *call, head bool) error {
	if pn := c.q.Get("partNumber"); pn != "" && pn != "1" {
		return notImplemented(c)
	}
	br, ranged, bad := parseRange(c.r.Header.Get("Range"))
	if head {
		rec, err := h.backend.HeadObject(c.ctx, c.bucket, c.key)
		if err != nil {
			return err
		}
		if st := readConditions(c.r.Header, "", rec); st != 0 {
			return conditionFailed(c, rec, st)
		}
		writeObjectHeaders(c, rec)
		size := rec.GetSize()
		if bad || (ranged && br.suffix == 0 && br.start >= size && size > 0) {
			c.w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			return errorf(http.StatusRequestedRangeNotSatisfiable, CodeInvalidRange, "The requested range is not satisfiable")
		}
		if ranged && size > 0 {
			start, end := br.start, size-1
			if br.suffix > 0 {
				start = size - min(br.suffix, size)
			} else if br.end >= 0 && br.end < end {
				end = br.end
			}
			c.w.Header().Set("Content-Range", "bytes "+strconv.FormatInt(start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(size, 10))
			c.w.Header().Set("Content-Length", strconv.FormatInt(end-start+1, 10))
			c.w.WriteHeader(http.StatusPartialContent)
			return nil
		}
		c.w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		c.w.WriteHeader(http.StatusOK)
		return nil
	}
	rng := blobd.FullRange
	if bad {
		return h.invalidRange(c)
	}
	if ranged && br.suffix > 0 {
		rec, err := h.backend.HeadObject(c.ctx, c.bucket, c.key)
		if err != nil {
			return err
		}
		if st := readConditions(c.r.Header, "", rec); st != 0 {
			return conditionFailed(c, rec, st)
		}
		if rec.GetSize() == 0 {
			ranged = false
		} else {
			n := min(br.suffix, rec.GetSize())
			br = byteRange{start: rec.GetSize() - n, end: rec.GetSize() - 1}
		}
	}
	if ranged {
		rng = blobd.Range{Offset: br.start, Length: -1}
		if br.end >= 0 {
			rng.Length = br.end - br.start + 1
		}
	}
	rec, rd, err := h.backend.GetObject(c.ctx, c.bucket, c.key, rng)
	if blobd.ReasonOf(err) == rpcerr.InvalidRange {
		return h.invalidRange(c)
	}
	if err != nil {
		return err
	}
	defer rd.Close()
	if st := readConditions(c.r.Header, "", rec); st != 0 {
		return conditionFailed(c, rec, st)
	}
	writeObjectHeaders(c, rec)
	size := rec.GetSize()
	status, length := http.StatusOK, size
	if ranged && size > 0 {
		end := size - 1
		if br.end >= 0 && br.end < end {
			end = br.end
		}
		length = end - br.start + 1
		status = http.StatusPartialContent
		c.w.Header().Set("Content-Range", "bytes "+strconv.FormatInt(br.start, 10)+"-"+strconv.FormatInt(end, 10)+"/"+strconv.FormatInt(size, 10))
	}
	c.w.Header().Set("Content-Length", strconv.FormatInt(length, 10))
	c.w.WriteHeader(status)
	n, err := copyBody(c.w, rd, length)
	if err == nil && n < length {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		// The status is sent: cut the connection so that the client sees a
		// short body rather than taking it for the object.
		h.logger.Warn("s3: object read failed mid-body", "resource", c.resource(), "sent", n, "of", length, "err", err, "request_id", c.id)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// invalidRange answers 416 with the object's size in Content-Range, after
// the conditions (which take precedence).
func (h *Handler) invalidRange(c *call) error {
	rec, err := h.backend.HeadObject(c.ctx, c.bucket, c.key)
	if err != nil {
		return err
	}
	if st := readConditions(c.r.Header, "", rec); st != 0 {
		return conditionFailed(c, rec, st)
	}
	c.w.Header().Set("Content-Range", "bytes */"+strconv.FormatInt(rec.GetSize(), 10))
	e := errorf(http.StatusRequestedRangeNotSatisfiable, CodeInvalidRange, "The requested range is not satisfiable")
	e.Extra = map[string]string{"RangeRequested": c.r.Header.Get("Range"), "ActualObjectSize": strconv.FormatInt(rec.GetSize(), 10)}
	return e
}

// conditionFailed answers a read whose conditions do not hold: 304 with
// the object's ETag and Last-Modified and no body, or 412.
func conditionFailed(c *call, rec *blobdraftv1.ObjectRecord, status int) error {
	if status == http.StatusNotModified {
		c.w.Header().Set("ETag", quote(rec.GetEtag()))
		c.w.Header().Set("Last-Modified", httpTime(rec.GetCreatedUnixNanos()))
		c.w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return errorf(http.StatusPreconditionFailed, CodePreconditionFailed, "At least one of the pre-conditions you specified did not hold")
}

// deleteObject is DeleteObject: 204 whether or not the key existed.
func (h *Handler) deleteObject(c *call) error {
	if _, err := h.backend.DeleteObject(c.ctx, c.bucket, c.key); err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteRequest is the body of DeleteObjects.
type deleteRequest struct {
	XMLName xml.Name `xml:"Delete"`
	Quiet   bool     `xml:"Quiet"`
	Objects []struct {
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId"`
	} `xml:"Object"`
}

type deletedEntry struct {
	Key string `xml:"Key"`
}

type deleteError struct {
	Key     string `xml:"Key"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

type deleteResult struct {
	XMLName xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Deleted []deletedEntry `xml:"Deleted"`
	Errors  []deleteError  `xml:"Error"`
}

// maxDeleteKeys is the most keys one DeleteObjects names (S3's 1000).
const maxDeleteKeys = 1000

// deleteParallel is how many deletes of one DeleteObjects run at once.
const deleteParallel = 8

// deleteObjects is DeleteObjects: each key deleted on its own (there is no
// multi-key transaction), the outcome of each reported.
func (h *Handler) deleteObjects(c *call) error {
	var req deleteRequest
	if err := h.readXML(c, &req); err != nil {
		return err
	}
	if len(req.Objects) == 0 || len(req.Objects) > maxDeleteKeys {
		return errorf(http.StatusBadRequest, CodeMalformedXML, "The Delete request must name 1 to %d objects, not %d", maxDeleteKeys, len(req.Objects))
	}
	if _, err := h.backend.Bucket(c.ctx, c.bucket); err != nil {
		return err
	}
	errs := make([]error, len(req.Objects))
	sem := make(chan struct{}, deleteParallel)
	done := make(chan struct{})
	for i, o := range req.Objects {
		sem <- struct{}{}
		go func() { // waited for below, through done
			defer func() { <-sem; done <- struct{}{} }()
			switch {
			case o.VersionID != "" && o.VersionID != "null":
				errs[i] = errorf(http.StatusBadRequest, CodeInvalidArgument, "Invalid version id specified")
			default:
				_, errs[i] = h.backend.DeleteObject(c.ctx, c.bucket, o.Key)
			}
		}()
	}
	for range req.Objects {
		<-done
	}
	var res deleteResult
	for i, o := range req.Objects {
		if errs[i] != nil {
			e := toError(errs[i])
			res.Errors = append(res.Errors, deleteError{Key: o.Key, Code: e.Code, Message: e.Message})
		} else if !req.Quiet {
			res.Deleted = append(res.Deleted, deletedEntry{Key: o.Key})
		}
	}
	writeXML(c.w, http.StatusOK, res)
	return nil
}

// copySource parses x-amz-copy-source: "[/]bucket/key[?versionId=null]",
// URL-encoded.
func copySource(c *call) (bucket, key string, err error) {
	v := c.r.Header.Get("x-amz-copy-source")
	v, query, _ := strings.Cut(v, "?")
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil || (q.Get("versionId") != "" && q.Get("versionId") != "null") {
			return "", "", invalidArg("x-amz-copy-source", "Only the current version of an object may be copied")
		}
	}
	dec, err := url.PathUnescape(v)
	if err != nil {
		return "", "", invalidArg("x-amz-copy-source", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(dec, "/"), "/")
	if bucket == "" || key == "" {
		return "", "", invalidArg("x-amz-copy-source", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	return bucket, key, nil
}

// copyResult is CopyObjectResult (and, named CopyPartResult, the result of
// UploadPartCopy).
type copyResult struct {
	XMLName      xml.Name
	ETag         string `xml:"ETag"`
	LastModified string `xml:"LastModified"`
}

// copyObject is CopyObject: server-side, the source's headers kept (COPY)
// or replaced by the request's (REPLACE).
func (h *Handler) copyObject(c *call) error {
	sb, sk, err := copySource(c)
	if err != nil {
		return err
	}
	dst := blobd.PutInput{Bucket: c.bucket, Key: c.key}
	if dst.Tier, err = tierOf(c.r.Header.Get("x-amz-storage-class")); err != nil {
		return err
	}
	if dst.IfMatch, dst.IfNoneMatch, err = writeConditions(c.r.Header); err != nil {
		return err
	}
	switch d := c.r.Header.Get("x-amz-metadata-directive"); d {
	case "", "COPY":
		if sb == c.bucket && sk == c.key && dst.Tier == blobdraftv1.Tier_TIER_UNSPECIFIED {
			return errorf(http.StatusBadRequest, CodeInvalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
		}
	case "REPLACE":
		dst.Headers = objectHeaders(c.r.Header)
	default:
		return invalidArg("x-amz-metadata-directive", "Unknown metadata directive %q", d)
	}
	if err := h.copySourceConditions(c, sb, sk); err != nil {
		return err
	}
	rec, err := h.backend.CopyObject(c.ctx, sb, sk, dst)
	if err != nil {
		return err
	}
	writeXML(c.w, http.StatusOK, copyResult{XMLName: xml.Name{Space: s3NS, Local: "CopyObjectResult"}, ETag: quote(rec.GetEtag()), LastModified: s3Time(rec.GetCreatedUnixNanos())})
	return nil
}

// copySourceConditions checks the x-amz-copy-source-if-* headers against
// the source (412 when one fails).
func (h *Handler) copySourceConditions(c *call, sb, sk string) error {
	hd := c.r.Header
	if hd.Get("x-amz-copy-source-if-match") == "" && hd.Get("x-amz-copy-source-if-none-match") == "" &&
		hd.Get("x-amz-copy-source-if-modified-since") == "" && hd.Get("x-amz-copy-source-if-unmodified-since") == "" {
		return nil
	}
	src, err := h.backend.HeadObject(c.ctx, sb, sk)
	if err != nil {
		return err
	}
	if readConditions(hd, "x-amz-copy-source-", src) != 0 {
		return errorf(http.StatusPreconditionFailed, CodePreconditionFailed, "At least one of the pre-conditions you specified did not hold")
	}
	return nil
}

// restoreRequest is the body of RestoreObject.
type restoreRequest struct {
	XMLName xml.Name `xml:"RestoreRequest"`
	Days    int32    `xml:"Days"`
	Tier    string   `xml:"GlacierJobParameters>Tier"`
}

// restoreObject is RestoreObject: 202 while the restore runs, 200 when the
// object is already restored (its time extended).
func (h *Handler) restoreObject(c *call) error {
	var req restoreRequest
	if _, err := h.readOptionalXML(c, &req); err != nil {
		return err
	}
	if req.Days < 1 {
		return errorf(http.StatusBadRequest, CodeMalformedXML, "RestoreRequest must give Days of at least 1")
	}
	rec, err := h.backend.RestoreObject(c.ctx, c.bucket, c.key, req.Days)
	if err != nil {
		return err
	}
	if rec.GetRestoreState() == blobdraftv1.RestoreState_RESTORE_STATE_RESTORED {
		c.w.WriteHeader(http.StatusOK)
	} else {
		c.w.WriteHeader(http.StatusAccepted)
	}
	return nil
}

// s3NS is the namespace of S3's XML documents.
const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// errBodyTooLong is what copyBody returns when the object's reader has
// more than the bytes the response declared.
var errBodyTooLong = errors.New("s3: the object's reader has more than the declared length")

// copyBody copies up to length bytes of rd to w. A reader that writes
// itself (io.WriterTo, as the backend's object readers do) hands w whole
// chunks, so a large object goes out in a few large writes rather than
// io.Copy's 32 KiB ones; a reader with more than length bytes gets
// errBodyTooLong once length bytes are written.
func copyBody(w io.Writer, rd io.Reader, length int64) (int64, error) {
	wt, ok := rd.(io.WriterTo)
	if !ok {
		return io.Copy(w, io.LimitReader(rd, length))
	}
	cw := &cappedWriter{w: w, left: length}
	n, err := wt.WriteTo(cw)
	if err == errBodyTooLong && cw.left == 0 {
		return n - int64(cw.over), err
	}
	return n, err
}

// cappedWriter passes up to left bytes to w and fails a write beyond them
// with errBodyTooLong (reporting the whole write as consumed, over bytes
// of it dropped, so that the WriterTo stops).
type cappedWriter struct {
	w    io.Writer
	left int64
	over int
}

func (c *cappedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) <= c.left {
		n, err := c.w.Write(p)
		c.left -= int64(n)
		return n, err
	}
	n, err := c.w.Write(p[:c.left])
	c.left -= int64(n)
	if err != nil {
		return n, err
	}
	c.over = len(p) - n
	return len(p), errBodyTooLong
}
