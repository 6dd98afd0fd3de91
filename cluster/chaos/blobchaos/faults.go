package blobchaos

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"cairn.dev/cairn/blobd"

	"cairn.dev/cairn/cluster/chaos"
)

// The tampers the blobd scenarios name in Params.Tamper. Each damages the
// volume files (<data>/volumes/<vid>.dat and .idx, blobd/volume's format)
// of a node while it is down; blobd must notice (recovery on open, the
// scrubber, heartbeats) and repair the copy from the other replicas.
const (
	// TamperFlip flips 1 to 4 bytes inside the data of one live needle of
	// one volume: bitrot, which only the needle's CRC32C reveals.
	TamperFlip = "flip-needle"
	// TamperTruncate cuts the tail off one volume's .dat, from 1 byte to
	// the length of its last few needles: acknowledged, fsynced needles
	// lost from this copy, which recovery truncates away on open.
	TamperTruncate = "truncate-dat"
	// TamperDelete deletes one volume's .dat and .idx.
	TamperDelete = "delete-volume"
	// TamperAny draws one of the three above.
	TamperAny = "damage-volume"
)

// tampers returns the scenarios' tampers by name.
func tampers() map[string]chaos.TamperFunc {
	return map[string]chaos.TamperFunc{
		TamperFlip:     onNode(flipNeedle),
		TamperTruncate: onNode(truncateDat),
		TamperDelete:   onNode(deleteVolume),
		TamperAny: onNode(func(dir string, rng *rand.Rand) (string, error) {
			fns := []func(string, *rand.Rand) (string, error){flipNeedle, truncateDat, deleteVolume}
			return fns[rng.IntN(len(fns))](dir, rng)
		}),
	}
}

// onNode makes a tamper of a volume directory a TamperFunc on a node's
// <data>/volumes.
func onNode(fn func(dir string, rng *rand.Rand) (string, error)) chaos.TamperFunc {
	return func(env *chaos.Env, node string, rng *rand.Rand) (string, error) {
		n, ok := env.Node(node)
		if !ok {
			return "", fmt.Errorf("unknown node %s", node)
		}
		return fn(filepath.Join(n.DataDir, blobd.VolumesDir), rng)
	}
}

// blobd/volume's on-disk format, as much as the tampers need (see its
// format.go): a 40-byte superblock, then needles at 8-byte aligned offsets,
// each a 32-byte header (magic u32 | needle id u64 | cookie u32 | flags u8
// (bit 0: tombstone) | 3 zero bytes | data size u32 | data crc u32 |
// crc32c of bytes 0..28 u32) and its data, padded to a multiple of 8.
const (
	volSuperLen     = 40
	needleHeaderLen = 32
	needleMagic     = 0x6c64656e
	flagTombstone   = 1
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// needle is one needle found in a .dat file.
type needle struct {
	id        uint64
	off, size int64 // header offset; data size
	tombstone bool
}

// end is the offset past the needle's padded data.
func (n needle) end() int64 { return n.off + needleHeaderLen + (n.size+7)&^7 }

// scanNeedles returns the needles of a .dat file in file order, up to the
// first header that does not check out.
func scanNeedles(path string) ([]needle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []needle
	hdr := make([]byte, needleHeaderLen)
	for off := int64(volSuperLen); ; {
		if _, err := f.ReadAt(hdr, off); err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
		if binary.LittleEndian.Uint32(hdr) != needleMagic || binary.LittleEndian.Uint32(hdr[28:]) != crc32.Checksum(hdr[:28], castagnoli) {
			return out, nil
		}
		n := needle{id: binary.LittleEndian.Uint64(hdr[4:]), off: off, size: int64(binary.LittleEndian.Uint32(hdr[20:])),
			tombstone: hdr[16]&flagTombstone != 0}
		out = append(out, n)
		off = n.end()
	}
}

// volumeFiles returns the .dat files of dir holding at least one needle,
// sorted.
func volumeFiles(dir string) ([]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.dat"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []string
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && fi.Size() > volSuperLen {
			out = append(out, p)
		}
	}
	return out, nil
}

// flipNeedle flips 1 to 4 bytes of the data of a live needle (one with
// data and no later tombstone) drawn among every volume's.
func flipNeedle(dir string, rng *rand.Rand) (string, error) {
	vols, err := volumeFiles(dir)
	if err != nil {
		return "", err
	}
	type cand struct {
		path string
		n    needle
	}
	var cands []cand
	for _, p := range vols {
		ns, err := scanNeedles(p)
		if err != nil {
			return "", err
		}
		dead := map[uint64]bool{}
		for _, n := range ns {
			if n.tombstone {
				dead[n.id] = true
			}
		}
		for _, n := range ns {
			if !n.tombstone && !dead[n.id] && n.size > 0 {
				cands = append(cands, cand{p, n})
			}
		}
	}
	if len(cands) == 0 {
		return "no live needle with data", nil
	}
	c := cands[rng.IntN(len(cands))]
	f, err := os.OpenFile(c.path, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	flips := 1 + rng.IntN(4)
	var at []string
	b := make([]byte, 1)
	for range flips {
		off := c.n.off + needleHeaderLen + rng.Int64N(c.n.size)
		if _, err := f.ReadAt(b, off); err != nil {
			return "", err
		}
		b[0] ^= byte(1 + rng.IntN(255))
		if _, err := f.WriteAt(b, off); err != nil {
			return "", err
		}
		at = append(at, fmt.Sprint(off))
	}
	return fmt.Sprintf("flipped bytes at %s of needle %d (%d bytes) in %s", strings.Join(at, ","), c.n.id, c.n.size, filepath.Base(c.path)),
		f.Sync()
}

// truncateDat cuts 1 byte up to the length of the last three needles (at
// least 4 KiB, never into the superblock) off the end of a volume's .dat
// drawn among those with needles.
func truncateDat(dir string, rng *rand.Rand) (string, error) {
	vols, err := volumeFiles(dir)
	if err != nil {
		return "", err
	}
	if len(vols) == 0 {
		return "no volume with needles", nil
	}
	p := vols[rng.IntN(len(vols))]
	fi, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	ns, err := scanNeedles(p)
	if err != nil {
		return "", err
	}
	span := int64(4 << 10)
	if len(ns) > 0 {
		span = max(span, fi.Size()-ns[max(0, len(ns)-3)].off)
	}
	cut := 1 + rng.Int64N(min(span, fi.Size()-volSuperLen))
	if err := os.Truncate(p, fi.Size()-cut); err != nil {
		return "", err
	}
	return fmt.Sprintf("cut %d of %d bytes off %s (%d needles)", cut, fi.Size(), filepath.Base(p), len(ns)), nil
}

// deleteVolume deletes the .dat and .idx of a volume drawn among those
// with needles.
func deleteVolume(dir string, rng *rand.Rand) (string, error) {
	vols, err := volumeFiles(dir)
	if err != nil {
		return "", err
	}
	if len(vols) == 0 {
		return "no volume with needles", nil
	}
	p := vols[rng.IntN(len(vols))]
	idx := strings.TrimSuffix(p, ".dat") + ".idx"
	if err := os.Remove(p); err != nil {
		return "", err
	}
	if err := os.Remove(idx); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	return fmt.Sprintf("deleted %s and %s", filepath.Base(p), filepath.Base(idx)), nil
}
