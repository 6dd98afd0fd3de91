package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Names and values of the protocol.
const (
	algorithm       = "AWS4-HMAC-SHA256"
	chunkAlgorithm  = "AWS4-HMAC-SHA256-PAYLOAD"
	scopeTerminator = "aws4_request"
	timeFormat      = "20060102T150405Z"
	dateFormat      = "20060102"

	// UnsignedPayload is the X-Amz-Content-Sha256 value of a body that the
	// signature does not cover (S3 only).
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// StreamingPayload is the X-Amz-Content-Sha256 value of an aws-chunked
	// body whose chunks are signed one by one (S3 uploads).
	StreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	// StreamingUnsignedTrailer is the X-Amz-Content-Sha256 value of an
	// aws-chunked body without signatures that ends in trailing checksums
	// (the AWS SDKs' default for S3 uploads since 2025). Verify accepts it
	// as an unsigned payload and leaves the body, framing and trailers
	// included, to the caller.
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// uriEncode percent-encodes s the SigV4 way: every byte but the unreserved
// characters (A-Z a-z 0-9 - . _ ~) becomes %XX with upper-case hex; '/' is
// kept when keepSlash is set (paths) and encoded otherwise (query parts).
func uriEncode(s string, keepSlash bool) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/' && keepSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexUpper[c>>4])
			b.WriteByte(hexUpper[c&0xf])
		}
	}
	return b.String()
}

// normalizePath removes empty and "." segments from an absolute path and
// resolves ".." segments, keeping a trailing slash when the result has a
// segment. It works on the path as sent (still percent-encoded).
func normalizePath(p string) string {
	var out []string
	for _, seg := range strings.Split(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	s := "/" + strings.Join(out, "/")
	if len(out) > 0 && strings.HasSuffix(p, "/") {
		s += "/"
	}
	return s
}

// wirePath returns the path of r as the client sent it, still
// percent-encoded: taken from the request line when r came from a server
// (so that http.StripPrefix and Go's re-escaping do not change it), else
// from r.URL (a request built by a client).
func wirePath(r *http.Request) string {
	if ru := r.RequestURI; ru != "" && ru != "*" {
		if strings.HasPrefix(ru, "/") {
			p, _, _ := strings.Cut(ru, "?")
			return p
		}
		if u, err := url.Parse(ru); err == nil { // absolute form
			return u.EscapedPath()
		}
	}
	if r.URL == nil {
		return "/"
	}
	if r.URL.Opaque != "" {
		p, _, _ := strings.Cut(r.URL.Opaque, "?")
		if strings.HasPrefix(p, "//") { // "//host/path"
			if i := strings.IndexByte(p[2:], '/'); i >= 0 {
				return p[2+i:]
			}
			return "/"
		}
		return p
	}
	return r.URL.EscapedPath()
}

// canonicalURI returns the canonical path of a path as sent. For S3 it is
// the decoded path encoded once, not normalised; for other services the
// path as sent, normalised, is encoded again (so "%20" becomes "%2520").
func canonicalURI(path string, s3 bool) string {
	if path == "" {
		return "/"
	}
	if s3 {
		if dec, err := url.PathUnescape(path); err == nil {
			path = dec
		}
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		return uriEncode(path, true)
	}
	return uriEncode(normalizePath(path), true)
}

// altCanonicalURI returns the other canonical path some clients sign: for
// S3 the path exactly as sent (a client that sends "+" or "," unescaped and
// signs what it sends), for other services the path as sent encoded again
// without normalisation (AWS's Go SDK does not normalise). Both stand for
// the same resource as the primary form, so accepting either lets no
// signature stand for another request.
func altCanonicalURI(path string, s3 bool) string {
	if path == "" {
		return "/"
	}
	if s3 {
		return path
	}
	return uriEncode(path, true)
}

// canonicalQuery returns the canonical query string of a raw query: each
// name and value decoded ('+' is a space) and encoded again, the pairs
// sorted by encoded name and then value, joined with '&'. A parameter
// without '=' has an empty value. skip, when not empty, names a parameter
// left out (X-Amz-Signature of a presigned URL).
func canonicalQuery(raw, skip string) string {
	if raw == "" {
		return ""
	}
	type pair struct{ k, v string }
	var pairs []pair
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if skip != "" && k == skip {
			continue
		}
		pairs = append(pairs, pair{uriEncode(k, false), uriEncode(v, false)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// queryUnescape decodes a query component, or returns it as it is when it
// is not valid percent-encoding (its '%' is then encoded as %25).
func queryUnescape(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// headerValues returns the values of the signed header name (lower case) of
// r, including those Go's server moves out of r.Header: Host, and
// Content-Length and Transfer-Encoding when absent from it.
func headerValues(r *http.Request, name string) []string {
	switch name {
	case "host":
		if r.Host != "" {
			return []string{r.Host}
		}
		if r.URL != nil {
			return []string{r.URL.Host}
		}
		return nil
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			return v
		}
		if r.ContentLength >= 0 && (r.ContentLength > 0 || r.Body != nil && r.Body != http.NoBody) {
			return []string{strconv.FormatInt(r.ContentLength, 10)}
		}
		return nil
	case "transfer-encoding":
		if v := r.Header.Values("Transfer-Encoding"); len(v) > 0 {
			return v
		}
		return r.TransferEncoding
	}
	return r.Header.Values(name)
}

// canonicalHeaderValue trims a header value and collapses each run of
// spaces inside it into one space.
func canonicalHeaderValue(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	space := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// canonicalHeaders returns the canonical headers block: for each signed
// header in the order given, "name:value1,value2\n".
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range headerValues(r, name) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(canonicalHeaderValue(v))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// canonicalRequest joins the parts of a canonical request.
func canonicalRequest(method, uri, query, headers, signedHeaders, payloadHash string) string {
	return method + "\n" + uri + "\n" + query + "\n" + headers + "\n" + signedHeaders + "\n" + payloadHash
}

// stringToSign returns the string to sign of a canonical request.
func stringToSign(amzDate, scope, canonicalRequest string) string {
	return algorithm + "\n" + amzDate + "\n" + scope + "\n" + hashHex([]byte(canonicalRequest))
}

// hashHex returns the lower-case hex SHA-256 of b.
func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// isHashHex reports whether s is a lower-case hex SHA-256.
func isHashHex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
