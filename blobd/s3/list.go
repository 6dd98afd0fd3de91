package s3

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"cairn.dev/cairn/blobd/meta"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

type objectEntry struct {
	Key          string `xml:"Key"`
	LastModified string `xml:"LastModified"`
	ETag         string `xml:"ETag"`
	Size         int64  `xml:"Size"`
	Owner        *owner `xml:"Owner,omitempty"`
	StorageClass string `xml:"StorageClass"`
}

type commonPrefix struct {
	Prefix string `xml:"Prefix"`
}

// listBucketResult is ListObjects' (v1) and ListObjectsV2's result; the
// fields of the other version stay empty and are omitted.
type listBucketResult struct {
	XMLName               xml.Name       `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string         `xml:"Name"`
	Prefix                string         `xml:"Prefix"`
	Marker                *string        `xml:"Marker,omitempty"`
	NextMarker            string         `xml:"NextMarker,omitempty"`
	StartAfter            string         `xml:"StartAfter,omitempty"`
	ContinuationToken     string         `xml:"ContinuationToken,omitempty"`
	NextContinuationToken string         `xml:"NextContinuationToken,omitempty"`
	KeyCount              *int           `xml:"KeyCount,omitempty"`
	MaxKeys               int            `xml:"MaxKeys"`
	Delimiter             string         `xml:"Delimiter,omitempty"`
	EncodingType          string         `xml:"EncodingType,omitempty"`
	IsTruncated           bool           `xml:"IsTruncated"`
	Contents              []objectEntry  `xml:"Contents"`
	CommonPrefixes        []commonPrefix `xml:"CommonPrefixes"`
}

// listParams reads the parameters both list versions share.
type listParams struct {
	prefix, delimiter, encoding string
	maxKeys                     int
}

func readListParams(c *call) (listParams, error) {
	p := listParams{prefix: c.q.Get("prefix"), delimiter: c.q.Get("delimiter"), encoding: c.q.Get("encoding-type"), maxKeys: meta.MaxListKeys}
	if p.encoding != "" && p.encoding != "url" {
		return p, invalidArg("encoding-type", "Invalid Encoding Method specified in Request")
	}
	if s := c.q.Get("max-keys"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return p, invalidArg("max-keys", "Provided max-keys not an integer or within integer range")
		}
		p.maxKeys = min(n, meta.MaxListKeys)
	}
	return p, nil
}

// encode applies encoding-type=url to a key or prefix.
func (p listParams) encode(s string) string {
	if p.encoding != "url" {
		return s
	}
	return strings.ReplaceAll(url.QueryEscape(s), "%2F", "/")
}

// list runs one page of the listing and fills the entries of res.
func (h *Handler) list(c *call, p listParams, opts meta.ListOptions, withOwner bool, res *listBucketResult) (*meta.ListResult, error) {
	res.Name, res.Prefix, res.Delimiter, res.MaxKeys, res.EncodingType = c.bucket, p.encode(p.prefix), p.encode(p.delimiter), p.maxKeys, p.encoding
	res.Contents, res.CommonPrefixes = []objectEntry{}, []commonPrefix{}
	var o *owner
	if withOwner {
		b, err := h.backend.Bucket(c.ctx, c.bucket)
		if err != nil {
			return nil, err
		}
		o = ownerOf(b.GetOwner())
	}
	if p.maxKeys == 0 {
		if _, err := h.backend.Bucket(c.ctx, c.bucket); err != nil {
			return nil, err
		}
		return &meta.ListResult{}, nil
	}
	opts.Prefix, opts.Delimiter, opts.MaxKeys = p.prefix, p.delimiter, p.maxKeys
	lr, err := h.backend.ListObjects(c.ctx, c.bucket, opts)
	if err != nil {
		return nil, err
	}
	for _, ob := range lr.Objects {
		res.Contents = append(res.Contents, entryOf(ob, o, p))
	}
	for _, cp := range lr.CommonPrefixes {
		res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: p.encode(cp)})
	}
	res.IsTruncated = lr.IsTruncated
	return lr, nil
}

func entryOf(ob *blobdraftv1.ObjectRecord, o *owner, p listParams) objectEntry {
	return objectEntry{Key: p.encode(ob.GetKey()), LastModified: s3Time(ob.GetCreatedUnixNanos()), ETag: quote(ob.GetEtag()),
		Size: ob.GetSize(), Owner: o, StorageClass: storageClass(ob.GetTier())}
}

// listObjectsV2 is ListObjectsV2.
func (h *Handler) listObjectsV2(c *call) error {
	p, err := readListParams(c)
	if err != nil {
		return err
	}
	opts := meta.ListOptions{StartAfter: c.q.Get("start-after"), ContinuationToken: c.q.Get("continuation-token")}
	if c.q.Has("continuation-token") && opts.ContinuationToken == "" {
		return invalidArg("continuation-token", "The continuation token provided is incorrect")
	}
	res := listBucketResult{StartAfter: p.encode(opts.StartAfter), ContinuationToken: opts.ContinuationToken}
	lr, err := h.list(c, p, opts, c.q.Get("fetch-owner") == "true", &res)
	if err != nil {
		return err
	}
	n := lr.KeyCount()
	res.KeyCount = &n
	res.NextContinuationToken = lr.NextContinuationToken
	writeXML(c.w, http.StatusOK, res)
	return nil
}

// listObjectsV1 is ListObjects (v1): Marker is a key (or, with a
// delimiter, a common prefix) to list after; NextMarker is given when a
// delimiter is.
func (h *Handler) listObjectsV1(c *call) error {
	p, err := readListParams(c)
	if err != nil {
		return err
	}
	marker := c.q.Get("marker")
	opts := meta.ListOptions{StartAfter: marker}
	if p.delimiter != "" && strings.HasPrefix(marker, p.prefix) {
		if i := strings.Index(marker[len(p.prefix):], p.delimiter); i >= 0 {
			// The marker is (in) a common prefix already listed: go past
			// every key under it. 0xff sorts after any byte of UTF-8.
			opts.StartAfter = marker[:len(p.prefix)+i+len(p.delimiter)] + "\xff"
		}
	}
	res := listBucketResult{Marker: &marker}
	lr, err := h.list(c, p, opts, true, &res)
	if err != nil {
		return err
	}
	if res.Marker != nil && p.encoding == "url" {
		m := p.encode(marker)
		res.Marker = &m
	}
	if lr.IsTruncated && p.delimiter != "" {
		last := ""
		if n := len(lr.Objects); n > 0 {
			last = lr.Objects[n-1].GetKey()
		}
		if n := len(lr.CommonPrefixes); n > 0 && lr.CommonPrefixes[n-1] > last {
			last = lr.CommonPrefixes[n-1]
		}
		res.NextMarker = p.encode(last)
	}
	writeXML(c.w, http.StatusOK, res)
	return nil
}

type uploadEntry struct {
	Key          string `xml:"Key"`
	UploadID     string `xml:"UploadId"`
	Initiator    *owner `xml:"Initiator"`
	Owner        *owner `xml:"Owner"`
	StorageClass string `xml:"StorageClass"`
	Initiated    string `xml:"Initiated"`
}

type listUploadsResult struct {
	XMLName            xml.Name      `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
	Bucket             string        `xml:"Bucket"`
	KeyMarker          string        `xml:"KeyMarker"`
	UploadIDMarker     string        `xml:"UploadIdMarker"`
	NextKeyMarker      string        `xml:"NextKeyMarker,omitempty"`
	NextUploadIDMarker string        `xml:"NextUploadIdMarker,omitempty"`
	Prefix             string        `xml:"Prefix"`
	MaxUploads         int           `xml:"MaxUploads"`
	EncodingType       string        `xml:"EncodingType,omitempty"`
	IsTruncated        bool          `xml:"IsTruncated"`
	Uploads            []uploadEntry `xml:"Upload"`
}

// listUploads is ListMultipartUploads (without delimiter).
func (h *Handler) listUploads(c *call) error {
	if c.q.Get("delimiter") != "" {
		return errorf(http.StatusNotImplemented, CodeNotImplemented, "ListMultipartUploads with a delimiter is not supported")
	}
	p, err := readListParams(c)
	if err != nil {
		return err
	}
	max := meta.MaxListKeys
	if s := c.q.Get("max-uploads"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return invalidArg("max-uploads", "Provided max-uploads not an integer or within integer range")
		}
		max = min(n, meta.MaxListKeys)
	}
	opts := meta.UploadListOptions{Prefix: p.prefix, KeyMarker: c.q.Get("key-marker"), UploadIDMarker: c.q.Get("upload-id-marker"), MaxUploads: max}
	b, err := h.backend.Bucket(c.ctx, c.bucket)
	if err != nil {
		return err
	}
	ups, truncated, err := h.backend.ListUploads(c.ctx, c.bucket, opts)
	if err != nil {
		return err
	}
	o := ownerOf(b.GetOwner())
	res := listUploadsResult{Bucket: c.bucket, KeyMarker: p.encode(opts.KeyMarker), UploadIDMarker: opts.UploadIDMarker, Prefix: p.encode(p.prefix),
		MaxUploads: max, EncodingType: p.encoding, IsTruncated: truncated, Uploads: []uploadEntry{}}
	for _, u := range ups {
		res.Uploads = append(res.Uploads, uploadEntry{Key: p.encode(u.GetKey()), UploadID: u.GetUploadId(), Initiator: o, Owner: o,
			StorageClass: storageClass(u.GetTier()), Initiated: s3Time(u.GetInitiatedUnixNanos())})
	}
	if truncated && len(ups) > 0 {
		last := ups[len(ups)-1]
		res.NextKeyMarker, res.NextUploadIDMarker = p.encode(last.GetKey()), last.GetUploadId()
	}
	writeXML(c.w, http.StatusOK, res)
	return nil
}
