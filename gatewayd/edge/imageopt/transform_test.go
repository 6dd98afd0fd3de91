package imageopt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/image/draw"
)

func TestTransformRoundTrip(t *testing.T) {
	const seed = 42
	t.Logf("seed %d", seed)
	src := testImage(160, 120, seed)
	sources := map[string][]byte{
		"image/jpeg": encJPEG(t, src),
		"image/png":  encPNG(t, src),
		"image/gif":  encGIF(t, src),
	}
	cases := []struct {
		p              Params
		w, h           int
		jpegOut, other string // output type for a JPEG source, for the others
	}{
		{Params{Width: 100}, 100, 75, "image/jpeg", "image/png"},
		{Params{Height: 30}, 40, 30, "image/jpeg", "image/png"},
		{Params{Width: 80, Height: 80}, 80, 60, "image/jpeg", "image/png"},
		{Params{Width: 80, Height: 80, Fit: FitCover}, 80, 80, "image/jpeg", "image/png"},
		{Params{Width: 50, Height: 120, Fit: FitFill}, 50, 120, "image/jpeg", "image/png"},
		{Params{Width: 800}, 160, 120, "image/jpeg", "image/png"},
		{Params{Format: FormatPNG}, 160, 120, "image/png", "image/png"},
		{Params{Width: 64, Format: FormatJPEG, Quality: 40}, 64, 48, "image/jpeg", "image/jpeg"},
		{Params{Width: 64, Format: FormatWebP}, 64, 48, "image/webp", "image/webp"},
		{Params{Format: FormatWebP}, 160, 120, "image/webp", "image/webp"},
	}
	for srcType, data := range sources {
		for _, c := range cases {
			t.Run(fmt.Sprintf("%s/%s", srcType, c.p.Canonical()), func(t *testing.T) {
				out, ctype, err := Transform(bytes.NewReader(data), srcType, c.p, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				want := c.other
				if srcType == "image/jpeg" {
					want = c.jpegOut
				}
				if ctype != want {
					t.Fatalf("content type %q, want %q", ctype, want)
				}
				img := decodeOut(t, out, ctype)
				if b := img.Bounds(); b.Dx() != c.w || b.Dy() != c.h {
					t.Fatalf("result %dx%d, want %dx%d", b.Dx(), b.Dy(), c.w, c.h)
				}
				// The image is still the image: its centre pixel resembles
				// the source's (GIF is quantised, JPEG is lossy).
				b := img.Bounds()
				sx := int(float64(b.Dx()/2) * 160 / float64(c.w))
				sy := int(float64(b.Dy()/2) * 120 / float64(c.h))
				if c.p.Fit == FitCover {
					sx, sy = 80, 60
				}
				want8 := src.RGBAAt(sx, sy)
				if !near(img.At(b.Min.X+b.Dx()/2, b.Min.Y+b.Dy()/2), want8, 48) {
					t.Errorf("centre pixel %v, source %v", img.At(b.Dx()/2, b.Dy()/2), want8)
				}
			})
		}
	}
}

func TestTransformSmallerQuality(t *testing.T) {
	data := encJPEG(t, testImage(300, 200, 5))
	hi, _, err := Transform(bytes.NewReader(data), "image/jpeg", Params{Quality: 95}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	lo, _, err := Transform(bytes.NewReader(data), "image/jpeg", Params{Quality: 20}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(lo) >= len(hi) {
		t.Fatalf("quality 20 gave %d bytes, quality 95 %d", len(lo), len(hi))
	}
}

// TestTransformWebPLossless: WebP output of an unscaled image keeps every
// pixel, alpha included.
func TestTransformWebPLossless(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 37, 23))
	for i := range src.Pix {
		src.Pix[i] = byte(i*7 + i/3)
	}
	out, ctype, err := Transform(bytes.NewReader(encPNG(t, src)), "image/png", Params{Format: FormatWebP}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	img := decodeOut(t, out, ctype)
	for y := range 23 {
		for x := range 37 {
			want := src.NRGBAAt(x, y)
			got := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			if want.A == 0 {
				continue // colour under full transparency is not kept
			}
			if got != want {
				t.Fatalf("(%d,%d) = %v, want %v", x, y, got, want)
			}
		}
	}
}

// TestTransformFlattensAlpha: a transparent PNG becomes JPEG over white.
func TestTransformFlattensAlpha(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 40, 40)) // fully transparent
	draw.Draw(src, image.Rect(0, 0, 20, 40), image.NewUniform(color.NRGBA{0, 0, 0, 255}), image.Point{}, draw.Src)
	for _, p := range []Params{{Format: FormatJPEG}, {Format: FormatJPEG, Width: 20}} {
		out, ctype, err := Transform(bytes.NewReader(encPNG(t, src)), "image/png", p, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		img := decodeOut(t, out, ctype)
		b := img.Bounds()
		if !near(img.At(b.Max.X-2, b.Dy()/2), color.RGBA{255, 255, 255, 255}, 8) {
			t.Errorf("%+v: transparent side is %v, want white", p, img.At(b.Max.X-2, b.Dy()/2))
		}
		if !near(img.At(1, b.Dy()/2), color.RGBA{0, 0, 0, 255}, 8) {
			t.Errorf("%+v: opaque side is %v, want black", p, img.At(1, b.Dy()/2))
		}
	}
}

// TestTransformCoverCrops: cover takes the centre of a wide image.
func TestTransformCoverCrops(t *testing.T) {
	src := image.NewRGBA(image.Rect(0, 0, 300, 100))
	colors := []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}}
	for i, c := range colors {
		draw.Draw(src, image.Rect(i*100, 0, i*100+100, 100), image.NewUniform(c), image.Point{}, draw.Src)
	}
	out, ctype, err := Transform(bytes.NewReader(encPNG(t, src)), "image/png", Params{Width: 50, Height: 50, Fit: FitCover}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	img := decodeOut(t, out, ctype)
	for _, pt := range []image.Point{{2, 2}, {47, 2}, {2, 47}, {47, 47}, {25, 25}} {
		if !near(img.At(pt.X, pt.Y), colors[1], 8) {
			t.Errorf("pixel %v = %v, want green (the centre third)", pt, img.At(pt.X, pt.Y))
		}
	}
}

// TestTransformOrientation: the EXIF orientation is applied: the raw
// image's red top-left quadrant appears where each orientation puts it.
func TestTransformOrientation(t *testing.T) {
	raw := encJPEG(t, quadrants(64, 32))
	red := color.RGBA{255, 0, 0, 255}
	// Where the raw top-left corner is displayed: 0 TL, 1 TR, 2 BR, 3 BL.
	corner := map[int]int{1: 0, 2: 1, 3: 2, 4: 3, 5: 0, 6: 1, 7: 2, 8: 3}
	for o := 1; o <= 8; o++ {
		for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
			for _, p := range []Params{{Format: FormatPNG}, {Format: FormatPNG, Width: 8}} {
				data := withOrientation(raw, o, bo)
				if got := jpegOrientation(data); got != o {
					t.Fatalf("jpegOrientation = %d, want %d", got, o)
				}
				out, ctype, err := Transform(bytes.NewReader(data), "image/jpeg", p, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				img := decodeOut(t, out, ctype)
				b := img.Bounds()
				w, h := 64, 32
				if swapsAxes(o) {
					w, h = 32, 64
				}
				if p.Width != 0 {
					w, h = p.Width, p.Width*h/w
				}
				if b.Dx() != w || b.Dy() != h {
					t.Fatalf("orientation %d %+v: %dx%d, want %dx%d", o, p, b.Dx(), b.Dy(), w, h)
				}
				pts := []image.Point{{w / 4, h / 4}, {w - 1 - w/4, h / 4}, {w - 1 - w/4, h - 1 - h/4}, {w / 4, h - 1 - h/4}}
				for i, pt := range pts {
					isRed := near(img.At(pt.X, pt.Y), red, 60)
					if isRed != (i == corner[o]) {
						t.Errorf("orientation %d (%v) %+v: corner %d red=%v, want red only at corner %d", o, bo, p, i, isRed, corner[o])
					}
				}
			}
		}
	}
	// Malformed EXIF: orientation 1.
	bad := withOrientation(raw, 6, binary.LittleEndian)
	bad[12] = 'X' // the byte order mark
	if got := jpegOrientation(bad); got != 1 {
		t.Errorf("malformed EXIF: orientation %d", got)
	}
	if got := jpegOrientation(withOrientation(raw, 9, binary.BigEndian)); got != 1 {
		t.Errorf("orientation 9: %d", got)
	}
}

// TestTransformRefusesBombs: headers claiming more pixels than allowed
// are refused from the header, quickly and without decoding.
func TestTransformRefusesBombs(t *testing.T) {
	cases := []struct {
		name, ctype string
		data        []byte
		pixels      string
	}{
		{"png", "image/png", pngClaiming(100_000, 100_000), "100000x100000 = 10000000000 pixels"},
		{"gif", "image/gif", gifClaiming(65_000, 65_000), "65000x65000 = 4225000000 pixels"},
		{"jpeg", "image/jpeg", jpegClaiming(t, 65_000, 65_000), "65000x65000 = 4225000000 pixels"},
		{"png just over", "image/png", pngClaiming(8000, 5001), "8000x5001 = 40008000 pixels"},
	}
	for _, c := range cases {
		start := time.Now()
		_, _, err := Transform(bytes.NewReader(c.data), c.ctype, Params{Width: 10}, Limits{})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), c.pixels) || !strings.Contains(err.Error(), "the limit (max_source_pixels) is 40000000") {
			t.Errorf("%s: %v, want ErrTooLarge naming %q and max_source_pixels", c.name, err, c.pixels)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: refusal took %v", c.name, d)
		}
	}
	// A lower limit applies.
	_, _, err := Transform(bytes.NewReader(encPNG(t, testImage(100, 100, 1))), "image/png", Params{Width: 10}, Limits{MaxSourcePixels: 9999})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "100x100 = 10000 pixels, the limit (max_source_pixels) is 9999") {
		t.Errorf("custom pixel limit: %v", err)
	}
}

func TestTransformErrors(t *testing.T) {
	good := encPNG(t, testImage(20, 20, 2))
	jpg := encJPEG(t, testImage(64, 64, 3))
	cases := []struct {
		name  string
		src   io.Reader
		ctype string
		p     Params
		lim   Limits
		want  error
		text  string
	}{
		{"source bytes", bytes.NewReader(good), "image/png", Params{Width: 10}, Limits{MaxSourceBytes: 100}, ErrTooLarge, "the limit (max_source_bytes) is 100"},
		{"width over limit", bytes.NewReader(good), "image/png", Params{Width: 5000}, Limits{}, ErrBadParam, "width is 5000, the limit (max_width) is 1..4096"},
		{"height over custom limit", bytes.NewReader(good), "image/png", Params{Height: 101}, Limits{MaxHeight: 100}, ErrBadParam, "height is 101, the limit (max_height) is 1..100"},
		{"bad fit", bytes.NewReader(good), "image/png", Params{Fit: "zoom"}, Limits{}, ErrBadParam, `fit is "zoom"`},
		{"bad format", bytes.NewReader(good), "image/png", Params{Format: "avif"}, Limits{}, ErrBadParam, `format is "avif"`},
		{"bad quality", bytes.NewReader(good), "image/png", Params{Quality: 101}, Limits{}, ErrBadParam, "quality is 101, the range is 1..100"},
		{"not an image type", bytes.NewReader(good), "text/html", Params{Width: 10}, Limits{}, ErrUnsupported, `source Content-Type is "text/html"`},
		{"webp source", bytes.NewReader(good), "image/webp", Params{Width: 10}, Limits{}, ErrUnsupported, `"image/webp"`},
		{"malformed type", bytes.NewReader(good), "image/;;", Params{Width: 10}, Limits{}, ErrUnsupported, "malformed"},
		{"garbage", strings.NewReader("this is not an image at all"), "", Params{Width: 10}, Limits{}, ErrUnsupported, "not JPEG, PNG or GIF"},
		{"empty", strings.NewReader(""), "image/png", Params{Width: 10}, Limits{}, ErrUnsupported, "not JPEG, PNG or GIF"},
		{"truncated jpeg", bytes.NewReader(jpg[:len(jpg)/2]), "image/jpeg", Params{Width: 10}, Limits{}, ErrDecode, "jpeg"},
		{"truncated png header", bytes.NewReader(good[:20]), "image/png", Params{Width: 10}, Limits{}, ErrDecode, "png header"},
		{"zero-sized gif", bytes.NewReader(gifClaiming(0, 5)), "image/gif", Params{Width: 10}, Limits{}, ErrDecode, "0x5"},
		{"read error", io.MultiReader(bytes.NewReader(good[:10]), errReader{}), "image/png", Params{Width: 10}, Limits{}, errRead, "reading source"},
	}
	for _, c := range cases {
		_, _, err := Transform(c.src, c.ctype, c.p, c.lim)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %v, want %v containing %q", c.name, err, c.want, c.text)
		}
	}
	// Mislabelled but valid: the signature decides.
	if _, ctype, err := Transform(bytes.NewReader(good), "image/jpeg", Params{Width: 10}, Limits{}); err != nil || ctype != "image/png" {
		t.Errorf("PNG labelled JPEG: %q, %v", ctype, err)
	}
}

var errRead = errors.New("origin reset")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errRead }

func FuzzTransform(f *testing.F) {
	f.Add(encPNG(f, testImage(8, 8, 1)), 4, 0, "cover", "webp")
	f.Add(encJPEG(f, testImage(9, 7, 2)), 3, 3, "fill", "")
	f.Add(encGIF(f, testImage(5, 5, 3)), 0, 2, "", "jpeg")
	f.Add(withOrientation(encJPEG(f, testImage(6, 4, 4)), 6, binary.BigEndian), 2, 0, "", "png")
	f.Add(pngClaiming(3000, 3000), 1, 1, "", "")
	f.Fuzz(func(t *testing.T, data []byte, w, h int, fit, format string) {
		p := Params{Width: w, Height: h, Fit: Fit(fit), Format: format}
		lim := Limits{MaxSourcePixels: 1 << 16, MaxWidth: 64, MaxHeight: 64, MaxSourceBytes: 1 << 16}
		out, ctype, err := Transform(bytes.NewReader(data), "", p, lim)
		if err != nil {
			for _, e := range []error{ErrBadParam, ErrTooLarge, ErrUnsupported, ErrDecode, ErrEncode} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("unclassified error: %v", err)
		}
		if len(out) == 0 || !strings.HasPrefix(ctype, "image/") {
			t.Fatalf("empty result or type %q", ctype)
		}
	})
}
