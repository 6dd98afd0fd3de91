package compress

import (
	"mime"
	"strings"
)

// DefaultMinSize is the smallest body Compressible considers worth
// compressing: below about a kilobyte the coding's framing and the extra
// CPU buy nothing.
const DefaultMinSize = 1024

// Compressible reports whether a response body of this Content-Type and
// size (bytes; negative: unknown) is worth compressing: the type is
// textual (text/*, JSON, XML, JavaScript, SVG, WebAssembly, uncompressed
// fonts, and any +json/+xml type) and the size is unknown or at least
// DefaultMinSize. Images other than SVG, audio, video, archives and
// WOFF fonts are already compressed and are not. A missing or malformed
// Content-Type is not compressible.
func Compressible(contentType string, size int64) bool {
	if size >= 0 && size < DefaultMinSize {
		return false
	}
	return compressibleType(contentType)
}

// compressibleTypes are the exact media types (besides text/*, +json and
// +xml) worth compressing.
var compressibleTypes = map[string]bool{
	"application/json":              true,
	"application/javascript":        true,
	"application/x-javascript":      true,
	"application/ecmascript":        true,
	"application/xml":               true,
	"application/xhtml+xml":         true,
	"application/wasm":              true,
	"application/graphql":           true,
	"application/x-ndjson":          true,
	"application/ld+json":           true,
	"application/manifest+json":     true,
	"application/vnd.api+json":      true,
	"application/x-yaml":            true,
	"application/yaml":              true,
	"application/toml":              true,
	"application/rtf":               true,
	"application/postscript":        true,
	"application/x-sh":              true,
	"application/x-tar":             true,
	"application/vnd.ms-fontobject": true,
	"application/x-font-ttf":        true,
	"application/x-font-otf":        true,
	"application/x-font-opentype":   true,
	"application/x-font-truetype":   true,
	"font/ttf":                      true,
	"font/otf":                      true,
	"font/opentype":                 true,
	"font/collection":               true,
	"image/svg+xml":                 true,
	"image/bmp":                     true,
	"image/x-icon":                  true,
	"image/vnd.microsoft.icon":      true,
}

func compressibleType(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if strings.HasPrefix(mt, "text/") || compressibleTypes[mt] {
		return true
	}
	return strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
}
