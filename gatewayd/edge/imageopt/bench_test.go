package imageopt

import (
	"bytes"
	"testing"
)

// BenchmarkTransform resizes a 1920×1080 photo-like source to common
// widths and formats; the result size is reported as out_bytes.
func BenchmarkTransform(b *testing.B) {
	src := testImage(1920, 1080, 77)
	sources := map[string][]byte{"jpeg": encJPEG(b, src), "png": encPNG(b, src)}
	cases := []struct {
		name, src string
		p         Params
	}{
		{"jpeg-to-jpeg-w400", "jpeg", Params{Width: 400}},
		{"jpeg-to-jpeg-w1200", "jpeg", Params{Width: 1200}},
		{"jpeg-to-jpeg-cover-300x300", "jpeg", Params{Width: 300, Height: 300, Fit: FitCover}},
		{"jpeg-to-webp-w400", "jpeg", Params{Width: 400, Format: FormatWebP}},
		{"jpeg-to-png-w400", "jpeg", Params{Width: 400, Format: FormatPNG}},
		{"png-to-jpeg-w400", "png", Params{Width: 400, Format: FormatJPEG}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			data := sources[c.src]
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			var n int
			for b.Loop() {
				out, _, err := Transform(bytes.NewReader(data), "image/"+c.src, c.p, Limits{})
				if err != nil {
					b.Fatal(err)
				}
				n = len(out)
			}
			b.ReportMetric(float64(n), "out_bytes")
		})
	}
}

// BenchmarkRefuseBomb measures the cost of refusing a PNG that claims
// 10 Gpx: the header is read, nothing is decoded.
func BenchmarkRefuseBomb(b *testing.B) {
	data := pngClaiming(100_000, 100_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Transform(bytes.NewReader(data), "image/png", Params{Width: 10}, Limits{}); err == nil {
			b.Fatal("bomb accepted")
		}
	}
}
