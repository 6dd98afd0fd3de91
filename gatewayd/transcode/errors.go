package transcode

import "errors"

var (
	// ErrUnknownService means the descriptors hold no service by that name.
	ErrUnknownService = errors.New("transcode: unknown service")
	// ErrClosed means the Conn was closed.
	ErrClosed = errors.New("transcode: connection closed")
)
