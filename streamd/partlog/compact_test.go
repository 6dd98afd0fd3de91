package partlog

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"cairn.dev/cairn/streamd/record"
)

func TestCompactKeepsLatestPerKeyAndOffsets(t *testing.T) {
	c := &clock{now: time.UnixMilli(10_000_000)}
	opts := testOptions(t, t.TempDir())
	opts.Compact = true
	opts.DeleteRetention = time.Minute
	opts.Now = c.Now
	l := openLog(t, opts)
	want := map[string]int64{} // key -> latest offset
	values := map[int64]string{}
	old := c.now.Add(-time.Hour).UnixMilli()
	for i := range 200 {
		k := fmt.Sprintf("k%d", i%13)
		v := fmt.Sprintf("v%d", i)
		b := keyed(old, k, v, "nokey", "x")
		b = keyedNilKey(b)
		base, _ := mustAppend(t, l, b, 0)
		want[k] = base
		values[base] = v
	}
	// A fresh tombstone for k1 and an old one for k2, in closed segments.
	mustAppend(t, l, keyed(c.now.UnixMilli(), "k1", "<nil>"), 0)
	base2, _ := mustAppend(t, l, keyed(old, "k2", "<nil>"), 0)
	for range 120 { // fill so the tombstones are in closed segments
		mustAppend(t, l, keyed(old, "filler", "y"), 0)
	}
	if l.segs[len(l.segs)-1].base <= base2 {
		t.Fatal("the tombstones are in the active segment")
	}
	end := l.EndOffset()
	before := l.Size()
	if err := l.Compact(); err != nil {
		t.Fatal(err)
	}
	if l.EndOffset() != end || l.Size() >= before {
		t.Fatalf("end %d (was %d), size %d (was %d)", l.EndOffset(), end, l.Size(), before)
	}
	got := readAll(t, l, 0)
	seen := map[string]int{}
	nilKeys := 0
	for _, r := range got {
		if r.Key == nil {
			nilKeys++
			continue
		}
		k := string(r.Key)
		seen[k]++
		switch {
		case k == "k1" && r.Value == nil: // fresh tombstone kept
		case k == "filler":
		case k == "k2":
			t.Fatalf("k2 at %d survived its old tombstone", r.Offset)
		default:
			if r.Offset != want[k] || string(r.Value) != values[r.Offset] {
				t.Fatalf("key %s at %d = %q, latest is at %d", k, r.Offset, r.Value, want[k])
			}
		}
	}
	if nilKeys != 200 {
		t.Fatalf("%d records without a key, want 200", nilKeys)
	}
	for k, n := range seen {
		if n != 1 && k != "filler" {
			t.Fatalf("key %s seen %d times", k, n)
		}
	}
	// Batches stay contiguous: a replica can copy the compacted log.
	all, err := l.Read(0, 1<<30, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	r := openLog(t, testOptions(t, t.TempDir()))
	if _, err := r.AppendReplica(all); err != nil {
		t.Fatalf("copying the compacted log: %v", err)
	}
	// And it survives a reopen.
	l.Close()
	l = openLog(t, opts)
	if len(readAll(t, l, 0)) != len(got) || l.EndOffset() != end {
		t.Fatal("compacted log differs after reopen")
	}
}

// keyedNilKey gives b's second record a nil key (keyed cannot).
func keyedNilKey(b record.Batch) record.Batch {
	recs, _ := b.Decode(nil)
	recs[1].Key = nil
	return record.AppendBatch(nil, recs, record.NoProducer)
}

func TestCompactNeedsOption(t *testing.T) {
	l := openLog(t, testOptions(t, t.TempDir()))
	if err := l.Compact(); !errors.Is(err, ErrNotCompacted) {
		t.Fatalf("Compact without the option: %v", err)
	}
}
