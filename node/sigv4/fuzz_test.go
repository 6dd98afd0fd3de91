package sigv4

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// FuzzParseAuthorization checks that parseAuthorization never panics, that
// every failure wraps a sentinel, and that what it accepts has its three
// parts and parses back the same once printed in the canonical layout.
func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20261207/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	f.Add("AWS4-HMAC-SHA256 Credential=a,SignedHeaders=b,Signature=c")
	f.Add("AWS4-HMAC-SHA256 Signature=c, Credential=a=b, SignedHeaders=host")
	f.Add("AWS4-HMAC-SHA256 ,,,")
	f.Add("AWS AKID:sig")
	f.Add("")
	f.Fuzz(func(t *testing.T, h string) {
		a, err := parseAuthorization(h)
		if err != nil {
			if !errors.Is(err, ErrIncompleteSignature) && !errors.Is(err, ErrUnsupportedAlgorithm) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if a.Credential == "" || a.SignedHeaders == "" || a.Signature == "" {
			t.Fatalf("accepted %q with an empty part: %+v", h, a)
		}
		for _, v := range []string{a.Credential, a.SignedHeaders, a.Signature} {
			if strings.Contains(v, ",") {
				t.Fatalf("part %q holds a comma", v)
			}
		}
		again := algorithm + " Credential=" + a.Credential + ", SignedHeaders=" + a.SignedHeaders + ", Signature=" + a.Signature
		b, err := parseAuthorization(again)
		if err != nil || b != a {
			t.Fatalf("%q parsed to %+v, printed %q, parsed again to %+v, %v", h, a, again, b, err)
		}
		if s, err := parseCredential(a.Credential); err == nil && s.AccessKeyID+"/"+s.String() != a.Credential {
			t.Fatalf("credential %q parsed to %+v", a.Credential, s)
		}
		if names, err := parseSignedHeaders(a.SignedHeaders); err == nil && strings.Join(names, ";") != a.SignedHeaders {
			t.Fatalf("signed headers %q parsed to %q", a.SignedHeaders, names)
		}
	})
}

// FuzzChunkedReader feeds the aws-chunked decoder arbitrary bodies, seeded
// with good ones. It must never panic; every failure must wrap
// ErrMalformedChunk or ErrSignatureMismatch; and a body it accepts whole
// must be exactly the good encoding of what it decoded (a forger without
// the key gets nothing through).
func FuzzChunkedReader(f *testing.F) {
	key := deriveKey("secret", "20261207", "us-east-1", "s3")
	const date, scope, seed = "20261207T101112Z", "20261207/us-east-1/s3/aws4_request", "5eed"
	good, _ := encodeChunked(key, date, scope, seed, [][]byte{[]byte("hello "), []byte("world"), {}})
	f.Add(good, int64(11))
	f.Add(good, int64(-1))
	one, _ := encodeChunked(key, date, scope, seed, [][]byte{{}})
	f.Add(one, int64(0))
	f.Add([]byte("0;chunk-signature="+strings.Repeat("0", 64)+"\r\n\r\n"), int64(-1))
	f.Add([]byte("10000;chunk-signature="+strings.Repeat("a", 64)+"\r\n"), int64(-1))
	f.Fuzz(func(t *testing.T, body []byte, decoded int64) {
		if decoded < -1 {
			decoded = -1
		}
		r := newChunkedReader(io.NopCloser(bytes.NewReader(body)), key, date, scope, seed, decoded)
		out, err := io.ReadAll(r)
		if err != nil {
			if !errors.Is(err, ErrMalformedChunk) && !errors.Is(err, ErrSignatureMismatch) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if decoded >= 0 && int64(len(out)) != decoded {
			t.Fatalf("decoded %d bytes, declared %d", len(out), decoded)
		}
		// Accepted: re-encode the decoded bytes chunk by chunk and compare.
		var chunks [][]byte
		rest := body
		for {
			line, after, _ := bytes.Cut(rest, []byte("\r\n"))
			size, _, err := parseChunkHeader(append(line, '\r', '\n'))
			if err != nil {
				t.Fatalf("accepted a body with a bad header %q", line)
			}
			chunks = append(chunks, after[:size])
			rest = after[size+2:]
			if size == 0 {
				break
			}
		}
		again, _ := encodeChunked(key, date, scope, seed, chunks)
		if !bytes.Equal(again, body) {
			t.Fatalf("accepted %q, whose good encoding is %q", body, again)
		}
	})
}

// FuzzCanonicalQuery checks that the canonical query string is a fixed
// point: canonicalising it again changes nothing.
func FuzzCanonicalQuery(f *testing.F) {
	for _, s := range []string{"", "a=1&b=2", "b=2&a=1&a=0", "k=a+b%2B", "x&y=&=z", "%zz=1&k=100%", "ሴ=bar&X-Amz-Signature=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c := canonicalQuery(raw, "")
		if again := canonicalQuery(c, ""); again != c {
			t.Fatalf("canonicalQuery(%q) = %q, again %q", raw, c, again)
		}
	})
}

// FuzzCanonicalURI checks that canonical paths are fixed points for S3 and
// only ever hold unreserved characters, '/' and %XX.
func FuzzCanonicalURI(f *testing.F) {
	for _, s := range []string{"/", "/a b", "/a%20b", "//x/./../y", "/ሴ", "/%zz", "/a+b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		for _, s3 := range []bool{true, false} {
			c := canonicalURI(p, s3)
			if !strings.HasPrefix(c, "/") {
				t.Fatalf("canonicalURI(%q, %v) = %q, not absolute", p, s3, c)
			}
			for i := 0; i < len(c); i++ {
				if b := c[i]; b == '%' {
					if i+2 >= len(c) || !strings.ContainsRune("0123456789ABCDEF", rune(c[i+1])) || !strings.ContainsRune("0123456789ABCDEF", rune(c[i+2])) {
						t.Fatalf("canonicalURI(%q, %v) = %q: bad escape at %d", p, s3, c, i)
					}
				} else if uriEncode(string(b), true) != string(b) {
					t.Fatalf("canonicalURI(%q, %v) = %q holds %q", p, s3, c, b)
				}
			}
			if s3 {
				if again := canonicalURI(c, true); again != c {
					t.Fatalf("canonicalURI(%q, s3) = %q, again %q", p, c, again)
				}
			}
		}
	})
}
