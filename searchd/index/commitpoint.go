package index

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// A commit point (commit_<gen>) is the JSON of commitPoint followed by the
// 4-byte little-endian CRC32C of the JSON. It is written to a temporary
// file, fsynced, renamed into place and the directory fsynced, so it is
// either whole or absent.
type commitPoint struct {
	Gen      int64             `json:"gen"`
	NextSeg  uint64            `json:"next_seg"`
	Segments []commitSegment   `json:"segments"`
	UserData map[string]string `json:"user_data,omitempty"`
}

// commitSegment is one segment of a commit point.
type commitSegment struct {
	Num    uint64 `json:"num"`
	MaxDoc uint32 `json:"max_doc"`
	// DelGen names the .del file holding the segment's deletes (0: none).
	DelGen int64 `json:"del_gen,omitempty"`
}

const commitPrefix = "commit_"

func commitFileName(gen int64) string { return commitPrefix + strconv.FormatInt(gen, 10) }

func segFileName(num uint64) string { return fmt.Sprintf("seg_%d.sdx", num) }

// files lists the files the commit point needs, itself last.
func (c *commitPoint) files() []string {
	var out []string
	for _, s := range c.Segments {
		out = append(out, segFileName(s.Num))
		if s.DelGen > 0 {
			out = append(out, delFileName(s.Num, s.DelGen))
		}
	}
	return append(out, commitFileName(c.Gen))
}

func writeCommitPoint(dir string, c *commitPoint) error {
	js, err := json.Marshal(c)
	if err != nil {
		return err
	}
	js = binary.LittleEndian.AppendUint32(js, crc32.Checksum(js, castagnoli))
	name := commitFileName(c.Gen)
	tmp := filepath.Join(dir, name+".tmp")
	if err := writeFileSync(tmp, js); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("index: write commit point: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("index: write commit point: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("index: write commit point: %w", err)
	}
	return nil
}

func readCommitPoint(dir, name string) (*commitPoint, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	if len(b) < 4 {
		return nil, fmt.Errorf("%w: %s: short", errCorrupt, name)
	}
	js := b[:len(b)-4]
	if crc32.Checksum(js, castagnoli) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%w: %s: checksum mismatch", errCorrupt, name)
	}
	c := &commitPoint{}
	if err := json.Unmarshal(js, c); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", errCorrupt, name, err)
	}
	return c, nil
}

// commitGens lists the generations of the commit points in names, newest
// first.
func commitGens(names []string) []int64 {
	var gens []int64
	for _, n := range names {
		if !strings.HasPrefix(n, commitPrefix) {
			continue
		}
		g, err := strconv.ParseInt(n[len(commitPrefix):], 10, 64)
		if err == nil && g > 0 {
			gens = append(gens, g)
		}
	}
	sort.Slice(gens, func(i, j int) bool { return gens[i] > gens[j] })
	return gens
}

// isIndexFile reports whether name is a file this package writes in Dir
// (so Open may delete it when no commit point names it).
func isIndexFile(name string) bool {
	return strings.HasPrefix(name, "seg_") || strings.HasPrefix(name, commitPrefix)
}

// HasCommit reports whether dir holds a valid commit point (so Open finds
// an index there rather than starting empty).
func HasCommit(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	for _, gen := range commitGens(names) {
		if _, err := readCommitPoint(dir, commitFileName(gen)); err == nil {
			return true
		}
	}
	return false
}
