package imageopt

import "fmt"

// Defaults for Limits' zero fields.
const (
	DefaultMaxSourcePixels = 40_000_000
	DefaultMaxWidth        = 4096
	DefaultMaxHeight       = 4096
	DefaultMaxSourceBytes  = 32 << 20
)

// Limits bound what Parse accepts and what Transform reads. A zero field
// takes its default.
type Limits struct {
	// MaxSourcePixels bounds the source's width × height, checked from
	// its header before decoding (default 40 MP).
	MaxSourcePixels int64
	// MaxWidth and MaxHeight bound the requested output size (default
	// 4096 each).
	MaxWidth, MaxHeight int
	// MaxSourceBytes bounds the encoded source read (default 32 MiB).
	MaxSourceBytes int64
}

func (l Limits) withDefaults() Limits {
	if l.MaxSourcePixels <= 0 {
		l.MaxSourcePixels = DefaultMaxSourcePixels
	}
	if l.MaxWidth <= 0 {
		l.MaxWidth = DefaultMaxWidth
	}
	if l.MaxHeight <= 0 {
		l.MaxHeight = DefaultMaxHeight
	}
	if l.MaxSourceBytes <= 0 {
		l.MaxSourceBytes = DefaultMaxSourceBytes
	}
	return l
}

// check validates p against the limits (p from Parse passes; a Params
// built by hand may not).
func (l Limits) check(p Params) error {
	if p.Width < 0 || p.Width > l.MaxWidth {
		return fmt.Errorf("%w: width is %d, the limit (max_width) is 1..%d", ErrBadParam, p.Width, l.MaxWidth)
	}
	if p.Height < 0 || p.Height > l.MaxHeight {
		return fmt.Errorf("%w: height is %d, the limit (max_height) is 1..%d", ErrBadParam, p.Height, l.MaxHeight)
	}
	switch p.Fit {
	case "", FitContain, FitCover, FitFill:
	default:
		return fmt.Errorf("%w: fit is %q (want contain, cover or fill)", ErrBadParam, p.Fit)
	}
	switch p.Format {
	case "", FormatJPEG, FormatPNG, FormatWebP:
	default:
		return fmt.Errorf("%w: format is %q (want jpeg, png or webp)", ErrBadParam, p.Format)
	}
	if p.Quality < 0 || p.Quality > 100 {
		return fmt.Errorf("%w: quality is %d, the range is 1..100", ErrBadParam, p.Quality)
	}
	return nil
}
