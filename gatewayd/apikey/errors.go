package apikey

import "errors"

// Sentinel errors.
var (
	// ErrMalformed: the string is not of the form cgw_<id>_<secret>.
	ErrMalformed = errors.New("apikey: malformed key")
	// ErrNotFound: no key has this id (never created, deleted, or not yet
	// seen by this node's watch).
	ErrNotFound = errors.New("apikey: key not found")
	// ErrExpired: the key's TTL has passed.
	ErrExpired = errors.New("apikey: key expired")
	// ErrMismatch: the id exists but the secret is wrong.
	ErrMismatch = errors.New("apikey: wrong secret")
	// ErrInvalid: a Create argument is unusable (empty consumer, negative TTL).
	ErrInvalid = errors.New("apikey: invalid argument")
	// ErrClosed: the store was closed.
	ErrClosed = errors.New("apikey: store closed")
)
