package s3

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/sigv4"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

func TestBuckets(t *testing.T) {
	s := newTestServer(t, nil)
	resp, body := s.do(t, "PUT", "/photos", nil, nil)
	wantStatus(t, resp, body, 200, "")
	if resp.Header.Get("Location") != "/photos" {
		t.Fatalf("Location %q", resp.Header.Get("Location"))
	}
	resp, body = s.do(t, "PUT", "/photos", nil, nil)
	wantStatus(t, resp, body, 409, CodeBucketAlreadyOwnedByYou)
	if _, err := s.backend.CreateBucket(t.Context(), "theirs", "someone-else", 0); err != nil {
		t.Fatal(err)
	}
	resp, body = s.do(t, "PUT", "/theirs", nil, nil)
	wantStatus(t, resp, body, 409, CodeBucketAlreadyExists)
	resp, body = s.do(t, "PUT", "/Bad_Name", nil, nil)
	wantStatus(t, resp, body, 400, CodeInvalidBucketName)
	cfg := []byte(`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>`)
	resp, body = s.do(t, "PUT", "/located", cfg, nil)
	wantStatus(t, resp, body, 200, "")
	cfg = []byte(`<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`)
	resp, body = s.do(t, "PUT", "/elsewhere", cfg, nil)
	wantStatus(t, resp, body, 400, CodeIllegalLocationConstraint)
	resp, body = s.do(t, "PUT", "/badxml", []byte("<CreateBucketConfiguration>"), nil)
	wantStatus(t, resp, body, 400, CodeMalformedXML)

	resp, body = s.do(t, "GET", "/", nil, nil)
	wantStatus(t, resp, body, 200, "")
	var lb listBucketsResult
	if err := xml.Unmarshal([]byte(body), &lb); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range lb.Buckets {
		names = append(names, b.Name)
	}
	if strings.Join(names, ",") != "located,photos,theirs" || lb.Owner.ID != "tester" {
		t.Fatalf("ListBuckets: %s", body)
	}

	resp, body = s.do(t, "HEAD", "/photos", nil, nil)
	wantStatus(t, resp, body, 200, "")
	if resp.Header.Get("x-amz-bucket-region") != testRegion {
		t.Fatalf("x-amz-bucket-region %q", resp.Header.Get("x-amz-bucket-region"))
	}
	resp, body = s.do(t, "HEAD", "/nope", nil, nil)
	wantStatus(t, resp, body, 404, "")
	if body != "" {
		t.Fatalf("HEAD error with a body: %q", body)
	}
	resp, body = s.do(t, "GET", "/photos?location", nil, nil)
	wantStatus(t, resp, body, 200, "")
	if !strings.Contains(body, "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"></LocationConstraint>") {
		t.Fatalf("GetBucketLocation: %s", body)
	}
	resp, body = s.do(t, "GET", "/photos?versioning", nil, nil)
	wantStatus(t, resp, body, 200, "")
	resp, body = s.do(t, "GET", "/photos?acl", nil, nil)
	wantStatus(t, resp, body, 200, "")
	if !strings.Contains(body, "FULL_CONTROL") {
		t.Fatalf("GetBucketAcl: %s", body)
	}
	resp, body = s.do(t, "GET", "/photos?policy", nil, nil)
	wantStatus(t, resp, body, 404, "NoSuchBucketPolicy")
	resp, body = s.do(t, "GET", "/photos?object-lock", nil, nil)
	wantStatus(t, resp, body, 501, CodeNotImplemented)

	s.do(t, "PUT", "/photos/a.jpg", []byte("x"), nil)
	resp, body = s.do(t, "DELETE", "/photos", nil, nil)
	wantStatus(t, resp, body, 409, CodeBucketNotEmpty)
	s.do(t, "DELETE", "/photos/a.jpg", nil, nil)
	resp, body = s.do(t, "DELETE", "/photos", nil, nil)
	wantStatus(t, resp, body, 204, "")
	resp, body = s.do(t, "DELETE", "/photos", nil, nil)
	wantStatus(t, resp, body, 404, CodeNoSuchBucket)
	if !strings.Contains(body, "<Resource>/photos</Resource>") || !strings.Contains(body, "<RequestId>") {
		t.Fatalf("error body: %s", body)
	}
	resp, body = s.do(t, "POST", "/", nil, nil)
	wantStatus(t, resp, body, 405, CodeMethodNotAllowed)
}

func TestPutGetHead(t *testing.T) {
	s := newTestServer(t, nil)
	s.do(t, "PUT", "/bkt", nil, nil)
	data := []byte("hello, blob world")
	hdr := map[string]string{
		"Content-Type": "text/plain", "Cache-Control": "max-age=60", "Content-Disposition": "inline",
		"Content-Encoding": "identity", "Expires": "Thu, 01 Dec 2044 16:00:00 GMT",
		"X-Amz-Meta-Owner": "ana", "X-Amz-Meta-Camera": "x100", "Content-MD5": md5b64(data),
	}
	resp, body := s.do(t, "PUT", "/bkt/dir/greeting.txt", data, hdr)
	wantStatus(t, resp, body, 200, "")
	if resp.Header.Get("ETag") != quote(md5hex(data)) {
		t.Fatalf("ETag %q", resp.Header.Get("ETag"))
	}
	resp, body = s.do(t, "GET", "/bkt/dir/greeting.txt", nil, nil)
	wantStatus(t, resp, body, 200, "")
	if body != string(data) {
		t.Fatalf("GET body %q", body)
	}
	for k, v := range map[string]string{"Content-Type": "text/plain", "Cache-Control": "max-age=60", "Content-Disposition": "inline",
		"Content-Encoding": "identity", "Expires": "Thu, 01 Dec 2044 16:00:00 GMT", "x-amz-meta-owner": "ana", "x-amz-meta-camera": "x100",
		"ETag": quote(md5hex(data)), "Content-Length": fmt.Sprint(len(data)), "Accept-Ranges": "bytes"} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("GET %s = %q, want %q", k, got, v)
		}
	}
	if resp.Header.Get("Last-Modified") == "" || resp.Header.Get("x-amz-storage-class") != "" {
		t.Errorf("Last-Modified %q, x-amz-storage-class %q", resp.Header.Get("Last-Modified"), resp.Header.Get("x-amz-storage-class"))
	}
	resp, body = s.do(t, "HEAD", "/bkt/dir/greeting.txt", nil, nil)
	wantStatus(t, resp, body, 200, "")
	if resp.ContentLength != int64(len(data)) || body != "" || resp.Header.Get("x-amz-meta-owner") != "ana" {
		t.Fatalf("HEAD: length %d body %q headers %v", resp.ContentLength, body, resp.Header)
	}
	// response-* overrides.
	resp, _ = s.do(t, "GET", "/bkt/dir/greeting.txt?response-content-type=application/json&response-content-disposition=attachment", nil, nil)
	if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Content-Disposition") != "attachment" {
		t.Fatalf("overrides: %v", resp.Header)
	}
	// An object without Content-Type is binary/octet-stream.
	s.do(t, "PUT", "/bkt/raw", []byte{1, 2, 3}, nil)
	resp, _ = s.do(t, "HEAD", "/bkt/raw", nil, nil)
	if resp.Header.Get("Content-Type") != "binary/octet-stream" {
		t.Fatalf("default Content-Type %q", resp.Header.Get("Content-Type"))
	}

	resp, body = s.do(t, "PUT", "/bkt/bad-md5", data, map[string]string{"Content-MD5": md5b64([]byte("other"))})
	wantStatus(t, resp, body, 400, CodeBadDigest)
	resp, body = s.do(t, "PUT", "/bkt/bad-md5", data, map[string]string{"Content-MD5": "not base64!"})
	wantStatus(t, resp, body, 400, CodeInvalidDigest)
	resp, body = s.do(t, "GET", "/bkt/bad-md5", nil, nil)
	wantStatus(t, resp, body, 404, CodeNoSuchKey)
	resp, body = s.do(t, "HEAD", "/bkt/bad-md5", nil, nil)
	wantStatus(t, resp, body, 404, "")
	resp, body = s.do(t, "GET", "/nobucket/k", nil, nil)
	wantStatus(t, resp, body, 404, CodeNoSuchBucket)
	resp, body = s.do(t, "PUT", "/bkt/"+strings.Repeat("k", 1025), data, nil)
	wantStatus(t, resp, body, 400, CodeKeyTooLong)
	resp, body = s.do(t, "PUT", "/bkt/big-meta", data, map[string]string{"X-Amz-Meta-Big": strings.Repeat("m", 2100)})
	wantStatus(t, resp, body, 400, CodeMetadataTooLarge)
	resp, body = s.do(t, "PUT", "/bkt/cls", data, map[string]string{"X-Amz-Storage-Class": "ONEZONE_IA"})
	wantStatus(t, resp, body, 400, CodeInvalidStorageClass)

	// Conditional writes.
	resp, body = s.do(t, "PUT", "/bkt/dir/greeting.txt", data, map[string]string{"If-None-Match": "*"})
	wantStatus(t, resp, body, 412, CodePreconditionFailed)
	resp, body = s.do(t, "PUT", "/bkt/new", data, map[string]string{"If-None-Match": "*"})
	wantStatus(t, resp, body, 200, "")
	resp, body = s.do(t, "PUT", "/bkt/new", []byte("v2"), map[string]string{"If-Match": `"` + md5hex([]byte("other")) + `"`})
	wantStatus(t, resp, body, 412, CodePreconditionFailed)
	resp, body = s.do(t, "PUT", "/bkt/new", []byte("v2"), map[string]string{"If-Match": quote(md5hex(data))})
	wantStatus(t, resp, body, 200, "")
	resp, body = s.do(t, "PUT", "/bkt/absent", []byte("v2"), map[string]string{"If-Match": quote(md5hex(data))})
	wantStatus(t, resp, body, 404, CodeNoSuchKey)
	resp, body = s.do(t, "PUT", "/bkt/absent", []byte("v2"), map[string]string{"If-None-Match": `"abc"`})
	wantStatus(t, resp, body, 501, CodeNotImplemented)

	// Storage classes.
	resp, body = s.do(t, "PUT", "/bkt/cool", data, map[string]string{"X-Amz-Storage-Class": "STANDARD_IA"})
	wantStatus(t, resp, body, 200, "")
	resp, _ = s.do(t, "HEAD", "/bkt/cool", nil, nil)
	if resp.Header.Get("x-amz-storage-class") != "STANDARD_IA" {
		t.Fatalf("storage class %q", resp.Header.Get("x-amz-storage-class"))
	}

	// Virtual-hosted style: the bucket is the host's first label.
	resp, body = s.do(t, "GET", "/dir/greeting.txt", nil, map[string]string{"Host": "bkt.localhost"})
	wantStatus(t, resp, body, 200, "")
	if body != string(data) {
		t.Fatalf("virtual-hosted GET %q", body)
	}
	resp, body = s.do(t, "GET", "/?list-type=2", nil, map[string]string{"Host": "bkt.localhost:9000"})
	wantStatus(t, resp, body, 200, "")
	if !strings.Contains(body, "<Key>dir/greeting.txt</Key>") {
		t.Fatalf("virtual-hosted list: %s", body)
	}
}

func TestRangesAndConditions(t *testing.T) {
	s := newTestServer(t, nil)
	s.do(t, "PUT", "/bkt", nil, nil)
	data := []byte("0123456789")
	s.do(t, "PUT", "/bkt/k", data, nil)
	s.do(t, "PUT", "/bkt/empty", []byte{}, nil)
	etag := quote(md5hex(data))
	for _, tc := range []struct {
		rng, body, cr string
		status        int
	}{
		{"bytes=0-3", "0123", "bytes 0-3/10", 206},
		{"bytes=5-", "56789", "bytes 5-9/10", 206},
		{"bytes=-3", "789", "bytes 7-9/10", 206},
		{"bytes=-30", "0123456789", "bytes 0-9/10", 206},
		{"bytes=8-100", "89", "bytes 8-9/10", 206},
		{"bytes=3-1", "0123456789", "", 200}, // invalid: ignored
		{"bytes=0-1,4-5", "0123456789", "", 200},
		{"items=0-1", "0123456789", "", 200},
	} {
		resp, body := s.do(t, "GET", "/bkt/k", nil, map[string]string{"Range": tc.rng})
		wantStatus(t, resp, body, tc.status, "")
		if body != tc.body || resp.Header.Get("Content-Range") != tc.cr {
			t.Errorf("Range %s: %d %q Content-Range %q", tc.rng, resp.StatusCode, body, resp.Header.Get("Content-Range"))
		}
	}
	for _, rng := range []string{"bytes=10-", "bytes=20-30", "bytes=-0"} {
		resp, body := s.do(t, "GET", "/bkt/k", nil, map[string]string{"Range": rng})
		wantStatus(t, resp, body, 416, CodeInvalidRange)
		if resp.Header.Get("Content-Range") != "bytes */10" {
			t.Errorf("Range %s: Content-Range %q", rng, resp.Header.Get("Content-Range"))
		}
	}
	resp, body := s.do(t, "GET", "/bkt/empty", nil, map[string]string{"Range": "bytes=-5"})
	wantStatus(t, resp, body, 200, "")

	rec, _ := s.backend.HeadObject(t.Context(), "bkt", "k")
	mod := time.Unix(0, rec.GetCreatedUnixNanos()).UTC()
	before, after := mod.Add(-time.Hour).Format(http.TimeFormat), mod.Add(time.Hour).Format(http.TimeFormat)
	for _, tc := range []struct {
		name   string
		hdr    map[string]string
		status int
	}{
		{"if-match ok", map[string]string{"If-Match": etag}, 200},
		{"if-match star", map[string]string{"If-Match": "*"}, 200},
		{"if-match list", map[string]string{"If-Match": `"x", ` + etag}, 200},
		{"if-match fails", map[string]string{"If-Match": `"x"`}, 412},
		{"if-none-match matches", map[string]string{"If-None-Match": etag}, 304},
		{"if-none-match other", map[string]string{"If-None-Match": `"x"`}, 200},
		{"if-modified-since later", map[string]string{"If-Modified-Since": after}, 304},
		{"if-modified-since earlier", map[string]string{"If-Modified-Since": before}, 200},
		{"if-unmodified-since earlier", map[string]string{"If-Unmodified-Since": before}, 412},
		{"if-unmodified-since later", map[string]string{"If-Unmodified-Since": after}, 200},
		// S3: If-Match true overrides If-Unmodified-Since false.
		{"if-match over if-unmodified-since", map[string]string{"If-Match": etag, "If-Unmodified-Since": before}, 200},
		// If-None-Match false (no match) overrides If-Modified-Since.
		{"if-none-match over if-modified-since", map[string]string{"If-None-Match": `"x"`, "If-Modified-Since": after}, 200},
		{"412 before 304", map[string]string{"If-Match": `"x"`, "If-None-Match": etag}, 412},
		{"conditions before range", map[string]string{"If-Match": `"x"`, "Range": "bytes=50-"}, 412},
		{"304 before range", map[string]string{"If-None-Match": etag, "Range": "bytes=-3"}, 304},
	} {
		for _, m := range []string{"GET", "HEAD"} {
			resp, body := s.do(t, m, "/bkt/k", nil, tc.hdr)
			if resp.StatusCode != tc.status {
				t.Errorf("%s %s: %d, want %d: %s", m, tc.name, resp.StatusCode, tc.status, body)
			}
			if tc.status == 304 && (body != "" || resp.Header.Get("ETag") != etag) {
				t.Errorf("%s %s: 304 with body %q etag %q", m, tc.name, body, resp.Header.Get("ETag"))
			}
		}
	}
}

func TestDeleteObjects(t *testing.T) {
	s := newTestServer(t, nil)
	s.do(t, "PUT", "/bkt", nil, nil)
	for _, k := range []string{"a", "b", "c"} {
		s.do(t, "PUT", "/bkt/"+k, []byte(k), nil)
	}
	resp, body := s.do(t, "DELETE", "/bkt/a", nil, nil)
	wantStatus(t, resp, body, 204, "")
	resp, body = s.do(t, "DELETE", "/bkt/a", nil, nil) // idempotent
	wantStatus(t, resp, body, 204, "")
	req := []byte(`<Delete><Object><Key>b</Key></Object><Object><Key>missing</Key></Object><Object><Key>c</Key><VersionId>v9</VersionId></Object></Delete>`)
	resp, body = s.do(t, "POST", "/bkt?delete", req, nil)
	wantStatus(t, resp, body, 200, "")
	var res deleteResult
	if err := xml.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Deleted) != 2 || res.Deleted[0].Key != "b" || res.Deleted[1].Key != "missing" || len(res.Errors) != 1 || res.Errors[0].Key != "c" {
		t.Fatalf("DeleteObjects: %s", body)
	}
	req = []byte(`<Delete><Quiet>true</Quiet><Object><Key>c</Key></Object></Delete>`)
	resp, body = s.do(t, "POST", "/bkt?delete", req, nil)
	wantStatus(t, resp, body, 200, "")
	if strings.Contains(body, "<Deleted>") {
		t.Fatalf("quiet DeleteObjects: %s", body)
	}
	if _, err := s.backend.HeadObject(t.Context(), "bkt", "c"); err == nil {
		t.Fatal("c survived")
	}
	resp, body = s.do(t, "POST", "/bkt?delete", []byte(`<Delete></Delete>`), nil)
	wantStatus(t, resp, body, 400, CodeMalformedXML)
	resp, body = s.do(t, "POST", "/bkt?delete", []byte(`<Delete><Object>`), nil)
	wantStatus(t, resp, body, 400, CodeMalformedXML)
	resp, body = s.do(t, "POST", "/nobkt?delete", []byte(`<Delete><Object><Key>x</Key></Object></Delete>`), nil)
	wantStatus(t, resp, body, 404, CodeNoSuchBucket)
	big := bytes.Repeat([]byte("x"), DefaultMaxXMLBytes+1)
	resp, body = s.do(t, "POST", "/bkt?delete", big, nil)
	wantStatus(t, resp, body, 400, CodeMaxMessageLengthExceeded)
}

func TestCopyObject(t *testing.T) {
	s := newTestServer(t, nil)
	s.do(t, "PUT", "/bkt", nil, nil)
	s.do(t, "PUT", "/cpy", nil, nil)
	data := []byte("original")
	s.do(t, "PUT", "/bkt/src key", data, map[string]string{"Content-Type": "text/plain", "X-Amz-Meta-A": "1"})
	resp, body := s.do(t, "PUT", "/cpy/dst", nil, map[string]string{"X-Amz-Copy-Source": "/bkt/" + url.PathEscape("src key")})
	wantStatus(t, resp, body, 200, "")
	var cr copyResult
	if err := xml.Unmarshal([]byte(body), &cr); err != nil || cr.ETag != quote(md5hex(data)) || cr.XMLName.Local != "CopyObjectResult" {
		t.Fatalf("CopyObjectResult %s (%v)", body, err)
	}
	resp, body = s.do(t, "GET", "/cpy/dst", nil, nil)
	if body != string(data) || resp.Header.Get("Content-Type") != "text/plain" || resp.Header.Get("x-amz-meta-a") != "1" {
		t.Fatalf("COPY directive: %q %v", body, resp.Header)
	}
	resp, body = s.do(t, "PUT", "/cpy/dst2", nil, map[string]string{"X-Amz-Copy-Source": "bkt/src%20key", "X-Amz-Metadata-Directive": "REPLACE",
		"Content-Type": "image/png", "X-Amz-Meta-B": "2", "X-Amz-Storage-Class": "STANDARD_IA"})
	wantStatus(t, resp, body, 200, "")
	resp, _ = s.do(t, "HEAD", "/cpy/dst2", nil, nil)
	if resp.Header.Get("Content-Type") != "image/png" || resp.Header.Get("x-amz-meta-a") != "" || resp.Header.Get("x-amz-meta-b") != "2" ||
		resp.Header.Get("x-amz-storage-class") != "STANDARD_IA" {
		t.Fatalf("REPLACE directive: %v", resp.Header)
	}
	resp, body = s.do(t, "PUT", "/bkt/src%20key", nil, map[string]string{"X-Amz-Copy-Source": "/bkt/src%20key"})
	wantStatus(t, resp, body, 400, CodeInvalidRequest)
	resp, body = s.do(t, "PUT", "/cpy/x", nil, map[string]string{"X-Amz-Copy-Source": "/bkt/missing"})
	wantStatus(t, resp, body, 404, CodeNoSuchKey)
	resp, body = s.do(t, "PUT", "/cpy/x", nil, map[string]string{"X-Amz-Copy-Source": "/bkt"})
	wantStatus(t, resp, body, 400, CodeInvalidArgument)
	resp, body = s.do(t, "PUT", "/cpy/x", nil, map[string]string{"X-Amz-Copy-Source": "/bkt/src%20key", "X-Amz-Copy-Source-If-Match": `"nope"`})
	wantStatus(t, resp, body, 412, CodePreconditionFailed)
	resp, body = s.do(t, "PUT", "/cpy/x", nil, map[string]string{"X-Amz-Copy-Source": "/bkt/src%20key", "X-Amz-Copy-Source-If-None-Match": quote(md5hex(data))})
	wantStatus(t, resp, body, 412, CodePreconditionFailed)
	resp, body = s.do(t, "PUT", "/cpy/x", nil, map[string]string{"X-Amz-Copy-Source": "/bkt/src%20key", "X-Amz-Metadata-Directive": "MERGE"})
	wantStatus(t, resp, body, 400, CodeInvalidArgument)
}

func TestListObjects(t *testing.T) {
	s := newTestServer(t, nil)
	s.do(t, "PUT", "/bkt", nil, nil)
	keys := []string{"a.txt", "photos/2024/x.jpg", "photos/2024/y.jpg", "photos/2025/z.jpg", "photos/top.jpg", "with space+plus.txt", "z"}
	for _, k := range keys {
		s.do(t, "PUT", "/bkt/"+url.PathEscape(k), []byte(k), nil)
	}
	list := func(q string) listBucketResult {
		t.Helper()
		resp, body := s.do(t, "GET", "/bkt?"+q, nil, nil)
		wantStatus(t, resp, body, 200, "")
		var r listBucketResult
		if err := xml.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	names := func(r listBucketResult) string {
		var out []string
		for _, c := range r.Contents {
			out = append(out, c.Key)
		}
		for _, p := range r.CommonPrefixes {
			out = append(out, p.Prefix+"/")
		}
		return strings.Join(out, ",")
	}
	r := list("list-type=2")
	if len(r.Contents) != len(keys) || *r.KeyCount != len(keys) || r.IsTruncated || r.Contents[0].StorageClass != "STANDARD" || r.Contents[0].Owner != nil {
		t.Fatalf("list all: %+v", r)
	}
	r = list("list-type=2&delimiter=/")
	if names(r) != "a.txt,with space+plus.txt,z,photos//" {
		t.Fatalf("delimiter: %s", names(r))
	}
	r = list("list-type=2&delimiter=/&prefix=photos/")
	if names(r) != "photos/top.jpg,photos/2024//,photos/2025//" {
		t.Fatalf("prefix+delimiter: %s", names(r))
	}
	r = list("list-type=2&start-after=photos/2024/y.jpg")
	if names(r) != "photos/2025/z.jpg,photos/top.jpg,with space+plus.txt,z" || r.StartAfter != "photos/2024/y.jpg" {
		t.Fatalf("start-after: %s", names(r))
	}
	r = list("list-type=2&fetch-owner=true&max-keys=1")
	if r.Contents[0].Owner == nil || r.Contents[0].Owner.ID != "tester" || !r.IsTruncated || r.NextContinuationToken == "" {
		t.Fatalf("fetch-owner: %+v", r)
	}
	// Paging with continuation tokens across a delimiter.
	var all []string
	tok := ""
	for page := 0; ; page++ {
		q := "list-type=2&delimiter=/&max-keys=2"
		if tok != "" {
			q += "&continuation-token=" + url.QueryEscape(tok)
		}
		r = list(q)
		all = append(all, names(r))
		if !r.IsTruncated {
			break
		}
		tok = r.NextContinuationToken
		if page > 5 {
			t.Fatal("paging does not end")
		}
	}
	if strings.Join(all, "|") != "a.txt,photos//|with space+plus.txt,z" {
		t.Fatalf("pages: %v", all)
	}
	r = list("list-type=2&encoding-type=url&prefix=with")
	if r.Contents[0].Key != "with+space%2Bplus.txt" || r.EncodingType != "url" {
		t.Fatalf("encoding-type=url: %+v", r.Contents)
	}
	resp, body := s.do(t, "GET", "/bkt?list-type=2&continuation-token=!!", nil, nil)
	wantStatus(t, resp, body, 400, CodeInvalidArgument)
	resp, body = s.do(t, "GET", "/bkt?list-type=2&max-keys=x", nil, nil)
	wantStatus(t, resp, body, 400, CodeInvalidArgument)
	resp, body = s.do(t, "GET", "/bkt?encoding-type=base64", nil, nil)
	wantStatus(t, resp, body, 400, CodeInvalidArgument)
	r = list("list-type=2&max-keys=0")
	if len(r.Contents) != 0 || *r.KeyCount != 0 {
		t.Fatalf("max-keys=0: %+v", r)
	}

	// v1: Marker, NextMarker with a delimiter, Owner always.
	r = list("delimiter=/&max-keys=2")
	if names(r) != "a.txt,photos//" || !r.IsTruncated || r.NextMarker != "photos/" || r.Contents[0].Owner == nil {
		t.Fatalf("v1 page 1: %s %+v", names(r), r)
	}
	r = list("delimiter=/&max-keys=2&marker=" + url.QueryEscape(r.NextMarker))
	if names(r) != "with space+plus.txt,z" || r.IsTruncated {
		t.Fatalf("v1 page 2: %s", names(r))
	}
	r = list("marker=photos/top.jpg")
	if names(r) != "with space+plus.txt,z" || *r.Marker != "photos/top.jpg" {
		t.Fatalf("v1 marker: %s", names(r))
	}
	resp, body = s.do(t, "GET", "/missing?list-type=2", nil, nil)
	wantStatus(t, resp, body, 404, CodeNoSuchBucket)
}

func TestMultipart(t *testing.T) {
	s := newTestServer(t, nil)
	s.do(t, "PUT", "/bkt", nil, nil)
	resp, body := s.do(t, "POST", "/bkt/big?uploads", nil, map[string]string{"Content-Type": "video/mp4", "X-Amz-Meta-Take": "3"})
	wantStatus(t, resp, body, 200, "")
	var ir initiateResult
	if err := xml.Unmarshal([]byte(body), &ir); err != nil || ir.UploadID == "" || ir.Key != "big" {
		t.Fatalf("initiate: %s", body)
	}
	id := ir.UploadID
	p1 := bytes.Repeat([]byte("a"), meta.MinPartSize)
	p2 := []byte("tail")
	put := func(n int, data []byte) string {
		t.Helper()
		resp, body := s.do(t, "PUT", fmt.Sprintf("/bkt/big?partNumber=%d&uploadId=%s", n, id), data, nil)
		wantStatus(t, resp, body, 200, "")
		return resp.Header.Get("ETag")
	}
	e1, e2 := put(1, p1), put(2, p2)
	if e1 != quote(md5hex(p1)) {
		t.Fatalf("part etag %s", e1)
	}
	resp, body = s.do(t, "PUT", "/bkt/big?partNumber=0&uploadId="+id, p2, nil)
	wantStatus(t, resp, body, 400, CodeInvalidArgument)
	resp, body = s.do(t, "PUT", "/bkt/big?partNumber=10001&uploadId="+id, p2, nil)
	wantStatus(t, resp, body, 400, CodeInvalidArgument)
	resp, body = s.do(t, "PUT", "/bkt/big?partNumber=1&uploadId=nope", p2, nil)
	wantStatus(t, resp, body, 404, CodeNoSuchUpload)
	resp, body = s.do(t, "PUT", "/bkt/big?partNumber=3&uploadId="+id, p2, map[string]string{"Content-MD5": md5b64([]byte("x"))})
	wantStatus(t, resp, body, 400, CodeBadDigest)

	resp, body = s.do(t, "GET", "/bkt/big?uploadId="+id+"&max-parts=1", nil, nil)
	wantStatus(t, resp, body, 200, "")
	var lp listPartsResult
	if err := xml.Unmarshal([]byte(body), &lp); err != nil || len(lp.Parts) != 1 || !lp.IsTruncated || lp.NextPartNumberMarker != 1 || lp.Parts[0].Size != int64(len(p1)) {
		t.Fatalf("ListParts: %s", body)
	}
	resp, body = s.do(t, "GET", "/bkt/big?uploadId="+id+"&part-number-marker=1", nil, nil)
	lp = listPartsResult{}
	if err := xml.Unmarshal([]byte(body), &lp); err != nil || len(lp.Parts) != 1 || lp.Parts[0].PartNumber != 2 || lp.IsTruncated {
		t.Fatalf("ListParts after 1: %s", body)
	}
	resp, body = s.do(t, "GET", "/bkt?uploads", nil, nil)
	wantStatus(t, resp, body, 200, "")
	if !strings.Contains(body, "<UploadId>"+id+"</UploadId>") {
		t.Fatalf("ListMultipartUploads: %s", body)
	}

	complete := func(parts ...string) (*http.Response, string) {
		var b strings.Builder
		b.WriteString("<CompleteMultipartUpload>")
		for i := 0; i+1 < len(parts); i += 2 {
			fmt.Fprintf(&b, "<Part><PartNumber>%s</PartNumber><ETag>%s</ETag></Part>", parts[i], parts[i+1])
		}
		b.WriteString("</CompleteMultipartUpload>")
		return s.do(t, "POST", "/bkt/big?uploadId="+id, []byte(b.String()), nil)
	}
	resp, body = complete("2", e2, "1", e1)
	wantStatus(t, resp, body, 400, CodeInvalidPartOrder)
	resp, body = complete("1", e1, "3", e2)
	wantStatus(t, resp, body, 400, CodeInvalidPart)
	if !strings.Contains(body, "<PartNumber>3</PartNumber>") {
		t.Fatalf("InvalidPart names no part: %s", body)
	}
	resp, body = complete("1", `"zz"`)
	wantStatus(t, resp, body, 400, CodeInvalidPart)
	resp, body = complete()
	wantStatus(t, resp, body, 400, CodeMalformedXML)
	// A small part that is not the last.
	small := put(3, []byte("small"))
	resp, body = complete("2", e2, "3", small)
	wantStatus(t, resp, body, 400, CodeEntityTooSmall)

	resp, body = complete("1", e1, "2", e2)
	wantStatus(t, resp, body, 200, "")
	want, _ := meta.MultipartETag([]string{e1, e2})
	var cr completeResult
	if err := xml.Unmarshal([]byte(body), &cr); err != nil || cr.ETag != quote(want) || cr.Key != "big" {
		t.Fatalf("complete: %s (want etag %s)", body, want)
	}
	resp, body = s.do(t, "GET", "/bkt/big", nil, map[string]string{"Range": "bytes=-4"})
	wantStatus(t, resp, body, 206, "")
	if body != "tail" || resp.Header.Get("Content-Type") != "video/mp4" || resp.Header.Get("x-amz-meta-take") != "3" || resp.Header.Get("x-amz-mp-parts-count") != "2" {
		t.Fatalf("completed object: %q %v", body, resp.Header)
	}
	resp, body = complete("1", e1, "2", e2)
	wantStatus(t, resp, body, 404, CodeNoSuchUpload)

	// UploadPartCopy and abort.
	resp, body = s.do(t, "POST", "/bkt/copy?uploads", nil, nil)
	xml.Unmarshal([]byte(body), &ir)
	resp, body = s.do(t, "PUT", "/bkt/copy?partNumber=1&uploadId="+ir.UploadID, nil, map[string]string{"X-Amz-Copy-Source": "/bkt/big", "X-Amz-Copy-Source-Range": "bytes=0-9"})
	wantStatus(t, resp, body, 200, "")
	var pr copyResult
	if err := xml.Unmarshal([]byte(body), &pr); err != nil || pr.ETag != quote(md5hex(p1[:10])) || pr.XMLName.Local != "CopyPartResult" {
		t.Fatalf("UploadPartCopy: %s", body)
	}
	resp, body = s.do(t, "PUT", "/bkt/copy?partNumber=2&uploadId="+ir.UploadID, nil, map[string]string{"X-Amz-Copy-Source": "/bkt/big", "X-Amz-Copy-Source-Range": "bytes=0-99999999"})
	wantStatus(t, resp, body, 400, CodeInvalidRange)
	resp, body = s.do(t, "DELETE", "/bkt/copy?uploadId="+ir.UploadID, nil, nil)
	wantStatus(t, resp, body, 204, "")
	resp, body = s.do(t, "DELETE", "/bkt/copy?uploadId="+ir.UploadID, nil, nil)
	wantStatus(t, resp, body, 404, CodeNoSuchUpload)
}

func TestLifecycle(t *testing.T) {
	s := newTestServer(t, nil)
	s.do(t, "PUT", "/bkt", nil, nil)
	resp, body := s.do(t, "GET", "/bkt?lifecycle", nil, nil)
	wantStatus(t, resp, body, 404, CodeNoSuchLifecycleConfiguration)
	cfg := `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>
    <Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>
    <Transition><Days>90</Days><StorageClass>GLACIER</StorageClass></Transition>
    <Expiration><Days>365</Days></Expiration></Rule>
  <Rule><ID>mpu</ID><Prefix></Prefix><Status>Disabled</Status>
    <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
</LifecycleConfiguration>`
	resp, body = s.do(t, "PUT", "/bkt?lifecycle", []byte(cfg), nil)
	wantStatus(t, resp, body, 200, "")
	b, _ := s.backend.Bucket(t.Context(), "bkt")
	r := b.GetRules()
	if len(r) != 2 || r[0].GetPrefix() != "logs/" || r[0].GetTransitionCoolDays() != 30 || r[0].GetTransitionArchiveDays() != 90 ||
		r[0].GetExpirationDays() != 365 || !r[1].GetDisabled() || r[1].GetAbortIncompleteMultipartDays() != 7 {
		t.Fatalf("rules: %v", r)
	}
	resp, body = s.do(t, "GET", "/bkt?lifecycle", nil, nil)
	wantStatus(t, resp, body, 200, "")
	var got lifecycleConfiguration
	if err := xml.Unmarshal([]byte(body), &got); err != nil || len(got.Rules) != 2 || got.Rules[0].Transitions[1].StorageClass != "GLACIER" ||
		*got.Rules[0].Filter.Prefix != "logs/" || got.Rules[1].Status != "Disabled" {
		t.Fatalf("GetBucketLifecycleConfiguration: %s", body)
	}
	for _, bad := range []struct{ xml, code string }{
		{`<LifecycleConfiguration><Rule><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>DEEP</StorageClass></Transition></Rule></LifecycleConfiguration>`, CodeInvalidStorageClass},
		{`<LifecycleConfiguration><Rule><Status>Maybe</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`, CodeMalformedXML},
		{`<LifecycleConfiguration><Rule><Status>Enabled</Status></Rule></LifecycleConfiguration>`, CodeInvalidArgument},
		{`<LifecycleConfiguration><Rule><Status>Enabled</Status><Transition><Days>9</Days><StorageClass>STANDARD_IA</StorageClass></Transition><Transition><Days>5</Days><StorageClass>GLACIER</StorageClass></Transition></Rule></LifecycleConfiguration>`, CodeInvalidArgument},
		{`<LifecycleConfiguration><Rule><Status>Enabled</Status><Filter><Tag><Key>a</Key><Value>b</Value></Tag></Filter><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`, CodeNotImplemented},
		{`<LifecycleConfiguration></LifecycleConfiguration>`, CodeMalformedXML},
		{`<Lifecycle`, CodeMalformedXML},
	} {
		resp, body = s.do(t, "PUT", "/bkt?lifecycle", []byte(bad.xml), nil)
		if !strings.Contains(body, "<Code>"+bad.code+"</Code>") {
			t.Errorf("%s: %d %s, want %s", bad.xml, resp.StatusCode, body, bad.code)
		}
	}
	resp, body = s.do(t, "DELETE", "/bkt?lifecycle", nil, nil)
	wantStatus(t, resp, body, 204, "")
	resp, body = s.do(t, "GET", "/bkt?lifecycle", nil, nil)
	wantStatus(t, resp, body, 404, CodeNoSuchLifecycleConfiguration)
}

func TestRestore(t *testing.T) {
	s := newTestServer(t, nil)
	s.do(t, "PUT", "/bkt", nil, nil)
	s.do(t, "PUT", "/bkt/cold", []byte("frozen"), map[string]string{"X-Amz-Storage-Class": "GLACIER"})
	s.do(t, "PUT", "/bkt/warm", []byte("warm"), nil)
	resp, body := s.do(t, "GET", "/bkt/cold", nil, nil)
	wantStatus(t, resp, body, 403, CodeInvalidObjectState)
	resp, _ = s.do(t, "HEAD", "/bkt/cold", nil, nil)
	if resp.StatusCode != 200 || resp.Header.Get("x-amz-storage-class") != "GLACIER" {
		t.Fatalf("HEAD archived: %d %v", resp.StatusCode, resp.Header)
	}
	req := []byte(`<RestoreRequest xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Days>2</Days></RestoreRequest>`)
	resp, body = s.do(t, "POST", "/bkt/cold?restore", req, nil)
	wantStatus(t, resp, body, 202, "")
	resp, _ = s.do(t, "HEAD", "/bkt/cold", nil, nil)
	if resp.Header.Get("x-amz-restore") != `ongoing-request="true"` {
		t.Fatalf("x-amz-restore %q", resp.Header.Get("x-amz-restore"))
	}
	s.backend.finishRestores()
	resp, body = s.do(t, "POST", "/bkt/cold?restore", req, nil)
	wantStatus(t, resp, body, 200, "")
	resp, body = s.do(t, "GET", "/bkt/cold", nil, nil)
	wantStatus(t, resp, body, 200, "")
	if body != "frozen" || !strings.HasPrefix(resp.Header.Get("x-amz-restore"), `ongoing-request="false", expiry-date=`) {
		t.Fatalf("restored GET: %q %v", body, resp.Header)
	}
	resp, body = s.do(t, "POST", "/bkt/warm?restore", req, nil)
	wantStatus(t, resp, body, 403, CodeInvalidObjectState)
	resp, body = s.do(t, "POST", "/bkt/cold?restore", []byte(`<RestoreRequest><Days>0</Days></RestoreRequest>`), nil)
	wantStatus(t, resp, body, 400, CodeMalformedXML)
}

func TestAuthentication(t *testing.T) {
	now := time.Now()
	s := newTestServer(t, nil)
	s.backend.keys["AKIDFROMMETADATA1"] = &blobdraftv1.AccessKeyRecord{Id: "AKIDFROMMETADATA1", Secret: "metadata-secret-0123456789", Principal: "app", Enabled: true}
	s.backend.keys["AKIDDISABLEDKEY01"] = &blobdraftv1.AccessKeyRecord{Id: "AKIDDISABLEDKEY01", Secret: "metadata-secret-0123456789", Principal: "old"}
	s.do(t, "PUT", "/bkt", nil, nil)
	s.do(t, "PUT", "/bkt/k", []byte("data"), nil)

	signWith := func(cred sigv4.Credential, method, path string, body []byte, tune func(*sigv4.SignOptions)) *http.Request {
		req, _ := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
		o := sigv4.SignOptions{Credential: cred, Region: testRegion, Service: "s3"}
		if tune != nil {
			tune(&o)
		}
		if err := sigv4.Sign(req, o); err != nil {
			t.Fatal(err)
		}
		return req
	}
	metaKey := sigv4.Credential{AccessKeyID: "AKIDFROMMETADATA1", SecretAccessKey: "metadata-secret-0123456789"}
	resp, body := send(t, signWith(metaKey, "GET", "/", nil, nil))
	wantStatus(t, resp, body, 200, "")
	if !strings.Contains(body, "<ID>app</ID>") {
		t.Fatalf("metadata key's principal: %s", body)
	}
	resp, body = send(t, signWith(sigv4.Credential{AccessKeyID: "AKIDDISABLEDKEY01", SecretAccessKey: "metadata-secret-0123456789"}, "GET", "/", nil, nil))
	wantStatus(t, resp, body, 403, CodeInvalidAccessKeyID)
	resp, body = send(t, signWith(sigv4.Credential{AccessKeyID: "AKIDUNKNOWN", SecretAccessKey: "x"}, "GET", "/", nil, nil))
	wantStatus(t, resp, body, 403, CodeInvalidAccessKeyID)
	resp, body = send(t, signWith(sigv4.Credential{AccessKeyID: testKeyID, SecretAccessKey: "wrong"}, "GET", "/bkt/k", nil, nil))
	wantStatus(t, resp, body, 403, CodeSignatureDoesNotMatch)
	if !strings.Contains(body, "<StringToSign>") || !strings.Contains(body, "<CanonicalRequest>") {
		t.Fatalf("SignatureDoesNotMatch without the strings: %s", body)
	}
	resp, body = send(t, signWith(testCred, "GET", "/bkt/k", nil, func(o *sigv4.SignOptions) { o.Time = now.Add(-time.Hour) }))
	wantStatus(t, resp, body, 403, CodeRequestTimeTooSkewed)
	resp, body = send(t, signWith(testCred, "GET", "/bkt/k", nil, func(o *sigv4.SignOptions) { o.Region = "eu-west-1" }))
	wantStatus(t, resp, body, 400, CodeAuthorizationHeaderMalformed)
	req, _ := http.NewRequest("GET", s.URL+"/bkt/k", nil)
	resp, body = send(t, req)
	wantStatus(t, resp, body, 403, CodeAccessDenied)
	// A body that does not match its signed hash.
	req = signWith(testCred, "PUT", "/bkt/tampered", []byte("good"), nil)
	req.Body, req.ContentLength = io.NopCloser(strings.NewReader("evil")), 4
	resp, body = send(t, req)
	wantStatus(t, resp, body, 400, CodeXAmzContentSHA256Mismatch)
	// UNSIGNED-PAYLOAD.
	req = signWith(testCred, "PUT", "/bkt/unsigned", []byte("free"), func(o *sigv4.SignOptions) { o.PayloadHash = sigv4.UnsignedPayload })
	resp, body = send(t, req)
	wantStatus(t, resp, body, 200, "")

	// Presigned GET and PUT; an expired URL is AccessDenied "Request has expired".
	presign := func(method, path string, at time.Time, exp time.Duration) string {
		req, _ := http.NewRequest(method, s.URL+path, nil)
		u, err := sigv4.Presign(req, sigv4.SignOptions{Credential: testCred, Region: testRegion, Service: "s3", Time: at, Expires: exp})
		if err != nil {
			t.Fatal(err)
		}
		return u.String()
	}
	resp, body = send(t, mustReq(t, "GET", presign("GET", "/bkt/k", now, time.Minute), nil))
	wantStatus(t, resp, body, 200, "")
	if body != "data" {
		t.Fatalf("presigned GET %q", body)
	}
	resp, body = send(t, mustReq(t, "PUT", presign("PUT", "/bkt/uploaded", now, 5*time.Minute), []byte("direct upload")))
	wantStatus(t, resp, body, 200, "")
	rec, err := s.backend.HeadObject(t.Context(), "bkt", "uploaded")
	if err != nil || rec.GetSize() != int64(len("direct upload")) {
		t.Fatalf("presigned PUT stored %v %v", rec, err)
	}
	resp, body = send(t, mustReq(t, "GET", presign("GET", "/bkt/k", now.Add(-10*time.Minute), 5*time.Minute), nil))
	wantStatus(t, resp, body, 403, CodeAccessDenied)
	if !strings.Contains(body, "Request has expired") {
		t.Fatalf("expired: %s", body)
	}
	u := presign("GET", "/bkt/k", now, time.Minute)
	resp, body = send(t, mustReq(t, "GET", strings.Replace(u, "/bkt/k", "/bkt/other", 1), nil))
	wantStatus(t, resp, body, 403, CodeSignatureDoesNotMatch)
}

func mustReq(t *testing.T, method, u string, body []byte) *http.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func TestTransientErrors(t *testing.T) {
	s := newTestServer(t, nil)
	s.do(t, "PUT", "/bkt", nil, nil)
	for _, tc := range []struct {
		err    error
		status int
		code   string
		retry  bool
	}{
		{raftnode.ErrNotLeader, 503, CodeServiceUnavailable, true},
		{blobd.ErrNotEnoughServers, 503, CodeServiceUnavailable, true},
		{blobd.ErrDataUnavailable, 503, CodeServiceUnavailable, true},
		{blobd.ErrShuttingDown, 503, CodeServiceUnavailable, true},
		{errors.New("disk on fire"), 500, CodeInternalError, false},
	} {
		s.backend.mu.Lock()
		s.backend.failNext = tc.err
		s.backend.mu.Unlock()
		resp, body := s.do(t, "PUT", "/bkt/k", []byte("x"), nil)
		wantStatus(t, resp, body, tc.status, tc.code)
		if got := resp.Header.Get("Retry-After") != ""; got != tc.retry {
			t.Errorf("%v: Retry-After %q", tc.err, resp.Header.Get("Retry-After"))
		}
		if strings.Contains(body, "fire") {
			t.Errorf("internal error text leaked: %s", body)
		}
	}
}

func TestBodies(t *testing.T) {
	s := newTestServer(t, nil)
	s.do(t, "PUT", "/bkt", nil, nil)
	// A body cut short: the client promises more than it sends.
	req := mustReq(t, "PUT", s.URL+"/bkt/short", nil)
	req.Body, req.ContentLength = io.NopCloser(strings.NewReader("abc")), 3
	if err := sigv4.Sign(req, sigv4.SignOptions{Credential: testCred, Region: testRegion, Service: "s3", PayloadHash: sigv4.UnsignedPayload}); err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Length", "10")
	// The transport refuses a body shorter than ContentLength, so write the
	// request by hand.
	resp, body := rawRequest(t, s.Listener.Addr().String(), req, "abc", 10)
	if resp != nil {
		wantStatus(t, resp, body, 400, CodeIncompleteBody)
	}
	if _, err := s.backend.HeadObject(t.Context(), "bkt", "short"); err == nil {
		t.Fatal("a truncated upload became visible")
	}

	// Header checksums are verified.
	data := []byte("checksummed data")
	resp, body = s.do(t, "PUT", "/bkt/crc", data, map[string]string{"x-amz-checksum-crc32": "AAAAAA=="})
	wantStatus(t, resp, body, 400, CodeBadDigest)
	resp, body = s.do(t, "PUT", "/bkt/crc", data, map[string]string{"x-amz-checksum-crc32": b64crc32(data)})
	wantStatus(t, resp, body, 200, "")

	// An aws-chunked body with trailing checksums (unsigned).
	for _, tc := range []struct {
		name, trailer string
		status        int
	}{
		{"good trailer", "x-amz-checksum-crc32:" + b64crc32(data), 200},
		{"bad trailer", "x-amz-checksum-crc32:AAAAAA==", 400},
	} {
		enc := fmt.Sprintf("%x\r\n%s\r\n0\r\n%s\r\n\r\n", len(data), data, tc.trailer)
		req := mustReq(t, "PUT", s.URL+"/bkt/trailer", []byte(enc))
		req.Header.Set("Content-Encoding", "aws-chunked")
		req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
		if err := sigv4.Sign(req, sigv4.SignOptions{Credential: testCred, Region: testRegion, Service: "s3", PayloadHash: sigv4.StreamingUnsignedTrailer}); err != nil {
			t.Fatal(err)
		}
		resp, body := send(t, req)
		if resp.StatusCode != tc.status {
			t.Fatalf("%s: %d %s", tc.name, resp.StatusCode, body)
		}
	}
	resp, body = s.do(t, "GET", "/bkt/trailer", nil, nil)
	if body != string(data) || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("trailer upload stored %q, Content-Encoding %q", body, resp.Header.Get("Content-Encoding"))
	}
}
