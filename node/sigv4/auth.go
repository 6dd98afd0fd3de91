package sigv4

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Presigned URL query parameters.
const (
	paramAlgorithm     = "X-Amz-Algorithm"
	paramCredential    = "X-Amz-Credential"
	paramDate          = "X-Amz-Date"
	paramExpires       = "X-Amz-Expires"
	paramSignedHeaders = "X-Amz-SignedHeaders"
	paramSignature     = "X-Amz-Signature"
	paramSecurityToken = "X-Amz-Security-Token"
	paramContentSHA256 = "X-Amz-Content-Sha256"
)

// authorization is the parsed value of an Authorization header.
type authorization struct {
	Credential    string
	SignedHeaders string
	Signature     string
}

// parseAuthorization parses an Authorization header value of the form
// "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…". The three
// parts may come in any order, separated by commas and optional spaces;
// each must appear once, with a value, and nothing else may appear.
func parseAuthorization(h string) (authorization, error) {
	var a authorization
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		return a, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, truncate(alg, 40))
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || v == "" {
			return a, fmt.Errorf("%w: authorization part %q has no value", ErrIncompleteSignature, truncate(k, 40))
		}
		if seen[k] {
			return a, fmt.Errorf("%w: authorization repeats %s", ErrIncompleteSignature, k)
		}
		seen[k] = true
		switch k {
		case "Credential":
			a.Credential = v
		case "SignedHeaders":
			a.SignedHeaders = v
		case "Signature":
			a.Signature = v
		default:
			return a, fmt.Errorf("%w: unknown authorization part %q", ErrIncompleteSignature, truncate(k, 40))
		}
	}
	var missing []string
	if a.Credential == "" {
		missing = append(missing, "Credential")
	}
	if a.SignedHeaders == "" {
		missing = append(missing, "SignedHeaders")
	}
	if a.Signature == "" {
		missing = append(missing, "Signature")
	}
	if len(missing) > 0 {
		return a, fmt.Errorf("%w: authorization lacks %s", ErrIncompleteSignature, strings.Join(missing, ", "))
	}
	return a, nil
}

// scope is a parsed credential: access key id and credential scope.
type scope struct {
	AccessKeyID string
	Date        string // YYYYMMDD
	Region      string
	Service     string
}

// String returns the credential scope "date/region/service/aws4_request".
func (s scope) String() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + scopeTerminator
}

// parseCredential parses "AKID/20261207/us-east-1/sqs/aws4_request".
func parseCredential(c string) (scope, error) {
	parts := strings.Split(c, "/")
	if len(parts) < 5 {
		return scope{}, fmt.Errorf("%w: credential %q is not key/date/region/service/aws4_request", ErrIncompleteSignature, truncate(c, 100))
	}
	n := len(parts)
	s := scope{
		AccessKeyID: strings.Join(parts[:n-4], "/"),
		Date:        parts[n-4],
		Region:      parts[n-3],
		Service:     parts[n-2],
	}
	if s.AccessKeyID == "" || s.Region == "" || s.Service == "" {
		return scope{}, fmt.Errorf("%w: credential %q has an empty part", ErrIncompleteSignature, truncate(c, 100))
	}
	if _, err := time.Parse(dateFormat, s.Date); err != nil || len(s.Date) != 8 {
		return scope{}, fmt.Errorf("%w: credential date %q is not YYYYMMDD", ErrIncompleteSignature, truncate(s.Date, 20))
	}
	if parts[n-1] != scopeTerminator {
		return scope{}, fmt.Errorf("%w: credential ends in %q, not %s", ErrIncompleteSignature, truncate(parts[n-1], 20), scopeTerminator)
	}
	return s, nil
}

// parseSignedHeaders splits a SignedHeaders value. The names must be
// lower-case header names, each once, and include host.
func parseSignedHeaders(s string) ([]string, error) {
	names := strings.Split(s, ";")
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" {
			return nil, fmt.Errorf("%w: signed headers %q has an empty name", ErrIncompleteSignature, truncate(s, 100))
		}
		for i := 0; i < len(n); i++ {
			c := n[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
				return nil, fmt.Errorf("%w: signed header %q is not a lower-case header name", ErrIncompleteSignature, truncate(n, 40))
			}
		}
		if seen[n] {
			return nil, fmt.Errorf("%w: signed headers repeat %q", ErrIncompleteSignature, n)
		}
		seen[n] = true
	}
	if !seen["host"] {
		return nil, fmt.Errorf("%w: host is not a signed header", ErrIncompleteSignature)
	}
	return names, nil
}

// presignParams are the authentication parameters of a presigned URL,
// decoded.
type presignParams struct {
	Algorithm, Credential, Date, Expires, SignedHeaders, Signature string
	SecurityToken, ContentSHA256                                   string
}

// isPresigned reports whether a raw query carries presigned-URL
// authentication (any of its algorithm, credential or signature).
func isPresigned(rawQuery string) bool {
	for _, part := range strings.Split(rawQuery, "&") {
		k, _, _ := strings.Cut(part, "=")
		switch queryUnescape(k) {
		case paramAlgorithm, paramCredential, paramSignature:
			return true
		}
	}
	return false
}

// parsePresignParams extracts the authentication parameters of a presigned
// URL from a raw query. Each may appear at most once.
func parsePresignParams(rawQuery string) (presignParams, error) {
	var p presignParams
	fields := map[string]*string{
		paramAlgorithm:     &p.Algorithm,
		paramCredential:    &p.Credential,
		paramDate:          &p.Date,
		paramExpires:       &p.Expires,
		paramSignedHeaders: &p.SignedHeaders,
		paramSignature:     &p.Signature,
		paramSecurityToken: &p.SecurityToken,
		paramContentSHA256: &p.ContentSHA256,
	}
	seen := map[string]bool{}
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		k = queryUnescape(k)
		f, ok := fields[k]
		if !ok {
			continue
		}
		if seen[k] {
			return p, fmt.Errorf("%w: query repeats %s", ErrIncompleteSignature, k)
		}
		seen[k] = true
		*f = queryUnescape(v)
	}
	if p.Algorithm != algorithm {
		if p.Algorithm == "" {
			return p, fmt.Errorf("%w: query lacks %s", ErrIncompleteSignature, paramAlgorithm)
		}
		return p, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, truncate(p.Algorithm, 40))
	}
	var missing []string
	for _, f := range []struct{ name, v string }{
		{paramCredential, p.Credential}, {paramDate, p.Date}, {paramExpires, p.Expires},
		{paramSignedHeaders, p.SignedHeaders}, {paramSignature, p.Signature},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return p, fmt.Errorf("%w: query lacks %s", ErrIncompleteSignature, strings.Join(missing, ", "))
	}
	return p, nil
}

// parseExpires parses X-Amz-Expires: whole seconds, 1 to 7 days.
func parseExpires(s string) (time.Duration, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 || n > int64(MaxPresignExpiry/time.Second) || strings.HasPrefix(s, "+") {
		return 0, fmt.Errorf("%w: %s %q is not 1 to %d seconds", ErrIncompleteSignature, paramExpires, truncate(s, 20), int64(MaxPresignExpiry/time.Second))
	}
	return time.Duration(n) * time.Second, nil
}

// truncate shortens s for an error message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
