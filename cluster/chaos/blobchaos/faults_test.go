package blobchaos

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cairn.dev/cairn/blobd/volume"
	"cairn.dev/cairn/node/nodetest"
)

// needleData is the data of needle nid in the tamper tests.
func needleData(nid uint64) []byte {
	return bytes.Repeat([]byte{byte(nid)}, 1000+int(nid)*37)
}

// makeVolumes writes volumes 1 and 2 of five needles each (needle 3 of
// volume 2 deleted) in dir with blobd/volume, fsyncs and closes them.
func makeVolumes(t *testing.T, dir string) {
	t.Helper()
	s, err := volume.Open(volume.Options{Dir: dir, Logger: nodetest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for vid := uint32(1); vid <= 2; vid++ {
		if err := s.Create(vid); err != nil {
			t.Fatal(err)
		}
		for nid := uint64(1); nid <= 5; nid++ {
			d := needleData(nid)
			if _, err := s.Write(vid, nid, 7, bytes.NewReader(d), int64(len(d))); err != nil {
				t.Fatal(err)
			}
		}
		if vid == 2 {
			if err := s.Delete(vid, 3); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Sync(vid); err != nil {
			t.Fatal(err)
		}
	}
}

// damaged reopens the store in dir and returns, per volume, the needles
// that no longer read back intact (corrupt, missing), and the volumes
// gone.
func damaged(t *testing.T, dir string) (bad map[uint32][]uint64, gone []uint32) {
	t.Helper()
	s, err := volume.Open(volume.Options{Dir: dir, Logger: nodetest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	bad = map[uint32][]uint64{}
	have := map[uint32]bool{}
	for _, vi := range s.Volumes() {
		have[vi.ID] = vi.Damaged == nil
	}
	for vid := uint32(1); vid <= 2; vid++ {
		if !have[vid] {
			gone = append(gone, vid)
			continue
		}
		for nid := uint64(1); nid <= 5; nid++ {
			if vid == 2 && nid == 3 {
				continue
			}
			d := needleData(nid)
			got, err := s.Read(vid, nid, 7, 0, int64(len(d)))
			if err != nil || !bytes.Equal(got, d) {
				if err != nil && !errors.Is(err, volume.ErrCorrupt) && !errors.Is(err, volume.ErrNotFound) {
					t.Fatalf("read %d/%d: %v", vid, nid, err)
				}
				bad[vid] = append(bad[vid], nid)
			}
		}
	}
	return bad, gone
}

func TestScanNeedles(t *testing.T) {
	dir := t.TempDir()
	makeVolumes(t, dir)
	ns, err := scanNeedles(filepath.Join(dir, "2.dat"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 6 {
		t.Fatalf("%d needles in 2.dat, want 5 and a tombstone: %+v", len(ns), ns)
	}
	for i, n := range ns[:5] {
		if n.id != uint64(i+1) || n.size != int64(len(needleData(n.id))) || n.tombstone {
			t.Fatalf("needle %d: %+v", i, n)
		}
	}
	if last := ns[5]; last.id != 3 || !last.tombstone {
		t.Fatalf("last needle %+v, want the tombstone of 3", last)
	}
}

func TestTampers(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func(string, *rand.Rand) (string, error)
		note string
		// check judges the damage the store sees after the tamper
		check func(t *testing.T, bad map[uint32][]uint64, gone []uint32)
	}{
		{
			name: "flip", fn: flipNeedle, note: "flipped bytes at",
			check: func(t *testing.T, bad map[uint32][]uint64, gone []uint32) {
				if len(gone) != 0 || len(bad) != 1 {
					t.Fatalf("bad %v, gone %v: want one corrupt needle", bad, gone)
				}
				for vid, ns := range bad {
					if len(ns) != 1 || vid == 2 && ns[0] == 3 {
						t.Fatalf("bad %v: want one live needle", bad)
					}
				}
			},
		},
		{
			name: "truncate", fn: truncateDat, note: "bytes off",
			check: func(t *testing.T, bad map[uint32][]uint64, gone []uint32) {
				if len(gone) != 0 || len(bad) != 1 {
					t.Fatalf("bad %v, gone %v: want the tail needles of one volume lost", bad, gone)
				}
				for _, ns := range bad {
					if ns[len(ns)-1] != 5 {
						t.Fatalf("bad %v: the last needle must be among those lost", bad)
					}
				}
			},
		},
		{
			name: "delete", fn: deleteVolume, note: "deleted",
			check: func(t *testing.T, bad map[uint32][]uint64, gone []uint32) {
				if len(gone) != 1 || len(bad) != 0 {
					t.Fatalf("bad %v, gone %v: want one volume gone", bad, gone)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for seed := range uint64(8) {
				dir := t.TempDir()
				makeVolumes(t, dir)
				note, err := tc.fn(dir, rand.New(rand.NewPCG(seed, 1)))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(note, tc.note) {
					t.Fatalf("note %q does not mention %q", note, tc.note)
				}
				t.Logf("seed %d: %s", seed, note)
				bad, gone := damaged(t, dir)
				tc.check(t, bad, gone)
			}
		})
	}
}

func TestTampersWithoutVolumes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "9.dat"), make([]byte, volSuperLen), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, fn := range []func(string, *rand.Rand) (string, error){flipNeedle, truncateDat, deleteVolume} {
		note, err := fn(dir, rand.New(rand.NewPCG(1, 2)))
		if err != nil || !strings.HasPrefix(note, "no ") {
			t.Fatalf("on an empty volume: %q, %v", note, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "9.dat")); err != nil {
		t.Fatal(err)
	}
}
