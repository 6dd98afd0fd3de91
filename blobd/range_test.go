package blobd

import (
	"errors"
	"testing"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/rpcerr"
	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

func TestRangeResolve(t *testing.T) {
	for _, tc := range []struct {
		name     string
		r        Range
		size     int64
		from, to int64
		err      error
	}{
		{"full", FullRange, 10, 0, 10, nil},
		{"empty object", FullRange, 0, 0, 0, nil},
		{"first byte", Range{0, 1}, 10, 0, 1, nil},
		{"last byte", Range{9, 1}, 10, 9, 10, nil},
		{"middle", Range{3, 4}, 10, 3, 7, nil},
		{"length past end", Range{8, 100}, 10, 8, 10, nil},
		{"zero length", Range{2, 0}, 10, 2, 2, nil},
		{"offset at end", Range{10, -1}, 10, 0, 0, ErrInvalidRange},
		{"offset past end", Range{11, 1}, 10, 0, 0, ErrInvalidRange},
		{"offset 1 of empty", Range{1, -1}, 0, 0, 0, ErrInvalidRange},
		{"suffix", Range{-3, 0}, 10, 7, 10, nil},
		{"suffix longer than object", Range{-30, -1}, 10, 0, 10, nil},
		{"suffix of empty", Range{-5, -1}, 0, 0, 0, nil},
		{"bad length", Range{0, -2}, 10, 0, 0, ErrInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from, to, err := tc.r.resolve(tc.size)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err == nil && (from != tc.from || to != tc.to) {
				t.Fatalf("[%d, %d), want [%d, %d)", from, to, tc.from, tc.to)
			}
		})
	}
}

func TestCheckPutInput(t *testing.T) {
	ok := PutInput{Bucket: "photos", Key: "a/b.jpg", Size: 3, Body: nil}
	for _, tc := range []struct {
		name   string
		edit   func(*PutInput)
		reason rpcerr.Reason
		field  string
	}{
		{"bad bucket", func(in *PutInput) { in.Bucket = "Bad_Name" }, rpcerr.InvalidArgument, "bucket"},
		{"empty key", func(in *PutInput) { in.Key = "" }, rpcerr.InvalidArgument, "key"},
		{"long key", func(in *PutInput) { in.Key = string(make([]byte, meta.MaxKeyBytes+1)) }, rpcerr.LimitExceeded, "key"},
		{"size below -1", func(in *PutInput) { in.Size = -2 }, rpcerr.InvalidArgument, "size"},
		{"too large", func(in *PutInput) { in.Size = meta.MaxObjectBytes + 1 }, rpcerr.LimitExceeded, "size"},
		{"no body", func(in *PutInput) { in.Body = nil }, rpcerr.InvalidArgument, "body"},
		{"short md5", func(in *PutInput) { in.ContentMD5 = []byte{1, 2} }, rpcerr.InvalidArgument, "content_md5"},
		{"unknown tier", func(in *PutInput) { in.Tier = 9 }, rpcerr.InvalidArgument, "tier"},
		{"big header", func(in *PutInput) {
			in.Headers = &blobdraftv1.ObjectHeaders{ContentType: string(make([]byte, meta.MaxHeaderBytes+1))}
		}, rpcerr.LimitExceeded, "headers.content_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := ok
			in.Body = emptyReader{}
			tc.edit(&in)
			err := checkPutInput(in, meta.MaxObjectBytes, "size")
			if ReasonOf(err) != tc.reason || rpcerr.MetadataOf(err)[rpcerr.KeyField] != tc.field {
				t.Fatalf("err %v (reason %q, metadata %v), want reason %s field %s", err, ReasonOf(err), rpcerr.MetadataOf(err), tc.reason, tc.field)
			}
		})
	}
	in := ok
	in.Body = emptyReader{}
	if err := checkPutInput(in, meta.MaxObjectBytes, "size"); err != nil {
		t.Fatalf("valid input: %v", err)
	}
	if err := checkPutInput(PutInput{Bucket: "photos", Key: "k"}, meta.MaxObjectBytes, "size"); err != nil {
		t.Fatalf("empty object without a body: %v", err)
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }
