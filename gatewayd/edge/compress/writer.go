package compress

import (
	"fmt"
	"io"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Level ranges and the levels a level of 0 selects. The defaults suit
// compression on the fly: most of the size win at a small CPU cost.
const (
	MinGzipLevel, MaxGzipLevel, DefaultGzipLevel       = 1, 9, 6
	MinBrotliLevel, MaxBrotliLevel, DefaultBrotliLevel = 1, 11, 5
	MinZstdLevel, MaxZstdLevel, DefaultZstdLevel       = 1, 22, 3
)

// zstdWindow bounds the zstd window: RFC 9659 has HTTP recipients accept
// at most 8 MiB, and a smaller window keeps pooled encoders small.
const zstdWindow = 4 << 20

// encoder is what the three codings' writers have in common.
type encoder interface {
	io.WriteCloser
	Flush() error
	Reset(io.Writer)
}

// pools holds idle encoders per coding and level (index = level).
var pools struct {
	gzip   [MaxGzipLevel + 1]sync.Pool
	brotli [MaxBrotliLevel + 1]sync.Pool
	zstd   [MaxZstdLevel + 1]sync.Pool
}

// NewWriter returns a writer that encodes what is written to it with the
// coding enc ("br", "zstd" or "gzip") at level (0: the coding's default;
// otherwise within the coding's Min…Max range) and writes the result to
// w. Close flushes the encoding's end to w (it does not close w); the
// writer must not be used after Close. The writer also has a
// Flush() error method that pushes what is buffered so far to w (for
// streamed responses). A writer serves one goroutine.
func NewWriter(w io.Writer, enc string, level int) (io.WriteCloser, error) {
	var (
		pool   *sync.Pool
		create func() (encoder, error)
	)
	switch enc {
	case Gzip:
		if level == 0 {
			level = DefaultGzipLevel
		}
		if level < MinGzipLevel || level > MaxGzipLevel {
			return nil, levelErr(enc, level, MinGzipLevel, MaxGzipLevel)
		}
		pool = &pools.gzip[level]
		create = func() (encoder, error) { return gzip.NewWriterLevel(io.Discard, level) }
	case Brotli:
		if level == 0 {
			level = DefaultBrotliLevel
		}
		if level < MinBrotliLevel || level > MaxBrotliLevel {
			return nil, levelErr(enc, level, MinBrotliLevel, MaxBrotliLevel)
		}
		pool = &pools.brotli[level]
		create = func() (encoder, error) { return brotli.NewWriterLevel(io.Discard, level), nil }
	case Zstd:
		if level == 0 {
			level = DefaultZstdLevel
		}
		if level < MinZstdLevel || level > MaxZstdLevel {
			return nil, levelErr(enc, level, MinZstdLevel, MaxZstdLevel)
		}
		pool = &pools.zstd[level]
		create = func() (encoder, error) {
			return zstd.NewWriter(io.Discard,
				zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
				zstd.WithEncoderConcurrency(1),
				zstd.WithWindowSize(zstdWindow))
		}
	default:
		return nil, fmt.Errorf("%w: encoding %q (want br, zstd or gzip)", ErrUnknownEncoding, enc)
	}
	e, _ := pool.Get().(encoder)
	if e == nil {
		var err error
		if e, err = create(); err != nil {
			return nil, fmt.Errorf("compress: new %s encoder: %w", enc, err)
		}
	}
	e.Reset(w)
	return &pooledWriter{enc: e, pool: pool}, nil
}

func levelErr(enc string, level, lo, hi int) error {
	return fmt.Errorf("%w: level is %d, the %s range is %d..%d (0: default)", ErrBadLevel, level, enc, lo, hi)
}

// pooledWriter hands its encoder back to the pool on Close.
type pooledWriter struct {
	enc  encoder // nil after Close
	pool *sync.Pool
}

func (p *pooledWriter) Write(b []byte) (int, error) {
	if p.enc == nil {
		return 0, ErrClosed
	}
	return p.enc.Write(b)
}

// Flush writes what the encoder buffered to the destination.
func (p *pooledWriter) Flush() error {
	if p.enc == nil {
		return ErrClosed
	}
	return p.enc.Flush()
}

// Close ends the encoding and returns the encoder to its pool.
func (p *pooledWriter) Close() error {
	if p.enc == nil {
		return ErrClosed
	}
	err := p.enc.Close()
	p.enc.Reset(io.Discard) // drop the reference to the destination
	p.pool.Put(p.enc)
	p.enc = nil
	return err
}
