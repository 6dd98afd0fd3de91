package imageopt

import (
	"image"
	"image/color"
)

// shrinkFactor is the integer box-filter factor that brings region sr
// down to no less than twice dw×dh, or 1 when a box pass would not pay.
func shrinkFactor(sr image.Rectangle, dw, dh int) int {
	k := min(sr.Dx()/(2*dw), sr.Dy()/(2*dh))
	if k < 2 {
		return 1
	}
	return k
}

// boxShrink averages each k×k block of region sr of src into one pixel
// of a new (sr.Dx()/k)×(sr.Dy()/k) image. It covers the sources whose
// pixels it reads directly (JPEG's YCbCr, opaque PNG's RGBA); ok is false
// for others. The at most k-1 rightmost columns and bottom rows that do
// not fill a block are left out.
func boxShrink(src image.Image, sr image.Rectangle, k int) (dst *image.RGBA, ok bool) {
	ow, oh := sr.Dx()/k, sr.Dy()/k
	switch s := src.(type) {
	case *image.YCbCr:
		dst = image.NewRGBA(image.Rect(0, 0, ow, oh))
		sums := make([]uint32, ow*3)
		for oy := range oh {
			clear(sums)
			for y := sr.Min.Y + oy*k; y < sr.Min.Y+(oy+1)*k; y++ {
				x := sr.Min.X
				for ox := range ow {
					var r, g, b uint32
					for range k {
						yi, ci := s.YOffset(x, y), s.COffset(x, y)
						pr, pg, pb := color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
						r += uint32(pr)
						g += uint32(pg)
						b += uint32(pb)
						x++
					}
					sums[ox*3] += r
					sums[ox*3+1] += g
					sums[ox*3+2] += b
				}
			}
			writeRow(dst, oy, sums, uint32(k*k), nil)
		}
		return dst, true
	case *image.RGBA:
		dst = image.NewRGBA(image.Rect(0, 0, ow, oh))
		sums := make([]uint32, ow*3)
		alpha := make([]uint32, ow)
		for oy := range oh {
			clear(sums)
			clear(alpha)
			for y := sr.Min.Y + oy*k; y < sr.Min.Y+(oy+1)*k; y++ {
				row := s.Pix[s.PixOffset(sr.Min.X, y):]
				for ox := range ow {
					var r, g, b, a uint32
					px := row[ox*k*4 : (ox+1)*k*4]
					for i := 0; i < len(px); i += 4 {
						r += uint32(px[i])
						g += uint32(px[i+1])
						b += uint32(px[i+2])
						a += uint32(px[i+3])
					}
					sums[ox*3] += r
					sums[ox*3+1] += g
					sums[ox*3+2] += b
					alpha[ox] += a
				}
			}
			writeRow(dst, oy, sums, uint32(k*k), alpha)
		}
		return dst, true
	}
	return nil, false
}

// writeRow stores one output row of block sums divided by n (rounded);
// alpha nil means opaque.
func writeRow(dst *image.RGBA, oy int, sums []uint32, n uint32, alpha []uint32) {
	row := dst.Pix[oy*dst.Stride:]
	for ox := 0; ox < len(sums)/3; ox++ {
		row[ox*4] = uint8((sums[ox*3] + n/2) / n)
		row[ox*4+1] = uint8((sums[ox*3+1] + n/2) / n)
		row[ox*4+2] = uint8((sums[ox*3+2] + n/2) / n)
		if alpha == nil {
			row[ox*4+3] = 255
		} else {
			row[ox*4+3] = uint8((alpha[ox] + n/2) / n)
		}
	}
}
