package volume

import (
	"bytes"
	"encoding/binary"
	"flag"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var seedFlag = flag.Uint64("volume.seed", 0, "seed for the random tests (0: from the clock)")

// testRand returns a generator seeded from -volume.seed or the clock,
// logging the seed so a failure can be replayed.
func testRand(t testing.TB) *rand.Rand {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -volume.seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

func testOptions(t testing.TB, dir string) Options {
	return Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(tWriter{t}, nil))}
}

func openStore(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustCreate(t testing.TB, s *Store, vid uint32) {
	t.Helper()
	if err := s.Create(vid); err != nil {
		t.Fatal(err)
	}
}

func mustWrite(t testing.TB, s *Store, vid uint32, nid uint64, data []byte) {
	t.Helper()
	sum, err := s.Write(vid, nid, cookieOf(nid), bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("write %d/%d: %v", vid, nid, err)
	}
	if sum != crc(data) {
		t.Fatalf("write %d/%d: crc %x, want %x", vid, nid, sum, crc(data))
	}
}

func mustRead(t testing.TB, s *Store, vid uint32, nid uint64, want []byte) {
	t.Helper()
	got, err := s.Read(vid, nid, cookieOf(nid), 0, -1)
	if err != nil {
		t.Fatalf("read %d/%d: %v", vid, nid, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d/%d: %d bytes differ from the %d written", vid, nid, len(got), len(want))
	}
}

func cookieOf(nid uint64) uint32 { return uint32(nid*2654435761) ^ 0xc0ffee }

// payload is n bytes derived from nid.
func payload(nid uint64, n int) []byte {
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], nid)
	binary.LittleEndian.PutUint64(seed[8:], uint64(n))
	b := make([]byte, n)
	rand.NewChaCha8(seed).Read(b)
	return b
}

// crashCopy copies dir as a kill -9 would leave it (every write the process
// made, synced or not) into a new directory; the store stays open.
func crashCopy(t testing.TB, dir string) string {
	t.Helper()
	dst := t.TempDir()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
