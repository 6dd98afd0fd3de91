package imageopt

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/draw"
	xwebp "golang.org/x/image/webp"
)

// testImage returns a w×h opaque image: smooth gradients with seeded
// noise, like a photograph to an encoder.
func testImage(w, h int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 99))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			n := rng.IntN(16)
			img.SetRGBA(x, y, color.RGBA{uint8((x*255)/max(1, w-1)/2 + n), uint8((y*255)/max(1, h-1)/2 + n), uint8(((x+y)*127)/max(1, w+h-2) + n), 255})
		}
	}
	return img
}

// quadrants returns a w×h image whose top-left quadrant is red and the
// rest blue.
func quadrants(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Rect, image.NewUniform(color.RGBA{0, 0, 255, 255}), image.Point{}, draw.Src)
	draw.Draw(img, image.Rect(0, 0, w/2, h/2), image.NewUniform(color.RGBA{255, 0, 0, 255}), image.Point{}, draw.Src)
	return img
}

func encJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encPNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// encGIF encodes two frames: img (quantised), then a black one.
func encGIF(t testing.TB, img image.Image) []byte {
	t.Helper()
	r := img.Bounds()
	first := image.NewPaletted(r, palette.Plan9)
	draw.Draw(first, r, img, r.Min, draw.Src)
	second := image.NewPaletted(r, palette.Plan9)
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, &gif.GIF{Image: []*image.Paletted{first, second}, Delay: []int{10, 10}}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withOrientation inserts an EXIF APP1 segment with orientation o (in
// the byte order bo) right after a JPEG's SOI marker.
func withOrientation(jpg []byte, o int, bo binary.ByteOrder) []byte {
	var tiff bytes.Buffer
	if bo == binary.LittleEndian {
		tiff.WriteString("II")
	} else {
		tiff.WriteString("MM")
	}
	binary.Write(&tiff, bo, uint16(42))
	binary.Write(&tiff, bo, uint32(8))      // IFD0 offset
	binary.Write(&tiff, bo, uint16(2))      // entries
	binary.Write(&tiff, bo, uint16(0x010f)) // Make, ASCII: skipped
	binary.Write(&tiff, bo, uint16(2))
	binary.Write(&tiff, bo, uint32(4))
	tiff.WriteString("abc\x00")
	binary.Write(&tiff, bo, uint16(0x0112)) // Orientation, SHORT
	binary.Write(&tiff, bo, uint16(3))
	binary.Write(&tiff, bo, uint32(1))
	binary.Write(&tiff, bo, uint16(o))
	binary.Write(&tiff, bo, uint16(0))
	binary.Write(&tiff, bo, uint32(0)) // no next IFD
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	out := []byte{0xff, 0xd8, 0xff, 0xe1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	out = append(out, seg...)
	return append(out, jpg[2:]...)
}

// pngClaiming returns a PNG whose header claims w×h pixels, with one tiny
// (invalid) data chunk: it must be refused before decoding.
func pngClaiming(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		c := append([]byte(typ), data...)
		b.Write(c)
		binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(c))
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// gifClaiming returns a GIF whose logical screen is w×h.
func gifClaiming(w, h uint16) []byte {
	b := []byte("GIF89a")
	b = binary.LittleEndian.AppendUint16(b, w)
	b = binary.LittleEndian.AppendUint16(b, h)
	b = append(b, 0x80, 0, 0)             // global colour table of 2 entries
	b = append(b, 0, 0, 0, 255, 255, 255) // the table
	return append(b, 0x3b)                // trailer
}

// jpegClaiming rewrites a real JPEG's SOF0 dimensions to w×h.
func jpegClaiming(t testing.TB, w, h uint16) []byte {
	data := encJPEG(t, testImage(16, 16, 1))
	for i := 2; i+9 < len(data); {
		if data[i] != 0xff {
			t.Fatal("jpegClaiming: lost marker sync")
		}
		m := data[i+1]
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if m == 0xc0 {
			binary.BigEndian.PutUint16(data[i+5:], h)
			binary.BigEndian.PutUint16(data[i+7:], w)
			return data
		}
		i += 2 + n
	}
	t.Fatal("jpegClaiming: no SOF0")
	return nil
}

// decodeOut decodes a Transform result by its content type.
func decodeOut(t testing.TB, out []byte, ctype string) image.Image {
	t.Helper()
	var (
		img image.Image
		err error
	)
	switch ctype {
	case "image/jpeg":
		img, err = jpeg.Decode(bytes.NewReader(out))
	case "image/png":
		img, err = png.Decode(bytes.NewReader(out))
	case "image/webp":
		img, err = xwebp.Decode(bytes.NewReader(out))
	default:
		t.Fatalf("content type %q", ctype)
	}
	if err != nil {
		t.Fatalf("decoding the %s result: %v", ctype, err)
	}
	return img
}

// near reports whether c is within tol of want in each 8-bit channel.
func near(c color.Color, want color.RGBA, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { x := int(a>>8) - int(w); return x >= -tol && x <= tol }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}
