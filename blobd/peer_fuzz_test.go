package blobd

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/rpcerr"
	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
)

// fakeNeedleStream replays WriteNeedle messages to receiveNeedle.
type fakeNeedleStream struct {
	grpc.ServerStream
	msgs []*blobdpeerv1.WriteNeedleRequest
}

func (f *fakeNeedleStream) Recv() (*blobdpeerv1.WriteNeedleRequest, error) {
	if len(f.msgs) == 0 {
		return nil, io.EOF
	}
	m := f.msgs[0]
	f.msgs = f.msgs[1:]
	return m, nil
}

func (f *fakeNeedleStream) SendAndClose(*blobdpeerv1.WriteNeedleResponse) error { return nil }

// FuzzReceiveNeedle: a WriteNeedle stream yields exactly header.size bytes,
// the concatenation of its messages' data, or INVALID_ARGUMENT naming the
// header or its size; never anything else.
func FuzzReceiveNeedle(f *testing.F) {
	f.Add(int64(5), []byte("hello"), []byte{5}, false)
	f.Add(int64(10), []byte("short"), []byte{2, 3}, false)
	f.Add(int64(3), []byte("abcd"), []byte{2, 2}, false)
	f.Add(int64(0), []byte{}, []byte{}, true)
	f.Fuzz(func(t *testing.T, size int64, data, cuts []byte, lateHeader bool) {
		if size < 0 || size > 1<<16 {
			return
		}
		// Split data into messages at the cut lengths; the rest goes last.
		var msgs []*blobdpeerv1.WriteNeedleRequest
		rest := data
		for _, c := range cuts {
			k := min(int(c), len(rest))
			msgs = append(msgs, &blobdpeerv1.WriteNeedleRequest{Data: rest[:k]})
			rest = rest[k:]
		}
		msgs = append(msgs, &blobdpeerv1.WriteNeedleRequest{Data: rest})
		if lateHeader {
			msgs = append(msgs, &blobdpeerv1.WriteNeedleRequest{Header: &blobdpeerv1.NeedleHeader{}})
		}
		first := msgs[0].GetData()
		got, release, err := receiveNeedle(&fakeNeedleStream{msgs: msgs[1:]}, size, first)
		switch {
		case err == nil:
			defer release()
			if lateHeader && len(msgs) > 1 || int64(len(got)) != size || !bytes.Equal(got, data) {
				t.Fatalf("size %d, %d bytes sent (late header %v): got %d bytes", size, len(data), lateHeader, len(got))
			}
		case !errors.Is(err, ErrInvalidArgument):
			t.Fatalf("error %v, want ErrInvalidArgument", err)
		default:
			field := rpcerr.MetadataOf(err)[rpcerr.KeyField]
			if field != "header" && field != "header.size" {
				t.Fatalf("error about field %q: %v", field, err)
			}
			if field == "header.size" && int64(len(data)) == size && !lateHeader {
				t.Fatalf("a stream of exactly header.size bytes refused: %v", err)
			}
		}
	})
}
