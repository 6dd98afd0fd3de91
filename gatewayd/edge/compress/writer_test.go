package compress

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// decode decodes b with the coding enc, failing the test on an error.
func decode(t testing.TB, enc string, b []byte) []byte {
	t.Helper()
	out, err := decodeErr(enc, b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// decodeErr decodes b with the coding enc ("" for identity).
func decodeErr(enc string, b []byte) ([]byte, error) {
	var r io.Reader
	switch enc {
	case Gzip:
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("gzip reader: %w", err)
		}
		r = zr
	case Brotli:
		r = brotli.NewReader(bytes.NewReader(b))
	case Zstd:
		zr, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("zstd reader: %w", err)
		}
		defer zr.Close()
		r = zr
	case "":
		return b, nil
	default:
		return nil, fmt.Errorf("unknown coding %q", enc)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", enc, err)
	}
	return out, nil
}

// textBody returns n bytes of compressible, seeded pseudo-text.
func textBody(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, seed))
	words := []string{"cairn", "edge", "cache", "origin", "shield", "purge", "vary", "stale", "fresh", "<div>", "</div>", "\n"}
	var b bytes.Buffer
	for b.Len() < n {
		b.WriteString(words[rng.IntN(len(words))])
		b.WriteByte(' ')
	}
	return b.Bytes()[:n]
}

func TestWriterRoundTrip(t *testing.T) {
	const seed = 7
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	random := make([]byte, 30_000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	inputs := map[string][]byte{
		"empty":  nil,
		"small":  []byte("hello"),
		"text":   textBody(seed, 60_000),
		"random": random,
	}
	levels := map[string][]int{
		Gzip:   {0, MinGzipLevel, MaxGzipLevel},
		Brotli: {0, MinBrotliLevel, MaxBrotliLevel},
		Zstd:   {0, MinZstdLevel, 10, MaxZstdLevel},
	}
	for enc, ls := range levels {
		for _, level := range ls {
			for name, in := range inputs {
				if level >= 9 && len(in) > 4_000 {
					in = in[:4_000] // the slowest levels: a smaller input keeps -race runs quick
				}
				t.Run(fmt.Sprintf("%s/%d/%s", enc, level, name), func(t *testing.T) {
					// Twice: the second run reuses a pooled encoder.
					for range 2 {
						var out bytes.Buffer
						w, err := NewWriter(&out, enc, level)
						if err != nil {
							t.Fatal(err)
						}
						// Write in uneven pieces, with a flush in the middle.
						for i := 0; i < len(in); {
							n := min(len(in)-i, 1+i%9000)
							if _, err := w.Write(in[i : i+n]); err != nil {
								t.Fatal(err)
							}
							i += n
							if i > len(in)/2 && i-n <= len(in)/2 {
								if err := w.(interface{ Flush() error }).Flush(); err != nil {
									t.Fatal(err)
								}
							}
						}
						if err := w.Close(); err != nil {
							t.Fatal(err)
						}
						if got := decode(t, enc, out.Bytes()); !bytes.Equal(got, in) {
							t.Fatalf("round trip: got %d bytes, want %d", len(got), len(in))
						}
						if name == "text" && out.Len() > len(in)/3 {
							t.Errorf("text compressed to %d of %d bytes", out.Len(), len(in))
						}
					}
				})
			}
		}
	}
}

func TestWriterErrors(t *testing.T) {
	for _, c := range []struct {
		enc   string
		level int
		want  error
		text  string
	}{
		{"deflate", 0, ErrUnknownEncoding, `"deflate"`},
		{"", 0, ErrUnknownEncoding, `""`},
		{Gzip, 10, ErrBadLevel, "level is 10, the gzip range is 1..9"},
		{Gzip, -1, ErrBadLevel, "gzip range is 1..9"},
		{Brotli, 12, ErrBadLevel, "br range is 1..11"},
		{Zstd, 23, ErrBadLevel, "zstd range is 1..22"},
	} {
		_, err := NewWriter(io.Discard, c.enc, c.level)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("NewWriter(%q, %d) = %v, want %v containing %q", c.enc, c.level, err, c.want, c.text)
		}
	}
	w, err := NewWriter(io.Discard, Gzip, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("client gone") }

func TestWriterDestinationError(t *testing.T) {
	for _, enc := range []string{Gzip, Brotli, Zstd} {
		w, err := NewWriter(failWriter{}, enc, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, werr := w.Write(textBody(1, 200_000))
		cerr := w.Close()
		if werr == nil && cerr == nil {
			t.Errorf("%s: a failing destination reported no error", enc)
		}
		// The pooled encoder is usable again.
		var out bytes.Buffer
		w, err = NewWriter(&out, enc, 0)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, "after failure")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := string(decode(t, enc, out.Bytes())); got != "after failure" {
			t.Errorf("%s after a failure: %q", enc, got)
		}
	}
}

func newGzipReader(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }
