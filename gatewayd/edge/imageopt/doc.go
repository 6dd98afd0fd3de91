// Package imageopt transforms images on the fly for the edge: resize,
// crop to fit, and re-encode as JPEG, PNG or WebP, under explicit limits.
//
// Parse reads the transform a request's query asks for (width, height,
// fit, format, quality); Params.Canonical names it for the cache key;
// Transform applies it to a source image:
//
//	p, ok, err := imageopt.Parse(r.URL.Query())
//	if err != nil { ... } // 400: the message names the parameter and the limit
//	if ok {
//		out, ctype, err := imageopt.Transform(body, resp.Header.Get("Content-Type"), p, imageopt.Limits{})
//		...
//	}
//
// Sources are JPEG, PNG and GIF (the first frame). A source's dimensions
// are read from its header (DecodeConfig) and checked against
// Limits.MaxSourcePixels before any pixel is decoded, so a small file
// that claims a huge image (a decompression bomb) costs nothing. A JPEG's
// EXIF orientation is applied, then dropped with the rest of the
// metadata. Images are never enlarged except by fit=fill.
//
// WebP output is lossless (VP8L, from the pure-Go encoder
// github.com/HugoSmits86/nativewebp): quality does not apply to it, and
// for photographs it is larger than JPEG; it suits graphics and images
// with transparency. (No pure-Go lossy WebP encoder was available.)
//
// Everything here is safe for concurrent use; Transform holds the decoded
// source and the result in memory, bounded by the limits.
package imageopt
