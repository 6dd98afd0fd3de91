package respcache

import "errors"

// Errors returned by DecodeEntry.
var (
	// ErrCorrupt: the bytes are not an encoded entry.
	ErrCorrupt = errors.New("respcache: corrupt entry")
	// ErrVersion: the entry was encoded by another version of the format.
	ErrVersion = errors.New("respcache: unknown entry version")
)
