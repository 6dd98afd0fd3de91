package purge

import "errors"

// Sentinel errors; errors returned by this package wrap them (test with
// errors.Is). Messages name the field and the limit; never match their text.
var (
	// ErrInvalidSpec: a Spec that does not name exactly one well-formed
	// URL, prefix or tag.
	ErrInvalidSpec = errors.New("purge: invalid spec")
	// ErrInvalidArgument: a bad argument or option (prefix, node name, seq,
	// lease TTL, compaction settings, ...).
	ErrInvalidArgument = errors.New("purge: invalid argument")
	// ErrRunning: Run was called while the Subscriber was already running.
	ErrRunning = errors.New("purge: subscriber already running")
)
