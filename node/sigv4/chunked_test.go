package sigv4

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// encodeChunked returns chunks as an aws-chunked body signed from seed, the
// way an S3 client makes it (test helper: this package has no encoder).
func encodeChunked(key []byte, amzDate, scope, seed string, chunks [][]byte) ([]byte, []string) {
	var b bytes.Buffer
	var sigs []string
	prefix := chunkAlgorithm + "\n" + amzDate + "\n" + scope + "\n"
	prev := seed
	for _, c := range chunks {
		sig := hexHMAC(key, chunkStringToSign(prefix, prev, c))
		fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", len(c), sig)
		b.Write(c)
		b.WriteString("\r\n")
		sigs = append(sigs, sig)
		prev = sig
	}
	return b.Bytes(), sigs
}

// s3ChunkedExample is the chunked PUT of AWS's S3 API reference
// (sigv4-streaming): 66560 bytes of 'a' in chunks of 65536 and 1024.
func s3ChunkedExample(body []byte) *http.Request {
	r := httptest.NewRequest("PUT", "http://s3.amazonaws.com/examplebucket/chunkObject.txt", bytes.NewReader(body))
	r.Host = "s3.amazonaws.com"
	r.Header.Set("X-Amz-Date", "20130524T000000Z")
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
	r.Header.Set("X-Amz-Content-Sha256", StreamingPayload)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.Header.Set("Content-Length", "66824")
	r.ContentLength = 66824
	return r
}

func s3ExampleVerifier(t *testing.T, streaming bool) *Verifier {
	t.Helper()
	v, err := NewVerifier(Config{
		Credentials:           StaticCredentials{"AKIAIOSFODNN7EXAMPLE": {SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}},
		Service:               "s3",
		Region:                "us-east-1",
		Now:                   fixedClock(time.Date(2013, 5, 24, 0, 5, 0, 0, time.UTC)),
		AllowStreamingPayload: streaming,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestChunkedS3Example verifies the chunked upload of AWS's S3 reference:
// the seed signature and the three chunk signatures it publishes.
func TestChunkedS3Example(t *testing.T) {
	key := deriveKey("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524", "us-east-1", "s3")
	chunks := [][]byte{bytes.Repeat([]byte("a"), 65536), bytes.Repeat([]byte("a"), 1024), {}}
	body, sigs := encodeChunked(key, "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
		"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", chunks)
	want := []string{
		"ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
		"0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
		"b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
	}
	for i := range want {
		if sigs[i] != want[i] {
			t.Fatalf("chunk %d signature %s, want %s", i+1, sigs[i], want[i])
		}
	}
	if len(body) != 66824 {
		t.Fatalf("encoded length %d, want 66824", len(body))
	}

	r := s3ChunkedExample(body)
	p, err := s3ExampleVerifier(t, true).Verify(r)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if p.PayloadHash != StreamingPayload || r.ContentLength != 66560 {
		t.Fatalf("principal %+v, content length %d", p, r.ContentLength)
	}
	got, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatalf("reading decoded body: %v", err)
	}
	if !bytes.Equal(got, bytes.Repeat([]byte("a"), 66560)) {
		t.Fatalf("decoded %d bytes, not 66560 'a's", len(got))
	}

	if _, err := s3ExampleVerifier(t, false).Verify(s3ChunkedExample(body)); !errors.Is(err, ErrUnsupportedPayload) {
		t.Fatalf("Verify with streaming not allowed: %v, want ErrUnsupportedPayload", err)
	}
}

// TestChunkedReaderErrors feeds the decoder broken bodies.
func TestChunkedReaderErrors(t *testing.T) {
	key := deriveKey("secret", "20261207", "us-east-1", "s3")
	const date, scope, seed = "20261207T101112Z", "20261207/us-east-1/s3/aws4_request", "0000000000000000000000000000000000000000000000000000000000000000"
	good, _ := encodeChunked(key, date, scope, seed, [][]byte{[]byte("hello "), []byte("world"), {}})
	// The frames of good: "hello ", "world", the last one.
	frames := bytes.SplitAfter(good, []byte(" \r\n"))
	rest := bytes.SplitAfter(frames[1], []byte("world\r\n"))
	frames = [][]byte{frames[0], rest[0], rest[1]}
	if len(frames) != 3 || !bytes.HasPrefix(frames[1], []byte("5;")) || !bytes.HasPrefix(frames[2], []byte("0;")) {
		t.Fatalf("frames %q", frames)
	}
	header := len("6;chunk-signature=") + 64 + 2
	cases := []struct {
		name    string
		body    []byte
		decoded int64
		want    error // nil: decodes to "hello world"
		wantOut string
	}{
		{"good", good, 11, nil, "hello world"},
		{"good, length unknown", good, -1, nil, "hello world"},
		{"data changed", bytes.Replace(good, []byte("hello"), []byte("jello"), 1), -1, ErrSignatureMismatch, ""},
		{"chunks reordered", bytes.Join([][]byte{frames[1], frames[0], frames[2]}, nil), -1, ErrSignatureMismatch, ""},
		{"last chunk missing", good[:bytes.LastIndex(good, []byte("0;chunk"))], -1, ErrMalformedChunk, "hello world"},
		{"cut inside data", good[:header+3], -1, ErrMalformedChunk, ""},
		{"trailing bytes", append(append([]byte{}, good...), 'x'), -1, ErrMalformedChunk, "hello world"},
		{"decoded length short", good, 10, ErrMalformedChunk, "hello "},
		{"decoded length long", good, 12, ErrMalformedChunk, "hello world"},
		{"no signature", []byte("6\r\nhello \r\n"), -1, ErrMalformedChunk, ""},
		{"bad size", []byte("zz;chunk-signature=" + strings.Repeat("0", 64) + "\r\n"), -1, ErrMalformedChunk, ""},
		{"negative size", []byte("-1;chunk-signature=" + strings.Repeat("0", 64) + "\r\n"), -1, ErrMalformedChunk, ""},
		{"huge size", []byte(strconv.FormatInt(MaxChunkBytes+1, 16) + ";chunk-signature=" + strings.Repeat("0", 64) + "\r\n"), -1, ErrMalformedChunk, ""},
		{"no CRLF after data", bytes.Replace(good, []byte("hello \r\n"), []byte("hello \n\n"), 1), -1, ErrMalformedChunk, ""},
		{"long header line", []byte(strings.Repeat("1", 5000)), -1, ErrMalformedChunk, ""},
		{"empty", nil, -1, ErrMalformedChunk, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newChunkedReader(io.NopCloser(bytes.NewReader(c.body)), key, date, scope, seed, c.decoded)
			out, err := io.ReadAll(r)
			if c.want == nil {
				if err != nil || string(out) != "hello world" {
					t.Fatalf("decoded %q, %v", out, err)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
			if string(out) != c.wantOut {
				t.Fatalf("handed out %q before failing, want %q", out, c.wantOut)
			}
			var m *MismatchError
			if errors.As(err, &m) && (m.Chunk == 0 || m.StringToSign == "") {
				t.Fatalf("mismatch error without chunk details: %+v", m)
			}
		})
	}
}

// TestChunkedSmallReads reads a decoded body one byte at a time.
func TestChunkedSmallReads(t *testing.T) {
	key := deriveKey("secret", "20261207", "us-east-1", "s3")
	const date, scope, seed = "20261207T101112Z", "20261207/us-east-1/s3/aws4_request", "ab"
	var chunks [][]byte
	var want []byte
	for i := 0; i < 5; i++ {
		c := bytes.Repeat([]byte{byte('a' + i)}, 100*i+1)
		chunks, want = append(chunks, c), append(want, c...)
	}
	body, _ := encodeChunked(key, date, scope, seed, append(chunks, nil))
	r := newChunkedReader(io.NopCloser(bytes.NewReader(body)), key, date, scope, seed, int64(len(want)))
	got, err := io.ReadAll(io.LimitReader(oneByteReader{r}, 1<<20))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("got %d bytes, %v; want %d", len(got), err, len(want))
	}
}

type oneByteReader struct{ r io.Reader }

func (o oneByteReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1]
	}
	return o.r.Read(p)
}
