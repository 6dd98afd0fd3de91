package partlog

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"cairn.dev/cairn/streamd/record"
)

// testLogger routes the log's messages to t.Log.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// clock is a fake clock for Options.Now.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func testOptions(t testing.TB, dir string) Options {
	return Options{Dir: dir, SegmentBytes: 4 << 10, IndexIntervalBytes: 256, Logger: testLogger(t)}
}

func openLog(t testing.TB, opts Options) *Log {
	t.Helper()
	l, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// batch builds a batch of n records with values "v<i>" of size bytes and
// timestamps ts, ts+1, ...
func batch(n, size int, ts int64) record.Batch {
	recs := make([]record.Record, n)
	for i := range recs {
		v := fmt.Appendf(nil, "v%d", i)
		for len(v) < size {
			v = append(v, '.')
		}
		recs[i] = record.Record{Timestamp: ts + int64(i), Key: fmt.Appendf(nil, "k%d", i), Value: v}
	}
	return record.AppendBatch(nil, recs, record.NoProducer)
}

func keyed(ts int64, kv ...string) record.Batch {
	var recs []record.Record
	for i := 0; i < len(kv); i += 2 {
		r := record.Record{Timestamp: ts, Key: []byte(kv[i])}
		if kv[i+1] != "<nil>" {
			r.Value = []byte(kv[i+1])
		}
		recs = append(recs, r)
	}
	return record.AppendBatch(nil, recs, record.NoProducer)
}

func mustAppend(t testing.TB, l *Log, b record.Batch, epoch int32) (int64, int64) {
	t.Helper()
	base, last, err := l.Append(b, epoch, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return base, last
}

// readAll reads every record from offset to the end, checking batches.
func readAll(t testing.TB, l *Log, from int64) []record.Record {
	t.Helper()
	var out []record.Record
	next := from
	for next < l.EndOffset() {
		buf, err := l.Read(next, 1000, 1<<62)
		if err != nil {
			t.Fatalf("read %d: %v", next, err)
		}
		if len(buf) == 0 {
			t.Fatalf("read %d: empty before the end %d", next, l.EndOffset())
		}
		for rest := buf; len(rest) > 0; {
			b, r, err := record.Next(rest)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Validate(); err != nil {
				t.Fatal(err)
			}
			b.Records(func(rec record.Record) bool {
				if rec.Offset >= next {
					rec.Key, rec.Value = bytes.Clone(rec.Key), bytes.Clone(rec.Value)
					out = append(out, rec)
				}
				return true
			})
			next = b.NextOffset()
			rest = r
		}
	}
	return out
}
