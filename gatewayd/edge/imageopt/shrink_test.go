package imageopt

import (
	"bytes"
	"image"
	"image/color"
	"math/rand/v2"
	"testing"
)

// refShrink is boxShrink through the generic color interface.
func refShrink(src image.Image, sr image.Rectangle, k int) *image.RGBA {
	ow, oh := sr.Dx()/k, sr.Dy()/k
	dst := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for oy := range oh {
		for ox := range ow {
			var r, g, b, a uint32
			for y := sr.Min.Y + oy*k; y < sr.Min.Y+(oy+1)*k; y++ {
				for x := sr.Min.X + ox*k; x < sr.Min.X+(ox+1)*k; x++ {
					c := color.RGBAModel.Convert(src.At(x, y)).(color.RGBA)
					r, g, b, a = r+uint32(c.R), g+uint32(c.G), b+uint32(c.B), a+uint32(c.A)
				}
			}
			n := uint32(k * k)
			dst.SetRGBA(ox, oy, color.RGBA{uint8((r + n/2) / n), uint8((g + n/2) / n), uint8((b + n/2) / n), uint8((a + n/2) / n)})
		}
	}
	return dst
}

func TestBoxShrink(t *testing.T) {
	const seed = 5
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 6))
	var srcs []image.Image
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio444, image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio440} {
		y := image.NewYCbCr(image.Rect(3, 5, 3+61, 5+47), ratio)
		for _, p := range [][]byte{y.Y, y.Cb, y.Cr} {
			for i := range p {
				p[i] = byte(rng.Uint32())
			}
		}
		srcs = append(srcs, y)
	}
	rgba := image.NewRGBA(image.Rect(-2, 1, 59, 40))
	for i := 0; i < len(rgba.Pix); i += 4 {
		a := byte(rng.Uint32())
		rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2], rgba.Pix[i+3] = byte(rng.UintN(uint(a)+1)), byte(rng.UintN(uint(a)+1)), byte(rng.UintN(uint(a)+1)), a
	}
	srcs = append(srcs, rgba)
	for i, src := range srcs {
		b := src.Bounds()
		for _, sr := range []image.Rectangle{b, image.Rect(b.Min.X+5, b.Min.Y+3, b.Max.X-2, b.Max.Y-4)} {
			for _, k := range []int{2, 3, 7} {
				got, ok := boxShrink(src, sr, k)
				if !ok {
					t.Fatalf("source %d (%T): not handled", i, src)
				}
				want := refShrink(src, sr, k)
				if got.Rect != want.Rect {
					t.Fatalf("source %d k %d: %v, want %v", i, k, got.Rect, want.Rect)
				}
				for j := range got.Pix {
					if d := int(got.Pix[j]) - int(want.Pix[j]); d < -1 || d > 1 {
						t.Fatalf("source %d (%T) region %v k %d: byte %d = %d, want %d", i, src, sr, k, j, got.Pix[j], want.Pix[j])
					}
				}
			}
		}
	}
	if _, ok := boxShrink(image.NewGray(image.Rect(0, 0, 8, 8)), image.Rect(0, 0, 8, 8), 2); ok {
		t.Error("a Gray source was handled")
	}
}

func TestShrinkFactor(t *testing.T) {
	for _, c := range []struct {
		sw, sh, dw, dh, k int
	}{
		{1920, 1080, 400, 225, 2},
		{4000, 3000, 100, 75, 20},
		{400, 300, 200, 150, 1},
		{400, 300, 100, 75, 2},
		{400, 300, 399, 1, 1},
	} {
		if k := shrinkFactor(image.Rect(0, 0, c.sw, c.sh), c.dw, c.dh); k != c.k {
			t.Errorf("shrinkFactor(%dx%d -> %dx%d) = %d, want %d", c.sw, c.sh, c.dw, c.dh, k, c.k)
		}
	}
}

// TestTransformLargeReduction: a reduction that takes the box pass keeps
// the picture: a JPEG with a red left half and a blue right half.
func TestTransformLargeReduction(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 640, 320))
	for y := range 320 {
		for x := range 640 {
			c := color.RGBA{0, 0, 255, 255}
			if x < 320 {
				c = color.RGBA{255, 0, 0, 255}
			}
			src.SetRGBA(x, y, c)
		}
	}
	for _, data := range [][]byte{encJPEG(t, src), encPNG(t, src)} {
		out, ctype, err := Transform(bytes.NewReader(data), "", Params{Width: 40, Format: FormatPNG}, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		img := decodeOut(t, out, ctype)
		if b := img.Bounds(); b.Dx() != 40 || b.Dy() != 20 {
			t.Fatalf("%v", b)
		}
		if !near(img.At(5, 10), color.RGBA{255, 0, 0, 255}, 24) || !near(img.At(35, 10), color.RGBA{0, 0, 255, 255}, 24) {
			t.Errorf("left %v, right %v", img.At(5, 10), img.At(35, 10))
		}
	}
}
