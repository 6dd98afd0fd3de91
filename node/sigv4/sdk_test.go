package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsv4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The tests of this file sign requests with AWS's own Go signer
// (aws-sdk-go-v2/aws/signer/v4), an implementation independent of this
// package's, send them over a real connection to an httptest server whose
// handler calls Verify, and check that they verify and that tampered ones
// do not.

const (
	sdkKeyID  = "AKIDCAIRNTEST"
	sdkSecret = "cairn/secret+key/0123456789abcdefghij"
	sdkToken  = "session-token/xyz=="
)

var sdkCreds = aws.Credentials{AccessKeyID: sdkKeyID, SecretAccessKey: sdkSecret}

// verifyServer is an httptest server whose handler verifies each request
// with a Verifier of cfg and reports the outcome on results.
type verifyServer struct {
	*httptest.Server
	results chan verifyResult
}

// verifyResult is what the handler saw: the principal, the error, and the
// body and form the handler could read after Verify.
type verifyResult struct {
	p       Principal
	err     error
	body    string
	bodyErr error
}

func newVerifyServer(t *testing.T, cfg Config) *verifyServer {
	t.Helper()
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &verifyServer{results: make(chan verifyResult, 1)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res verifyResult
		res.p, res.err = v.Verify(r)
		if res.err == nil {
			b, err := io.ReadAll(r.Body)
			res.body, res.bodyErr = string(b), err
		}
		s.results <- res
		if res.err != nil || res.bodyErr != nil {
			http.Error(w, "denied", http.StatusForbidden)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// do sends r and returns what the handler saw.
func (s *verifyServer) do(t *testing.T, r *http.Request) verifyResult {
	t.Helper()
	resp, err := s.Client().Do(r)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	select {
	case res := <-s.results:
		return res
	default:
		t.Fatalf("handler did not run (status %s)", resp.Status)
		return verifyResult{}
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sdkCase is a request signed by the SDK and how the server must judge it.
type sdkCase struct {
	name    string
	service string
	cfg     func(*Config)
	// build returns the request to sign (URL relative to the server).
	method, path, rawQuery, body string
	header                       map[string]string
	payload                      string // "" = SHA-256 of body
	setContentSHA                bool   // send X-Amz-Content-Sha256 (as the S3 client does)
	token                        bool
	presign                      time.Duration // > 0: presigned URL with this expiry
	// tamper changes the signed request before it is sent; nil sends it
	// as signed.
	tamper func(r *http.Request)
	want   error // nil: verifies
	// wantBodyErr is the error the handler must get reading the body.
	wantBodyErr error
}

func (c sdkCase) run(t *testing.T, now time.Time) {
	cfg := Config{
		Credentials: StaticCredentials{sdkKeyID: {SecretAccessKey: sdkSecret, Principal: "tester"}},
		Service:     c.service,
		Region:      "us-east-1",
		Now:         fixedClock(now.Add(3 * time.Minute)),
	}
	if c.token {
		cfg.Credentials = StaticCredentials{sdkKeyID: {SecretAccessKey: sdkSecret, SessionToken: sdkToken}}
	}
	if c.cfg != nil {
		c.cfg(&cfg)
	}
	srv := newVerifyServer(t, cfg)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.RawPath, u.Path = c.path, mustUnescapePath(t, c.path)
	u.RawQuery = c.rawQuery
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	r, err := http.NewRequest(c.method, u.String(), body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range c.header {
		r.Header.Set(k, v)
	}
	payload := c.payload
	if payload == "" {
		payload = sha256Hex([]byte(c.body))
	}
	if c.setContentSHA {
		r.Header.Set("X-Amz-Content-Sha256", payload)
	}
	creds := sdkCreds
	if c.token {
		creds.SessionToken = sdkToken
	}
	signer := awsv4.NewSigner(func(o *awsv4.SignerOptions) {
		o.DisableURIPathEscaping = c.service == "s3"
	})
	if c.presign > 0 {
		q := r.URL.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(int(c.presign/time.Second)))
		r.URL.RawQuery = q.Encode()
		signed, hdr, err := signer.PresignHTTP(context.Background(), creds, r, payload, c.service, "us-east-1", now)
		if err != nil {
			t.Fatal(err)
		}
		if r, err = http.NewRequest(c.method, signed, nil); err != nil {
			t.Fatal(err)
		}
		for k, vs := range hdr {
			if k != "Host" {
				r.Header[k] = vs
			}
		}
	} else if err := signer.SignHTTP(context.Background(), creds, r, payload, c.service, "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	if c.tamper != nil {
		c.tamper(r)
	}
	res := srv.do(t, r)
	switch {
	case c.want == nil && res.err != nil:
		var m *MismatchError
		if errors.As(res.err, &m) {
			t.Fatalf("Verify: %v\ncanonical request:\n%s\nstring to sign:\n%s", res.err, m.CanonicalRequest, m.StringToSign)
		}
		t.Fatalf("Verify: %v", res.err)
	case c.want != nil && !errors.Is(res.err, c.want):
		t.Fatalf("Verify: %v, want %v", res.err, c.want)
	case c.want != nil:
		return
	}
	if !errors.Is(res.bodyErr, c.wantBodyErr) {
		t.Fatalf("reading the body after Verify: %v, want %v", res.bodyErr, c.wantBodyErr)
	}
	if c.wantBodyErr == nil && res.body != c.body {
		t.Fatalf("body after Verify = %q, want %q", res.body, c.body)
	}
	if res.p.AccessKeyID != sdkKeyID || res.p.Service != c.service || res.p.Region != "us-east-1" ||
		res.p.Presigned != (c.presign > 0) || !res.p.SigningTime.Equal(now.Truncate(time.Second)) {
		t.Fatalf("principal = %+v", res.p)
	}
}

func mustUnescapePath(t *testing.T, p string) string {
	t.Helper()
	s, err := url.PathUnescape(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// s3Escape escapes an S3 key path the way AWS's S3 clients do: every byte
// but the unreserved ones and '/'.
func s3Escape(p string) string { return uriEncode(p, true) }

func TestSDKSignedRequests(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 11, 12, 0, time.UTC)
	form := "Action=SendMessage&MessageBody=hello%20world%20%2B%20%C3%A9&QueueUrl=http%3A%2F%2F127.0.0.1%2F000000000000%2Fq1&Version=2012-11-05"
	formHeader := map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
	s3Key := s3Escape("/bucket/dir/my key+with,odd=chars&ሴ~.txt")
	allowS3 := func(c *Config) { c.AllowUnsignedPayload = true }
	cases := []sdkCase{
		// SQS, query protocol as awscli speaks it.
		{name: "sqs form post", service: "sqs", method: "POST", path: "/", body: form, header: formHeader},
		{name: "sqs form post to queue path", service: "sqs", method: "POST", path: "/000000000000/q1", body: form, header: formHeader},
		{name: "sqs get with query", service: "sqs", method: "GET", path: "/", rawQuery: "Action=ListQueues&QueueNamePrefix=a%20b&Version=2012-11-05"},
		{name: "sqs path not normalised by the sdk", service: "sqs", method: "GET", path: "/a//b/./c"},
		{name: "sqs escaped path", service: "sqs", method: "GET", path: "/a%20b/%E1%88%B4"},
		{name: "sqs session token", service: "sqs", method: "POST", path: "/", body: form, header: formHeader, token: true},
		{name: "sqs content sha header", service: "sqs", method: "POST", path: "/", body: form, header: formHeader, setContentSHA: true},
		{name: "sqs presigned", service: "sqs", method: "GET", path: "/", rawQuery: "Action=ListQueues&Version=2012-11-05", presign: time.Hour},
		// S3, as its client signs.
		{name: "s3 put signed body", service: "s3", method: "PUT", path: s3Key, body: "object bytes\n", setContentSHA: true,
			header: map[string]string{"Content-Type": "text/plain", "X-Amz-Meta-Color": "  dark   blue "}},
		{name: "s3 put unsigned payload", service: "s3", method: "PUT", path: s3Key, body: "object bytes\n", setContentSHA: true,
			payload: UnsignedPayload, cfg: allowS3},
		{name: "s3 get", service: "s3", method: "GET", path: s3Key, rawQuery: "versionId=3%2F4&x-id=GetObject", setContentSHA: true},
		{name: "s3 list with query", service: "s3", method: "GET", path: "/bucket", rawQuery: "list-type=2&prefix=a%2Fb%20c&delimiter=%2F", setContentSHA: true},
		{name: "s3 presigned get", service: "s3", method: "GET", path: s3Key, payload: UnsignedPayload, presign: 10 * time.Minute},
		{name: "s3 presigned put", service: "s3", method: "PUT", path: s3Key, payload: UnsignedPayload, presign: 7 * 24 * time.Hour},

		// Tampered requests.
		{name: "sqs body changed", service: "sqs", method: "POST", path: "/", body: form, header: formHeader,
			tamper: func(r *http.Request) { setBody(r, strings.Replace(form, "hello", "HELLO", 1)) }, want: ErrSignatureMismatch},
		{name: "sqs query changed", service: "sqs", method: "GET", path: "/", rawQuery: "Action=ListQueues&Version=2012-11-05",
			tamper: func(r *http.Request) { r.URL.RawQuery += "&QueueNamePrefix=x" }, want: ErrSignatureMismatch},
		{name: "sqs path changed", service: "sqs", method: "POST", path: "/000000000000/q1", body: form, header: formHeader,
			tamper: func(r *http.Request) { r.URL.Path, r.URL.RawPath = "/000000000000/q2", "" }, want: ErrSignatureMismatch},
		{name: "sqs method changed", service: "sqs", method: "GET", path: "/",
			tamper: func(r *http.Request) { r.Method = "DELETE" }, want: ErrSignatureMismatch},
		{name: "sqs signed header changed", service: "sqs", method: "POST", path: "/", body: form, header: formHeader,
			tamper: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, want: ErrSignatureMismatch},
		{name: "sqs host changed", service: "sqs", method: "GET", path: "/",
			tamper: func(r *http.Request) { r.Host = "example.com" }, want: ErrSignatureMismatch},
		{name: "sqs date changed", service: "sqs", method: "GET", path: "/",
			tamper: func(r *http.Request) {
				r.Header.Set("X-Amz-Date", now.Add(time.Second).Format(timeFormat))
			}, want: ErrSignatureMismatch},
		{name: "sqs wrong token", service: "sqs", method: "GET", path: "/", token: true,
			tamper: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "other") }, want: ErrInvalidSessionToken},
		{name: "sqs unknown key", service: "sqs", method: "GET", path: "/",
			tamper: func(r *http.Request) {
				r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), sdkKeyID, "AKIDOTHER", 1))
			}, want: ErrUnknownAccessKey},
		{name: "s3 body changed under signed hash", service: "s3", method: "PUT", path: s3Key, body: "object bytes\n", setContentSHA: true,
			tamper: func(r *http.Request) { setBody(r, "object bytez\n") }, want: ErrPayloadHashMismatch},
		{name: "s3 unsigned payload not allowed", service: "s3", method: "PUT", path: s3Key, body: "x", setContentSHA: true,
			payload: UnsignedPayload, want: ErrUnsupportedPayload},
		{name: "s3 key changed", service: "s3", method: "GET", path: s3Key, setContentSHA: true,
			tamper: func(r *http.Request) {
				r.URL.RawPath = strings.Replace(r.URL.RawPath, "my", "My", 1)
				r.URL.Path = mustUnescapePath(t, r.URL.RawPath)
			},
			want: ErrSignatureMismatch},
		{name: "s3 presigned query changed", service: "s3", method: "GET", path: s3Key, payload: UnsignedPayload, presign: time.Minute,
			tamper: func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=60", "X-Amz-Expires=600", 1)
			}, want: ErrSignatureMismatch},
		{name: "s3 presigned expired", service: "s3", method: "GET", path: s3Key, payload: UnsignedPayload, presign: time.Minute,
			want: ErrRequestExpired},
		{name: "s3 presigned signature cut", service: "s3", method: "GET", path: s3Key, payload: UnsignedPayload, presign: time.Hour,
			tamper: func(r *http.Request) { r.URL.RawQuery = r.URL.RawQuery[:len(r.URL.RawQuery)-2] }, want: ErrIncompleteSignature},
		{name: "wrong region", service: "sqs", method: "GET", path: "/",
			cfg: func(c *Config) { c.Region = "eu-west-1" }, want: ErrInvalidScope},
		{name: "wrong service", service: "sqs", method: "GET", path: "/",
			cfg: func(c *Config) { c.Service = "s3" }, want: ErrInvalidScope},
		{name: "skewed clock", service: "sqs", method: "GET", path: "/",
			cfg: func(c *Config) { c.Now = fixedClock(now.Add(16 * time.Minute)) }, want: ErrRequestTimeTooSkewed},
		{name: "sqs body too large", service: "sqs", method: "POST", path: "/", body: form, header: formHeader,
			cfg: func(c *Config) { c.MaxBodyBytes = 16 }, want: ErrBodyTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, now) })
	}
}

// setBody replaces the body of a client request.
func setBody(r *http.Request, s string) {
	r.Body = io.NopCloser(strings.NewReader(s))
	r.GetBody = nil
	r.ContentLength = int64(len(s))
}

// TestSDKLargeBodyCheckedWhileRead sends an S3 PUT whose body is larger
// than MaxBodyBytes: Verify does not buffer it and the handler's read
// fails at the end when the body does not match the signed hash.
func TestSDKLargeBodyCheckedWhileRead(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 11, 12, 0, time.UTC)
	body := strings.Repeat("0123456789", 1000)
	small := func(c *Config) { c.MaxBodyBytes = 100 }
	path := "/bucket/big"
	t.Run("matches", func(t *testing.T) {
		sdkCase{service: "s3", method: "PUT", path: path, body: body, setContentSHA: true, cfg: small}.run(t, now)
	})
	t.Run("tampered", func(t *testing.T) {
		sdkCase{service: "s3", method: "PUT", path: path, body: body, setContentSHA: true, cfg: small,
			tamper:      func(r *http.Request) { setBody(r, strings.Replace(body, "9", "8", 1)) },
			wantBodyErr: ErrPayloadHashMismatch}.run(t, now)
	})
}

// TestPresignMatchesSDK checks that Presign makes the signature the SDK
// makes for the same presigned URL, and that Verify accepts both.
func TestPresignMatchesSDK(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 11, 12, 0, time.UTC)
	for _, service := range []string{"s3", "sqs"} {
		t.Run(service, func(t *testing.T) {
			raw := "https://blobd.example:9000/bucket/" + s3Escape("a b/ሴ+c") + "?response-content-type=text%2Fplain"
			r, err := http.NewRequest("GET", raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			mine, err := Presign(r, SignOptions{
				Credential: Credential{AccessKeyID: sdkKeyID, SecretAccessKey: sdkSecret},
				Region:     "us-east-1", Service: service, Time: now, Expires: 90 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			sr := r.Clone(context.Background())
			q := sr.URL.Query()
			q.Set("X-Amz-Expires", "90")
			sr.URL.RawQuery = q.Encode()
			payload := emptySHA256
			if service == "s3" {
				payload = UnsignedPayload
			}
			theirs, _, err := awsv4.NewSigner(func(o *awsv4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" }).
				PresignHTTP(context.Background(), sdkCreds, sr, payload, service, "us-east-1", now)
			if err != nil {
				t.Fatal(err)
			}
			tu, err := url.Parse(theirs)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := mine.Query().Get(paramSignature), tu.Query().Get(paramSignature); got != want {
				t.Fatalf("Presign signature %s, the SDK's %s\nmine:   %s\ntheirs: %s", got, want, mine, theirs)
			}
			v, err := NewVerifier(Config{
				Credentials: StaticCredentials{sdkKeyID: {SecretAccessKey: sdkSecret}},
				Service:     service, Now: fixedClock(now.Add(time.Minute)),
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range []*url.URL{mine, tu} {
				req := httptest.NewRequest("GET", u.String(), nil)
				if _, err := v.Verify(req); err != nil {
					t.Fatalf("Verify(%s): %v", u, err)
				}
			}
		})
	}
}

// TestSignVerifiedBySDKForm checks Sign against the SDK's signer on a
// request where both sign the same headers: the signatures must be equal.
func TestSignMatchesSDK(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 11, 12, 0, time.UTC)
	for _, service := range []string{"s3", "sqs"} {
		t.Run(service, func(t *testing.T) {
			body := "Action=ListQueues&Version=2012-11-05"
			mk := func() *http.Request {
				r, err := http.NewRequest("POST", "http://127.0.0.1:9324/q/"+s3Escape("a b+c")+"?x=1%202", bytes.NewReader([]byte(body)))
				if err != nil {
					t.Fatal(err)
				}
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("X-Amz-Target", "  a   b ")
				return r
			}
			mine := mk()
			if err := Sign(mine, SignOptions{Credential: Credential{AccessKeyID: sdkKeyID, SecretAccessKey: sdkSecret},
				Region: "us-east-1", Service: service, Time: now}); err != nil {
				t.Fatal(err)
			}
			theirs := mk()
			theirs.ContentLength = 0 // keep the SDK from signing content-length, which Sign does not sign
			theirs.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte(body)))
			if err := awsv4.NewSigner(func(o *awsv4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" }).
				SignHTTP(context.Background(), sdkCreds, theirs, sha256Hex([]byte(body)), service, "us-east-1", now); err != nil {
				t.Fatal(err)
			}
			if got, want := mine.Header.Get("Authorization"), theirs.Header.Get("Authorization"); got != want {
				t.Fatalf("Sign:\n%s\nSDK:\n%s", got, want)
			}
		})
	}
}
