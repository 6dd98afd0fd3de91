package ec

import (
	"math/rand/v2"
	"slices"
	"testing"
)

const benchChunk = 8 << 20

func benchData(b *testing.B, text bool) []byte {
	rng := rand.New(rand.NewPCG(1, 2)) // fixed: benchmarks compare runs, not seeds
	if text {
		return textBytes(rng, benchChunk)
	}
	return randomBytes(rng, benchChunk)
}

func BenchmarkEncode8MiB4p2(b *testing.B) {
	data := benchData(b, false)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Encode(Scheme{4, 2}, data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecode8MiB4p2 decodes with all shards intact (concatenation plus
// CRC checks) and with two data shards lost (Reed-Solomon reconstruction).
func BenchmarkDecode8MiB4p2(b *testing.B) {
	s := Scheme{4, 2}
	data := benchData(b, false)
	shards, err := Encode(s, data)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		lost []int
	}{{"intact", nil}, {"lost2data", []int{0, 2}}} {
		set := slices.Clone(shards)
		for _, i := range c.lost {
			set[i] = nil
		}
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := Decode(s, set); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkReconstruct8MiB4p2(b *testing.B) {
	s := Scheme{4, 2}
	data := benchData(b, false)
	shards, err := Encode(s, data)
	if err != nil {
		b.Fatal(err)
	}
	set := make([][]byte, len(shards))
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		copy(set, shards)
		set[1], set[4] = nil, nil
		if _, err := Reconstruct(s, set); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompress8MiB(b *testing.B) {
	for _, c := range []struct {
		name string
		text bool
	}{{"text", true}, {"random", false}} {
		data := benchData(b, c.text)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var n int
			for b.Loop() {
				out, err := Compress(data)
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n)/float64(len(data)), "ratio")
		})
	}
}

func BenchmarkDecompress8MiBText(b *testing.B) {
	data := benchData(b, true)
	frame, err := Compress(data)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decompress(frame); err != nil {
			b.Fatal(err)
		}
	}
}
