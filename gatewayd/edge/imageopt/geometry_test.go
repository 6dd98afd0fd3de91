package imageopt

import (
	"image"
	"testing"
)

func TestPlan(t *testing.T) {
	cases := []struct {
		sw, sh int
		p      Params
		dw, dh int
		crop   image.Rectangle
	}{
		{400, 300, Params{}, 400, 300, image.Rect(0, 0, 400, 300)},
		{400, 300, Params{Width: 100}, 100, 75, image.Rect(0, 0, 400, 300)},
		{400, 300, Params{Height: 150}, 200, 150, image.Rect(0, 0, 400, 300)},
		{400, 300, Params{Width: 800}, 400, 300, image.Rect(0, 0, 400, 300)}, // never enlarged
		{400, 300, Params{Height: 301}, 400, 300, image.Rect(0, 0, 400, 300)},
		{3, 1000, Params{Width: 1}, 1, 333, image.Rect(0, 0, 3, 1000)},
		{1000, 1, Params{Width: 10}, 10, 1, image.Rect(0, 0, 1000, 1)}, // at least one pixel
		// contain: inside the box.
		{400, 300, Params{Width: 200, Height: 200}, 200, 150, image.Rect(0, 0, 400, 300)},
		{400, 300, Params{Width: 200, Height: 200, Fit: FitContain}, 200, 150, image.Rect(0, 0, 400, 300)},
		{400, 300, Params{Width: 1000, Height: 1000}, 400, 300, image.Rect(0, 0, 400, 300)},
		// cover: fills the box, cropped centred.
		{400, 300, Params{Width: 200, Height: 200, Fit: FitCover}, 200, 200, image.Rect(50, 0, 350, 300)},
		{300, 400, Params{Width: 200, Height: 200, Fit: FitCover}, 200, 200, image.Rect(0, 50, 300, 350)},
		{400, 300, Params{Width: 400, Height: 100, Fit: FitCover}, 400, 100, image.Rect(0, 100, 400, 200)},
		// cover larger than the source: no enlargement, the box shrinks to the source.
		{400, 300, Params{Width: 800, Height: 100, Fit: FitCover}, 400, 100, image.Rect(0, 100, 400, 200)},
		{400, 300, Params{Width: 1000, Height: 1000, Fit: FitCover}, 400, 300, image.Rect(0, 0, 400, 300)},
		// fill: exactly the box, enlarging if asked.
		{400, 300, Params{Width: 100, Height: 100, Fit: FitFill}, 100, 100, image.Rect(0, 0, 400, 300)},
		{400, 300, Params{Width: 800, Height: 100, Fit: FitFill}, 800, 100, image.Rect(0, 0, 400, 300)},
	}
	for _, c := range cases {
		dw, dh, crop := plan(c.sw, c.sh, c.p)
		if dw != c.dw || dh != c.dh || crop != c.crop {
			t.Errorf("plan(%d, %d, %+v) = %d, %d, %v; want %d, %d, %v", c.sw, c.sh, c.p, dw, dh, crop, c.dw, c.dh, c.crop)
		}
	}
}

func TestRawRect(t *testing.T) {
	// A raw 4×2 image; for each orientation, map every displayed pixel's
	// 1×1 rectangle to raw and compare with orient's pixel mapping.
	raw := image.NewRGBA(image.Rect(0, 0, 4, 2))
	for i := range raw.Pix {
		raw.Pix[i] = byte(i / 4) // pixel index in every channel
	}
	for o := 1; o <= 8; o++ {
		d := orient(raw, o)
		dw, dh := d.Rect.Dx(), d.Rect.Dy()
		if swapsAxes(o) != (dw == 2) {
			t.Fatalf("orientation %d: displayed %dx%d", o, dw, dh)
		}
		for y := range dh {
			for x := range dw {
				r := rawRect(image.Rect(x, y, x+1, y+1), o, dw, dh)
				want := byte(r.Min.Y*4 + r.Min.X)
				if r.Dx() != 1 || r.Dy() != 1 || d.Pix[y*d.Stride+x*4] != want {
					t.Errorf("orientation %d, displayed (%d,%d): rawRect %v, orient pixel %d", o, x, y, r, d.Pix[y*d.Stride+x*4])
				}
			}
		}
	}
}
