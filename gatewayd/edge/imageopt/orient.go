package imageopt

import (
	"encoding/binary"
	"image"
)

// jpegOrientation returns the EXIF orientation (1..8) of a JPEG, or 1
// when it has none or the EXIF data is malformed. Only the markers
// before the first scan are read.
func jpegOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return 1
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			return 1
		}
		marker := data[i+1]
		if marker == 0xff { // fill byte
			i++
			continue
		}
		if marker == 0xda || marker == 0xd9 { // start of scan, end of image
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xe1 && len(seg) > 6 && string(seg[:6]) == "Exif\x00\x00" {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}

// exifOrientation reads tag 0x0112 from a TIFF structure's first IFD.
func exifOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 1
	}
	if bo.Uint16(t[2:]) != 42 {
		return 1
	}
	off := int64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > int64(len(t)) {
		return 1
	}
	count := int64(bo.Uint16(t[off:]))
	for k := int64(0); k < count; k++ {
		e := off + 2 + 12*k
		if e+12 > int64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		if bo.Uint16(t[e+2:]) != 3 { // SHORT
			return 1
		}
		if v := int(bo.Uint16(t[e+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 1
	}
	return 1
}

// swapsAxes reports whether orientation o turns width into height.
func swapsAxes(o int) bool { return o >= 5 }

// rawRect maps rectangle r in the displayed image (dw×dh, the raw image
// with orientation o applied) to the raw image's coordinates (from 0,0).
func rawRect(r image.Rectangle, o, dw, dh int) image.Rectangle {
	x0, y0, x1, y1 := r.Min.X, r.Min.Y, r.Max.X, r.Max.Y
	switch o {
	case 2:
		return image.Rect(dw-x1, y0, dw-x0, y1)
	case 3:
		return image.Rect(dw-x1, dh-y1, dw-x0, dh-y0)
	case 4:
		return image.Rect(x0, dh-y1, x1, dh-y0)
	case 5:
		return image.Rect(y0, x0, y1, x1)
	case 6:
		return image.Rect(y0, dw-x1, y1, dw-x0)
	case 7:
		return image.Rect(dh-y1, dw-x1, dh-y0, dw-x0)
	case 8:
		return image.Rect(dh-y1, x0, dh-y0, x1)
	}
	return r
}

// orient returns s (raw orientation) with orientation o applied.
func orient(s *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return s
	}
	sw, sh := s.Rect.Dx(), s.Rect.Dy()
	dw, dh := sw, sh
	if swapsAxes(o) {
		dw, dh = sh, sw
	}
	d := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		row := d.Pix[y*d.Stride:]
		for x := range dw {
			var rx, ry int
			switch o {
			case 2:
				rx, ry = sw-1-x, y
			case 3:
				rx, ry = sw-1-x, sh-1-y
			case 4:
				rx, ry = x, sh-1-y
			case 5:
				rx, ry = y, x
			case 6:
				rx, ry = y, sh-1-x
			case 7:
				rx, ry = sw-1-y, sh-1-x
			case 8:
				rx, ry = sw-1-y, x
			}
			si := ry*s.Stride + rx*4
			copy(row[x*4:x*4+4], s.Pix[si:si+4])
		}
	}
	return d
}
