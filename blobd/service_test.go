package blobd

import (
	"errors"
	"io"
	"strings"
	"testing"

	"cairn.dev/cairn/node/rpcerr"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
)

// fieldOf returns the request field an invalid-argument error names.
func fieldOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	if r := ReasonOf(err); r != rpcerr.InvalidArgument && r != rpcerr.LimitExceeded {
		t.Fatalf("reason of %v = %q, want INVALID_ARGUMENT or LIMIT_EXCEEDED", err, r)
	}
	return rpcerr.MetadataOf(err)[rpcerr.KeyField]
}

func TestValidatePutHeader(t *testing.T) {
	ok := func() *blobdv1.PutObjectHeader {
		return &blobdv1.PutObjectHeader{Bucket: "photos", Key: "a/b.jpg", Size: 10}
	}
	for _, tc := range []struct {
		name  string
		edit  func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader
		field string // "" = valid
	}{
		{"ok", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader { return h }, ""},
		{"unknown size", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader { h.Size = -1; return h }, ""},
		{"no header", func(*blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader { return nil }, "header"},
		{"no bucket", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader { h.Bucket = ""; return h }, "header.bucket"},
		{"bad bucket", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader { h.Bucket = "Photos"; return h }, "header.bucket"},
		{"no key", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader { h.Key = ""; return h }, "header.key"},
		{"long key", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader { h.Key = strings.Repeat("k", 1025); return h }, "header.key"},
		{"size", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader { h.Size = -2; return h }, "header.size"},
		{"huge", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader { h.Size = 6 << 40; return h }, "header.size"},
		{"md5", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader { h.ContentMd5 = []byte{1, 2}; return h }, "header.content_md5"},
		{"tier", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader { h.Tier = 9; return h }, "header.tier"},
		{"header", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader {
			h.Headers = &blobdv1.ObjectHeaders{ContentType: strings.Repeat("x", 5000)}
			return h
		}, "header.headers.content_type"},
		{"metadata", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader {
			h.Headers = &blobdv1.ObjectHeaders{UserMetadata: map[string]string{"": "v"}}
			return h
		}, "header.headers.user_metadata"},
		{"if_match", func(h *blobdv1.PutObjectHeader) *blobdv1.PutObjectHeader {
			h.IfMatch = strings.Repeat("e", 2000)
			return h
		}, "header.if_match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validatePutHeader(tc.edit(ok()))
			if got := fieldOf(t, err); got != tc.field {
				t.Fatalf("field = %q (err %v), want %q", got, err, tc.field)
			}
		})
	}
}

func TestValidateRequests(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   error
		field string
	}{
		{"create bucket ok", validateCreateBucket(&blobdv1.CreateBucketRequest{Name: "my-app-files"}), ""},
		{"create bucket name", validateCreateBucket(&blobdv1.CreateBucketRequest{Name: "a"}), "name"},
		{"create bucket ip", validateCreateBucket(&blobdv1.CreateBucketRequest{Name: "192.168.1.1"}), "name"},
		{"create bucket tier", validateCreateBucket(&blobdv1.CreateBucketRequest{Name: "abc", DefaultTier: 7}), "default_tier"},
		{"create bucket rules", validateCreateBucket(&blobdv1.CreateBucketRequest{Name: "abc", Rules: []*blobdv1.LifecycleRule{{Id: "r", ExpirationDays: -1}}}), "rules"},
		{"get ok", validateGet(&blobdv1.GetObjectRequest{Bucket: "abc", Key: "k", Offset: 5, Length: 3}), ""},
		{"get offset", validateGet(&blobdv1.GetObjectRequest{Bucket: "abc", Key: "k", Offset: -1}), "offset"},
		{"get length", validateGet(&blobdv1.GetObjectRequest{Bucket: "abc", Key: "k", Length: -1}), "length"},
		{"get key", validateGet(&blobdv1.GetObjectRequest{Bucket: "abc", Key: "a\x00b"}), "key"},
		{"copy ok", validateCopy(&blobdv1.CopyObjectRequest{SourceBucket: "abc", SourceKey: "a", Bucket: "def", Key: "b"}), ""},
		{"copy source", validateCopy(&blobdv1.CopyObjectRequest{SourceBucket: "abc", Bucket: "def", Key: "b"}), "source_key"},
		{"copy headers", validateCopy(&blobdv1.CopyObjectRequest{SourceBucket: "abc", SourceKey: "a", Bucket: "def", Key: "b", Headers: &blobdv1.ObjectHeaders{}}), "headers"},
		{"list ok", validateList(&blobdv1.ListObjectsRequest{Bucket: "abc", Prefix: "p/", Delimiter: "/", MaxKeys: 1000}), ""},
		{"list max", validateList(&blobdv1.ListObjectsRequest{Bucket: "abc", MaxKeys: 1001}), "max_keys"},
		{"list negative", validateList(&blobdv1.ListObjectsRequest{Bucket: "abc", MaxKeys: -1}), "max_keys"},
		{"list prefix", validateList(&blobdv1.ListObjectsRequest{Bucket: "abc", Prefix: strings.Repeat("p", 1025)}), "prefix"},
		{"part ok", validatePartHeader(&blobdv1.UploadPartHeader{Bucket: "abc", Key: "k", UploadId: "u", PartNumber: 1, Size: 5}), ""},
		{"part number", validatePartHeader(&blobdv1.UploadPartHeader{Bucket: "abc", Key: "k", UploadId: "u", PartNumber: 10001}), "header.part_number"},
		{"part upload", validatePartHeader(&blobdv1.UploadPartHeader{Bucket: "abc", Key: "k", PartNumber: 1}), "header.upload_id"},
		{"part size", validatePartHeader(&blobdv1.UploadPartHeader{Bucket: "abc", Key: "k", UploadId: "u", PartNumber: 1, Size: 6 << 30}), "header.size"},
		{"complete ok", validateComplete(&blobdv1.CompleteMultipartUploadRequest{Bucket: "abc", Key: "k", UploadId: "u", Parts: []*blobdv1.CompletedPart{{Number: 1, Etag: `"e"`}}}), ""},
		{"complete none", validateComplete(&blobdv1.CompleteMultipartUploadRequest{Bucket: "abc", Key: "k", UploadId: "u"}), "parts"},
		{"complete etag", validateComplete(&blobdv1.CompleteMultipartUploadRequest{Bucket: "abc", Key: "k", UploadId: "u", Parts: []*blobdv1.CompletedPart{{Number: 1}}}), "parts.etag"},
		{"key principal", validateCreateAccessKey(&blobdv1.CreateAccessKeyRequest{}), "principal"},
		{"tier required", validTier("tier", blobdv1.Tier_TIER_UNSPECIFIED, false), "tier"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fieldOf(t, tc.err); got != tc.field {
				t.Fatalf("field = %q (err %v), want %q", got, tc.err, tc.field)
			}
		})
	}
}

func TestEtagConditions(t *testing.T) {
	for _, tc := range []struct {
		cond, etag string
		want       bool
	}{
		{"*", "abc", true},
		{`"abc"`, "abc", true},
		{`W/"abc"`, "abc", true},
		{`"x", "abc"`, "abc", true},
		{"abc", "abd", false},
	} {
		if got := etagMatches(tc.cond, tc.etag); got != tc.want {
			t.Errorf("etagMatches(%q, %q) = %v, want %v", tc.cond, tc.etag, got, tc.want)
		}
	}
}

// fakeStream yields messages: a string is data, nil a header.
type fakeStream struct{ msgs [][]byte }

func (f *fakeStream) recv() ([]byte, bool, error) {
	if len(f.msgs) == 0 {
		return nil, false, io.EOF
	}
	m := f.msgs[0]
	f.msgs = f.msgs[1:]
	return m, m == nil, nil
}

func TestBodyReader(t *testing.T) {
	for _, tc := range []struct {
		name  string
		msgs  [][]byte
		size  int64
		want  string
		field string // the invalid field, "" when the read succeeds
	}{
		{"exact", [][]byte{[]byte("hel"), []byte("lo")}, 5, "hello", ""},
		{"unknown size", [][]byte{[]byte("hel"), {}, []byte("lo")}, -1, "hello", ""},
		{"short", [][]byte{[]byte("hel")}, 5, "hel", ""},
		{"long in one", [][]byte{[]byte("hello!")}, 5, "", "data"},
		{"long after", [][]byte{[]byte("hello"), []byte("!")}, 5, "hello", "data"},
		{"second header", [][]byte{[]byte("he"), nil}, 5, "he", "header"},
		{"too big", [][]byte{make([]byte, MaxDataMessageBytes+1)}, -1, "", "data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &bodyReader{st: &fakeStream{msgs: tc.msgs}, size: tc.size}
			got, err := io.ReadAll(r)
			if string(got) != tc.want {
				t.Errorf("read %q, want %q", got, tc.want)
			}
			if f := fieldOf(t, err); f != tc.field {
				t.Errorf("err %v names %q, want %q", err, f, tc.field)
			}
			if tc.field != "" && !errors.Is(err, ErrInvalidArgument) {
				t.Errorf("err %v is not ErrInvalidArgument", err)
			}
		})
	}
}

func TestServedLength(t *testing.T) {
	for _, tc := range []struct {
		size int64
		r    Range
		want int64
	}{
		{10, FullRange, 10},
		{10, Range{Offset: 4, Length: -1}, 6},
		{10, Range{Offset: 4, Length: 3}, 3},
		{10, Range{Offset: 8, Length: 5}, 2},
		{0, FullRange, 0},
	} {
		if got := servedLength(tc.size, tc.r); got != tc.want {
			t.Errorf("servedLength(%d, %+v) = %d, want %d", tc.size, tc.r, got, tc.want)
		}
	}
}

func FuzzValidatePutHeader(f *testing.F) {
	f.Add("photos", "a/b.jpg", int64(10), []byte{}, int32(1), "ct")
	f.Add("A", "", int64(-3), []byte{1}, int32(9), "")
	f.Fuzz(func(t *testing.T, bucket, key string, size int64, md5 []byte, tier int32, ct string) {
		err := validatePutHeader(&blobdv1.PutObjectHeader{Bucket: bucket, Key: key, Size: size, ContentMd5: md5, Tier: blobdv1.Tier(tier), Headers: &blobdv1.ObjectHeaders{ContentType: ct}})
		if err == nil {
			return
		}
		if r := ReasonOf(err); r != rpcerr.InvalidArgument && r != rpcerr.LimitExceeded {
			t.Fatalf("reason %q for %v", r, err)
		}
		if rpcerr.MetadataOf(err)[rpcerr.KeyField] == "" {
			t.Fatalf("%v names no field", err)
		}
	})
}
