package httpcache

import "errors"

// Errors of a Storage.
var (
	// ErrNotAdmitted: the admission policy kept what is stored instead.
	ErrNotAdmitted = errors.New("httpcache: object not admitted")
	// ErrTooLarge: the object is larger than the storage accepts.
	ErrTooLarge = errors.New("httpcache: object too large")
)
