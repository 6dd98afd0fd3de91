package volume

import (
	"encoding/binary"
	"hash/crc32"
)

// On-disk format. All integers are little endian.
const (
	formatVersion = 1

	superLen  = 40 // superblock of .dat and header of .idx
	headerLen = 32 // needle header
	entryLen  = 32 // index entry

	needleMagic = 0x6c64656e // "nedl"

	flagTombstone = 1 << 0
	flagSyncMark  = 1 << 7 // index entries only: a sync mark
)

var (
	datMagic   = [8]byte{'c', 'a', 'i', 'r', 'n', 'v', 'o', 'l'}
	idxMagic   = [8]byte{'c', 'a', 'i', 'r', 'n', 'i', 'd', 'x'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

func crc(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// pad8 rounds n up to a multiple of 8.
func pad8(n int64) int64 { return (n + 7) &^ 7 }

// needleLen is the bytes a needle of size bytes of data takes in .dat.
func needleLen(size uint32) int64 { return headerLen + pad8(int64(size)) }

// super is a .dat superblock or .idx header.
type super struct {
	vid        uint32
	generation uint64 // bumped by each compaction; .idx must match .dat
	created    int64  // unix nanoseconds
}

// superblock layout: magic [8] | version u32 | vid u32 | generation u64 |
// created i64 | zero u32 | crc32c(bytes 0..36) u32.
func (s super) encode(magic [8]byte) []byte {
	b := make([]byte, superLen)
	copy(b, magic[:])
	binary.LittleEndian.PutUint32(b[8:], formatVersion)
	binary.LittleEndian.PutUint32(b[12:], s.vid)
	binary.LittleEndian.PutUint64(b[16:], s.generation)
	binary.LittleEndian.PutUint64(b[24:], uint64(s.created))
	binary.LittleEndian.PutUint32(b[36:], crc(b[:36]))
	return b
}

func decodeSuper(b []byte, magic [8]byte) (super, bool) {
	if len(b) < superLen || [8]byte(b[:8]) != magic ||
		binary.LittleEndian.Uint32(b[8:]) != formatVersion ||
		binary.LittleEndian.Uint32(b[36:]) != crc(b[:36]) {
		return super{}, false
	}
	return super{
		vid:        binary.LittleEndian.Uint32(b[12:]),
		generation: binary.LittleEndian.Uint64(b[16:]),
		created:    int64(binary.LittleEndian.Uint64(b[24:])),
	}, true
}

// header is a needle header.
type header struct {
	nid    uint64
	cookie uint32
	flags  uint8
	size   uint32
	crc    uint32
}

// header layout: magic u32 | nid u64 | cookie u32 | flags u8 | 3 zero |
// size u32 | crc u32 | crc32c(bytes 0..28) u32.
func (h header) put(b []byte) {
	_ = b[headerLen-1]
	binary.LittleEndian.PutUint32(b[0:], needleMagic)
	binary.LittleEndian.PutUint64(b[4:], h.nid)
	binary.LittleEndian.PutUint32(b[12:], h.cookie)
	b[16], b[17], b[18], b[19] = h.flags, 0, 0, 0
	binary.LittleEndian.PutUint32(b[20:], h.size)
	binary.LittleEndian.PutUint32(b[24:], h.crc)
	binary.LittleEndian.PutUint32(b[28:], crc(b[:28]))
}

func decodeHeader(b []byte) (header, bool) {
	if len(b) < headerLen || binary.LittleEndian.Uint32(b[0:]) != needleMagic ||
		binary.LittleEndian.Uint32(b[28:]) != crc(b[:28]) || b[17]|b[18]|b[19] != 0 {
		return header{}, false
	}
	return header{
		nid:    binary.LittleEndian.Uint64(b[4:]),
		cookie: binary.LittleEndian.Uint32(b[12:]),
		flags:  b[16],
		size:   binary.LittleEndian.Uint32(b[20:]),
		crc:    binary.LittleEndian.Uint32(b[24:]),
	}, true
}

// entry is an index entry, and the in-memory map's value (without nid).
type entry struct {
	off8   uint32 // offset in .dat / 8
	size   uint32
	cookie uint32
	crc    uint32
	flags  uint8
}

func (e entry) off() int64       { return int64(e.off8) * 8 }
func (e entry) deleted() bool    { return e.flags&flagTombstone != 0 }
func (e entry) needleEnd() int64 { return e.off() + needleLen(e.size) }

// index entry layout: nid u64 | off8 u32 | size u32 | cookie u32 | crc u32 |
// flags u8 | 3 zero | crc32c(bytes 0..28) u32. A sync mark has flagSyncMark,
// nid 0 and off8 the durable .dat size / 8.
func putEntry(b []byte, nid uint64, e entry) {
	_ = b[entryLen-1]
	binary.LittleEndian.PutUint64(b[0:], nid)
	binary.LittleEndian.PutUint32(b[8:], e.off8)
	binary.LittleEndian.PutUint32(b[12:], e.size)
	binary.LittleEndian.PutUint32(b[16:], e.cookie)
	binary.LittleEndian.PutUint32(b[20:], e.crc)
	b[24], b[25], b[26], b[27] = e.flags, 0, 0, 0
	binary.LittleEndian.PutUint32(b[28:], crc(b[:28]))
}

func decodeEntry(b []byte) (uint64, entry, bool) {
	if len(b) < entryLen || binary.LittleEndian.Uint32(b[28:]) != crc(b[:28]) || b[25]|b[26]|b[27] != 0 {
		return 0, entry{}, false
	}
	return binary.LittleEndian.Uint64(b[0:]), entry{
		off8:   binary.LittleEndian.Uint32(b[8:]),
		size:   binary.LittleEndian.Uint32(b[12:]),
		cookie: binary.LittleEndian.Uint32(b[16:]),
		crc:    binary.LittleEndian.Uint32(b[20:]),
		flags:  b[24],
	}, true
}
