package blobd

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	blobdpeerv1 "cairn.dev/cairn/proto/cairn/blobd/peer/v1"
)

// split cuts b into buffers of at most n bytes, as gRPC's receive buffers
// hold a message.
func split(b []byte, n int) mem.BufferSlice {
	var out mem.BufferSlice
	for len(b) > 0 {
		k := min(n, len(b))
		out = append(out, mem.SliceBuffer(append([]byte(nil), b[:k]...)))
		b = b[k:]
	}
	return out
}

// decodeWith decodes msg, cut into pieces of n bytes, into sink through the
// codec.
func decodeWith(t *testing.T, c needleCodec, msg []byte, n int, sink *needleSink) error {
	t.Helper()
	return c.Unmarshal(split(msg, n), sink)
}

func TestNeedleCodecDecodesAsProto(t *testing.T) {
	c := newNeedleCodec()
	data := bytes.Repeat([]byte("0123456789abcdefg"), 10000) // 170000 bytes: pieces of sumPieceBytes and less
	first, err := proto.Marshal(&blobdpeerv1.ReadNeedleResponse{Size: 170000, Data: data[:100000]})
	if err != nil {
		t.Fatal(err)
	}
	second, err := proto.Marshal(&blobdpeerv1.ReadNeedleResponse{Data: data[100000:]})
	if err != nil {
		t.Fatal(err)
	}
	// An unknown field of every wire type is skipped, as proto skips it.
	var unknown []byte
	unknown = protowire.AppendTag(unknown, 9, protowire.VarintType)
	unknown = protowire.AppendVarint(unknown, 300)
	unknown = protowire.AppendTag(unknown, 10, protowire.Fixed32Type)
	unknown = protowire.AppendFixed32(unknown, 7)
	unknown = protowire.AppendTag(unknown, 11, protowire.Fixed64Type)
	unknown = protowire.AppendFixed64(unknown, 7)
	unknown = protowire.AppendTag(unknown, 12, protowire.BytesType)
	unknown = protowire.AppendBytes(unknown, []byte("skip me"))
	second = append(unknown, second...)
	for _, piece := range []int{1, 7, 16 << 10, 1 << 20} {
		var allocs []int64
		sink := &needleSink{alloc: func(size int64) ([]byte, error) {
			allocs = append(allocs, size)
			return make([]byte, 0, size), nil
		}}
		if err := decodeWith(t, c, first, piece, sink); err != nil {
			t.Fatalf("pieces of %d: first message: %v", piece, err)
		}
		if sink.size != 170000 {
			t.Fatalf("pieces of %d: size %d, want 170000", piece, sink.size)
		}
		if err := decodeWith(t, c, second, piece, sink); err != nil {
			t.Fatalf("pieces of %d: second message: %v", piece, err)
		}
		if sink.sum != crc32c(data) {
			t.Fatalf("pieces of %d: running crc32c %08x, the data's is %08x", piece, sink.sum, crc32c(data))
		}
		if sink.size != 0 || !bytes.Equal(sink.buf, data) || len(allocs) != 1 || allocs[0] != 170000 {
			t.Fatalf("pieces of %d: size %d, %d bytes (equal %v), allocs %v", piece, sink.size, len(sink.buf), bytes.Equal(sink.buf, data), allocs)
		}
	}
}

func TestNeedleCodecRefusesBadMessages(t *testing.T) {
	c := newNeedleCodec()
	sized := func(n int) *needleSink {
		return &needleSink{alloc: func(int64) ([]byte, error) { return make([]byte, 0, n), nil }}
	}
	msg := func(m *blobdpeerv1.ReadNeedleResponse) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	refused := errors.New("refused")
	for name, tc := range map[string]struct {
		msg  []byte
		sink *needleSink
		want error
	}{
		"more than asked for": {msg(&blobdpeerv1.ReadNeedleResponse{Size: 10, Data: make([]byte, 11)}), sized(10), errNeedleMessage},
		"truncated data":      {msg(&blobdpeerv1.ReadNeedleResponse{Size: 10, Data: make([]byte, 10)})[:8], sized(10), errNeedleMessage},
		"truncated varint":    {[]byte{0x08, 0x80}, sized(10), errNeedleMessage},
		"bad wire type":       {[]byte{0x0f}, sized(10), errNeedleMessage},
		"alloc refuses": {msg(&blobdpeerv1.ReadNeedleResponse{Size: 10, Data: make([]byte, 1)}),
			&needleSink{alloc: func(int64) ([]byte, error) { return nil, refused }}, refused},
	} {
		t.Run(name, func(t *testing.T) {
			err := decodeWith(t, c, tc.msg, 3, tc.sink)
			if !errors.Is(err, tc.want) || !errors.Is(tc.sink.err, tc.want) {
				t.Fatalf("err %v (sink.err %v), want %v", err, tc.sink.err, tc.want)
			}
		})
	}
}

func TestNeedleCodecPassesOtherMessages(t *testing.T) {
	c := newNeedleCodec()
	in := &blobdpeerv1.ReadNeedleRequest{Vid: 3, Nid: 4, Cookie: 5, Offset: 6, Length: 7}
	b, err := c.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out := &blobdpeerv1.ReadNeedleRequest{}
	if err := c.Unmarshal(b, out); err != nil || !proto.Equal(in, out) {
		t.Fatalf("round trip: %v, %v", out, err)
	}
}

// FuzzNeedleCodec checks that any bytes decode as proto decodes them, or
// fail, without panicking or writing beyond the sink's capacity.
func FuzzNeedleCodec(f *testing.F) {
	b, _ := proto.Marshal(&blobdpeerv1.ReadNeedleResponse{Size: 5, Data: []byte("hello")})
	f.Add(b, 8)
	f.Add([]byte{0x12, 0x01}, 8)
	c := newNeedleCodec()
	f.Fuzz(func(t *testing.T, msg []byte, limit int) {
		limit = max(0, min(limit, 1<<16))
		sink := &needleSink{alloc: func(int64) ([]byte, error) { return make([]byte, 0, limit), nil }}
		err := c.Unmarshal(split(msg, 5), sink)
		var want blobdpeerv1.ReadNeedleResponse
		perr := proto.Unmarshal(msg, &want)
		if err != nil {
			return
		}
		if perr != nil {
			t.Fatalf("codec accepted what proto refuses (%v)", perr)
		}
		if sink.size != want.GetSize() || !bytes.Equal(sink.buf, want.GetData()) || sink.sum != crc32c(sink.buf) {
			t.Fatalf("codec: size %d data %q; proto: size %d data %q", sink.size, sink.buf, want.GetSize(), want.GetData())
		}
	})
}
