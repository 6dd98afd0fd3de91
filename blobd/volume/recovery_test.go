package volume

import (
	"bytes"
	"errors"
	"os"
	"runtime"
	"sync"
	"testing"
)

// TestGroupCommit: Sync callers that arrive while an fsync runs share the
// next one.
func TestGroupCommit(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	mustCreate(t, s, 1)
	v, _ := s.volume(1)
	v.acquireSlot() // an fsync in progress
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		mustWrite(t, s, 1, uint64(i+1), payload(uint64(i+1), 10))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Sync(1); err != nil {
				t.Error(err)
			}
		}()
	}
	for {
		v.smu.Lock()
		w := v.waiters
		v.smu.Unlock()
		if w == n {
			break
		}
		runtime.Gosched()
	}
	v.releaseSlot(0, nil)
	wg.Wait()
	v.smu.Lock()
	defer v.smu.Unlock()
	if v.fsyncs != 1 {
		t.Fatalf("%d callers ran %d fsyncs, want 1", n, v.fsyncs)
	}
}

// buildVolume writes needles of the given sizes to volume 1 and syncs; it
// returns the .dat and .idx sizes after each needle.
func buildVolume(t *testing.T, dir string, sizes []int, sync bool) (s *Store, datEnds, idxEnds []int64) {
	s = openStore(t, testOptions(t, dir))
	mustCreate(t, s, 1)
	v, _ := s.volume(1)
	for i, n := range sizes {
		mustWrite(t, s, 1, uint64(i+1), payload(uint64(i+1), n))
		if sync {
			if err := s.Sync(1); err != nil {
				t.Fatal(err)
			}
		}
		datEnds = append(datEnds, fileSize(t, datPath(dir, 1)))
		v.idxMu.Lock()
		idxEnds = append(idxEnds, v.idxEnd)
		v.idxMu.Unlock()
	}
	return s, datEnds, idxEnds
}

// checkRecovered opens dir and checks that needles 1..keep read back
// exactly and that no needle past keep is visible.
func checkRecovered(t *testing.T, dir string, sizes []int, keep int) {
	t.Helper()
	s, err := Open(testOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := range keep {
		mustRead(t, s, 1, uint64(i+1), payload(uint64(i+1), sizes[i]))
	}
	for i := keep; i < len(sizes); i++ {
		if _, err := s.Read(1, uint64(i+1), cookieOf(uint64(i+1)), 0, -1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("needle %d past the cut: %v", i+1, err)
		}
	}
	info, _ := s.Info(1)
	if info.Needles != int64(keep) {
		t.Fatalf("%d needles, want %d", info.Needles, keep)
	}
	// What recovery left is consistent: writing and reopening works.
	mustWrite(t, s, 1, 1000, []byte("after recovery"))
	s.Close()
	s2 := openStore(t, testOptions(t, dir))
	mustRead(t, s2, 1, 1000, []byte("after recovery"))
	s2.Close()
}

// TestTornDataTail truncates .dat at every offset inside the last needle
// (with the index intact, as if the index write reached the disk and the
// data did not): the last needle is dropped, the others survive.
func TestTornDataTail(t *testing.T) {
	sizes := []int{100, 5000, 1, 61}
	dir := t.TempDir()
	s, datEnds, _ := buildVolume(t, dir, sizes, false)
	last := len(sizes) - 1
	for cut := datEnds[last-1]; cut < datEnds[last]; cut++ {
		c := crashCopy(t, dir)
		if err := os.Truncate(datPath(c, 1), cut); err != nil {
			t.Fatal(err)
		}
		checkRecovered(t, c, sizes, last)
	}
	s.Close()
	checkRecovered(t, crashCopy(t, dir), sizes, len(sizes))
}

// TestTornIndexTail truncates .idx at every offset of its last entries: the
// data scan finds the needles whose entries were lost.
func TestTornIndexTail(t *testing.T) {
	sizes := []int{100, 5000, 1, 61}
	dir := t.TempDir()
	_, _, idxEnds := buildVolume(t, dir, sizes, false)
	for cut := int64(0); cut <= idxEnds[len(idxEnds)-1]; cut++ {
		c := crashCopy(t, dir)
		if err := os.Truncate(idxPath(c, 1), cut); err != nil {
			t.Fatal(err)
		}
		checkRecovered(t, c, sizes, len(sizes))
	}
	// No index at all.
	c := crashCopy(t, dir)
	os.Remove(idxPath(c, 1))
	checkRecovered(t, c, sizes, len(sizes))
}

// TestSyncedNeedlesTrusted: after Sync, needles are covered by a sync mark;
// a garbage tail past them is cut, the synced ones stay.
func TestGarbageTail(t *testing.T) {
	sizes := []int{100, 200, 300}
	dir := t.TempDir()
	_, datEnds, _ := buildVolume(t, dir, sizes, true)
	for _, junk := range [][]byte{{1}, make([]byte, 64), bytes.Repeat([]byte{0xa5}, 4096)} {
		c := crashCopy(t, dir)
		f, _ := os.OpenFile(datPath(c, 1), os.O_RDWR, 0)
		f.WriteAt(junk, datEnds[len(datEnds)-1])
		f.Close()
		f, _ = os.OpenFile(idxPath(c, 1), os.O_RDWR|os.O_APPEND, 0)
		f.Write(junk)
		f.Close()
		checkRecovered(t, c, sizes, len(sizes))
		if got := fileSize(t, datPath(c, 1)); got != datEnds[len(datEnds)-1]+needleLen(14) {
			t.Fatalf(".dat is %d bytes after recovery", got)
		}
	}
}

// TestCorruptUnsyncedNeedle: a needle past the last sync mark whose bytes
// are damaged is cut with everything after it, though the index names it.
func TestCorruptUnsyncedNeedle(t *testing.T) {
	sizes := []int{100, 200, 300, 400}
	dir := t.TempDir()
	s, datEnds, _ := buildVolume(t, dir, sizes[:2], true)
	for i := 2; i < len(sizes); i++ {
		mustWrite(t, s, 1, uint64(i+1), payload(uint64(i+1), sizes[i]))
	}
	c := crashCopy(t, dir)
	f, _ := os.OpenFile(datPath(c, 1), os.O_RDWR, 0)
	f.WriteAt([]byte{0xff, 0xff}, datEnds[1]+headerLen+50) // needle 3's data
	f.Close()
	checkRecovered(t, c, sizes, 2)
}

// TestRandomCrashes runs random writes, deletes and syncs, and at random
// points takes a crash image in which the unsynced tails of .dat and .idx
// survive to a random length (or with a random page lost): every needle
// acknowledged by a Sync is recovered with its bytes, every recovered needle
// has the bytes written, and synced deletes stay deleted.
func TestRandomCrashes(t *testing.T) {
	rng := testRand(t)
	dir := t.TempDir()
	s := openStore(t, testOptions(t, dir))
	mustCreate(t, s, 1)
	v, _ := s.volume(1)
	written := map[uint64]int{} // nid -> size
	deleted := map[uint64]bool{}
	syncedLive := map[uint64]bool{}
	syncedDel := map[uint64]bool{}
	var syncedDat, syncedIdx int64 = superLen, superLen
	next := uint64(1)
	for step := range 200 {
		switch op := rng.IntN(10); {
		case op < 6:
			n := rng.IntN(20000)
			if rng.IntN(5) == 0 {
				n = rng.IntN(300000)
			}
			mustWrite(t, s, 1, next, payload(next, n))
			written[next] = n
			next++
		case op < 7 && len(written) > 0:
			nid := uint64(rng.IntN(int(next-1))) + 1
			if err := s.Delete(1, nid); err != nil {
				t.Fatal(err)
			}
			deleted[nid] = true
		default:
			if err := s.Sync(1); err != nil {
				t.Fatal(err)
			}
			for nid := range written {
				if !deleted[nid] {
					syncedLive[nid] = true
				}
			}
			for nid := range deleted {
				syncedDel[nid] = true
				delete(syncedLive, nid)
			}
			syncedDat = fileSize(t, datPath(dir, 1))
			v.idxMu.Lock()
			syncedIdx = v.idxEnd
			v.idxMu.Unlock()
		}
		if step%15 != 14 {
			continue
		}
		c := crashCopy(t, dir)
		for _, f := range []struct {
			path   string
			synced int64
		}{{datPath(c, 1), syncedDat}, {idxPath(c, 1), syncedIdx}} {
			size := fileSize(t, f.path)
			if size <= f.synced {
				continue
			}
			if rng.IntN(2) == 0 {
				os.Truncate(f.path, f.synced+rng.Int64N(size-f.synced+1))
			} else {
				// Lose one unsynced 4 KiB page.
				p := (f.synced + rng.Int64N(size-f.synced)) &^ 4095
				p = max(p, f.synced)
				fh, _ := os.OpenFile(f.path, os.O_RDWR, 0)
				fh.WriteAt(make([]byte, min(4096, size-p)), p)
				fh.Close()
			}
		}
		s2, err := Open(testOptions(t, c))
		if err != nil {
			t.Fatal(err)
		}
		for nid := range syncedLive {
			if deleted[nid] {
				continue // an unsynced delete may or may not have survived
			}
			mustRead(t, s2, 1, nid, payload(nid, written[nid]))
		}
		for nid := range syncedDel {
			if _, err := s2.Read(1, nid, cookieOf(nid), 0, -1); !errors.Is(err, ErrNotFound) {
				t.Fatalf("step %d: synced delete of %d undone: %v", step, nid, err)
			}
		}
		s2.Needles(1, func(n NeedleInfo) bool {
			if n.Deleted {
				return true
			}
			if _, ok := written[n.ID]; !ok {
				t.Fatalf("step %d: needle %d was never written", step, n.ID)
			}
			mustRead(t, s2, 1, n.ID, payload(n.ID, written[n.ID]))
			return true
		})
		s2.Close()
	}
}
