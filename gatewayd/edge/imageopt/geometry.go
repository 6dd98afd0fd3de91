package imageopt

import (
	"image"
	"math"
)

// plan computes, for a displayed source of sw×sh pixels, the output size
// dw×dh and the part of the source (crop) scaled to it. Only FitFill
// enlarges; the other fits cap the scale at 1.
func plan(sw, sh int, p Params) (dw, dh int, crop image.Rectangle) {
	crop = image.Rect(0, 0, sw, sh)
	W, H := p.Width, p.Height
	switch {
	case W == 0 && H == 0:
		return sw, sh, crop
	case H == 0:
		if W >= sw {
			return sw, sh, crop
		}
		return W, max(1, roundDiv(sh*W, sw)), crop
	case W == 0:
		if H >= sh {
			return sw, sh, crop
		}
		return max(1, roundDiv(sw*H, sh)), H, crop
	}
	fx, fy := float64(W)/float64(sw), float64(H)/float64(sh)
	switch p.Fit {
	case FitFill:
		return W, H, crop
	case FitCover:
		s := math.Min(math.Max(fx, fy), 1)
		// The box, shrunk to what the scaled source covers.
		bw := min(W, max(1, int(math.Round(float64(sw)*s))))
		bh := min(H, max(1, int(math.Round(float64(sh)*s))))
		// The source region that scales to the box, centred.
		cw := min(sw, max(1, int(math.Round(float64(bw)/s))))
		ch := min(sh, max(1, int(math.Round(float64(bh)/s))))
		x0, y0 := (sw-cw)/2, (sh-ch)/2
		return bw, bh, image.Rect(x0, y0, x0+cw, y0+ch)
	default: // contain
		s := math.Min(math.Min(fx, fy), 1)
		return max(1, int(math.Round(float64(sw)*s))), max(1, int(math.Round(float64(sh)*s))), crop
	}
}

// roundDiv is a/b rounded to the nearest integer, for a, b > 0.
func roundDiv(a, b int) int { return (2*a + b) / (2 * b) }
