package geodns

import "errors"

// Errors returned by New, ParseRegions and the Server's lifecycle methods.
// Configuration errors wrap ErrConfig and name the field and the limit.
var (
	// ErrConfig: the configuration or region spec is invalid.
	ErrConfig = errors.New("geodns: invalid config")
	// ErrListening: Listen was called on a Server that is already listening.
	ErrListening = errors.New("geodns: already listening")
	// ErrNotListening: Serve was called before Listen.
	ErrNotListening = errors.New("geodns: not listening")
	// ErrClosed: Listen or Serve was called after Close.
	ErrClosed = errors.New("geodns: server closed")
	// ErrServed: Serve was called a second time.
	ErrServed = errors.New("geodns: already served")
)
