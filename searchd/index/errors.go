package index

import "errors"

// Errors returned by the Writer.
var (
	// ErrClosed: the Writer was closed.
	ErrClosed = errors.New("index: writer closed")
	// ErrCorrupt: a segment, deletes or commit file failed its checks.
	ErrCorrupt = errCorrupt
)
