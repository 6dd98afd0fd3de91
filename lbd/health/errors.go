package health

import "errors"

// Sentinel errors; match them with errors.Is. The errors returned wrap them
// with the detail (the field and its limit, the status seen, the address).
var (
	// ErrInvalidConfig is returned by NewMonitor, NewOutlier and HTTPProbe for
	// a setting out of range; the message names the field and the limit.
	ErrInvalidConfig = errors.New("health: invalid config")
	// ErrUnexpectedStatus is returned by an HTTP probe whose answer has a
	// status outside HTTPCheck.Expect.
	ErrUnexpectedStatus = errors.New("health: unexpected status")
	// ErrBodyMismatch is returned by an HTTP probe whose answer's body (its
	// first MaxBodyBytes) does not contain HTTPCheck.Body.
	ErrBodyMismatch = errors.New("health: body does not contain the expected text")
	// ErrNotServing is returned by a gRPC probe whose grpc.health.v1 Check
	// answered with a status other than SERVING.
	ErrNotServing = errors.New("health: grpc service not serving")
)
