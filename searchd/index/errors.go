package index

import "errors"

// Errors returned by the Writer.
var (
	// ErrClosed: the Writer was closed.
	ErrClosed = errors.New("index: writer closed")
	// ErrLocked: another Writer has the directory open.
	ErrLocked = errors.New("index: directory locked by another writer")
	// ErrCorrupt: a segment, deletes or commit file failed its checks.
	ErrCorrupt = errCorrupt
)
