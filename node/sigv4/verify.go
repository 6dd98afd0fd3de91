package sigv4

import (
	"crypto/hmac"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Principal is who signed a verified request, and how.
type Principal struct {
	// AccessKeyID is the key that signed the request.
	AccessKeyID string
	// Name is the credential's Principal, or the access key id when the
	// credential names none.
	Name string
	// Region and Service are those of the credential scope.
	Region, Service string
	// SigningTime is the request's signing date.
	SigningTime time.Time
	// Presigned is set for a presigned URL, clear for an Authorization
	// header.
	Presigned bool
	// PayloadHash is the payload line of the canonical request: a hex
	// SHA-256, UnsignedPayload or StreamingPayload.
	PayloadHash string
}

// Verifier checks SigV4 signatures of incoming requests. It is safe for
// concurrent use; it caches signing keys.
type Verifier struct {
	cfg  Config
	keys keyCache
}

// NewVerifier returns a Verifier for cfg, or the error of cfg.Validate.
func NewVerifier(cfg Config) (*Verifier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Verifier{cfg: cfg.withDefaults()}, nil
}

// request is what Verify gathers from a request before checking it.
type request struct {
	scope         scope
	signedHeaders []string
	signedList    string // SignedHeaders as sent
	signature     string // hex as sent
	amzDate       string // the signing time in timeFormat
	time          time.Time
	presigned     bool
	expires       time.Duration
	token         string // X-Amz-Security-Token as sent
	claimedHash   string // X-Amz-Content-Sha256 as sent
}

// Verify checks the signature of r and returns who signed it. It must be
// called before anything reads r.Body, and may be called concurrently for
// different requests.
//
// On success r.Body is readable from its start: the bytes Verify read, or
// a reader that checks the claimed payload hash (failing with
// ErrPayloadHashMismatch at the end instead of io.EOF), or, for an
// aws-chunked body, a decoder that checks every chunk's signature (failing
// with a *MismatchError or ErrMalformedChunk) and whose bytes are the
// decoded payload; r.ContentLength is then the decoded length, or -1.
// A handler that consumes a body Verify did not buffer (longer than
// MaxBodyBytes, streaming, or of unknown length) must treat a read error as
// a failed authentication and read to io.EOF before it commits anything.
//
// On failure the error wraps one of the package's sentinels; r.Body may
// have been partly read.
func (v *Verifier) Verify(r *http.Request) (Principal, error) {
	req, err := v.parse(r)
	if err != nil {
		return Principal{}, err
	}
	if err := v.checkScope(req); err != nil {
		return Principal{}, err
	}
	if err := v.checkTime(req); err != nil {
		return Principal{}, err
	}
	cred, err := v.cfg.Credentials.Lookup(r.Context(), req.scope.AccessKeyID)
	if err != nil {
		if errors.Is(err, ErrUnknownAccessKey) {
			return Principal{}, err
		}
		return Principal{}, fmt.Errorf("sigv4: looking up access key %q: %w", req.scope.AccessKeyID, err)
	}
	if cred.SessionToken != "" && subtle.ConstantTimeCompare([]byte(cred.SessionToken), []byte(req.token)) != 1 {
		return Principal{}, ErrInvalidSessionToken
	}
	payload, err := v.payloadHash(r, req)
	if err != nil {
		return Principal{}, err
	}
	key := v.keys.get(cred.SecretAccessKey, req.scope.Date, req.scope.Region, req.scope.Service)
	if err := v.checkSignature(r, req, key, payload); err != nil {
		return Principal{}, err
	}
	if err := v.wrapBody(r, req, key, payload); err != nil {
		return Principal{}, err
	}
	name := cred.Principal
	if name == "" {
		name = req.scope.AccessKeyID
	}
	return Principal{
		AccessKeyID: req.scope.AccessKeyID,
		Name:        name,
		Region:      req.scope.Region,
		Service:     req.scope.Service,
		SigningTime: req.time,
		Presigned:   req.presigned,
		PayloadHash: payload,
	}, nil
}

// parse reads the authentication of r: its Authorization header or its
// presigned query parameters.
func (v *Verifier) parse(r *http.Request) (request, error) {
	var req request
	if r.URL == nil {
		return req, fmt.Errorf("%w: request has no URL", ErrIncompleteSignature)
	}
	rawQuery := r.URL.RawQuery
	authz := r.Header.Values("Authorization")
	presigned := isPresigned(rawQuery)
	switch {
	case len(authz) == 0 && !presigned:
		return req, ErrMissingAuth
	case len(authz) > 0 && presigned:
		return req, fmt.Errorf("%w: both an Authorization header and presigned query parameters", ErrIncompleteSignature)
	case len(authz) > 1:
		return req, fmt.Errorf("%w: %d Authorization headers", ErrIncompleteSignature, len(authz))
	}
	var credential string
	if presigned {
		p, err := parsePresignParams(rawQuery)
		if err != nil {
			return req, err
		}
		if req.expires, err = parseExpires(p.Expires); err != nil {
			return req, err
		}
		credential, req.signedList, req.signature = p.Credential, p.SignedHeaders, p.Signature
		req.amzDate, req.token, req.claimedHash = p.Date, p.SecurityToken, p.ContentSHA256
		if req.claimedHash == "" {
			req.claimedHash = r.Header.Get("X-Amz-Content-Sha256")
		}
		req.presigned = true
	} else {
		a, err := parseAuthorization(authz[0])
		if err != nil {
			return req, err
		}
		credential, req.signedList, req.signature = a.Credential, a.SignedHeaders, a.Signature
		req.token = r.Header.Get("X-Amz-Security-Token")
		req.claimedHash = r.Header.Get("X-Amz-Content-Sha256")
		req.amzDate = r.Header.Get("X-Amz-Date")
	}
	var err error
	if req.scope, err = parseCredential(credential); err != nil {
		return req, err
	}
	if req.signedHeaders, err = parseSignedHeaders(req.signedList); err != nil {
		return req, err
	}
	if len(req.signature) != 64 {
		return req, fmt.Errorf("%w: signature is not 64 hex digits", ErrIncompleteSignature)
	}
	if req.amzDate != "" {
		if req.time, err = time.Parse(timeFormat, req.amzDate); err != nil {
			return req, fmt.Errorf("%w: X-Amz-Date %q is not %s", ErrIncompleteSignature, truncate(req.amzDate, 40), timeFormat)
		}
	} else {
		d := r.Header.Get("Date")
		if d == "" {
			return req, fmt.Errorf("%w: neither X-Amz-Date nor Date", ErrIncompleteSignature)
		}
		if req.time, err = http.ParseTime(d); err != nil {
			return req, fmt.Errorf("%w: Date %q is not an HTTP date", ErrIncompleteSignature, truncate(d, 40))
		}
		req.amzDate = req.time.UTC().Format(timeFormat)
	}
	return req, nil
}

// checkScope checks the credential scope against the configuration and the
// request's date.
func (v *Verifier) checkScope(req request) error {
	if req.scope.Service != v.cfg.Service {
		return fmt.Errorf("%w: service %q, want %q", ErrInvalidScope, truncate(req.scope.Service, 40), v.cfg.Service)
	}
	if v.cfg.Region != "" && req.scope.Region != v.cfg.Region {
		return fmt.Errorf("%w: region %q, want %q", ErrInvalidScope, truncate(req.scope.Region, 40), v.cfg.Region)
	}
	if d := req.time.UTC().Format(dateFormat); req.scope.Date != d {
		return fmt.Errorf("%w: date %s is not the request's date %s", ErrInvalidScope, req.scope.Date, d)
	}
	return nil
}

// checkTime checks the request's date against the clock: within MaxSkew
// for a signed header, and for a presigned URL not after now+MaxSkew and
// not expired.
func (v *Verifier) checkTime(req request) error {
	now := v.cfg.Now()
	if req.presigned {
		if req.time.Sub(now) > v.cfg.MaxSkew {
			return fmt.Errorf("%w: presigned at %s, in the future (now %s)", ErrRequestTimeTooSkewed, req.amzDate, now.UTC().Format(timeFormat))
		}
		if end := req.time.Add(req.expires); now.After(end) {
			return fmt.Errorf("%w: presigned URL expired at %s (now %s)", ErrRequestExpired, end.UTC().Format(timeFormat), now.UTC().Format(timeFormat))
		}
		return nil
	}
	if d := now.Sub(req.time); d > v.cfg.MaxSkew || -d > v.cfg.MaxSkew {
		return fmt.Errorf("%w: signed at %s, now %s, more than %s apart", ErrRequestTimeTooSkewed, req.amzDate, now.UTC().Format(timeFormat), v.cfg.MaxSkew)
	}
	return nil
}

// s3 reports whether the verifier canonicalises the S3 way.
func (v *Verifier) s3() bool { return v.cfg.Service == "s3" }

// payloadHash returns the payload line of the canonical request: the claimed
// X-Amz-Content-Sha256, UNSIGNED-PAYLOAD for an S3 presigned URL that claims
// none, or the SHA-256 of the body, which it then reads (up to
// MaxBodyBytes) and puts back into r.Body.
func (v *Verifier) payloadHash(r *http.Request, req request) (string, error) {
	switch h := req.claimedHash; {
	case h == "" && req.presigned && v.s3():
		return UnsignedPayload, nil
	case h == "":
		body, err := v.readBody(r)
		if err != nil {
			return "", err
		}
		return hashHex(body), nil
	case h == UnsignedPayload, h == StreamingUnsignedTrailer:
		if !v.cfg.AllowUnsignedPayload {
			return "", fmt.Errorf("%w: %s", ErrUnsupportedPayload, h)
		}
		return h, nil
	case h == StreamingPayload:
		if !v.cfg.AllowStreamingPayload || req.presigned {
			return "", fmt.Errorf("%w: %s", ErrUnsupportedPayload, h)
		}
		return h, nil
	case isHashHex(strings.ToLower(h)):
		return h, nil
	default:
		return "", fmt.Errorf("%w: x-amz-content-sha256 %q", ErrUnsupportedPayload, truncate(h, 70))
	}
}

// readBody reads all of r.Body, at most MaxBodyBytes, and puts it back.
func (v *Verifier) readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > v.cfg.MaxBodyBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrBodyTooLarge, r.ContentLength, v.cfg.MaxBodyBytes)
	}
	body, err := readLimited(r.Body, v.cfg.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	r.Body.Close()
	r.Body = newBytesBody(body)
	return body, nil
}

// checkSignature computes the signature of r and compares it with the one
// sent, in constant time. When a client could have put the path into its
// canonical request another way (see altCanonicalURI), the signature over
// that form is accepted too; the error reports the primary form.
func (v *Verifier) checkSignature(r *http.Request, req request, key []byte, payload string) error {
	sent, err := hex.DecodeString(req.signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not hex", ErrIncompleteSignature)
	}
	path := wirePath(r)
	skip := ""
	if req.presigned {
		skip = paramSignature
	}
	query := canonicalQuery(r.URL.RawQuery, skip)
	headers := canonicalHeaders(r, req.signedHeaders)
	scope := req.scope.String()
	var first *MismatchError
	uris := []string{canonicalURI(path, v.s3())}
	if alt := altCanonicalURI(path, v.s3()); alt != uris[0] {
		uris = append(uris, alt)
	}
	for _, uri := range uris {
		creq := canonicalRequest(r.Method, uri, query, headers, req.signedList, payload)
		sts := stringToSign(req.amzDate, scope, creq)
		if hmac.Equal(hmacSHA256(key, sts), sent) {
			return nil
		}
		if first == nil {
			first = &MismatchError{CanonicalRequest: creq, StringToSign: sts, Provided: req.signature}
		}
	}
	return first
}

// wrapBody arranges for the body to be checked against the payload hash
// once the signature is good: at once when it is short, else as it is
// read; an aws-chunked body becomes its decoder.
func (v *Verifier) wrapBody(r *http.Request, req request, key []byte, payload string) error {
	if req.claimedHash == "" || payload == UnsignedPayload || payload == StreamingUnsignedTrailer {
		return nil // hashed by payloadHash, or not covered
	}
	if payload == StreamingPayload {
		decoded := int64(-1)
		if s := r.Header.Get("X-Amz-Decoded-Content-Length"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 0 {
				return fmt.Errorf("%w: x-amz-decoded-content-length %q", ErrMalformedChunk, truncate(s, 40))
			}
			decoded = n
		}
		body := r.Body
		if body == nil {
			body = http.NoBody
		}
		r.Body = newChunkedReader(body, key, req.amzDate, req.scope.String(), req.signature, decoded)
		r.ContentLength = decoded
		return nil
	}
	want := strings.ToLower(payload)
	if r.Body == nil || r.Body == http.NoBody {
		if want != emptySHA256 {
			return fmt.Errorf("%w: empty body", ErrPayloadHashMismatch)
		}
		return nil
	}
	if r.ContentLength >= 0 && r.ContentLength <= v.cfg.MaxBodyBytes {
		body, err := v.readBody(r)
		if err != nil {
			return err
		}
		if hashHex(body) != want {
			return ErrPayloadHashMismatch
		}
		return nil
	}
	r.Body = newHashCheckReader(r.Body, want)
	return nil
}
