package blobd

// The receiving side of a peer's ReadNeedle stream. gRPC's proto codec
// would decode each message's data into a new slice (after gathering the
// message from the receive buffers into one), and getNeedle then appended
// it to the needle's buffer: three copies of every byte read from a peer,
// on the node that also writes them to its client. needleCodec decodes
// ReadNeedleResponse messages itself, copying their data once, straight
// from gRPC's receive buffers to the end of the caller's buffer. The bytes
// on the wire are proto's: the peer's side is unchanged.

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// errNeedleMessage marks a ReadNeedle response the codec could not decode
// into its sink (malformed, or more data than the sink takes).
var errNeedleMessage = errors.New("blobd: bad needle message")

// needleSink is what getNeedle receives a ReadNeedle stream's messages
// into (stream.RecvMsg(sink)). For each message the codec sets size (the
// message's size field, 0 when it has none) and appends the message's data
// to buf, which grows only up to its capacity; data arriving while buf is
// nil first calls alloc with the size seen so far. Not safe for
// concurrent use.
type needleSink struct {
	size  int64
	buf   []byte
	alloc func(size int64) ([]byte, error)
	// sum is the CRC32C of buf, kept as the data arrives (a piece at a
	// time, while it is in the cache): a reader checking a whole chunk
	// needs no second pass over it.
	sum uint32
	// err is the codec's error decoding a message (gRPC reports it as an
	// Internal status).
	err error
}

// needleCodec is the gRPC codec of getNeedle's ReadNeedle calls: requests
// and any message that is not a *needleSink go through gRPC's proto codec;
// a *needleSink is decoded by decodeNeedle. Its name is proto's, so the
// peer sees an ordinary proto call.
type needleCodec struct{ proto encoding.CodecV2 }

func newNeedleCodec() needleCodec {
	c := encoding.GetCodecV2(proto.Name)
	if c == nil {
		panic("blobd: gRPC's proto codec is not registered") // grpc registers it in an init of a package it imports
	}
	return needleCodec{proto: c}
}

func (c needleCodec) Name() string { return proto.Name }

func (c needleCodec) Marshal(v any) (mem.BufferSlice, error) { return c.proto.Marshal(v) }

func (c needleCodec) Unmarshal(data mem.BufferSlice, v any) error {
	sink, ok := v.(*needleSink)
	if !ok {
		return c.proto.Unmarshal(data, v)
	}
	r := data.Reader()
	defer r.Close()
	if err := decodeNeedle(r, sink); err != nil {
		sink.err = err
		return err
	}
	return nil
}

// decodeNeedle decodes one ReadNeedleResponse from r into sink: field 1
// (size, varint) and field 2 (data, bytes); other fields are skipped, as
// proto skips unknown ones. A field repeated takes the last size and
// appends every data, as proto's merge would.
func decodeNeedle(r *mem.Reader, sink *needleSink) error {
	sink.size = 0
	for r.Remaining() > 0 {
		tag, err := readUvarint(r)
		if err != nil {
			return err
		}
		num, typ := protowire.DecodeTag(tag)
		if num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
			return fmt.Errorf("%w: field number %d", errNeedleMessage, num)
		}
		switch {
		case num == 1 && typ == protowire.VarintType:
			v, err := readUvarint(r)
			if err != nil {
				return err
			}
			sink.size = int64(v)
		case num == 2 && typ == protowire.BytesType:
			n, err := readLen(r)
			if err != nil {
				return err
			}
			if sink.buf == nil && n > 0 {
				if sink.buf, err = sink.alloc(sink.size); err != nil {
					return err
				}
			}
			if n > cap(sink.buf)-len(sink.buf) {
				return fmt.Errorf("%w: %d more bytes than the %d asked for", errNeedleMessage, len(sink.buf)+n-cap(sink.buf), cap(sink.buf))
			}
			for n > 0 {
				k, m := len(sink.buf), min(n, sumPieceBytes)
				piece := sink.buf[k : k+m]
				if _, err := io.ReadFull(r, piece); err != nil {
					return fmt.Errorf("%w: %v", errNeedleMessage, err)
				}
				sink.buf = sink.buf[:k+m]
				sink.sum = crc32.Update(sink.sum, castagnoli, piece)
				n -= m
			}
		default:
			if err := skipField(r, num, typ); err != nil {
				return err
			}
		}
	}
	return nil
}

// sumPieceBytes is how much data decodeNeedle copies before adding it to
// the running CRC32C: small enough to be summed from the cache.
const sumPieceBytes = 64 << 10

// readUvarint reads a protobuf varint.
func readUvarint(r *mem.Reader) (uint64, error) {
	var v uint64
	for i := 0; i < 10; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, fmt.Errorf("%w: truncated varint", errNeedleMessage)
		}
		if i == 9 && b > 1 {
			break // beyond 64 bits
		}
		v |= uint64(b&0x7f) << (7 * i)
		if b < 0x80 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: varint too long", errNeedleMessage)
}

// readLen reads a length prefix and checks that that many bytes follow.
func readLen(r *mem.Reader) (int, error) {
	v, err := readUvarint(r)
	if err != nil {
		return 0, err
	}
	if v > uint64(r.Remaining()) {
		return 0, fmt.Errorf("%w: a field of %d bytes in %d", errNeedleMessage, v, r.Remaining())
	}
	return int(v), nil
}

// skipField skips the value of a field of wire type typ.
func skipField(r *mem.Reader, num protowire.Number, typ protowire.Type) error {
	var n int
	switch typ {
	case protowire.VarintType:
		_, err := readUvarint(r)
		return err
	case protowire.Fixed32Type:
		n = 4
	case protowire.Fixed64Type:
		n = 8
	case protowire.BytesType:
		var err error
		if n, err = readLen(r); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: field %d of wire type %d", errNeedleMessage, num, typ)
	}
	if _, err := r.Discard(n); err != nil {
		return fmt.Errorf("%w: truncated field %d", errNeedleMessage, num)
	}
	return nil
}
