package imageopt

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
)

// Source formats.
const (
	srcJPEG = "jpeg"
	srcPNG  = "png"
	srcGIF  = "gif"
)

// acceptedTypes are the source Content-Types Transform takes; "" and
// application/octet-stream let the data's signature decide.
var acceptedTypes = map[string]bool{
	"":                         true,
	"application/octet-stream": true,
	"image/jpeg":               true,
	"image/jpg":                true,
	"image/pjpeg":              true,
	"image/png":                true,
	"image/gif":                true,
}

// checkType refuses a source Content-Type that is not an image Transform
// decodes.
func checkType(srcType string) error {
	mt := ""
	if srcType != "" {
		var err error
		if mt, _, err = mime.ParseMediaType(srcType); err != nil {
			return fmt.Errorf("%w: source Content-Type %q is malformed", ErrUnsupported, truncate(srcType))
		}
	}
	if !acceptedTypes[mt] {
		return fmt.Errorf("%w: source Content-Type is %q (want image/jpeg, image/png or image/gif)", ErrUnsupported, truncate(srcType))
	}
	return nil
}

// readSource reads at most max bytes of src.
func readSource(src io.Reader, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(src, max+1))
	if err != nil {
		return nil, fmt.Errorf("imageopt: reading source: %w", err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: source is over %d bytes, the limit (max_source_bytes) is %d", ErrTooLarge, max, max)
	}
	return data, nil
}

// sniff names the format from the data's signature.
func sniff(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		return srcJPEG
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return srcPNG
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return srcGIF
	}
	return ""
}

// decode decodes data of format after checking, from the header alone,
// that its pixel count is within maxPixels.
func decode(data []byte, format string, maxPixels int64) (image.Image, error) {
	var (
		cfg image.Config
		err error
	)
	switch format {
	case srcJPEG:
		cfg, err = jpeg.DecodeConfig(bytes.NewReader(data))
	case srcPNG:
		cfg, err = png.DecodeConfig(bytes.NewReader(data))
	case srcGIF:
		cfg, err = gif.DecodeConfig(bytes.NewReader(data))
	default:
		return nil, fmt.Errorf("%w: the source is not JPEG, PNG or GIF", ErrUnsupported)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s header: %v", ErrDecode, format, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: %s source is %dx%d", ErrDecode, format, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return nil, fmt.Errorf("%w: source is %dx%d = %d pixels, the limit (max_source_pixels) is %d",
			ErrTooLarge, cfg.Width, cfg.Height, px, maxPixels)
	}
	var img image.Image
	switch format {
	case srcJPEG:
		img, err = jpeg.Decode(bytes.NewReader(data))
	case srcPNG:
		img, err = png.Decode(bytes.NewReader(data))
	case srcGIF:
		img, err = gif.Decode(bytes.NewReader(data)) // the first frame
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDecode, format, err)
	}
	return img, nil
}
