package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"cairn.dev/cairn/node/sigv4"
)

// Defaults of Config.
const (
	DefaultRegion = "us-east-1"
	// DefaultMaxXMLBytes bounds an XML request body (CompleteMultipartUpload
	// of 10000 parts, DeleteObjects of 1000 keys of 1024 bytes fit).
	DefaultMaxXMLBytes = 2 << 20
	// maxSignedBodyBytes is the most of a body node/sigv4 reads into memory
	// to hash it: a request with a body longer than that must claim its
	// hash (X-Amz-Content-Sha256, as every S3 client does), and then its
	// body streams through a hash check.
	maxSignedBodyBytes = 1 << 20
)

// Config configures a Handler.
type Config struct {
	// Region is the region requests are signed for, reported by
	// GetBucketLocation and HeadBucket.
	Region string
	// Credentials are the bootstrap access keys (Config.S3CredentialsFile);
	// keys kept in blobd's metadata (Backend.AccessKey) work beside them.
	// Nil means only those.
	Credentials sigv4.StaticCredentials
	// Domains are the host names under which virtual-hosted-style requests
	// name their bucket as the first label (bucket.localhost:port). A host
	// not under one of them addresses path-style.
	Domains []string
	// MaxXMLBytes bounds XML request bodies; zero means DefaultMaxXMLBytes.
	MaxXMLBytes int64
	// Now is the clock of signature checks; nil means time.Now.
	Now func() time.Time
}

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	var errs []error
	if c.Region == "" {
		errs = append(errs, errors.New("s3: region must be set"))
	}
	if c.MaxXMLBytes < 0 {
		errs = append(errs, fmt.Errorf("s3: max xml bytes %d must be >= 0", c.MaxXMLBytes))
	}
	for _, d := range c.Domains {
		if d == "" || strings.ContainsAny(d, ":/ ") {
			errs = append(errs, fmt.Errorf("s3: domain %q must be a host name", d))
		}
	}
	return errors.Join(errs...)
}

// Handler serves the S3 API over a Backend. It is an http.Handler, safe for
// concurrent use.
type Handler struct {
	cfg      Config
	backend  Backend
	verifier *sigv4.Verifier
	logger   *slog.Logger
}

// NewHandler returns a Handler that verifies requests against cfg's keys
// and the backend's, and serves them by calling backend in-process. logger
// may be nil.
func NewHandler(cfg Config, backend Backend, logger *slog.Logger) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if backend == nil {
		return nil, errors.New("s3: no backend")
	}
	if cfg.MaxXMLBytes == 0 {
		cfg.MaxXMLBytes = DefaultMaxXMLBytes
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	vc := sigv4.DefaultConfig("s3")
	vc.Credentials = keyring{static: cfg.Credentials, backend: backend}
	vc.Region = cfg.Region
	vc.Now = cfg.Now
	vc.MaxBodyBytes = maxSignedBodyBytes
	vc.AllowUnsignedPayload = true
	vc.AllowStreamingPayload = true
	v, err := sigv4.NewVerifier(vc)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	return &Handler{cfg: cfg, backend: backend, verifier: v, logger: logger}, nil
}

// call is one request being served.
type call struct {
	w   http.ResponseWriter
	r   *http.Request
	ctx context.Context
	q   url.Values
	id  string // x-amz-request-id
	// bucket and key address the request ("" for none).
	bucket, key string
	// principal signed the request.
	principal sigv4.Principal
	// body, when a handler reads an object body through it, keeps the
	// error the body itself failed with (a bad chunk signature, a
	// checksum), which explains a backend error better than the backend.
	body *bodyReader
}

// resource is the Resource element of an error.
func (c *call) resource() string {
	switch {
	case c.bucket == "":
		return "/"
	case c.key == "":
		return "/" + c.bucket
	}
	return "/" + c.bucket + "/" + c.key
}

// ServeHTTP gives the request an id, finds its bucket and key
// (virtual-hosted or path style), verifies its signature and dispatches it
// to the operation its method, subresources and headers name.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r, ctx: r.Context(), id: newRequestID()}
	w.Header().Set("x-amz-request-id", c.id)
	w.Header().Set("x-amz-id-2", c.id)
	w.Header().Set("Server", "cairn-blobd")
	var err error
	if c.q, err = url.ParseQuery(r.URL.RawQuery); err != nil {
		h.fail(c, errorf(http.StatusBadRequest, CodeInvalidArgument, "The query string is malformed: %v", err))
		return
	}
	c.bucket, c.key = h.address(r)
	if c.principal, err = h.verifier.Verify(r); err != nil {
		h.fail(c, err)
		return
	}
	h.logger.Debug("s3 request", "method", r.Method, "resource", c.resource(), "query", r.URL.RawQuery, "key_id", c.principal.AccessKeyID,
		"presigned", c.principal.Presigned, "payload", c.principal.PayloadHash, "request_id", c.id)
	if err := h.dispatch(c); err != nil {
		if c.body != nil && c.body.err != nil && c.body.err != io.EOF {
			err = c.body.err
		}
		h.fail(c, err)
	}
}

// address returns the bucket and key a request names: the first label of a
// host under one of the domains is the bucket and the whole path the key
// (virtual-hosted style); otherwise the first path segment is the bucket
// and the rest the key (path style).
func (h *Handler) address(r *http.Request) (bucket, key string) {
	host := r.Host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	host = strings.ToLower(host)
	path := strings.TrimPrefix(r.URL.Path, "/")
	for _, d := range h.cfg.Domains {
		if b, ok := strings.CutSuffix(host, "."+strings.ToLower(d)); ok && b != "" {
			return b, path
		}
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

// dispatch runs the operation of the request.
func (h *Handler) dispatch(c *call) error {
	m := c.r.Method
	has := c.q.Has
	if c.bucket == "" {
		if m == http.MethodGet {
			return h.listBuckets(c)
		}
		return notAllowed(c)
	}
	if c.key == "" {
		switch m {
		case http.MethodGet:
			switch {
			case has("location"):
				return h.getBucketLocation(c)
			case has("lifecycle"):
				return h.getLifecycle(c)
			case has("uploads"):
				return h.listUploads(c)
			case has("versioning"):
				return h.getVersioning(c)
			case has("acl"):
				return h.getACL(c)
			case has("policy"), has("cors"), has("tagging"), has("encryption"), has("website"):
				return h.missingConfig(c)
			case has("versions"), has("logging"), has("notification"), has("replication"), has("object-lock"),
				has("ownershipControls"), has("publicAccessBlock"), has("accelerate"), has("requestPayment"):
				return notImplemented(c)
			case c.q.Get("list-type") == "2":
				return h.listObjectsV2(c)
			}
			return h.listObjectsV1(c)
		case http.MethodHead:
			return h.headBucket(c)
		case http.MethodPut:
			switch {
			case has("lifecycle"):
				return h.putLifecycle(c)
			case len(c.q) > 0:
				return notImplemented(c)
			}
			return h.createBucket(c)
		case http.MethodDelete:
			switch {
			case has("lifecycle"):
				return h.deleteLifecycle(c)
			case len(c.q) > 0:
				return notImplemented(c)
			}
			return h.deleteBucket(c)
		case http.MethodPost:
			if has("delete") {
				return h.deleteObjects(c)
			}
			return notImplemented(c)
		}
		return notAllowed(c)
	}
	switch m {
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return h.listParts(c)
		case has("acl"):
			return h.getACL(c)
		case has("tagging"), has("attributes"), has("torrent"), has("legal-hold"), has("retention"):
			return notImplemented(c)
		}
		return h.getObject(c, false)
	case http.MethodHead:
		return h.getObject(c, true)
	case http.MethodPut:
		switch {
		case has("uploadId") || has("partNumber"):
			if c.r.Header.Get("x-amz-copy-source") != "" {
				return h.uploadPartCopy(c)
			}
			return h.uploadPart(c)
		case has("acl"), has("tagging"), has("legal-hold"), has("retention"):
			return notImplemented(c)
		case c.r.Header.Get("x-amz-copy-source") != "":
			return h.copyObject(c)
		}
		return h.putObject(c)
	case http.MethodDelete:
		if has("uploadId") {
			return h.abortUpload(c)
		}
		if has("tagging") {
			return notImplemented(c)
		}
		return h.deleteObject(c)
	case http.MethodPost:
		switch {
		case has("uploads"):
			return h.createUpload(c)
		case has("uploadId"):
			return h.completeUpload(c)
		case has("restore"):
			return h.restoreObject(c)
		}
		return notImplemented(c)
	}
	return notAllowed(c)
}

func notAllowed(c *call) error {
	return errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "The specified method is not allowed against this resource: %s %s", c.r.Method, c.resource())
}

func notImplemented(c *call) error {
	return errorf(http.StatusNotImplemented, CodeNotImplemented, "A header or query you provided implies functionality that is not implemented: %s %s?%s", c.r.Method, c.resource(), c.r.URL.RawQuery)
}

// fail writes err as S3's XML error (no body for HEAD).
func (h *Handler) fail(c *call, err error) {
	e := toError(err)
	lvl := slog.LevelDebug
	if e.Status >= 500 {
		lvl = slog.LevelWarn
	}
	h.logger.Log(c.ctx, lvl, "s3 request failed", "method", c.r.Method, "resource", c.resource(), "code", e.Code, "status", e.Status, "err", err, "request_id", c.id)
	hd := c.w.Header()
	if e.RetryAfter > 0 {
		hd.Set("Retry-After", strconv.Itoa(e.RetryAfter))
	}
	if c.r.Method == http.MethodHead {
		c.w.WriteHeader(e.Status)
		return
	}
	body := errorBody{Code: e.Code, Message: e.Message, Resource: c.resource(), RequestID: c.id, HostID: c.id,
		StringToSign: e.StringToSign, CanonicalRequest: e.CanonicalRequest}
	if c.bucket != "" {
		body.Extra = append(body.Extra, extraElement{XMLName: xml.Name{Local: "BucketName"}, Value: c.bucket})
	}
	if c.key != "" {
		body.Extra = append(body.Extra, extraElement{XMLName: xml.Name{Local: "Key"}, Value: c.key})
	}
	for k, v := range e.Extra {
		if k != "" {
			body.Extra = append(body.Extra, extraElement{XMLName: xml.Name{Local: k}, Value: v})
		}
	}
	writeXML(c.w, e.Status, body)
}

// writeXML writes v as an XML document with status.
func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "s3: encoding the response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(xml.Header)+len(b)))
	w.WriteHeader(status)
	_, _ = io.WriteString(w, xml.Header)
	_, _ = w.Write(b)
}

// readXML decodes the request's XML body into v: at most MaxXMLBytes, read
// to its end (so that node/sigv4 checks its hash) before it is used.
func (h *Handler) readXML(c *call, v any) error {
	if c.r.ContentLength > h.cfg.MaxXMLBytes {
		return errorf(http.StatusBadRequest, CodeMaxMessageLengthExceeded, "Your request was too big: %d bytes, the limit is %d", c.r.ContentLength, h.cfg.MaxXMLBytes)
	}
	b, err := io.ReadAll(io.LimitReader(c.r.Body, h.cfg.MaxXMLBytes+1))
	if err != nil {
		if e := sigv4Error(err); e != nil {
			return e
		}
		return errorf(http.StatusBadRequest, CodeIncompleteBody, "Reading the request body: %v", err)
	}
	if int64(len(b)) > h.cfg.MaxXMLBytes {
		return errorf(http.StatusBadRequest, CodeMaxMessageLengthExceeded, "Your request was too big: the limit is %d bytes", h.cfg.MaxXMLBytes)
	}
	if err := xml.Unmarshal(b, v); err != nil {
		return errorf(http.StatusBadRequest, CodeMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema: %v", err)
	}
	return nil
}

// newRequestID returns a request id: 16 uppercase hex digits, as S3's.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// s3Time formats a time as S3's XML does.
func s3Time(unixNanos int64) string {
	return time.Unix(0, unixNanos).UTC().Format("2006-01-02T15:04:05.000Z")
}

// httpTime formats a time for an HTTP header.
func httpTime(unixNanos int64) string {
	return time.Unix(0, unixNanos).UTC().Format(http.TimeFormat)
}

// quote returns an etag in quotes, as S3 sends it.
func quote(etag string) string { return `"` + etag + `"` }

// unquote strips an etag's quotes (and a weak W/ prefix).
func unquote(etag string) string {
	etag = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(etag), "W/"))
	return strings.Trim(etag, `"`)
}
