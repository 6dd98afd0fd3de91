package volume

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

func TestWriteReadDelete(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	mustCreate(t, s, 7)
	if err := s.Create(7); !errors.Is(err, ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	sizes := []int{0, 1, 7, 8, 9, 4096, copyBufLen - headerLen - 8, copyBufLen, 3*copyBufLen + 5}
	for i, n := range sizes {
		mustWrite(t, s, 7, uint64(i+1), payload(uint64(i+1), n))
	}
	for i, n := range sizes {
		mustRead(t, s, 7, uint64(i+1), payload(uint64(i+1), n))
	}
	info, err := s.Info(7)
	if err != nil || info.Needles != int64(len(sizes)) {
		t.Fatalf("info %+v %v", info, err)
	}
	if _, err := s.Read(7, 99, cookieOf(99), 0, -1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing needle: %v", err)
	}
	if _, err := s.Read(7, 1, cookieOf(1)+1, 0, -1); !errors.Is(err, ErrCookieMismatch) {
		t.Fatalf("wrong cookie: %v", err)
	}
	if _, err := s.Read(8, 1, cookieOf(1), 0, -1); !errors.Is(err, ErrVolumeNotFound) {
		t.Fatalf("missing volume: %v", err)
	}
	if err := s.Delete(7, 2); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(7, 2); err != nil {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := s.Read(7, 2, cookieOf(2), 0, -1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted needle: %v", err)
	}
	if _, err := s.Write(7, 2, cookieOf(2), bytes.NewReader(payload(2, 1)), 1); !errors.Is(err, ErrDeleted) {
		t.Fatalf("rewrite of a deleted id: %v", err)
	}
	// A tombstone for an id never written keeps it from arriving later.
	if err := s.Delete(7, 1000); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(7, 1000, 1, strings.NewReader("x"), 1); !errors.Is(err, ErrDeleted) {
		t.Fatalf("write after a blind delete: %v", err)
	}
	info, _ = s.Info(7)
	if info.Needles != int64(len(sizes))-1 || info.Tombstones != 2 || info.DeletedBytes != needleLen(1) {
		t.Fatalf("info after deletes %+v", info)
	}
	var seen, deleted int
	s.Needles(7, func(n NeedleInfo) bool {
		seen++
		if n.Deleted {
			deleted++
		}
		return true
	})
	if seen != len(sizes)+1 || deleted != 2 {
		t.Fatalf("needles: %d seen, %d deleted", seen, deleted)
	}
}

func TestIdempotentWriteAndConflict(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	mustCreate(t, s, 1)
	data := payload(5, 1000)
	mustWrite(t, s, 1, 5, data)
	before, _ := s.Info(1)
	mustWrite(t, s, 1, 5, data) // a retry
	after, _ := s.Info(1)
	if after.Size != before.Size {
		t.Fatalf("retry grew the volume from %d to %d", before.Size, after.Size)
	}
	other := bytes.Clone(data)
	other[500] ^= 1
	for name, w := range map[string]func() error{
		"content": func() error { _, err := s.Write(1, 5, cookieOf(5), bytes.NewReader(other), 1000); return err },
		"size":    func() error { _, err := s.Write(1, 5, cookieOf(5), bytes.NewReader(data[:999]), 999); return err },
		"cookie":  func() error { _, err := s.Write(1, 5, 1, bytes.NewReader(data), 1000); return err },
	} {
		if err := w(); !errors.Is(err, ErrConflict) {
			t.Errorf("%s: %v, want ErrConflict", name, err)
		}
	}
	mustRead(t, s, 1, 5, data)
}

func TestWriteRefusals(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.MaxVolumeBytes = 64 << 10
	opts.MaxNeedleBytes = 40 << 10
	s := openStore(t, opts)
	mustCreate(t, s, 1)
	if _, err := s.Write(1, 1, 1, bytes.NewReader(make([]byte, 41<<10)), 41<<10); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	mustWrite(t, s, 1, 1, payload(1, 40<<10))
	if _, err := s.Write(1, 2, cookieOf(2), bytes.NewReader(make([]byte, 30<<10)), 30<<10); !errors.Is(err, ErrVolumeFull) {
		t.Fatalf("full: %v", err)
	}
	// A short reader stores nothing, small or streamed.
	for _, n := range []int64{100, 3 * copyBufLen} {
		opts := testOptions(t, t.TempDir())
		s2 := openStore(t, opts)
		mustCreate(t, s2, 1)
		if _, err := s2.Write(1, 3, 3, bytes.NewReader(make([]byte, n-1)), n); !errors.Is(err, ErrShortData) {
			t.Fatalf("short %d: %v", n, err)
		}
		if _, err := s2.Write(1, 3, 3, iotest.ErrReader(io.ErrClosedPipe), n); !errors.Is(err, io.ErrClosedPipe) {
			t.Fatalf("failing reader: %v", err)
		}
		if info, _ := s2.Info(1); info.Size != superLen || fileSize(t, datPath(opts.Dir, 1)) != superLen {
			t.Fatalf("short write left %d bytes (file %d)", info.Size, fileSize(t, datPath(opts.Dir, 1)))
		}
		mustWrite(t, s2, 1, 3, payload(3, int(n)))
		mustRead(t, s2, 1, 3, payload(3, int(n)))
	}
	if err := s.SetReadOnly(1, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Write(1, 9, 9, strings.NewReader("x"), 1); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only write: %v", err)
	}
	if err := s.Delete(1, 1); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only delete: %v", err)
	}
	mustRead(t, s, 1, 1, payload(1, 40<<10))
}

func TestRangeReads(t *testing.T) {
	s := openStore(t, testOptions(t, t.TempDir()))
	mustCreate(t, s, 1)
	data := payload(1, 3*copyBufLen+11)
	mustWrite(t, s, 1, 1, data)
	for _, r := range [][2]int64{{0, 0}, {0, 1}, {5, 100}, {copyBufLen - 3, 10}, {int64(len(data)) - 1, 1}, {int64(len(data)), 0}, {100, -1}} {
		got, err := s.Read(1, 1, cookieOf(1), r[0], r[1])
		if err != nil {
			t.Fatalf("range %v: %v", r, err)
		}
		want := data[r[0]:]
		if r[1] >= 0 {
			want = data[r[0] : r[0]+r[1]]
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("range %v: wrong bytes", r)
		}
	}
	for _, r := range [][2]int64{{-1, 1}, {0, int64(len(data)) + 1}, {int64(len(data)) + 1, -1}} {
		if _, err := s.Read(1, 1, cookieOf(1), r[0], r[1]); !errors.Is(err, ErrRange) {
			t.Fatalf("range %v: %v, want ErrRange", r, err)
		}
	}
}

// TestCorruptionDetected flips each byte of a needle's header and data in
// turn: every read (whole or range) must fail with ErrCorrupt naming it.
func TestCorruptionDetected(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(t, dir))
	mustCreate(t, s, 3)
	mustWrite(t, s, 3, 1, payload(1, 100))
	mustWrite(t, s, 3, 2, payload(2, 300))
	mustWrite(t, s, 3, 3, payload(3, 100))
	if err := s.Sync(3); err != nil {
		t.Fatal(err)
	}
	off := int64(superLen) + needleLen(100)
	f, err := os.OpenFile(datPath(dir, 3), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := off; i < off+headerLen+300; i++ {
		var b [1]byte
		f.ReadAt(b[:], i)
		f.WriteAt([]byte{b[0] ^ 0x40}, i)
		for _, r := range [][2]int64{{0, -1}, {10, 20}} {
			_, err := s.Read(3, 2, cookieOf(2), r[0], r[1])
			var ce *CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) || ce.Volume != 3 || ce.Needle != 2 {
				t.Fatalf("byte %d flipped, range %v: %v", i-off, r, err)
			}
		}
		f.WriteAt(b[:], i)
	}
	mustRead(t, s, 3, 1, payload(1, 100))
	mustRead(t, s, 3, 2, payload(2, 300))
	mustRead(t, s, 3, 3, payload(3, 100))
}

func TestReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(testOptions(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	for vid := uint32(1); vid <= 3; vid++ {
		mustCreate(t, s, vid)
		for nid := uint64(1); nid <= 20; nid++ {
			mustWrite(t, s, vid, nid, payload(nid+uint64(vid)<<32, int(nid*97)))
		}
		s.Delete(vid, 4)
	}
	want := s.Volumes()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(1, 1, cookieOf(1), 0, -1); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after close: %v", err)
	}
	s = openStore(t, testOptions(t, dir))
	got := s.Volumes()
	if len(got) != 3 {
		t.Fatalf("volumes %+v", got)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("volume info after reopen %+v, before %+v", got[i], want[i])
		}
	}
	for vid := uint32(1); vid <= 3; vid++ {
		for nid := uint64(1); nid <= 20; nid++ {
			if nid == 4 {
				if _, err := s.Read(vid, nid, cookieOf(nid), 0, -1); !errors.Is(err, ErrNotFound) {
					t.Fatalf("deleted needle after reopen: %v", err)
				}
				continue
			}
			mustRead(t, s, vid, nid, payload(nid+uint64(vid)<<32, int(nid*97)))
		}
	}
	if err := s.Drop(2); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(datPath(dir, 2)); !os.IsNotExist(err) {
		t.Fatalf("dropped volume's file: %v", err)
	}
	if _, err := s.Read(2, 1, cookieOf(1), 0, -1); !errors.Is(err, ErrVolumeNotFound) {
		t.Fatalf("read of dropped volume: %v", err)
	}
	mustCreate(t, s, 2)
}

func TestDamagedVolume(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(testOptions(t, dir))
	mustCreate(t, s, 1)
	mustCreate(t, s, 2)
	mustWrite(t, s, 2, 1, []byte("hello"))
	s.Close()
	f, _ := os.OpenFile(datPath(dir, 1), os.O_RDWR, 0)
	f.WriteAt([]byte{0xff}, 3)
	f.Close()
	os.WriteFile(idxPath(dir, 9), []byte("orphan"), 0o644)
	s = openStore(t, testOptions(t, dir))
	if _, err := s.Read(1, 1, 1, 0, -1); !errors.Is(err, ErrDamaged) {
		t.Fatalf("read from damaged volume: %v", err)
	}
	if err := s.Create(1); !errors.Is(err, ErrExists) {
		t.Fatalf("create over damaged volume: %v", err)
	}
	vs := s.Volumes()
	if len(vs) != 2 || vs[0].Damaged == nil || vs[1].Damaged != nil {
		t.Fatalf("volumes %+v", vs)
	}
	if _, err := os.Stat(idxPath(dir, 9)); !os.IsNotExist(err) {
		t.Fatal("orphan index not removed")
	}
	mustRead(t, s, 2, 1, []byte("hello"))
	if err := s.Drop(1); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, 1)
}

// TestGroupCommit: concurrent Sync callers are all served, each write is
// durable after its Sync, and the calls share fsyncs.
func TestConcurrentWritesAndSyncs(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(t, dir))
	for vid := uint32(1); vid <= 3; vid++ {
		mustCreate(t, s, vid)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vid := uint32(w%3 + 1)
			for i := range 30 {
				nid := uint64(w*1000 + i)
				data := payload(nid, 100+i*37)
				if _, err := s.Write(vid, nid, cookieOf(nid), bytes.NewReader(data), int64(len(data))); err != nil {
					errs <- err
					return
				}
				if err := s.Sync(vid); err != nil {
					errs <- err
					return
				}
				got, err := s.Read(vid, nid, cookieOf(nid), 0, -1)
				if err != nil || !bytes.Equal(got, data) {
					errs <- errors.Join(err, errors.New("read back differs"))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c := crashCopy(t, dir)
	s2 := openStore(t, testOptions(t, c))
	for w := range 6 {
		for i := range 30 {
			nid := uint64(w*1000 + i)
			mustRead(t, s2, uint32(w%3+1), nid, payload(nid, 100+i*37))
		}
	}
}

// TestReadBufChecksWhatItReadsIntoBuf reads a needle larger than the copy
// buffer into a caller's buffer, whole (the data starts the buffer) and in
// part, and checks that a flipped byte in its header, in its first piece
// and in its last one still fails every read with ErrCorrupt.
func TestReadBufChecksWhatItReadsIntoBuf(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, testOptions(t, dir))
	mustCreate(t, s, 4)
	data := payload(4, 3*copyBufLen+11)
	mustWrite(t, s, 4, 1, data)
	if err := s.Sync(4); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, NeedleHeaderBytes+len(data)+5)
	got, err := s.ReadBuf(4, 1, cookieOf(1), 0, -1, buf)
	if err != nil || !bytes.Equal(got, data) || &got[0] != &buf[:1][0] {
		t.Fatalf("whole read into buf: %v, equal %v, starts buf %v", err, bytes.Equal(got, data), err == nil && &got[0] == &buf[:1][0])
	}
	got, err = s.ReadBuf(4, 1, cookieOf(1), 7, int64(len(data))-9, buf)
	if err != nil || !bytes.Equal(got, data[7:len(data)-2]) {
		t.Fatalf("most of it into buf: %v", err)
	}
	f, err := os.OpenFile(datPath(dir, 4), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	off := int64(superLen)
	for _, i := range []int64{3, headerLen + 1, headerLen + copyBufLen + 2, headerLen + int64(len(data)) - 1} {
		var b [1]byte
		f.ReadAt(b[:], off+i)
		f.WriteAt([]byte{b[0] ^ 0x40}, off+i)
		for _, r := range [][2]int64{{0, -1}, {7, int64(len(data)) - 9}} {
			if _, err := s.ReadBuf(4, 1, cookieOf(1), r[0], r[1], buf); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d flipped, range %v: %v", i, r, err)
			}
		}
		f.WriteAt(b[:], off+i)
	}
	mustRead(t, s, 4, 1, data)
}
