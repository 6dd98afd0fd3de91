package sigv4

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	testNow  = time.Date(2026, 12, 7, 10, 11, 12, 0, time.UTC)
	testCred = Credential{AccessKeyID: "AKIDTEST", SecretAccessKey: "test/secret"}
)

func testVerifier(t *testing.T, mod func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{
		Credentials: StaticCredentials{testCred.AccessKeyID: {SecretAccessKey: testCred.SecretAccessKey, Principal: "alice"}},
		Service:     "sqs",
		Region:      "us-east-1",
		Now:         fixedClock(testNow),
	}
	if mod != nil {
		mod(&cfg)
	}
	v, err := NewVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// signed returns a form POST to queued signed by Sign at t.
func signed(t *testing.T, service string, at time.Time, body string, mod func(*SignOptions)) *http.Request {
	t.Helper()
	r := httptest.NewRequest("POST", "http://127.0.0.1:19600/000000000000/q1", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	o := SignOptions{Credential: testCred, Region: "us-east-1", Service: service, Time: at}
	if mod != nil {
		mod(&o)
	}
	if err := Sign(r, o); err != nil {
		t.Fatal(err)
	}
	return r
}

// unclaimed drops X-Amz-Content-Sha256 and signs again without it, as
// awscli signs SQS requests: the verifier must hash the body itself.
func unclaimed(t *testing.T, r *http.Request, at time.Time) *http.Request {
	t.Helper()
	body, _ := io.ReadAll(r.Body)
	r.Body = newBytesBody(body)
	r.Header.Del("X-Amz-Content-Sha256")
	r.Header.Del("Authorization")
	signedList := "content-type;host;x-amz-date"
	sc := scope{testCred.AccessKeyID, at.Format(dateFormat), "us-east-1", "sqs"}
	creq := canonicalRequest(r.Method, canonicalURI(wirePath(r), false), canonicalQuery(r.URL.RawQuery, ""),
		canonicalHeaders(r, strings.Split(signedList, ";")), signedList, hashHex(body))
	sig := hexHMAC(deriveKey(testCred.SecretAccessKey, sc.Date, sc.Region, sc.Service), stringToSign(at.Format(timeFormat), sc.String(), creq))
	r.Header.Set("Authorization", algorithm+" Credential="+testCred.AccessKeyID+"/"+sc.String()+", SignedHeaders="+signedList+", Signature="+sig)
	return r
}

func TestVerify(t *testing.T) {
	const form = "Action=SendMessage&MessageBody=hi"
	cases := []struct {
		name string
		cfg  func(*Config)
		req  func(t *testing.T) *http.Request
		want error
	}{
		{"signed by Sign", nil, func(t *testing.T) *http.Request { return signed(t, "sqs", testNow, form, nil) }, nil},
		{"body hashed by the verifier", nil, func(t *testing.T) *http.Request {
			return unclaimed(t, signed(t, "sqs", testNow, form, nil), testNow)
		}, nil},
		{"not signed", nil, func(t *testing.T) *http.Request {
			return httptest.NewRequest("POST", "http://h/", strings.NewReader(form))
		}, ErrMissingAuth},
		{"two authorization headers", nil, func(t *testing.T) *http.Request {
			r := signed(t, "sqs", testNow, form, nil)
			r.Header.Add("Authorization", r.Header.Get("Authorization"))
			return r
		}, ErrIncompleteSignature},
		{"header and query", nil, func(t *testing.T) *http.Request {
			r := signed(t, "sqs", testNow, form, nil)
			r.URL.RawQuery = "X-Amz-Signature=00"
			return r
		}, ErrIncompleteSignature},
		{"short signature", nil, func(t *testing.T) *http.Request {
			r := signed(t, "sqs", testNow, form, nil)
			r.Header.Set("Authorization", r.Header.Get("Authorization")[:len(r.Header.Get("Authorization"))-2])
			return r
		}, ErrIncompleteSignature},
		{"host not signed", nil, func(t *testing.T) *http.Request {
			r := signed(t, "sqs", testNow, form, nil)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
			return r
		}, ErrIncompleteSignature},
		{"no date", nil, func(t *testing.T) *http.Request {
			r := signed(t, "sqs", testNow, form, nil)
			r.Header.Del("X-Amz-Date")
			return r
		}, ErrIncompleteSignature},
		{"bad date", nil, func(t *testing.T) *http.Request {
			r := signed(t, "sqs", testNow, form, nil)
			r.Header.Set("X-Amz-Date", "2026-12-07T10:11:12Z")
			return r
		}, ErrIncompleteSignature},
		{"scope date not the request's", nil, func(t *testing.T) *http.Request {
			r := signed(t, "sqs", testNow, form, nil)
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/20261207/", "/20261206/", 1))
			return r
		}, ErrInvalidScope},
		{"15 minutes late", nil, func(t *testing.T) *http.Request { return signed(t, "sqs", testNow.Add(-15*time.Minute), form, nil) }, nil},
		{"15 minutes early", nil, func(t *testing.T) *http.Request { return signed(t, "sqs", testNow.Add(15*time.Minute), form, nil) }, nil},
		{"too late", nil, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow.Add(-15*time.Minute-time.Second), form, nil)
		}, ErrRequestTimeTooSkewed},
		{"too early", nil, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow.Add(15*time.Minute+time.Second), form, nil)
		}, ErrRequestTimeTooSkewed},
		{"skew configured", func(c *Config) { c.MaxSkew = time.Minute }, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow.Add(-2*time.Minute), form, nil)
		}, ErrRequestTimeTooSkewed},
		{"unknown key", nil, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow, form, func(o *SignOptions) { o.Credential.AccessKeyID = "AKIDOTHER" })
		}, ErrUnknownAccessKey},
		{"wrong secret", nil, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow, form, func(o *SignOptions) { o.Credential.SecretAccessKey = "other" })
		}, ErrSignatureMismatch},
		{"token required, none sent", func(c *Config) {
			c.Credentials = StaticCredentials{testCred.AccessKeyID: {SecretAccessKey: testCred.SecretAccessKey, SessionToken: "tok"}}
		}, func(t *testing.T) *http.Request { return signed(t, "sqs", testNow, form, nil) }, ErrInvalidSessionToken},
		{"token required and sent", func(c *Config) {
			c.Credentials = StaticCredentials{testCred.AccessKeyID: {SecretAccessKey: testCred.SecretAccessKey, SessionToken: "tok"}}
		}, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow, form, func(o *SignOptions) { o.Credential.SessionToken = "tok" })
		}, nil},
		{"token not configured: ignored", nil, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow, form, func(o *SignOptions) { o.Credential.SessionToken = "anything" })
		}, nil},
		{"claimed hash of another body", nil, func(t *testing.T) *http.Request {
			r := signed(t, "sqs", testNow, form, func(o *SignOptions) { o.PayloadHash = hashHex([]byte("other")) })
			return r
		}, ErrPayloadHashMismatch},
		{"claimed hash not hex", nil, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow, form, func(o *SignOptions) { o.PayloadHash = "STREAMING-UNSIGNED-PAYLOAD-TRAILER" })
		}, ErrUnsupportedPayload},
		{"unsigned payload not allowed", nil, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow, form, func(o *SignOptions) { o.PayloadHash = UnsignedPayload })
		}, ErrUnsupportedPayload},
		{"unsigned payload allowed", func(c *Config) { c.AllowUnsignedPayload = true }, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow, form, func(o *SignOptions) { o.PayloadHash = UnsignedPayload })
		}, nil},
		{"unsigned trailer allowed", func(c *Config) { c.AllowUnsignedPayload = true }, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow, form, func(o *SignOptions) { o.PayloadHash = StreamingUnsignedTrailer })
		}, nil},
		{"streaming not allowed", nil, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow, form, func(o *SignOptions) { o.PayloadHash = StreamingPayload })
		}, ErrUnsupportedPayload},
		{"body too large", func(c *Config) { c.MaxBodyBytes = 10 }, func(t *testing.T) *http.Request {
			return unclaimed(t, signed(t, "sqs", testNow, form, nil), testNow)
		}, ErrBodyTooLarge},
		{"body too large, length unknown", func(c *Config) { c.MaxBodyBytes = 10 }, func(t *testing.T) *http.Request {
			r := unclaimed(t, signed(t, "sqs", testNow, form, nil), testNow)
			r.ContentLength = -1
			return r
		}, ErrBodyTooLarge},
		{"any region", func(c *Config) { c.Region = "" }, func(t *testing.T) *http.Request {
			return signed(t, "sqs", testNow, form, func(o *SignOptions) { o.Region = "eu-central-1" })
		}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.req(t)
			p, err := testVerifier(t, c.cfg).Verify(r)
			if c.want != nil {
				if !errors.Is(err, c.want) {
					t.Fatalf("Verify: %v, want %v", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if p.Name != "alice" && p.Name != testCred.AccessKeyID {
				t.Errorf("principal %+v", p)
			}
			if b, err := io.ReadAll(r.Body); err != nil || string(b) != form {
				t.Errorf("body after Verify %q, %v", b, err)
			}
		})
	}
}

// TestVerifyDateHeader verifies a request dated by Date instead of
// X-Amz-Date: the string to sign carries the date in ISO 8601 basic form.
func TestVerifyDateHeader(t *testing.T) {
	r := httptest.NewRequest("GET", "http://h.example/?Action=ListQueues", nil)
	r.Header.Set("Date", testNow.Format(http.TimeFormat))
	sc := scope{testCred.AccessKeyID, "20261207", "us-east-1", "sqs"}
	creq := canonicalRequest("GET", "/", "Action=ListQueues", canonicalHeaders(r, []string{"date", "host"}), "date;host", emptySHA256)
	sig := hexHMAC(deriveKey(testCred.SecretAccessKey, sc.Date, sc.Region, sc.Service), stringToSign("20261207T101112Z", sc.String(), creq))
	r.Header.Set("Authorization", algorithm+" Credential=AKIDTEST/"+sc.String()+", SignedHeaders=date;host, Signature="+sig)
	if _, err := testVerifier(t, nil).Verify(r); err != nil {
		t.Fatal(err)
	}
}

// TestMismatchError checks what a mismatch tells: the canonical request and
// string to sign the server computed.
func TestMismatchError(t *testing.T) {
	r := signed(t, "sqs", testNow, "a=1", func(o *SignOptions) { o.Credential.SecretAccessKey = "wrong" })
	_, err := testVerifier(t, nil).Verify(r)
	var m *MismatchError
	if !errors.As(err, &m) || !errors.Is(err, ErrSignatureMismatch) {
		t.Fatalf("Verify: %v, want a *MismatchError", err)
	}
	wantCreq := "POST\n/000000000000/q1\n\ncontent-type:application/x-www-form-urlencoded\nhost:127.0.0.1:19600\n" +
		"x-amz-content-sha256:" + hashHex([]byte("a=1")) + "\nx-amz-date:20261207T101112Z\n\n" +
		"content-type;host;x-amz-content-sha256;x-amz-date\n" + hashHex([]byte("a=1"))
	if m.CanonicalRequest != wantCreq {
		t.Errorf("canonical request\n%s\nwant\n%s", m.CanonicalRequest, wantCreq)
	}
	wantSTS := "AWS4-HMAC-SHA256\n20261207T101112Z\n20261207/us-east-1/sqs/aws4_request\n" + hashHex([]byte(wantCreq))
	if m.StringToSign != wantSTS || len(m.Provided) != 64 || m.Chunk != 0 {
		t.Errorf("mismatch %+v", m)
	}
}

// TestPresignVerify presigns with Presign and checks expiry rules.
func TestPresignVerify(t *testing.T) {
	for _, c := range []struct {
		name    string
		expires time.Duration
		signed  time.Time
		want    error
	}{
		{"fresh", time.Hour, testNow.Add(-time.Minute), nil},
		{"last second", time.Hour, testNow.Add(-time.Hour), nil},
		{"expired", time.Hour, testNow.Add(-time.Hour - time.Second), ErrRequestExpired},
		{"seven days", MaxPresignExpiry, testNow.Add(-MaxPresignExpiry + time.Second), nil},
		{"future within skew", time.Hour, testNow.Add(15 * time.Minute), nil},
		{"future", time.Hour, testNow.Add(16 * time.Minute), ErrRequestTimeTooSkewed},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, service := range []string{"s3", "sqs"} {
				r := httptest.NewRequest("GET", "http://blobd.example/bucket/a%20b?versionId=1", nil)
				u, err := Presign(r, SignOptions{Credential: testCred, Region: "us-east-1", Service: service, Time: c.signed, Expires: c.expires})
				if err != nil {
					t.Fatal(err)
				}
				_, err = testVerifier(t, func(cfg *Config) { cfg.Service = service }).Verify(httptest.NewRequest("GET", u.String(), nil))
				if !errors.Is(err, c.want) {
					t.Fatalf("%s: Verify: %v, want %v", service, err, c.want)
				}
			}
		})
	}
	r := httptest.NewRequest("GET", "http://blobd.example/b/k", nil)
	for _, d := range []time.Duration{MaxPresignExpiry + time.Second, -time.Second, 1500 * time.Millisecond} {
		if _, err := Presign(r, SignOptions{Credential: testCred, Region: "us-east-1", Service: "s3", Expires: d}); err == nil {
			t.Errorf("Presign with expiry %s: no error", d)
		}
	}
	for _, exp := range []string{"0", "604801", "-1", "+5", "x", "1.5"} {
		u, err := Presign(r, SignOptions{Credential: testCred, Region: "us-east-1", Service: "s3", Time: testNow})
		if err != nil {
			t.Fatal(err)
		}
		u.RawQuery = strings.Replace(u.RawQuery, "X-Amz-Expires=900", "X-Amz-Expires="+exp, 1)
		if _, err := testVerifier(t, func(c *Config) { c.Service = "s3" }).Verify(httptest.NewRequest("GET", u.String(), nil)); !errors.Is(err, ErrIncompleteSignature) {
			t.Errorf("X-Amz-Expires=%s: %v, want ErrIncompleteSignature", exp, err)
		}
	}
}

// failingCredentials fails every lookup with a store error.
type failingCredentials struct{}

var errStore = errors.New("store down")

func (failingCredentials) Lookup(context.Context, string) (Credential, error) {
	return Credential{}, errStore
}

func TestVerifyLookupError(t *testing.T) {
	_, err := testVerifier(t, func(c *Config) { c.Credentials = failingCredentials{} }).Verify(signed(t, "sqs", testNow, "", nil))
	if !errors.Is(err, errStore) || errors.Is(err, ErrUnknownAccessKey) {
		t.Fatalf("Verify: %v, want the store's error", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if _, err := NewVerifier(Config{}); err == nil {
		t.Fatal("NewVerifier(Config{}): no error")
	}
	if _, err := NewVerifier(Config{Credentials: StaticCredentials{}, Service: "sqs", MaxSkew: -1}); err == nil {
		t.Fatal("negative skew: no error")
	}
	cfg := DefaultConfig("sqs")
	cfg.Credentials = StaticCredentials{}
	if err := cfg.Validate(); err != nil || cfg.MaxSkew != DefaultMaxSkew || cfg.MaxBodyBytes != DefaultMaxBodyBytes {
		t.Fatalf("DefaultConfig: %+v, %v", cfg, err)
	}
}

// TestVerifyConcurrent verifies from many goroutines at once (for -race):
// the key cache is shared.
func TestVerifyConcurrent(t *testing.T) {
	v := testVerifier(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 8; i++ {
		var reqs []*http.Request
		for j := 0; j < 8; j++ {
			reqs = append(reqs, signed(t, "sqs", testNow.Add(-time.Duration(j)*time.Minute), "a=1", nil))
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, r := range reqs {
				if _, err := v.Verify(r); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
