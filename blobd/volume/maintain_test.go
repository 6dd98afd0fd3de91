package volume

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

func TestScrub(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(t, dir))
	mustCreate(t, s, 1)
	for nid := uint64(1); nid <= 10; nid++ {
		mustWrite(t, s, 1, nid, payload(nid, int(nid)*1000))
	}
	s.Delete(1, 10)
	res, err := s.Scrub(context.Background(), 1, nil)
	if err != nil || res.Needles != 9 || res.Corrupt != 0 {
		t.Fatalf("clean scrub %+v %v", res, err)
	}
	v, _ := s.volume(1)
	e := v.m[4]
	f, _ := os.OpenFile(datPath(dir, 1), os.O_RDWR, 0)
	f.WriteAt([]byte{0xee}, e.off()+headerLen+123)
	f.Close()
	var bad []uint64
	res, err = s.Scrub(context.Background(), 1, func(nid uint64, err error) {
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("needle %d: %v", nid, err)
			}
			bad = append(bad, nid)
		}
	})
	if err != nil || res.Corrupt != 1 || len(bad) != 1 || bad[0] != 4 {
		t.Fatalf("scrub %+v %v, bad %v", res, err, bad)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Scrub(ctx, 1, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled scrub: %v", err)
	}
}

func TestScrubPaced(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.ScrubBytesPerSec = 1 << 30 // fast enough for a test, slow enough to wait
	s := openStore(t, opts)
	mustCreate(t, s, 1)
	for nid := uint64(1); nid <= 20; nid++ {
		mustWrite(t, s, 1, nid, payload(nid, 1<<20))
	}
	if res, err := s.Scrub(context.Background(), 1, nil); err != nil || res.Needles != 20 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestCopyRoundTrip(t *testing.T) {
	src := openStore(t, testOptions(t, t.TempDir()))
	mustCreate(t, src, 5)
	sizes := map[uint64]int{}
	for nid := uint64(1); nid <= 30; nid++ {
		sizes[nid] = int(nid*nid) * 300
		mustWrite(t, src, 5, nid, payload(nid, sizes[nid]))
	}
	src.Delete(5, 7)
	src.Delete(5, 999)
	var stream bytes.Buffer
	if _, err := src.CopyTo(5, &stream); err != nil {
		t.Fatal(err)
	}
	dstDir := t.TempDir()
	dst := openStore(t, testOptions(t, dstDir))
	if err := dst.ReceiveCopy(5, bytes.NewReader(stream.Bytes())); err != nil {
		t.Fatal(err)
	}
	if err := dst.ReceiveCopy(5, bytes.NewReader(stream.Bytes())); !errors.Is(err, ErrExists) {
		t.Fatalf("second receive: %v", err)
	}
	check := func(s *Store) {
		t.Helper()
		for nid, n := range sizes {
			if nid == 7 {
				if _, err := s.Read(5, nid, cookieOf(nid), 0, -1); !errors.Is(err, ErrNotFound) {
					t.Fatalf("deleted needle copied live: %v", err)
				}
				continue
			}
			mustRead(t, s, 5, nid, payload(nid, n))
		}
		if _, err := s.Write(5, 999, 1, bytes.NewReader(nil), 0); !errors.Is(err, ErrDeleted) {
			t.Fatalf("tombstone not copied: %v", err)
		}
	}
	check(dst)
	si, _ := src.Info(5)
	di, _ := dst.Info(5)
	if si != di {
		t.Fatalf("copy info %+v, source %+v", di, si)
	}
	dst.Close()
	check(openStore(t, testOptions(t, dstDir)))

	// Damaged streams are refused and leave nothing behind.
	raw := stream.Bytes()
	rng := testRand(t)
	cases := map[string][]byte{
		"truncated":       raw[:len(raw)-1],
		"header only":     raw[:copyHeaderLen],
		"empty":           nil,
		"truncated early": raw[:copyHeaderLen+superLen+10],
	}
	for i := range 20 {
		b := bytes.Clone(raw)
		p := rng.IntN(len(b))
		b[p] ^= 1 << rng.IntN(8)
		cases["flip "+string(rune('a'+i))] = b
	}
	for name, b := range cases {
		d := t.TempDir()
		s := openStore(t, testOptions(t, d))
		err := s.ReceiveCopy(5, bytes.NewReader(b))
		if !errors.Is(err, ErrCorrupt) {
			// A flip in a needle's padding is harmless: the copy is whole.
			if err == nil && name[:4] == "flip" {
				check(s)
				continue
			}
			t.Fatalf("%s: %v", name, err)
		}
		if m, _ := filepath.Glob(filepath.Join(d, "*")); len(m) != 0 {
			t.Fatalf("%s: refused copy left %v", name, m)
		}
		if _, err := s.Info(5); !errors.Is(err, ErrVolumeNotFound) {
			t.Fatalf("%s: refused copy visible: %v", name, err)
		}
	}
	// A stream of another volume.
	if err := dst.ReceiveCopy(6, bytes.NewReader(raw)); !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrClosed) {
		t.Fatalf("other volume's stream: %v", err)
	}
}

func TestCompact(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(t, dir))
	mustCreate(t, s, 1)
	for nid := uint64(1); nid <= 40; nid++ {
		mustWrite(t, s, 1, nid, payload(nid, int(nid)*500))
	}
	for nid := uint64(1); nid <= 40; nid += 3 {
		s.Delete(1, nid)
	}
	before, _ := s.Info(1)
	if err := s.Compact(1); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Info(1)
	if after.Size != before.Size-before.DeletedBytes || after.DeletedBytes != 0 || after.Needles != before.Needles ||
		after.Tombstones != before.Tombstones || after.Generation != before.Generation+1 {
		t.Fatalf("after compaction %+v, before %+v", after, before)
	}
	check := func(s *Store) {
		t.Helper()
		for nid := uint64(1); nid <= 40; nid++ {
			if nid%3 == 1 {
				if _, err := s.Read(1, nid, cookieOf(nid), 0, -1); !errors.Is(err, ErrNotFound) {
					t.Fatalf("deleted %d after compaction: %v", nid, err)
				}
				if _, err := s.Write(1, nid, cookieOf(nid), bytes.NewReader(nil), 0); !errors.Is(err, ErrDeleted) {
					t.Fatalf("tombstone %d lost by compaction: %v", nid, err)
				}
				continue
			}
			mustRead(t, s, 1, nid, payload(nid, int(nid)*500))
		}
	}
	check(s)
	mustWrite(t, s, 1, 100, []byte("after"))
	c := crashCopy(t, dir)
	s2 := openStore(t, testOptions(t, c))
	check(s2)
	mustRead(t, s2, 1, 100, []byte("after"))
}

// TestCompactCrash simulates a crash at each step of a compaction: temp
// files half written, complete, the .dat renamed but not the .idx. Each
// state opens to the old or the new volume with the same needles.
func TestCompactCrash(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(t, dir))
	mustCreate(t, s, 1)
	for nid := uint64(1); nid <= 20; nid++ {
		mustWrite(t, s, 1, nid, payload(nid, int(nid)*300))
	}
	for nid := uint64(2); nid <= 20; nid += 4 {
		s.Delete(1, nid)
	}
	s.Sync(1)
	old := crashCopy(t, dir)
	if err := s.Compact(1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	newDat, _ := os.ReadFile(datPath(dir, 1))
	newIdx, _ := os.ReadFile(idxPath(dir, 1))
	check := func(d string) {
		t.Helper()
		s := openStore(t, testOptions(t, d))
		for nid := uint64(1); nid <= 20; nid++ {
			if nid%4 == 2 {
				if _, err := s.Read(1, nid, cookieOf(nid), 0, -1); !errors.Is(err, ErrNotFound) {
					t.Fatalf("deleted %d: %v", nid, err)
				}
				continue
			}
			mustRead(t, s, 1, nid, payload(nid, int(nid)*300))
		}
		if m, _ := filepath.Glob(filepath.Join(d, "*"+compactSuffix)); len(m) != 0 {
			t.Fatalf("temp files left: %v", m)
		}
		s.Close()
	}
	write := func(d, name string, b []byte) {
		if err := os.WriteFile(filepath.Join(d, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, cut := range []int{0, superLen, len(newDat) / 2, len(newDat)} {
		d := crashCopy(t, old)
		write(d, "1.dat"+compactSuffix, newDat[:cut])
		write(d, "1.idx"+compactSuffix, newIdx[:min(cut, len(newIdx))])
		check(d)
	}
	d := crashCopy(t, old) // .dat renamed, .idx not
	write(d, "1.dat", newDat)
	write(d, "1.idx"+compactSuffix, newIdx)
	check(d)
	d = crashCopy(t, old) // .dat renamed, .idx temp lost
	write(d, "1.dat", newDat)
	check(d)
}

// TestConcurrentEverything runs writers on several volumes, readers,
// syncs, deletes, scrubs, copies and compactions together under -race.
func TestConcurrentEverything(t *testing.T) {
	rng := testRand(t)
	seed := rng.Uint64()
	s := openStore(t, testOptions(t, t.TempDir()))
	for vid := uint32(1); vid <= 3; vid++ {
		mustCreate(t, s, vid)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	report := func(err error) {
		select {
		case errc <- err:
		default:
		}
	}
	const per = 60
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vid := uint32(w + 1)
			for i := range per {
				nid := uint64(i + 1)
				data := payload(nid^seed, 100+int(nid)*300)
				if _, err := s.Write(vid, nid, cookieOf(nid), bytes.NewReader(data), int64(len(data))); err != nil {
					report(err)
					return
				}
				if i%5 == 4 {
					if err := s.Delete(vid, nid-2); err != nil {
						report(err)
						return
					}
					if err := s.Sync(vid); err != nil {
						report(err)
						return
					}
				}
			}
		}()
	}
	for r := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 400 {
				vid := uint32((r+i)%3 + 1)
				nid := uint64(i%per + 1)
				got, err := s.Read(vid, nid, cookieOf(nid), 0, -1)
				if errors.Is(err, ErrNotFound) {
					continue
				}
				if err != nil {
					report(err)
					return
				}
				if !bytes.Equal(got, payload(nid^seed, 100+int(nid)*300)) {
					report(errors.New("read wrong bytes"))
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 6 {
			vid := uint32(i%3 + 1)
			if err := s.Compact(vid); err != nil {
				report(err)
				return
			}
			if _, err := s.Scrub(context.Background(), vid, func(nid uint64, err error) {
				if err != nil {
					report(err)
				}
			}); err != nil {
				report(err)
				return
			}
			if _, err := s.CopyTo(vid, io.Discard); err != nil {
				report(err)
				return
			}
		}
	}()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	for vid := uint32(1); vid <= 3; vid++ {
		var stream bytes.Buffer
		if _, err := s.CopyTo(vid, &stream); err != nil {
			t.Fatal(err)
		}
		d := openStore(t, testOptions(t, t.TempDir()))
		if err := d.ReceiveCopy(vid, &stream); err != nil {
			t.Fatal(err)
		}
		for i := range per {
			nid := uint64(i + 1)
			if i%5 == 2 || i%5 == 3 {
				continue // some of these were deleted
			}
			mustRead(t, d, vid, nid, payload(nid^seed, 100+int(nid)*300))
		}
	}
}
