package registry

import "errors"

// Sentinel errors; match them with errors.Is.
var (
	// ErrInvalidEntry marks a registry entry or a Register argument that is
	// not a valid instance (bad JSON, address not host:port, weight out of
	// range, empty or slash-holding service or id); the error wraps it with
	// the detail.
	ErrInvalidEntry = errors.New("registry: invalid entry")
)
