package index

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/mapping"
	"golang.org/x/sys/unix"
)

// benchDocs makes n documents like small articles: a title and a ~150
// token body drawn from a Zipf-distributed vocabulary of 50k words, a tag
// and a number.
func benchDocs(n int) []*mapping.Document {
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.1, 1, 50000)
	word := func() string { return fmt.Sprintf("w%x", zipf.Uint64()) }
	docs := make([]*mapping.Document, n)
	for i := range docs {
		var body []analysis.Token
		var src strings.Builder
		src.WriteString(`{"title":"`)
		var title []analysis.Token
		for p := 0; p < 6; p++ {
			w := word()
			title = append(title, analysis.Token{Term: w, Position: p})
			src.WriteString(w + " ")
		}
		src.WriteString(`","body":"`)
		for p := 0; p < 150; p++ {
			w := word()
			body = append(body, analysis.Token{Term: w, Position: p})
			src.WriteString(w + " ")
		}
		src.WriteString(`"}`)
		tag := fmt.Sprint("tag", rng.IntN(50))
		docs[i] = &mapping.Document{
			ID:     fmt.Sprintf("doc-%08d", i),
			Source: []byte(src.String()),
			Fields: []mapping.FieldValue{
				{Path: "title", Type: mapping.Text, Tokens: title, Indexed: true},
				{Path: "body", Type: mapping.Text, Tokens: body, Indexed: true},
				{Path: "tag", Type: mapping.Keyword, Keyword: tag, Tokens: []analysis.Token{{Term: tag}}, Indexed: true, DocValues: true},
				{Path: "n", Type: mapping.Long, Int: rng.Int64N(1 << 30), Indexed: true, DocValues: true},
			},
		}
	}
	return docs
}

// cpuTime is the process's user+system CPU time: on a shared machine it
// measures the work better than the wall clock.
func cpuTime() time.Duration {
	var ru unix.Rusage
	unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIndexDocs indexes documents and refreshes them into segments
// (no merges, no commit); it reports docs/s (wall clock), CPU µs per doc
// (all threads) and the index bytes per doc.
func BenchmarkIndexDocs(b *testing.B) {
	docs := benchDocs(20000)
	b.ResetTimer()
	var cpu time.Duration
	var size int64
	var n int
	for b.Loop() {
		b.StopTimer()
		w, err := Open(Options{Dir: b.TempDir(), DisableMerges: true})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0 := cpuTime()
		for i := 0; i < len(docs); i += 256 {
			if err := w.IndexBatch(docs[i:min(i+256, len(docs))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Refresh(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cpu += cpuTime() - c0
		size += w.Stats().SizeBytes
		n += len(docs)
		w.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "docs/s")
	b.ReportMetric(float64(size)/float64(n), "bytes/doc")
	b.ReportMetric(float64(cpu.Microseconds())/float64(n), "cpu-µs/doc")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPostingsAdvance advances through a term of 200k docs by random
// strides (as a conjunction does).
func BenchmarkPostingsAdvance(b *testing.B) {
	w, err := Open(Options{Dir: b.TempDir(), DisableMerges: true})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		toks := []analysis.Token{{Term: "all"}}
		if rng.IntN(3) == 0 {
			toks = append(toks, analysis.Token{Term: "third", Position: 1})
		}
		if err := w.Index(&mapping.Document{ID: fmt.Sprint(i), Fields: []mapping.FieldValue{{Path: "f", Type: mapping.Text, Tokens: toks, Indexed: true}}}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Refresh(); err != nil {
		b.Fatal(err)
	}
	r := w.Acquire()
	defer r.Release()
	td := r.Segments[0].Terms("f")
	ti, _ := td.Get([]byte("all"))
	targets := make([]uint32, 1024)
	t := uint32(0)
	for i := range targets {
		t += uint32(1 + rng.IntN(400))
		targets[i] = t
	}
	b.ResetTimer()
	for b.Loop() {
		p := td.Postings(ti, false)
		for _, t := range targets {
			if p.Advance(t) == NoMoreDocs {
				break
			}
		}
	}
}
