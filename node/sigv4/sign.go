package sigv4

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SignOptions say how Sign and Presign sign a request.
type SignOptions struct {
	// Credential signs: AccessKeyID and SecretAccessKey are required;
	// a SessionToken is sent as X-Amz-Security-Token.
	Credential Credential
	// Region and Service make the credential scope. Required. Service "s3"
	// signs the path the S3 way, like Verify.
	Region, Service string
	// Time is the signing time; zero means now.
	Time time.Time
	// PayloadHash is the payload line: a hex SHA-256 or UnsignedPayload.
	// Empty means the SHA-256 of r.Body, which Sign then reads and puts
	// back (r.GetBody too). Presign ignores it.
	PayloadHash string
	// Expires is how long a presigned URL is good for, 1s to 7 days;
	// zero means 15 minutes. Sign ignores it.
	Expires time.Duration
}

// validate checks the required fields of o.
func (o SignOptions) validate() error {
	if o.Credential.AccessKeyID == "" || o.Credential.SecretAccessKey == "" {
		return errors.New("sigv4: sign: access key id and secret are required")
	}
	if o.Region == "" || o.Service == "" {
		return errors.New("sigv4: sign: region and service are required")
	}
	return nil
}

// Sign signs r with an Authorization header. It sets X-Amz-Date,
// X-Amz-Content-Sha256 and, with a session token, X-Amz-Security-Token, and
// signs Host, Content-Type, Content-MD5 and every X-Amz-* header present.
// Headers added after Sign are not signed. Sign is for a client: r.Host or
// r.URL.Host is the host the request goes to.
func Sign(r *http.Request, o SignOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	t := o.Time
	if t.IsZero() {
		t = time.Now()
	}
	payload := o.PayloadHash
	if payload == "" {
		var err error
		if payload, err = hashClientBody(r); err != nil {
			return err
		}
	}
	if r.Header == nil {
		r.Header = make(http.Header)
	}
	amzDate := t.UTC().Format(timeFormat)
	r.Header.Set("X-Amz-Date", amzDate)
	r.Header.Set("X-Amz-Content-Sha256", payload)
	if tok := o.Credential.SessionToken; tok != "" {
		r.Header.Set("X-Amz-Security-Token", tok)
	}
	r.Header.Del("Authorization")
	signed := []string{"host"}
	for name := range r.Header {
		l := strings.ToLower(name)
		if l == "content-type" || l == "content-md5" || strings.HasPrefix(l, "x-amz-") {
			signed = append(signed, l)
		}
	}
	sort.Strings(signed)
	signedList := strings.Join(signed, ";")
	sc := scope{AccessKeyID: o.Credential.AccessKeyID, Date: amzDate[:8], Region: o.Region, Service: o.Service}
	creq := canonicalRequest(r.Method, canonicalURI(wirePath(r), o.Service == "s3"),
		canonicalQuery(r.URL.RawQuery, ""), canonicalHeaders(r, signed), signedList, payload)
	key := deriveKey(o.Credential.SecretAccessKey, sc.Date, sc.Region, sc.Service)
	sig := hexHMAC(key, stringToSign(amzDate, sc.String(), creq))
	r.Header.Set("Authorization", algorithm+" Credential="+o.Credential.AccessKeyID+"/"+sc.String()+
		", SignedHeaders="+signedList+", Signature="+sig)
	return nil
}

// Presign returns the URL of r presigned for GET-like use: r.URL with the
// X-Amz-* authentication parameters added to its query. Only the host is
// signed among the headers, and for S3 the payload is UNSIGNED-PAYLOAD
// (else the SHA-256 of an empty body). r is not modified.
func Presign(r *http.Request, o SignOptions) (*url.URL, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	t := o.Time
	if t.IsZero() {
		t = time.Now()
	}
	exp := o.Expires
	if exp == 0 {
		exp = 15 * time.Minute
	}
	if exp < time.Second || exp > MaxPresignExpiry || exp%time.Second != 0 {
		return nil, fmt.Errorf("sigv4: presign: expiry %s is not whole seconds from 1s to %s", exp, MaxPresignExpiry)
	}
	amzDate := t.UTC().Format(timeFormat)
	sc := scope{AccessKeyID: o.Credential.AccessKeyID, Date: amzDate[:8], Region: o.Region, Service: o.Service}
	u := *r.URL
	add := func(k, v string) {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += uriEncode(k, false) + "=" + uriEncode(v, false)
	}
	add(paramAlgorithm, algorithm)
	add(paramCredential, o.Credential.AccessKeyID+"/"+sc.String())
	add(paramDate, amzDate)
	add(paramExpires, strconv.FormatInt(int64(exp/time.Second), 10))
	add(paramSignedHeaders, "host")
	if tok := o.Credential.SessionToken; tok != "" {
		add(paramSecurityToken, tok)
	}
	payload := emptySHA256
	if o.Service == "s3" {
		payload = UnsignedPayload
	}
	hr := &http.Request{Method: r.Method, URL: &u, Host: r.Host, Header: http.Header{}}
	creq := canonicalRequest(r.Method, canonicalURI(wirePath(hr), o.Service == "s3"),
		canonicalQuery(u.RawQuery, ""), canonicalHeaders(hr, []string{"host"}), "host", payload)
	key := deriveKey(o.Credential.SecretAccessKey, sc.Date, sc.Region, sc.Service)
	add(paramSignature, hexHMAC(key, stringToSign(amzDate, sc.String(), creq)))
	return &u, nil
}

// hexHMAC returns the hex HMAC-SHA256 of data under key.
func hexHMAC(key []byte, data string) string {
	const digits = "0123456789abcdef"
	sum := hmacSHA256(key, data)
	b := make([]byte, 2*len(sum))
	for i, c := range sum {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&0xf]
	}
	return string(b)
}

// hashClientBody returns the SHA-256 of r.Body and puts the body back.
func hashClientBody(r *http.Request) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return emptySHA256, nil
	}
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return "", fmt.Errorf("sigv4: sign: reading body: %w", err)
	}
	r.Body = newBytesBody(b)
	r.GetBody = func() (io.ReadCloser, error) { return newBytesBody(b), nil }
	return hashHex(b), nil
}
