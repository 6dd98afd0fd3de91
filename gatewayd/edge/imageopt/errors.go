package imageopt

import "errors"

// Errors returned by Parse and Transform. Each is wrapped with a message
// naming the parameter or the limit.
var (
	// ErrBadParam: a query parameter is malformed or out of range.
	ErrBadParam = errors.New("imageopt: invalid parameter")
	// ErrTooLarge: the source exceeds a limit (bytes or pixels).
	ErrTooLarge = errors.New("imageopt: source too large")
	// ErrUnsupported: the source is not JPEG, PNG or GIF, or the output
	// format is unknown.
	ErrUnsupported = errors.New("imageopt: unsupported image type")
	// ErrDecode: the source could not be decoded.
	ErrDecode = errors.New("imageopt: decoding source")
	// ErrEncode: the result could not be encoded.
	ErrEncode = errors.New("imageopt: encoding result")
)
