package sigv4

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
)

func TestURIEncode(t *testing.T) {
	for _, c := range []struct {
		in, path, query string
	}{
		{"", "", ""},
		{"AZaz09-._~", "AZaz09-._~", "AZaz09-._~"},
		{"a b", "a%20b", "a%20b"},
		{"a/b", "a/b", "a%2Fb"},
		{"+*%=&?#,;:@$!'()", "%2B%2A%25%3D%26%3F%23%2C%3B%3A%40%24%21%27%28%29", "%2B%2A%25%3D%26%3F%23%2C%3B%3A%40%24%21%27%28%29"},
		{"ሴ", "%E1%88%B4", "%E1%88%B4"},
		{"\x00\xff", "%00%FF", "%00%FF"},
	} {
		if got := uriEncode(c.in, true); got != c.path {
			t.Errorf("uriEncode(%q, path) = %q, want %q", c.in, got, c.path)
		}
		if got := uriEncode(c.in, false); got != c.query {
			t.Errorf("uriEncode(%q, query) = %q, want %q", c.in, got, c.query)
		}
	}
}

func TestCanonicalURI(t *testing.T) {
	for _, c := range []struct {
		wire, s3, other string
	}{
		{"", "/", "/"},
		{"/", "/", "/"},
		{"/a/b", "/a/b", "/a/b"},
		{"/a b/", "/a%20b/", "/a%20b/"},
		{"/a%20b", "/a%20b", "/a%2520b"},                 // S3 encodes once; others encode the sent form again
		{"/k%2Bx+y", "/k%2Bx%2By", "/k%252Bx%2By"},       // '+' in a path is a plus
		{"/ሴ", "/%E1%88%B4", "/%E1%88%B4"},               // raw UTF-8 as sent
		{"/%E1%88%B4", "/%E1%88%B4", "/%25E1%2588%25B4"}, // escaped UTF-8 as sent
		{"/a/./b/../c", "/a/./b/../c", "/a/c"},           // only others normalise
		{"//a//b//", "//a//b//", "/a/b/"},
		{"/a/..", "/a/..", "/"},
		{"/..", "/..", "/"},
		{"/a/.", "/a/.", "/a"},
		{"/a%2Fb", "/a/b", "/a%252Fb"}, // S3 cannot tell an encoded slash from a slash
		{"/bad%zz", "/bad%25zz", "/bad%25zz"},
	} {
		if got := canonicalURI(c.wire, true); got != c.s3 {
			t.Errorf("canonicalURI(%q, s3) = %q, want %q", c.wire, got, c.s3)
		}
		if got := canonicalURI(c.wire, false); got != c.other {
			t.Errorf("canonicalURI(%q, other) = %q, want %q", c.wire, got, c.other)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	for _, c := range []struct {
		raw, skip, want string
	}{
		{"", "", ""},
		{"a=1", "", "a=1"},
		{"b=2&a=1", "", "a=1&b=2"},
		{"a=2&a=1&a=10", "", "a=1&a=10&a=2"},
		{"B=1&a=1", "", "B=1&a=1"}, // by byte: upper case first
		{"a", "", "a="},
		{"a=&b", "", "a=&b="},
		{"&&a=1&", "", "a=1"},
		{"k=a+b", "", "k=a%20b"}, // '+' in a query is a space
		{"k=a%2Bb", "", "k=a%2Bb"},
		{"k=a%2bb", "", "k=a%2Bb"}, // hex case made upper
		{"k=%7E%2D", "", "k=~-"},   // unreserved decoded
		{"k=a/b", "", "k=a%2Fb"},
		{"k=ሴ", "", "k=%E1%88%B4"},
		{"k=100%", "", "k=100%25"}, // invalid escape kept literally
		{"prefix=a%20b&list-type=2", "", "list-type=2&prefix=a%20b"},
		{"Param-3=x&Param=y&%E1%88%B4=z", "", "%E1%88%B4=z&Param=y&Param-3=x"},
		{"X-Amz-Signature=abc&X-Amz-Date=1", paramSignature, "X-Amz-Date=1"},
	} {
		if got := canonicalQuery(c.raw, c.skip); got != c.want {
			t.Errorf("canonicalQuery(%q, %q) = %q, want %q", c.raw, c.skip, got, c.want)
		}
	}
}

func TestCanonicalHeaders(t *testing.T) {
	r := &http.Request{
		Host:             "example.com:8080",
		URL:              &url.URL{Path: "/"},
		Header:           http.Header{},
		ContentLength:    5,
		Body:             http.NoBody,
		TransferEncoding: []string{"chunked"},
	}
	r.Header.Add("X-Amz-Meta-A", "  a   b  c ")
	r.Header.Add("X-Amz-Meta-A", "second")
	r.Header.Add("X-Amz-Meta-Tab", "a\t\tb")
	r.Header.Add("X-Empty", "")
	got := canonicalHeaders(r, []string{"content-length", "host", "transfer-encoding", "x-amz-meta-a", "x-amz-meta-tab", "x-empty", "x-missing"})
	want := "content-length:5\nhost:example.com:8080\ntransfer-encoding:chunked\nx-amz-meta-a:a b c,second\nx-amz-meta-tab:a\t\tb\nx-empty:\nx-missing:\n"
	if got != want {
		t.Errorf("canonicalHeaders =\n%q\nwant\n%q", got, want)
	}
	r.Header.Set("Content-Length", "7")
	r.Host = ""
	r.URL.Host = "from-url"
	if got, want := canonicalHeaders(r, []string{"content-length", "host"}), "content-length:7\nhost:from-url\n"; got != want {
		t.Errorf("canonicalHeaders = %q, want %q", got, want)
	}
}

func TestWirePath(t *testing.T) {
	for _, c := range []struct {
		requestURI string
		url        string
		want       string
	}{
		{"/a%20b/c?x=1", "/other", "/a%20b/c"},
		{"/a,b", "/a,b", "/a,b"},
		{"http://h/p%2Fq?x", "/", "/p%2Fq"},
		{"", "/a%2Fb", "/a%2Fb"},
		{"", "/a b", "/a%20b"},
		{"", "", ""},
	} {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		r := &http.Request{RequestURI: c.requestURI, URL: u}
		if got := wirePath(r); got != c.want {
			t.Errorf("wirePath(%q, %q) = %q, want %q", c.requestURI, c.url, got, c.want)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	const cred, sh, sig = "AKID/20261207/us-east-1/sqs/aws4_request", "host;x-amz-date", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	ok := authorization{cred, sh, sig}
	for _, c := range []struct {
		in   string
		want authorization
		err  error
	}{
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + sh + ", Signature=" + sig, ok, nil},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ",SignedHeaders=" + sh + ",Signature=" + sig, ok, nil},
		{"  AWS4-HMAC-SHA256 Signature=" + sig + " ,  Credential=" + cred + ",SignedHeaders=" + sh + "  ", ok, nil},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + sh, authorization{}, ErrIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + sh + ", Signature=", authorization{}, ErrIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", Credential=" + cred + ", SignedHeaders=" + sh + ", Signature=" + sig, authorization{}, ErrIncompleteSignature},
		{"AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + sh + ", Signature=" + sig + ", Extra=1", authorization{}, ErrIncompleteSignature},
		{"AWS4-HMAC-SHA256", authorization{}, ErrIncompleteSignature},
		{"AWS AKID:c2lnbmF0dXJl", authorization{}, ErrUnsupportedAlgorithm},
		{"AWS4-ECDSA-P256-SHA256 Credential=x", authorization{}, ErrUnsupportedAlgorithm},
		{"", authorization{}, ErrUnsupportedAlgorithm},
	} {
		got, err := parseAuthorization(c.in)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("parseAuthorization(%q): %v, want %v", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("parseAuthorization(%q) = %+v, %v", c.in, got, err)
		}
	}
}

func TestParseCredentialAndSignedHeaders(t *testing.T) {
	s, err := parseCredential("AKID/20261207/us-east-1/sqs/aws4_request")
	if err != nil || s != (scope{"AKID", "20261207", "us-east-1", "sqs"}) || s.String() != "20261207/us-east-1/sqs/aws4_request" {
		t.Fatalf("parseCredential = %+v, %v", s, err)
	}
	for _, bad := range []string{
		"AKID/20261207/us-east-1/sqs", "/20261207/us-east-1/sqs/aws4_request", "AKID/2026120/us-east-1/sqs/aws4_request",
		"AKID/20261307/us-east-1/sqs/aws4_request", "AKID/20261207//sqs/aws4_request", "AKID/20261207/us-east-1/sqs/aws5_request",
	} {
		if _, err := parseCredential(bad); !errors.Is(err, ErrIncompleteSignature) {
			t.Errorf("parseCredential(%q): %v", bad, err)
		}
	}
	if h, err := parseSignedHeaders("content-type;host;x-amz-date"); err != nil || len(h) != 3 {
		t.Errorf("parseSignedHeaders = %v, %v", h, err)
	}
	for _, bad := range []string{"x-amz-date", "host;;x-amz-date", "host;host", "Host;x-amz-date", "host;x amz", ""} {
		if _, err := parseSignedHeaders(bad); !errors.Is(err, ErrIncompleteSignature) {
			t.Errorf("parseSignedHeaders(%q): %v", bad, err)
		}
	}
}
