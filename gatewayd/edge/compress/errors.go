package compress

import "errors"

// Errors returned by NewWriter.
var (
	// ErrUnknownEncoding: the coding is not one of br, zstd, gzip.
	ErrUnknownEncoding = errors.New("compress: unknown content coding")
	// ErrBadLevel: the level is outside the coding's range.
	ErrBadLevel = errors.New("compress: compression level out of range")
	// ErrClosed: a write after Close.
	ErrClosed = errors.New("compress: writer closed")
)
