package s3

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// Storage classes and the tiers they stand for.
const (
	classStandard   = "STANDARD"
	classStandardIA = "STANDARD_IA"
	classGlacier    = "GLACIER"
)

// tierOf maps an x-amz-storage-class (or a lifecycle StorageClass) to a
// tier; "" is TIER_UNSPECIFIED (the bucket's default).
func tierOf(class string) (blobdraftv1.Tier, error) {
	switch class {
	case "":
		return blobdraftv1.Tier_TIER_UNSPECIFIED, nil
	case classStandard:
		return blobdraftv1.Tier_TIER_HOT, nil
	case classStandardIA:
		return blobdraftv1.Tier_TIER_COOL, nil
	case classGlacier:
		return blobdraftv1.Tier_TIER_ARCHIVE, nil
	}
	return 0, errorf(http.StatusBadRequest, CodeInvalidStorageClass, "The storage class you specified is not valid: %q (STANDARD, STANDARD_IA or GLACIER)", class)
}

// storageClass names a tier as S3 does.
func storageClass(t blobdraftv1.Tier) string {
	switch t {
	case blobdraftv1.Tier_TIER_COOL:
		return classStandardIA
	case blobdraftv1.Tier_TIER_ARCHIVE:
		return classGlacier
	}
	return classStandard
}

// metaPrefix starts the user metadata headers.
const metaPrefix = "x-amz-meta-"

// objectHeaders reads the stored headers of a PUT, a copy with the REPLACE
// directive or a multipart upload's creation: Content-Type,
// Cache-Control, Content-Disposition, Content-Encoding (less aws-chunked),
// Expires and every x-amz-meta-* (names lowercased, values of a repeated
// header joined by commas).
func objectHeaders(h http.Header) *blobdraftv1.ObjectHeaders {
	out := &blobdraftv1.ObjectHeaders{
		ContentType:        h.Get("Content-Type"),
		CacheControl:       h.Get("Cache-Control"),
		ContentDisposition: h.Get("Content-Disposition"),
		ContentEncoding:    stripAWSChunked(h.Get("Content-Encoding")),
		Expires:            h.Get("Expires"),
	}
	for name, vals := range h {
		l := strings.ToLower(name)
		if n, ok := strings.CutPrefix(l, metaPrefix); ok && n != "" {
			if out.UserMetadata == nil {
				out.UserMetadata = map[string]string{}
			}
			out.UserMetadata[n] = strings.Join(vals, ",")
		}
	}
	return out
}

// stripAWSChunked removes the aws-chunked coding, which only frames the
// upload, from a Content-Encoding.
func stripAWSChunked(v string) string {
	if v == "" {
		return ""
	}
	var keep []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" && !strings.EqualFold(p, "aws-chunked") {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ",")
}

// writeObjectHeaders sets the headers of a GET or HEAD of rec: the stored
// ones (overridden by the response-* query parameters), the user metadata,
// ETag, Last-Modified, the storage class and restore state.
func writeObjectHeaders(c *call, rec *blobdraftv1.ObjectRecord) {
	hd := c.w.Header()
	h := rec.GetHeaders()
	set := func(name, stored, override string) {
		if v := c.q.Get(override); v != "" {
			hd.Set(name, v)
		} else if stored != "" {
			hd.Set(name, stored)
		}
	}
	ct := h.GetContentType()
	if ct == "" {
		ct = "binary/octet-stream"
	}
	set("Content-Type", ct, "response-content-type")
	set("Cache-Control", h.GetCacheControl(), "response-cache-control")
	set("Content-Disposition", h.GetContentDisposition(), "response-content-disposition")
	set("Content-Encoding", h.GetContentEncoding(), "response-content-encoding")
	set("Content-Language", "", "response-content-language")
	set("Expires", h.GetExpires(), "response-expires")
	names := make([]string, 0, len(h.GetUserMetadata()))
	for n := range h.GetUserMetadata() {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		hd[metaPrefix+n] = []string{h.GetUserMetadata()[n]}
	}
	hd.Set("ETag", quote(rec.GetEtag()))
	hd.Set("Last-Modified", httpTime(rec.GetCreatedUnixNanos()))
	hd.Set("Accept-Ranges", "bytes")
	if rec.GetTier() != blobdraftv1.Tier_TIER_HOT && rec.GetTier() != blobdraftv1.Tier_TIER_UNSPECIFIED {
		hd.Set("x-amz-storage-class", storageClass(rec.GetTier()))
	}
	if n := len(rec.GetPartSizes()); n > 0 {
		hd.Set("x-amz-mp-parts-count", strconv.Itoa(n))
	}
	switch rec.GetRestoreState() {
	case blobdraftv1.RestoreState_RESTORE_STATE_IN_PROGRESS:
		hd.Set("x-amz-restore", `ongoing-request="true"`)
	case blobdraftv1.RestoreState_RESTORE_STATE_RESTORED:
		hd.Set("x-amz-restore", `ongoing-request="false", expiry-date="`+httpTime(rec.GetRestoreUntilUnixNanos())+`"`)
	}
}

// contentMD5 decodes a Content-MD5 header (nil when absent).
func contentMD5(h http.Header) ([]byte, error) {
	v := h.Get("Content-MD5")
	if v == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil || len(b) != md5.Size {
		return nil, errorf(http.StatusBadRequest, CodeInvalidDigest, "The Content-MD5 you specified is not valid.")
	}
	return b, nil
}

// writeConditions reads If-Match and If-None-Match of a write: If-None-Match
// may only be "*" (no object may exist).
func writeConditions(h http.Header) (ifMatch, ifNoneMatch string, err error) {
	ifMatch = unquote(h.Get("If-Match"))
	ifNoneMatch = strings.TrimSpace(h.Get("If-None-Match"))
	if ifNoneMatch != "" && ifNoneMatch != "*" {
		return "", "", errorf(http.StatusNotImplemented, CodeNotImplemented, "If-None-Match of a write may only be \"*\"")
	}
	return ifMatch, ifNoneMatch, nil
}

// etagMatches reports whether a list of etags (If-Match, If-None-Match)
// names etag, or is "*".
func etagMatches(list, etag string) bool {
	for _, e := range strings.Split(list, ",") {
		e = strings.TrimSpace(e)
		if e == "*" || unquote(e) == etag {
			return true
		}
	}
	return false
}

// readConditions evaluates the conditional headers of a read (GET, HEAD,
// a copy's source under the x-amz-copy-source-if-* names) as S3 does:
// If-Match before If-Unmodified-Since (which it overrides when it holds),
// then If-None-Match before If-Modified-Since. It returns 0 when the read
// goes on, else 412 or 304 (or 412 for a copy source, which never answers
// 304).
func readConditions(h http.Header, prefix string, rec *blobdraftv1.ObjectRecord) int {
	get := func(n string) string { return h.Get(prefix + n) }
	modified := time.Unix(0, rec.GetCreatedUnixNanos()).Truncate(time.Second)
	notModified := http.StatusNotModified
	if prefix != "" {
		notModified = http.StatusPreconditionFailed
	}
	if im := get("If-Match"); im != "" {
		if !etagMatches(im, rec.GetEtag()) {
			return http.StatusPreconditionFailed
		}
	} else if ius := get("If-Unmodified-Since"); ius != "" {
		if t, err := http.ParseTime(ius); err == nil && modified.After(t) {
			return http.StatusPreconditionFailed
		}
	}
	if inm := get("If-None-Match"); inm != "" {
		if etagMatches(inm, rec.GetEtag()) {
			return notModified
		}
	} else if ims := get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !modified.After(t) {
			return notModified
		}
	}
	return 0
}

// byteRange is a parsed Range header.
type byteRange struct {
	start, end int64 // end inclusive; -1 for "to the end"
	suffix     int64 // > 0 for bytes=-N
}

// parseRange parses a single "bytes=" range. ok is false for a header S3
// ignores (absent, malformed, several ranges); bad is set for a range no
// object satisfies (bytes=-0).
func parseRange(v string) (br byteRange, ok, bad bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(v), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return br, false, false
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return br, false, false
	}
	num := func(s string) (int64, bool) {
		if s == "" || strings.TrimLeft(s, "0123456789") != "" || len(s) > 18 {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err == nil
	}
	if a == "" {
		n, ok := num(b)
		if !ok {
			return br, false, false
		}
		if n == 0 {
			return br, false, true
		}
		return byteRange{suffix: n}, true, false
	}
	s, ok := num(a)
	if !ok {
		return br, false, false
	}
	if b == "" {
		return byteRange{start: s, end: -1}, true, false
	}
	e, ok := num(b)
	if !ok || e < s {
		return br, false, false
	}
	return byteRange{start: s, end: e}, true, false
}
