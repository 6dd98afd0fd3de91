package index

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/bits"
	"os"
	"path/filepath"
)

// delSet is the set of deleted docs of a segment. A delSet shared with a
// reader's snapshot is never modified: the Writer copies it first.
type delSet struct {
	bits []uint64
	n    uint32
}

func (d *delSet) has(doc uint32) bool {
	w := int(doc >> 6)
	return w < len(d.bits) && d.bits[w]&(1<<(doc&63)) != 0
}

// add marks doc deleted; false if it already was.
func (d *delSet) add(doc uint32) bool {
	w := int(doc >> 6)
	for len(d.bits) <= w {
		d.bits = append(d.bits, 0)
	}
	if d.bits[w]&(1<<(doc&63)) != 0 {
		return false
	}
	d.bits[w] |= 1 << (doc & 63)
	d.n++
	return true
}

func (d *delSet) clone() *delSet {
	if d == nil {
		return &delSet{}
	}
	return &delSet{bits: append([]uint64(nil), d.bits...), n: d.n}
}

func (d *delSet) count() uint32 {
	if d == nil {
		return 0
	}
	return d.n
}

// A .del file (seg_<n>_<gen>.del) holds a segment's deletes as of commit
// <gen>: "SDXDEL01", uint32 word count, the words (little-endian), uint32
// CRC32C of what precedes it.
const delMagic = "SDXDEL01"

func delFileName(segNum uint64, gen int64) string {
	return fmt.Sprintf("seg_%d_%d.del", segNum, gen)
}

// writeDelFile writes and fsyncs d as name in dir.
func writeDelFile(dir, name string, d *delSet) error {
	b := make([]byte, 0, 16+8*len(d.bits))
	b = append(b, delMagic...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(d.bits)))
	for _, w := range d.bits {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	return writeFileSync(filepath.Join(dir, name), b)
}

// readDelFile reads a .del file.
func readDelFile(dir, name string) (*delSet, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("index: read deletes: %w", err)
	}
	if len(b) < 16 || string(b[:8]) != delMagic {
		return nil, fmt.Errorf("%w: %s: bad header", errCorrupt, name)
	}
	n := int(binary.LittleEndian.Uint32(b[8:]))
	if len(b) != 16+8*n {
		return nil, fmt.Errorf("%w: %s: bad length", errCorrupt, name)
	}
	if crc32.Checksum(b[:len(b)-4], castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%w: %s: checksum mismatch", errCorrupt, name)
	}
	d := &delSet{bits: make([]uint64, n)}
	for i := range d.bits {
		d.bits[i] = binary.LittleEndian.Uint64(b[12+8*i:])
		d.n += uint32(bits.OnesCount64(d.bits[i]))
	}
	return d, nil
}

// writeFileSync writes b to path and fsyncs it.
func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncFile fsyncs an existing file.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs a directory so renames and creations in it are durable.
func syncDir(dir string) error { return syncFile(dir) }
