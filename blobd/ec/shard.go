package ec

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// HeaderSize is the size of the header that starts every shard.
const HeaderSize = 32

// MaxDataBytes is the largest chunk Encode accepts and the largest length a
// shard header or compressed frame may declare: blobd's chunks are 8 MiB, and
// the margin leaves room for a compression header and for larger chunk sizes
// later without letting a corrupt header ask for unbounded memory.
const MaxDataBytes = 64 << 20

const (
	shardMagic   = 0x31434542 // "BEC1" little endian
	shardVersion = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Header is the decoded header of one shard.
type Header struct {
	Scheme     Scheme
	Index      int    // 0..Data-1 data shards, Data..Data+Parity-1 parity shards
	Length     int    // length of the whole chunk
	Size       int    // payload size, Scheme.ShardSize(Length)
	DataCRC    uint32 // CRC32C of the whole chunk
	PayloadCRC uint32 // CRC32C of this shard's payload
}

// putHeader writes h into b[:HeaderSize].
func putHeader(b []byte, h Header) {
	binary.LittleEndian.PutUint32(b[0:], shardMagic)
	b[4] = shardVersion
	b[5] = byte(h.Scheme.Data)
	b[6] = byte(h.Scheme.Parity)
	b[7] = byte(h.Index)
	binary.LittleEndian.PutUint32(b[8:], uint32(h.Length))
	binary.LittleEndian.PutUint32(b[12:], uint32(h.Size))
	binary.LittleEndian.PutUint32(b[16:], h.DataCRC)
	binary.LittleEndian.PutUint32(b[20:], h.PayloadCRC)
	binary.LittleEndian.PutUint32(b[24:], 0)
	binary.LittleEndian.PutUint32(b[28:], crc32c(b[:28]))
}

// ParseShard verifies one stored shard — header checksum, magic, version,
// scheme, index, sizes, payload checksum — and returns its header and
// payload (a subslice of shard, not a copy). Every failure wraps ErrBadShard.
// It does not know where the shard was stored: callers check that
// Header.Index and Header.Scheme are the ones they expect (Decode does).
func ParseShard(shard []byte) (Header, []byte, error) {
	var h Header
	if len(shard) < HeaderSize {
		return h, nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrBadShard, len(shard), HeaderSize)
	}
	b := shard[:HeaderSize]
	if got, want := crc32c(b[:28]), binary.LittleEndian.Uint32(b[28:]); got != want {
		return h, nil, fmt.Errorf("%w: header crc32c %08x, recorded %08x", ErrBadShard, got, want)
	}
	if m := binary.LittleEndian.Uint32(b[0:]); m != shardMagic {
		return h, nil, fmt.Errorf("%w: magic %08x", ErrBadShard, m)
	}
	if b[4] != shardVersion {
		return h, nil, fmt.Errorf("%w: format version %d, want %d", ErrBadShard, b[4], shardVersion)
	}
	if r := binary.LittleEndian.Uint32(b[24:]); r != 0 {
		return h, nil, fmt.Errorf("%w: reserved field %08x", ErrBadShard, r)
	}
	h.Scheme = Scheme{Data: int(b[5]), Parity: int(b[6])}
	if err := h.Scheme.Validate(); err != nil {
		return h, nil, fmt.Errorf("%w: %w", ErrBadShard, err)
	}
	h.Index = int(b[7])
	if h.Index >= h.Scheme.Shards() {
		return h, nil, fmt.Errorf("%w: index %d in scheme %v", ErrBadShard, h.Index, h.Scheme)
	}
	length := binary.LittleEndian.Uint32(b[8:])
	if length > MaxDataBytes {
		return h, nil, fmt.Errorf("%w: chunk length %d over %d", ErrBadShard, length, MaxDataBytes)
	}
	h.Length = int(length)
	h.Size = int(binary.LittleEndian.Uint32(b[12:]))
	if want := h.Scheme.ShardSize(h.Length); h.Size != want {
		return h, nil, fmt.Errorf("%w: payload size %d, want %d for %d bytes in %v", ErrBadShard, h.Size, want, h.Length, h.Scheme)
	}
	if len(shard) != HeaderSize+h.Size {
		return h, nil, fmt.Errorf("%w: %d bytes, header says %d", ErrBadShard, len(shard), HeaderSize+h.Size)
	}
	h.DataCRC = binary.LittleEndian.Uint32(b[16:])
	h.PayloadCRC = binary.LittleEndian.Uint32(b[20:])
	payload := shard[HeaderSize:]
	if got := crc32c(payload); got != h.PayloadCRC {
		return h, nil, fmt.Errorf("%w: shard %d payload crc32c %08x, recorded %08x", ErrBadShard, h.Index, got, h.PayloadCRC)
	}
	return h, payload, nil
}
