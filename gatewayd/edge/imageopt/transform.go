package imageopt

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"

	"github.com/HugoSmits86/nativewebp"
	"golang.org/x/image/draw"
)

// Sizes that choose the scaler.
const (
	// bigOutput: an enlarged output of more pixels uses ApproxBiLinear.
	bigOutput = 1 << 20
	// bigSource: a reduced source region of more pixels uses the
	// BiLinear kernel (antialiased, about half CatmullRom's cost).
	bigSource = 12_000_000
)

// Transform decodes the image read from src (at most lim.MaxSourceBytes;
// srcType is its Content-Type: image/jpeg, image/png, image/gif, or ""
// or application/octet-stream to go by the data's signature, which
// decides the decoder in every case), applies p, and returns the encoded
// result and its Content-Type. The source's dimensions are checked
// against lim.MaxSourcePixels from its header before it is decoded. A
// JPEG's EXIF orientation is applied. Errors wrap ErrBadParam,
// ErrTooLarge, ErrUnsupported, ErrDecode or ErrEncode and name the limit
// or the parameter; a read error from src is returned wrapped. Transform
// does not close src.
func Transform(src io.Reader, srcType string, p Params, lim Limits) (out []byte, contentType string, err error) {
	lim = lim.withDefaults()
	if err := lim.check(p); err != nil {
		return nil, "", err
	}
	if err := checkType(srcType); err != nil {
		return nil, "", err
	}
	data, err := readSource(src, lim.MaxSourceBytes)
	if err != nil {
		return nil, "", err
	}
	format := sniff(data)
	img, err := decode(data, format, lim.MaxSourcePixels)
	if err != nil {
		return nil, "", err
	}
	o := 1
	if format == srcJPEG {
		o = jpegOrientation(data)
	}
	outFormat := p.Format
	if outFormat == "" {
		outFormat = FormatJPEG
		if format != srcJPEG {
			outFormat = FormatPNG
		}
	}
	flatten := outFormat == FormatJPEG && !opaque(img)

	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if swapsAxes(o) {
		sw, sh = sh, sw
	}
	dw, dh, crop := plan(sw, sh, p)
	var result image.Image = img
	if dw != sw || dh != sh || crop != image.Rect(0, 0, sw, sh) || o != 1 || flatten {
		rc := rawRect(crop, o, sw, sh).Add(b.Min)
		rw, rh := dw, dh
		if swapsAxes(o) {
			rw, rh = dh, dw
		}
		result = orient(resample(img, rc, rw, rh, flatten), o)
	}
	out, err = encode(result, outFormat, p.Quality)
	if err != nil {
		return nil, "", err
	}
	return out, "image/" + outFormat, nil
}

// opaque reports whether img is known to have no transparency.
func opaque(img image.Image) bool {
	if o, ok := img.(interface{ Opaque() bool }); ok {
		return o.Opaque()
	}
	return false
}

// resample scales region sr of src to a new dw×dh image. flatten
// composes a transparent source over white (for JPEG output). A
// reduction by 4× or more on each axis first averages blocks of source
// pixels (boxShrink) when the source type allows.
func resample(src image.Image, sr image.Rectangle, dw, dh int, flatten bool) *image.RGBA {
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	op := draw.Src
	if flatten {
		draw.Draw(dst, dst.Rect, image.NewUniform(color.White), image.Point{}, draw.Src)
		op = draw.Over
	}
	if dw == sr.Dx() && dh == sr.Dy() {
		draw.Draw(dst, dst.Rect, src, sr.Min, op)
		return dst
	}
	if k := shrinkFactor(sr, dw, dh); k > 1 {
		// A large reduction: average k×k blocks first (every source
		// pixel counts, once), then interpolate from at least twice the
		// output size.
		if small, ok := boxShrink(src, sr, k); ok {
			src, sr = small, small.Rect
		}
	}
	scaler(sr.Dx()*sr.Dy(), dw*dh).Scale(dst, dst.Rect, src, sr, op, nil)
	return dst
}

// scaler picks the interpolator for srcPx source pixels becoming dstPx:
// CatmullRom (sharpest) unless the work is large.
func scaler(srcPx, dstPx int) draw.Scaler {
	switch {
	case dstPx > srcPx && dstPx > bigOutput:
		return draw.ApproxBiLinear
	case dstPx < srcPx && srcPx > bigSource:
		return draw.BiLinear
	}
	return draw.CatmullRom
}

// encode writes img in format.
func encode(img image.Image, format string, quality int) (out []byte, err error) {
	var buf bytes.Buffer
	switch format {
	case FormatJPEG:
		if quality == 0 {
			quality = DefaultQuality
		}
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality})
	case FormatPNG:
		err = (&png.Encoder{CompressionLevel: png.DefaultCompression}).Encode(&buf, img)
	case FormatWebP:
		err = encodeWebP(&buf, img)
	default:
		return nil, fmt.Errorf("%w: output format %q (want jpeg, png or webp)", ErrUnsupported, format)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrEncode, format, err)
	}
	return buf.Bytes(), nil
}

// encodeWebP encodes lossless WebP. The encoder panics on internal
// invariant failures; that becomes an error here, never a crash.
func encodeWebP(w io.Writer, img image.Image) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("webp encoder failed: %v", r)
		}
	}()
	return nativewebp.Encode(w, img, nil)
}
