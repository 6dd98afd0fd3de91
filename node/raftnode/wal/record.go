package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/hashicorp/raft"
)

// A record is one log entry on disk:
//
//	header  u32 body length, u32 CRC-32C of the body   (little endian)
//	body    u64 index, u64 term, u8 type, i64 appended-at (Unix ns, 0 = zero time),
//	        uvarint len(data), data, uvarint len(extensions), extensions
//
// The CRC covers the whole body, so a torn or partly written record is
// recognised and a record is never confused with the one before it.
const (
	headerSize    = 8
	fixedBodySize = 8 + 8 + 1 + 8
	// maxBodySize bounds one record; larger lengths in a header are corrupt.
	maxBodySize = 1 << 30
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// appendRecord appends the encoding of l to buf.
func appendRecord(buf []byte, l *raft.Log) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, headerSize)...)
	buf = binary.LittleEndian.AppendUint64(buf, l.Index)
	buf = binary.LittleEndian.AppendUint64(buf, l.Term)
	buf = append(buf, byte(l.Type))
	var at int64
	if !l.AppendedAt.IsZero() {
		at = l.AppendedAt.UnixNano()
	}
	buf = binary.LittleEndian.AppendUint64(buf, uint64(at))
	buf = binary.AppendUvarint(buf, uint64(len(l.Data)))
	buf = append(buf, l.Data...)
	buf = binary.AppendUvarint(buf, uint64(len(l.Extensions)))
	buf = append(buf, l.Extensions...)
	body := buf[start+headerSize:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(body)))
	binary.LittleEndian.PutUint32(buf[start+4:], crc32.Checksum(body, crcTable))
	return buf
}

// recordSize returns the size of the record at the start of b, or an error
// if b does not start with a whole, intact record.
func recordSize(b []byte) (int, error) {
	if len(b) < headerSize {
		return 0, fmt.Errorf("short header (%d bytes)", len(b))
	}
	n := binary.LittleEndian.Uint32(b)
	if n < fixedBodySize || n > maxBodySize {
		return 0, fmt.Errorf("body length %d out of range", n)
	}
	if uint64(len(b)-headerSize) < uint64(n) {
		return 0, fmt.Errorf("body of %d bytes cut short at %d", n, len(b)-headerSize)
	}
	body := b[headerSize : headerSize+int(n)]
	if got, want := crc32.Checksum(body, crcTable), binary.LittleEndian.Uint32(b[4:]); got != want {
		return 0, fmt.Errorf("checksum %08x, header says %08x", got, want)
	}
	return headerSize + int(n), nil
}

// recordIndex returns the log index of an intact record.
func recordIndex(rec []byte) uint64 {
	return binary.LittleEndian.Uint64(rec[headerSize:])
}

// decodeRecord decodes the intact record rec into l. l.Data and l.Extensions
// alias rec.
func decodeRecord(rec []byte, l *raft.Log) error {
	b := rec[headerSize:]
	l.Index = binary.LittleEndian.Uint64(b)
	l.Term = binary.LittleEndian.Uint64(b[8:])
	l.Type = raft.LogType(b[16])
	if at := int64(binary.LittleEndian.Uint64(b[17:])); at != 0 {
		l.AppendedAt = time.Unix(0, at)
	} else {
		l.AppendedAt = time.Time{}
	}
	b = b[fixedBodySize:]
	var err error
	if l.Data, b, err = readBytes(b); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if l.Extensions, b, err = readBytes(b); err != nil {
		return fmt.Errorf("extensions: %w", err)
	}
	if len(b) != 0 {
		return fmt.Errorf("%d stray bytes after the entry", len(b))
	}
	return nil
}

// readBytes reads a uvarint length and that many bytes; a zero length reads
// as nil, as raft-boltdb's decoding returns it.
func readBytes(b []byte) (field, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, fmt.Errorf("bad length")
	}
	b = b[k:]
	if n == 0 {
		return nil, b, nil
	}
	return b[:n:n], b[n:], nil
}
