package cachestore

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// diskOpts: objects of 8 KiB and more go to disk.
func diskOpts(dir string) Options {
	return Options{MemoryBytes: 128 << 10, MaxMemoryObject: 8 << 10, DiskBytes: 4 << 20, Dir: dir}
}

func TestDiskReopen(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, diskOpts(dir))
	want := map[string]string{}
	for i := range 20 {
		id := fmt.Sprintf("https://example.test/obj/%d", i)
		body := bytes.Repeat([]byte{byte('a' + i)}, 10<<10+i)
		require.NoError(t, put(s, id, "meta-"+id, body))
		want[id] = string(body)
	}
	require.NoError(t, put(s, "small", "m", []byte("memory only")))
	u := s.Usage()
	require.NoError(t, s.Close())

	s2 := openStore(t, diskOpts(dir))
	got := map[string]string{}
	s2.Range(func(id string, meta []byte) bool {
		got[id] = string(meta)
		return true
	})
	require.Len(t, got, 20) // the memory object did not survive
	for id, body := range want {
		require.Equal(t, "meta-"+id, got[id])
		meta, b, tier := get(t, s2, id)
		require.Equal(t, "meta-"+id, meta)
		require.Equal(t, body, b)
		require.Equal(t, TierDisk, tier)
	}
	require.Equal(t, u.DiskBytes, s2.Usage().DiskBytes)

	// Replacing after the restart: a new generation, the old file goes.
	require.NoError(t, put(s2, "https://example.test/obj/3", "new", bytes.Repeat([]byte("z"), 9<<10)))
	require.Len(t, listDir(t, filepath.Join(dir, "objects")), 20)
}

func TestDiskReopenShrinks(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, diskOpts(dir))
	for i := range 30 {
		require.NoError(t, put(s, fmt.Sprint(i), "", make([]byte, 100<<10)))
	}
	require.NoError(t, s.Close())
	o := diskOpts(dir)
	o.DiskBytes = 1 << 20
	s2 := openStore(t, o)
	u := s2.Usage()
	require.LessOrEqual(t, u.DiskBytes, int64(1<<20))
	require.Len(t, listDir(t, filepath.Join(dir, "objects")), int(u.Objects))
	// The newest survived.
	_, _, tier := get(t, s2, "29")
	require.Equal(t, TierDisk, tier)
}

func TestTornFilesRemovedAtOpen(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, diskOpts(dir))
	require.NoError(t, put(s, "good", "m", make([]byte, 20<<10)))
	require.NoError(t, put(s, "torn", "m", make([]byte, 20<<10)))
	// A write that never committed.
	w, err := s.Create("pending", nil, 50<<10)
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 10<<10))
	require.NoError(t, err)
	s.mu.Lock()
	tornPath := objectPath(s.objDir, s.index["torn"].gen)
	s.mu.Unlock()
	require.NoError(t, s.Close())
	require.Len(t, listDir(t, filepath.Join(dir, "tmp")), 1)

	// A file cut short, a file with a corrupt header, a stray file, a
	// file with a good name in the wrong fan-out directory.
	st, err := os.Stat(tornPath)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(tornPath, st.Size()-7))
	bad := objectPath(filepath.Join(dir, "objects"), 0x1234)
	for _, sub := range []string{"34", "00", "01"} {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "objects", sub), 0o755))
	}
	require.NoError(t, os.WriteFile(bad, []byte("cairncs1 but not really a header at all....."), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "objects", "00", "notes.txt"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "objects", "01", "ff.obj"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "tmp", "junk.tmp"), []byte("x"), 0o644))

	s2 := openStore(t, diskOpts(dir))
	var ids []string
	s2.Range(func(id string, _ []byte) bool { ids = append(ids, id); return true })
	require.Equal(t, []string{"good"}, ids)
	require.Empty(t, listDir(t, filepath.Join(dir, "tmp")))
	require.Len(t, listDir(t, filepath.Join(dir, "objects")), 1)
	_, body, _ := get(t, s2, "good")
	require.Len(t, body, 20<<10)
}

func TestDuplicateGenerationsKeepNewest(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, diskOpts(dir))
	require.NoError(t, put(s, "k", "new", make([]byte, 10<<10)))
	require.NoError(t, s.Close())
	// A crash between the rename of a new version and the unlink of the
	// old one leaves two files for one id: write an older one by hand.
	old := objectPath(filepath.Join(dir, "objects"), 5)
	require.NoError(t, os.MkdirAll(filepath.Dir(old), 0o755))
	require.NoError(t, writeObjectFile(filepath.Join(dir, "tmp", "x.tmp"), old, "k", []byte("old"), make([]byte, 10<<10)))

	s2 := openStore(t, diskOpts(dir))
	meta, _, _ := get(t, s2, "k")
	require.Equal(t, "new", meta)
	require.Len(t, listDir(t, filepath.Join(dir, "objects")), 1)
	require.EqualValues(t, 1, s2.Usage().Objects)
}

func TestDiskLimitAndTooLarge(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, diskOpts(dir))
	_, err := s.Create("huge", nil, 2<<20) // over DiskBytes/4
	require.ErrorContains(t, err, "DiskBytes/4")
	for i := range 200 {
		err := put(s, fmt.Sprint(i), "", make([]byte, 50<<10))
		if err != nil {
			require.ErrorContains(t, err, "not admitted")
		}
		require.LessOrEqual(t, s.Usage().DiskBytes, int64(4<<20))
	}
	u := s.Usage()
	require.Len(t, listDir(t, filepath.Join(dir, "objects")), int(u.Objects))
	require.Greater(t, u.Evictions+u.Rejected, int64(0))
}

func TestDemotionAndPromotion(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Options{MemoryBytes: 64 << 10, MaxMemoryObject: 4 << 10, DiskBytes: 4 << 20, Dir: dir})
	body := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, 2000) }
	for i := range 100 {
		require.NoError(t, put(s, fmt.Sprint(i), fmt.Sprint("m", i), body(i)))
	}
	idle(t, s)
	u := s.Usage()
	require.LessOrEqual(t, u.MemoryBytes, int64(64<<10))
	require.Greater(t, u.DiskBytes, int64(0))
	require.EqualValues(t, 100, u.Objects, "every memory eviction was demoted")
	onDisk := ""
	for i := range 100 {
		meta, b, tier := get(t, s, fmt.Sprint(i))
		require.Equal(t, fmt.Sprint("m", i), meta)
		require.Equal(t, string(body(i)), b)
		if tier == TierDisk && onDisk == "" {
			onDisk = fmt.Sprint(i)
		}
	}
	require.NotEmpty(t, onDisk)
	idle(t, s)
	// A disk object accessed often enough is promoted to memory.
	waitFor(t, "promotion of "+onDisk, func() bool {
		_, _, tier := get(t, s, onDisk)
		return tier == TierMemory
	})
	idle(t, s)
	u = s.Usage()
	require.EqualValues(t, 100, u.Objects)
	require.LessOrEqual(t, u.MemoryBytes, int64(64<<10))
	require.Len(t, listDir(t, filepath.Join(dir, "objects")), int(s.countTier(tierDisk)))
}

// countTier counts the entries in tier t.
func (s *Store) countTier(t tier) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.index {
		if e.tier == t {
			n++
		}
	}
	return n
}

func TestDirLocked(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, diskOpts(dir))
	_, err := Open(diskOpts(dir))
	require.ErrorIs(t, err, ErrLocked)
	require.NoError(t, s.Close())
	s2, err := Open(diskOpts(dir))
	require.NoError(t, err)
	require.NoError(t, s2.Close())
}
