package ec

import (
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// CompressHeaderSize is the size of the header that starts every frame
// Compress returns.
const CompressHeaderSize = 12

const (
	methodRaw  = 0
	methodZstd = 1
)

// zstd encoders and decoders are safe for concurrent EncodeAll/DecodeAll and
// costly to build, so one of each is made on first use and kept.
var (
	zstdEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
		return zstd.NewWriter(nil,
			zstd.WithEncoderLevel(zstd.SpeedBetterCompression),
			zstd.WithEncoderCRC(false), // the frame header carries a CRC32C of the original
			zstd.WithZeroFrames(true))
	})
	zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
		return zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(0),
			zstd.WithDecoderMaxMemory(MaxDataBytes),
			zstd.IgnoreChecksum(true))
	})
)

// Compress returns data as a self-describing frame for the archive tier: zstd
// (at SpeedBetterCompression: archive chunks are written once and read
// rarely) when that saves at least 1/32 of the size, otherwise data stored
// raw, so incompressible data costs CompressHeaderSize bytes and no
// decompression work. The header records the method and the original length
// and CRC32C. data is not retained; the result is fresh memory. Errors:
// ErrTooLarge (over MaxDataBytes).
func Compress(data []byte) ([]byte, error) {
	if len(data) > MaxDataBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxDataBytes)
	}
	enc, err := zstdEncoder()
	if err != nil {
		return nil, fmt.Errorf("ec: zstd encoder: %w", err)
	}
	out := make([]byte, CompressHeaderSize, CompressHeaderSize+len(data))
	out = enc.EncodeAll(data, out)
	body := len(out) - CompressHeaderSize
	method := byte(methodZstd)
	if body > len(data)-len(data)/32 {
		method = methodRaw
		out = append(out[:CompressHeaderSize], data...)
	}
	out[0] = method
	out[1], out[2], out[3] = 0, 0, 0
	binary.LittleEndian.PutUint32(out[4:], uint32(len(data)))
	binary.LittleEndian.PutUint32(out[8:], crc32c(data))
	return out, nil
}

// Decompress returns the original bytes of a frame made by Compress, after
// checking its header, its length and its CRC32C. frame is not retained; the
// result is fresh memory, empty but non-nil for empty data. Errors:
// ErrBadFrame (not a valid frame), ErrCorrupt (checksum mismatch).
func Decompress(frame []byte) ([]byte, error) {
	if len(frame) < CompressHeaderSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrBadFrame, len(frame), CompressHeaderSize)
	}
	if frame[1] != 0 || frame[2] != 0 || frame[3] != 0 {
		return nil, fmt.Errorf("%w: reserved bytes %x", ErrBadFrame, frame[1:4])
	}
	n := binary.LittleEndian.Uint32(frame[4:])
	if n > MaxDataBytes {
		return nil, fmt.Errorf("%w: length %d over %d", ErrBadFrame, n, MaxDataBytes)
	}
	want := binary.LittleEndian.Uint32(frame[8:])
	body := frame[CompressHeaderSize:]
	var out []byte
	switch frame[0] {
	case methodRaw:
		if len(body) != int(n) {
			return nil, fmt.Errorf("%w: raw body of %d bytes, header says %d", ErrBadFrame, len(body), n)
		}
		out = append(make([]byte, 0, n), body...)
	case methodZstd:
		dec, err := zstdDecoder()
		if err != nil {
			return nil, fmt.Errorf("ec: zstd decoder: %w", err)
		}
		if hdr, err := zstdContentSize(body); err != nil || hdr != int64(n) {
			return nil, fmt.Errorf("%w: zstd frame content size does not match the header's %d", ErrBadFrame, n)
		}
		out, err = dec.DecodeAll(body, make([]byte, 0, n))
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %w", ErrBadFrame, err)
		}
		if len(out) != int(n) {
			return nil, fmt.Errorf("%w: decompressed %d bytes, header says %d", ErrBadFrame, len(out), n)
		}
	default:
		return nil, fmt.Errorf("%w: unknown method %d", ErrBadFrame, frame[0])
	}
	if got := crc32c(out); got != want {
		return nil, fmt.Errorf("%w: decompressed %d bytes with crc32c %08x, frame records %08x", ErrCorrupt, n, got, want)
	}
	return out, nil
}

// zstdContentSize returns the content size a zstd frame header declares, or
// an error if it declares none.
func zstdContentSize(b []byte) (int64, error) {
	var h zstd.Header
	if err := h.Decode(b); err != nil {
		return 0, err
	}
	if !h.HasFCS {
		return 0, fmt.Errorf("no content size")
	}
	return int64(h.FrameContentSize), nil
}
