package partlog

import (
	"testing"
	"time"

	"cairn.dev/cairn/streamd/record"
)

func benchBatch() record.Batch {
	recs := make([]record.Record, 1000)
	for i := range recs {
		recs[i] = record.Record{Timestamp: int64(i), Value: make([]byte, 100)}
	}
	return record.AppendBatch(nil, recs, record.NoProducer)
}

// BenchmarkAppend appends 1000 x 100 B record batches (no fsync).
func BenchmarkAppend(b *testing.B) {
	opts := testOptions(b, b.TempDir())
	opts.SegmentBytes = 1 << 30
	opts.IndexIntervalBytes = 4096
	l := openLog(b, opts)
	batch := benchBatch()
	now := time.Now()
	b.SetBytes(int64(len(batch)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := l.Append(batch, 0, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*1000/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAppendSync appends a batch and syncs, as a group commit of one.
func BenchmarkAppendSync(b *testing.B) {
	opts := testOptions(b, b.TempDir())
	opts.SegmentBytes = 1 << 30
	l := openLog(b, opts)
	batch := benchBatch()
	now := time.Now()
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		if _, _, err := l.Append(batch, 0, now); err != nil {
			b.Fatal(err)
		}
		if _, err := l.Sync(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadSequential reads a 64 MiB log front to back, 1 MiB at a time.
func BenchmarkReadSequential(b *testing.B) {
	opts := testOptions(b, b.TempDir())
	opts.SegmentBytes = 16 << 20
	opts.IndexIntervalBytes = 4096
	l := openLog(b, opts)
	batch := benchBatch()
	for l.Size() < 64<<20 {
		if _, _, err := l.Append(batch, 0, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	end := l.EndOffset()
	next := int64(0)
	b.ReportAllocs()
	var bytes int64
	for b.Loop() {
		if next >= end {
			next = 0
		}
		buf, err := l.Read(next, 1<<20, end)
		if err != nil || len(buf) == 0 {
			b.Fatal(err)
		}
		bytes += int64(len(buf))
		next = record.Batch(buf[len(buf)-len(batch):]).NextOffset()
	}
	b.ReportMetric(float64(bytes)/b.Elapsed().Seconds()/1e6, "MB/s")
}
