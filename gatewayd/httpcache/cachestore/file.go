package cachestore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// An object file is: a 40-byte header, the id, the body, the meta.
//
//	0  magic "cairncs1"
//	8  id length    uint32 LE
//	12 meta length  uint32 LE
//	16 body length  uint64 LE
//	24 CRC-32C of id and meta
//	28 zero
//	36 CRC-32C of bytes 0..36
//
// The meta sits after the body so that SetMeta rewrites only the tail and
// the header; a crash in between leaves a header whose CRC or length does
// not match, and Open drops the object.
const (
	headerSize = 40
	fileMagic  = "cairncs1"
	objSuffix  = ".obj"
	tmpSuffix  = ".tmp"
	maxIDLen   = 64 << 10
	maxMetaLen = 16 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// errBadFile: an object file's header or length does not check out.
var errBadFile = errors.New("cachestore: bad object file")

func encodeHeader(id string, meta []byte, bodyLen int64) []byte {
	h := make([]byte, headerSize)
	copy(h, fileMagic)
	binary.LittleEndian.PutUint32(h[8:], uint32(len(id)))
	binary.LittleEndian.PutUint32(h[12:], uint32(len(meta)))
	binary.LittleEndian.PutUint64(h[16:], uint64(bodyLen))
	c := crc32.Update(0, crcTable, []byte(id))
	binary.LittleEndian.PutUint32(h[24:], crc32.Update(c, crcTable, meta))
	binary.LittleEndian.PutUint32(h[36:], crc32.Checksum(h[:36], crcTable))
	return h
}

// fileSize is the size of an object file.
func fileSize(id string, meta []byte, bodyLen int64) int64 {
	return headerSize + int64(len(id)) + bodyLen + int64(len(meta))
}

// objectPath is where generation gen's file lives.
func objectPath(objDir string, gen uint64) string {
	return filepath.Join(objDir, fmt.Sprintf("%02x", gen&255), strconv.FormatUint(gen, 16)+objSuffix)
}

// parseGen returns the generation of an object file name.
func parseGen(name string) (uint64, bool) {
	if !strings.HasSuffix(name, objSuffix) {
		return 0, false
	}
	g, err := strconv.ParseUint(strings.TrimSuffix(name, objSuffix), 16, 64)
	return g, err == nil
}

// readObjectFile reads and checks the header, id and meta of an object file.
func readObjectFile(path string) (id string, meta []byte, bodyLen int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", nil, 0, err
	}
	h := make([]byte, headerSize)
	if _, err := io.ReadFull(f, h); err != nil {
		return "", nil, 0, fmt.Errorf("%w: header: %v", errBadFile, err)
	}
	if string(h[:8]) != fileMagic || binary.LittleEndian.Uint32(h[36:]) != crc32.Checksum(h[:36], crcTable) {
		return "", nil, 0, fmt.Errorf("%w: header magic or checksum", errBadFile)
	}
	idLen := int64(binary.LittleEndian.Uint32(h[8:]))
	metaLen := int64(binary.LittleEndian.Uint32(h[12:]))
	bodyLen = int64(binary.LittleEndian.Uint64(h[16:]))
	if idLen == 0 || idLen > maxIDLen || metaLen > maxMetaLen || bodyLen < 0 {
		return "", nil, 0, fmt.Errorf("%w: lengths id %d meta %d body %d", errBadFile, idLen, metaLen, bodyLen)
	}
	if want := headerSize + idLen + bodyLen + metaLen; st.Size() != want {
		return "", nil, 0, fmt.Errorf("%w: file is %d bytes, header says %d", errBadFile, st.Size(), want)
	}
	idb := make([]byte, idLen)
	if _, err := f.ReadAt(idb, headerSize); err != nil {
		return "", nil, 0, fmt.Errorf("%w: id: %v", errBadFile, err)
	}
	meta = make([]byte, metaLen)
	if _, err := f.ReadAt(meta, headerSize+idLen+bodyLen); err != nil && !(err == io.EOF && metaLen == 0) {
		return "", nil, 0, fmt.Errorf("%w: meta: %v", errBadFile, err)
	}
	c := crc32.Update(crc32.Update(0, crcTable, idb), crcTable, meta)
	if c != binary.LittleEndian.Uint32(h[24:]) {
		return "", nil, 0, fmt.Errorf("%w: id/meta checksum", errBadFile)
	}
	return string(idb), meta, bodyLen, nil
}

// writeObjectFile writes a whole object to tmp and renames it to path.
func writeObjectFile(tmp, path, id string, meta, body []byte) (err error) {
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	for _, p := range [][]byte{encodeHeader(id, meta, int64(len(body))), []byte(id), body, meta} {
		if _, err = f.Write(p); err != nil {
			return err
		}
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// rewriteMeta replaces the meta of the object file at path in place: the
// tail after the body, then the header.
func rewriteMeta(path, id string, meta []byte, bodyLen int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	off := headerSize + int64(len(id)) + bodyLen
	if _, err := f.WriteAt(meta, off); err != nil {
		f.Close()
		return err
	}
	if err := f.Truncate(off + int64(len(meta))); err != nil {
		f.Close()
		return err
	}
	if _, err := f.WriteAt(encodeHeader(id, meta, bodyLen), 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
