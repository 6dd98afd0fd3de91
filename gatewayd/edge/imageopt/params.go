package imageopt

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Fit says how an image meets a box of both width and height.
type Fit string

// Fits.
const (
	// FitContain scales the image to fit inside the box, keeping its
	// aspect ratio (the result may be smaller than the box on one side).
	FitContain Fit = "contain"
	// FitCover scales the image to cover the box, keeping its aspect
	// ratio, and crops the overflow evenly from both sides.
	FitCover Fit = "cover"
	// FitFill stretches the image to exactly the box.
	FitFill Fit = "fill"
)

// Output formats.
const (
	FormatJPEG = "jpeg"
	FormatPNG  = "png"
	FormatWebP = "webp"
)

// DefaultQuality is the JPEG quality used when none is asked for.
const DefaultQuality = 82

// Params is one transform. The zero value changes nothing but may still
// re-encode.
type Params struct {
	// Width and Height of the result in pixels (0: follows from the
	// other and the aspect ratio; both 0: the source's size).
	Width, Height int
	// Fit applies when both Width and Height are set ("": contain).
	Fit Fit
	// Format of the result ("": the source's; a GIF source gives PNG).
	Format string
	// Quality for JPEG output, 1..100 (0: DefaultQuality).
	Quality int
}

// paramNames are the query parameters Parse reads.
var paramNames = []string{"width", "height", "fit", "format", "quality"}

// Parse reads a transform from query parameters width, height (pixels,
// 1..4096), fit (contain, cover, fill), format (jpeg or jpg, png, webp)
// and quality (1..100); other parameters are ignored. ok is false when
// the request asks for no transform: none of these parameters is present,
// or only ones without effect (fit without both sizes, quality=82). An error wraps ErrBadParam and names the parameter and its
// limit. Parse is ParseLimits with the default limits.
func Parse(q url.Values) (p Params, ok bool, err error) {
	return ParseLimits(q, Limits{})
}

// ParseLimits is Parse with lim's MaxWidth and MaxHeight as the size
// limits.
func ParseLimits(q url.Values, lim Limits) (p Params, ok bool, err error) {
	lim = lim.withDefaults()
	for _, name := range paramNames {
		vs, present := q[name]
		if !present {
			continue
		}
		ok = true
		if len(vs) != 1 {
			return Params{}, false, fmt.Errorf("%w: %s is given %d times (at most once)", ErrBadParam, name, len(vs))
		}
		v := strings.ToLower(strings.TrimSpace(vs[0]))
		switch name {
		case "width":
			p.Width, err = parseInt(name, v, 1, lim.MaxWidth, "max_width")
		case "height":
			p.Height, err = parseInt(name, v, 1, lim.MaxHeight, "max_height")
		case "quality":
			p.Quality, err = parseInt(name, v, 1, 100, "")
		case "fit":
			switch Fit(v) {
			case FitContain, FitCover, FitFill:
				p.Fit = Fit(v)
			default:
				err = fmt.Errorf("%w: fit is %q (want contain, cover or fill)", ErrBadParam, truncate(vs[0]))
			}
		case "format":
			switch v {
			case "jpeg", "jpg":
				p.Format = FormatJPEG
			case FormatPNG, FormatWebP:
				p.Format = v
			default:
				err = fmt.Errorf("%w: format is %q (want jpeg, png or webp)", ErrBadParam, truncate(vs[0]))
			}
		}
		if err != nil {
			return Params{}, false, err
		}
	}
	if p.Canonical() == "" {
		// Only parameters without effect (fit=contain alone, the default
		// quality): no transform.
		return Params{}, false, nil
	}
	return p, ok, nil
}

// parseInt parses a decimal integer in lo..hi.
func parseInt(name, v string, lo, hi int, limitName string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || len(v) > 10 {
		return 0, fmt.Errorf("%w: %s is %q, not an integer in %d..%d", ErrBadParam, name, truncate(v), lo, hi)
	}
	if n < lo || n > hi {
		if limitName != "" {
			return 0, fmt.Errorf("%w: %s is %d, the limit (%s) is %d..%d", ErrBadParam, name, n, limitName, lo, hi)
		}
		return 0, fmt.Errorf("%w: %s is %d, the range is %d..%d", ErrBadParam, name, n, lo, hi)
	}
	return n, nil
}

// truncate shortens a value quoted in an error message.
func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// Canonical returns the transform as a stable string for cache keys:
// "width=W&height=H&fit=F&format=X&quality=Q" in that order, leaving out
// what is unset or has no effect (fit unless both sizes are set, contain
// being the default; quality for PNG and WebP output). Two Params that
// transform every image alike have the same Canonical.
func (p Params) Canonical() string {
	var b strings.Builder
	add := func(k, v string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	if p.Width > 0 {
		add("width", strconv.Itoa(p.Width))
	}
	if p.Height > 0 {
		add("height", strconv.Itoa(p.Height))
	}
	if p.Width > 0 && p.Height > 0 && p.Fit != "" && p.Fit != FitContain {
		add("fit", string(p.Fit))
	}
	if p.Format != "" {
		add("format", p.Format)
	}
	if p.Quality > 0 && p.Quality != DefaultQuality && (p.Format == "" || p.Format == FormatJPEG) {
		add("quality", strconv.Itoa(p.Quality))
	}
	return b.String()
}
