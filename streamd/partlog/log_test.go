package partlog

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"

	"cairn.dev/cairn/streamd/record"
)

func TestAppendReadRollReopen(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, testOptions(t, dir))
	var want []int64
	for i := range 100 {
		base, last := mustAppend(t, l, batch(1+i%5, 50, int64(1000+10*i)), 1)
		if base != int64(len(want)) {
			t.Fatalf("batch %d base %d, want %d", i, base, len(want))
		}
		for o := base; o <= last; o++ {
			want = append(want, o)
		}
	}
	if l.Segments() < 3 {
		t.Fatalf("%d segments after %d bytes of 4 KiB segments", l.Segments(), l.Size())
	}
	check := func(l *Log) {
		t.Helper()
		if l.EndOffset() != int64(len(want)) {
			t.Fatalf("end %d, want %d", l.EndOffset(), len(want))
		}
		for _, from := range []int64{0, 1, 7, 100, int64(len(want)) - 1} {
			got := readAll(t, l, from)
			if len(got) != len(want)-int(from) {
				t.Fatalf("from %d: %d records, want %d", from, len(got), len(want)-int(from))
			}
			for i, r := range got {
				if r.Offset != from+int64(i) {
					t.Fatalf("from %d: record %d has offset %d", from, i, r.Offset)
				}
			}
		}
		if buf, err := l.Read(l.EndOffset(), 100, 1<<62); err != nil || len(buf) != 0 {
			t.Fatalf("read at end: %d bytes, %v", len(buf), err)
		}
		if _, err := l.Read(l.EndOffset()+1, 100, 1<<62); !errors.Is(err, ErrOffsetOutOfRange) {
			t.Fatalf("read past end: %v", err)
		}
		if l.LastEpoch() != 1 {
			t.Fatalf("last epoch %d", l.LastEpoch())
		}
	}
	check(l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openLog(t, testOptions(t, dir))
	check(l2)
	if l2.RecoveredTruncatedBytes() != 0 {
		t.Fatalf("clean reopen truncated %d bytes", l2.RecoveredTruncatedBytes())
	}
	// Reopen without the recovery point: every segment is scanned.
	l2.Close()
	os.Remove(filepath.Join(dir, recoveryFile))
	for _, s := range []string{"00000000000000000000.index", "00000000000000000000.timeindex"} {
		os.Remove(filepath.Join(dir, s))
	}
	check(openLog(t, testOptions(t, dir)))
}

func TestReadLimitsAndMaxBytes(t *testing.T) {
	l := openLog(t, testOptions(t, t.TempDir()))
	var sizes []int
	for i := range 20 {
		b := batch(3, 40, int64(i))
		sizes = append(sizes, len(b))
		mustAppend(t, l, b, 0)
	}
	// maxBytes smaller than one batch still returns one.
	buf, err := l.Read(4, 1, 1<<62)
	if err != nil || len(buf) != sizes[1] || record.Batch(buf).BaseOffset() != 3 {
		t.Fatalf("read 4 with maxBytes 1: %d bytes, %v", len(buf), err)
	}
	// maxBytes fitting two and a half batches gives two.
	buf, _ = l.Read(0, sizes[0]*5/2, 1<<62)
	if len(buf) != sizes[0]+sizes[1] {
		t.Fatalf("two batches: got %d bytes", len(buf))
	}
	// limit stops before the batch based at it.
	buf, _ = l.Read(0, 1<<20, 9)
	if len(buf) != sizes[0]+sizes[1]+sizes[2] {
		t.Fatalf("limit 9: %d bytes", len(buf))
	}
	if buf, _ := l.Read(9, 1<<20, 9); len(buf) != 0 {
		t.Fatalf("read at limit: %d bytes", len(buf))
	}
	// Across segments, everything at once.
	buf, _ = l.Read(0, 1<<20, 1<<62)
	total := 0
	for _, s := range sizes {
		total += s
	}
	if len(buf) != total || l.Segments() < 2 {
		t.Fatalf("read all: %d of %d bytes over %d segments", len(buf), total, l.Segments())
	}
	// A batch bigger than the read ahead.
	big := batch(2, 3000, 100)
	base, _ := mustAppend(t, l, big, 0)
	buf, err = l.Read(base+1, 10, 1<<62)
	if err != nil || len(buf) != len(big) {
		t.Fatalf("big batch: %d bytes, %v", len(buf), err)
	}
}

func TestIndexLookupsAreSparseAndRight(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.SegmentBytes = 1 << 20
	l := openLog(t, opts)
	for i := range 300 {
		mustAppend(t, l, batch(2, 30, int64(i*2)), 0)
	}
	s := l.segs[0]
	if len(s.index) < 10 || len(s.index) > int(s.size/opts.int()) {
		t.Fatalf("%d index entries for %d bytes at interval %d", len(s.index), s.size, opts.IndexIntervalBytes)
	}
	for o := int64(0); o < l.EndOffset(); o += 7 {
		buf, err := l.Read(o, 1, 1<<62)
		b := record.Batch(buf)
		if err != nil || b.BaseOffset() > o || b.LastOffset() < o {
			t.Fatalf("read %d: batch [%d, %d], %v", o, b.BaseOffset(), b.LastOffset(), err)
		}
	}
}

func (o Options) int() int64 { return int64(o.IndexIntervalBytes) }

func TestOffsetForTime(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, testOptions(t, dir))
	// Batch i holds timestamps 1000+10i .. 1000+10i+4 at offsets 5i..5i+4.
	for i := range 200 {
		mustAppend(t, l, batch(5, 20, int64(1000+10*i)), 0)
	}
	cases := func(l *Log) {
		for _, c := range []struct{ ts, want int64 }{
			{0, 0}, {1000, 0}, {1003, 3}, {1005, 5}, {1010, 5}, {1011, 6}, {2990, 995}, {2994, 999}, {2995, 1000}, {1 << 50, 1000},
		} {
			got, err := l.OffsetForTime(c.ts)
			if err != nil || got != c.want {
				t.Fatalf("OffsetForTime(%d) = %d, %v; want %d", c.ts, got, err, c.want)
			}
		}
	}
	cases(l)
	l.Close()
	cases(openLog(t, testOptions(t, dir)))
}

func TestRollByAge(t *testing.T) {
	c := &clock{now: time.Unix(1000, 0)}
	opts := testOptions(t, t.TempDir())
	opts.SegmentBytes = 1 << 20
	opts.SegmentAge = time.Hour
	opts.Now = c.Now
	l := openLog(t, opts)
	l.Append(batch(1, 10, 0), 0, c.now)
	c.now = c.now.Add(59 * time.Minute)
	l.Append(batch(1, 10, 0), 0, c.now)
	if l.Segments() != 1 {
		t.Fatalf("rolled before the age")
	}
	c.now = c.now.Add(time.Minute)
	l.Append(batch(1, 10, 0), 0, c.now)
	if l.Segments() != 2 || l.segs[1].base != 2 {
		t.Fatalf("%d segments after the age", l.Segments())
	}
}

func TestEpochCache(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, testOptions(t, dir))
	if e, o := l.EndOffsetForEpoch(0); e != -1 || o != -1 || l.LastEpoch() != -1 {
		t.Fatalf("empty log: %d %d last %d", e, o, l.LastEpoch())
	}
	mustAppend(t, l, batch(3, 10, 0), 1) // 0..2
	mustAppend(t, l, batch(3, 10, 0), 1) // 3..5
	mustAppend(t, l, batch(3, 10, 0), 3) // 6..8
	mustAppend(t, l, batch(3, 10, 0), 5) // 9..11
	if _, _, err := l.Append(batch(1, 10, 0), 4, time.Now()); !errors.Is(err, ErrStaleEpoch) {
		t.Fatalf("stale epoch append: %v", err)
	}
	check := func(l *Log, cases [][3]int64) {
		t.Helper()
		for _, c := range cases {
			e, o := l.EndOffsetForEpoch(int32(c[0]))
			if int64(e) != c[1] || o != c[2] {
				t.Fatalf("EndOffsetForEpoch(%d) = %d, %d; want %d, %d", c[0], e, o, c[1], c[2])
			}
		}
	}
	full := [][3]int64{{0, -1, -1}, {1, 1, 6}, {2, 1, 6}, {3, 3, 9}, {4, 3, 9}, {5, 5, 12}, {9, 5, 12}}
	check(l, full)
	if _, err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = openLog(t, testOptions(t, dir))
	check(l, full)
	if err := l.TruncateTo(7); err != nil { // inside the batch 6..8: cut at 6
		t.Fatal(err)
	}
	if l.EndOffset() != 6 || l.LastEpoch() != 1 {
		t.Fatalf("after truncate: end %d last epoch %d", l.EndOffset(), l.LastEpoch())
	}
	check(l, [][3]int64{{1, 1, 6}, {3, 1, 6}})
	l.Close()
	l = openLog(t, testOptions(t, dir))
	check(l, [][3]int64{{1, 1, 6}, {3, 1, 6}})
	// Replica appends carry their epochs.
	src := openLog(t, testOptions(t, t.TempDir()))
	for _, e := range []int32{1, 1, 7} {
		mustAppend(t, src, batch(3, 10, 0), e)
	}
	buf, _ := src.Read(6, 1<<20, 1<<62)
	if _, err := l.AppendReplica(buf); err != nil {
		t.Fatal(err)
	}
	check(l, [][3]int64{{1, 1, 6}, {7, 7, 9}})
}

func TestAppendReplicaChecks(t *testing.T) {
	src := openLog(t, testOptions(t, t.TempDir()))
	for range 10 {
		mustAppend(t, src, batch(4, 30, 0), 2)
	}
	dst := openLog(t, testOptions(t, t.TempDir()))
	all, _ := src.Read(0, 1<<20, 1<<62)
	first := record.Batch(all[:record.Batch(all).Size()])
	rest := all[len(first):]
	if _, err := dst.AppendReplica(rest); !errors.Is(err, ErrNotContiguous) {
		t.Fatalf("gap: %v", err)
	}
	bad := append([]byte(nil), all...)
	bad[len(bad)-1] ^= 1
	if _, err := dst.AppendReplica(bad); !errors.Is(err, record.ErrCorrupt) || dst.EndOffset() != 0 {
		t.Fatalf("corrupt: %v, end %d", err, dst.EndOffset())
	}
	if _, err := dst.AppendReplica(all[:len(all)-5]); !errors.Is(err, record.ErrCorrupt) {
		t.Fatalf("short: %v", err)
	}
	end, err := dst.AppendReplica(all)
	if err != nil || end != 40 {
		t.Fatalf("append: %d, %v", end, err)
	}
	got, _ := dst.Read(0, 1<<20, 1<<62)
	if string(got) != string(all) {
		t.Fatal("replica bytes differ from the leader's")
	}
}

func TestAppendExpect(t *testing.T) {
	l := openLog(t, testOptions(t, t.TempDir()))
	mustAppend(t, l, batch(2, 10, 0), 0)
	_, _, err := l.AppendExpect(batch(1, 10, 0), 0, 5, time.Now())
	var me *MismatchError
	if !errors.Is(err, ErrOffsetMismatch) || !errors.As(err, &me) || me.End != 2 || me.Expected != 5 {
		t.Fatalf("mismatch: %v", err)
	}
	if base, _, err := l.AppendExpect(batch(1, 10, 0), 0, 2, time.Now()); err != nil || base != 2 {
		t.Fatalf("expected append: %d %v", base, err)
	}
}

func TestProducerIdempotence(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, testOptions(t, dir))
	pb := func(epoch int16, seq int32, n int) record.Batch {
		recs := make([]record.Record, n)
		for i := range recs {
			recs[i].Value = []byte("x")
		}
		return record.AppendBatch(nil, recs, record.Producer{ID: 7, Epoch: epoch, BaseSequence: seq})
	}
	app := func(b record.Batch) (int64, int64, error) { return l.Append(b, 0, time.Now()) }
	if b, e, err := app(pb(0, 0, 3)); err != nil || b != 0 || e != 2 {
		t.Fatal(b, e, err)
	}
	mustAppend(t, l, batch(2, 5, 0), 0) // another writer: 3..4
	if b, e, err := app(pb(0, 3, 2)); err != nil || b != 5 || e != 6 {
		t.Fatal(b, e, err)
	}
	// A retry of the first batch: its original offsets, nothing written.
	if b, e, err := app(pb(0, 0, 3)); !errors.Is(err, ErrDuplicate) || b != 0 || e != 2 || l.EndOffset() != 7 {
		t.Fatalf("duplicate: %d %d %v end %d", b, e, err, l.EndOffset())
	}
	if _, _, err := app(pb(0, 6, 1)); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap in sequence: %v", err)
	}
	if _, _, err := app(pb(1, 4, 1)); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("new epoch not at 0: %v", err)
	}
	if _, _, err := app(pb(1, 0, 1)); err != nil {
		t.Fatalf("new epoch at 0: %v", err)
	}
	if _, _, err := app(pb(0, 5, 1)); !errors.Is(err, ErrProducerFenced) {
		t.Fatalf("old epoch: %v", err)
	}
	// The state survives a reopen (from the Close snapshot) and a crash
	// (from a scan: remove the snapshots).
	l.Close()
	l = openLog(t, testOptions(t, dir))
	if _, _, err := app(pb(1, 0, 1)); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate after reopen: %v", err)
	}
	l.Close()
	snaps, _ := filepath.Glob(filepath.Join(dir, "*.snapshot"))
	for _, s := range snaps {
		os.Remove(s)
	}
	l = openLog(t, testOptions(t, dir))
	if _, _, err := app(pb(1, 1, 1)); err != nil {
		t.Fatalf("next after rebuild: %v", err)
	}
	// Truncation rolls the state back.
	if err := l.TruncateTo(8); err != nil {
		t.Fatal(err)
	}
	if _, _, err := app(pb(1, 1, 1)); err != nil {
		t.Fatalf("after truncation the truncated batch's sequence is next: %v", err)
	}
}

func TestTruncateAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, testOptions(t, dir))
	for i := range 100 {
		mustAppend(t, l, batch(2, 50, int64(i)), int32(i/30))
	}
	n := l.Segments()
	if n < 4 {
		t.Fatalf("%d segments", n)
	}
	cut := l.segs[1].base + 3
	if err := l.TruncateTo(cut); err != nil {
		t.Fatal(err)
	}
	if l.EndOffset() != cut-1 || l.Segments() != 2 {
		t.Fatalf("end %d segments %d", l.EndOffset(), l.Segments())
	}
	if got := readAll(t, l, 0); len(got) != int(cut-1) {
		t.Fatalf("%d records after truncation", len(got))
	}
	mustAppend(t, l, batch(2, 50, 0), 9)
	if _, err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	end := l.EndOffset()
	l.Close()
	l = openLog(t, testOptions(t, dir))
	if l.EndOffset() != end || l.LastEpoch() != 9 {
		t.Fatalf("reopen: end %d epoch %d", l.EndOffset(), l.LastEpoch())
	}
	if err := l.TruncateTo(0); err != nil || l.EndOffset() != 0 || l.LastEpoch() != -1 {
		t.Fatalf("truncate to 0: %v end %d epoch %d", err, l.EndOffset(), l.LastEpoch())
	}
	if err := l.TruncateFullyAndStartAt(500); err != nil {
		t.Fatal(err)
	}
	if base, _ := mustAppend(t, l, batch(1, 5, 0), 10); base != 500 || l.StartOffset() != 500 {
		t.Fatalf("after restart at 500: base %d start %d", base, l.StartOffset())
	}
	if _, err := l.Read(10, 100, 1<<62); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	l.Close()
	l = openLog(t, testOptions(t, dir))
	if l.StartOffset() != 500 || l.EndOffset() != 501 {
		t.Fatalf("reopen: start %d end %d", l.StartOffset(), l.EndOffset())
	}
}

func TestRetention(t *testing.T) {
	c := &clock{now: time.UnixMilli(1_000_000)}
	opts := testOptions(t, t.TempDir())
	opts.Now = c.Now
	opts.RetentionAge = time.Minute
	l := openLog(t, opts)
	// Old records, then new ones.
	for i := range 60 {
		ts := int64(100_000)
		if i >= 40 {
			ts = c.now.UnixMilli()
		}
		mustAppend(t, l, batch(2, 50, ts), 0)
	}
	segs := l.Segments()
	// Nothing at or above the limit (the high watermark) goes.
	if n, err := l.EnforceRetention(0); err != nil || n != 0 {
		t.Fatalf("retention below limit 0 deleted %d: %v", n, err)
	}
	n, err := l.EnforceRetention(1 << 62)
	if err != nil || n == 0 {
		t.Fatalf("age retention deleted %d: %v", n, err)
	}
	if l.Segments() != segs-n || l.StartOffset() != l.segs[0].base || l.StartOffset() > 80 {
		t.Fatalf("start %d after deleting %d", l.StartOffset(), n)
	}
	if _, err := l.Read(0, 100, 1<<62); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read deleted: %v", err)
	}
	readAll(t, l, l.StartOffset())
	// Size: keep at least 2 KiB.
	opts.RetentionAge, opts.RetentionBytes = 0, 2<<10
	if err := l.SetOptions(opts); err != nil {
		t.Fatal(err)
	}
	n, err = l.EnforceRetention(1 << 62)
	if err != nil || n == 0 || l.Size() < 2<<10 || (l.Segments() > 1 && l.Size()-l.segs[0].size >= 2<<10) {
		t.Fatalf("size retention deleted %d, size %d: %v", n, l.Size(), err)
	}
	// Never the active segment.
	opts.RetentionBytes = 1
	if err := l.SetOptions(opts); err != nil {
		t.Fatal(err)
	}
	l.EnforceRetention(1 << 62)
	if l.Segments() != 1 {
		t.Fatalf("%d segments left", l.Segments())
	}
	start := l.StartOffset()
	dir := l.Dir()
	if _, err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = openLog(t, testOptions(t, dir))
	if l.StartOffset() != start {
		t.Fatalf("reopen: start %d, want %d", l.StartOffset(), start)
	}
}

func TestSyncDurableOffset(t *testing.T) {
	l := openLog(t, testOptions(t, t.TempDir()))
	for range 30 {
		mustAppend(t, l, batch(3, 50, 0), 0)
	}
	if l.DurableOffset() != 0 {
		t.Fatalf("durable %d before Sync", l.DurableOffset())
	}
	d, err := l.Sync()
	if err != nil || d != 90 || l.DurableOffset() != 90 {
		t.Fatalf("Sync = %d, %v; durable %d", d, err, l.DurableOffset())
	}
}

func TestConcurrentReadAppendSync(t *testing.T) {
	seed := nodetest.Seed(t)
	l := openLog(t, testOptions(t, t.TempDir()))
	const batches = 300
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(3)
	go func() {
		defer wg.Done()
		defer close(done)
		rng := rand.New(rand.NewPCG(seed, 1))
		for i := range batches {
			if _, _, err := l.Append(batch(1+rng.IntN(4), 10+rng.IntN(100), int64(i)), 0, time.Now()); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := l.Sync(); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(seed, 2))
		next := int64(0)
		for {
			end := l.EndOffset()
			select {
			case <-done:
				if next >= l.EndOffset() {
					return
				}
			default:
			}
			if next >= end {
				continue
			}
			buf, err := l.Read(next, 1+rng.IntN(2000), end)
			if err != nil {
				t.Error(err)
				return
			}
			for rest := buf; len(rest) > 0; {
				b, r, err := record.Next(rest)
				if err != nil || b.Validate() != nil || b.BaseOffset() > next || b.NextOffset() <= next {
					t.Errorf("read at %d: bad batch [%d, %d]: %v", next, b.BaseOffset(), b.LastOffset(), err)
					return
				}
				next = b.NextOffset()
				rest = r
			}
			if rng.IntN(10) == 0 {
				if _, err := l.OffsetForTime(int64(rng.IntN(batches))); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	wg.Wait()
}

func TestBatchChecks(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.MaxBatchBytes = 500
	l := openLog(t, opts)
	if _, _, err := l.Append(batch(1, 600, 0), 0, time.Now()); !errors.Is(err, ErrBatchTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	b := batch(2, 10, 0)
	b[len(b)-1] ^= 1
	if _, _, err := l.Append(b, 0, time.Now()); !errors.Is(err, record.ErrCorrupt) {
		t.Fatalf("corrupt: %v", err)
	}
	if _, _, err := l.Append(record.AppendBatch(nil, nil, record.NoProducer), 0, time.Now()); !errors.Is(err, record.ErrCorrupt) {
		t.Fatalf("empty: %v", err)
	}
	l.Close()
	if _, _, err := l.Append(batch(1, 1, 0), 0, time.Now()); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed: %v", err)
	}
}

func ExampleLog() {
	dir, _ := os.MkdirTemp("", "partlog")
	defer os.RemoveAll(dir)
	l, _ := Open(Options{Dir: dir})
	b := record.AppendBatch(nil, []record.Record{{Timestamp: 1, Value: []byte("hello")}}, record.NoProducer)
	base, last, _ := l.Append(b, 0, time.Now())
	durable, _ := l.Sync()
	buf, _ := l.Read(0, 1<<20, durable)
	record.Batch(buf).Records(func(r record.Record) bool { fmt.Println(r.Offset, string(r.Value)); return true })
	fmt.Println(base, last, durable)
	l.Close()
	// Output:
	// 0 hello
	// 0 0 1
}

// TestSetOptionsDuringAppends: a topic configuration change (SetOptions)
// while producers append is safe (run under -race) and takes effect for the
// next append.
func TestSetOptionsDuringAppends(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	l := openLog(t, opts)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 200 {
			o := opts
			o.RetentionBytes = int64(i)
			if err := l.SetOptions(o); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for range 200 {
		mustAppend(t, l, batch(2, 50, 1), 0)
	}
	<-done
	small := opts
	small.MaxBatchBytes = 64
	if err := l.SetOptions(small); err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Append(batch(2, 50, 1), 0, time.Now()); !errors.Is(err, ErrBatchTooLarge) {
		t.Fatalf("append past the new max_batch_bytes: %v, want ErrBatchTooLarge", err)
	}
}
