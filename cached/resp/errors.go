package resp

import "errors"

// ErrProtocol is wrapped by every error about malformed input.
var ErrProtocol = errors.New("resp: protocol error")

// ProtocolError is a malformed-input error. Msg is Redis-compatible, e.g.
// "Protocol error: invalid bulk length", ready to send as "-ERR "+Msg.
type ProtocolError struct{ Msg string }

func (e *ProtocolError) Error() string { return "resp: " + e.Msg }

// Unwrap makes errors.Is(err, ErrProtocol) true.
func (e *ProtocolError) Unwrap() error { return ErrProtocol }

// ErrTooLarge is wrapped by the error ReadCommand returns for a command with
// an argument over Reader.MaxBulk (and within Reader.MaxDiscard): the command
// was read in full and dropped, and the Reader goes on with the next one.
var ErrTooLarge = errors.New("resp: argument too large")

// TooLargeError refuses a command with an argument of Size bytes, over
// Limit. Msg names both and the setting, e.g. "argument is 10485760 bytes,
// the limit (resp_max_bulk) is 8388608", ready to send as "-ERR "+Msg; the
// connection goes on.
type TooLargeError struct {
	Size, Limit int64
	Msg         string
}

func (e *TooLargeError) Error() string { return "resp: " + e.Msg }

// Unwrap makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

func protoErr(msg string) error { return &ProtocolError{Msg: "Protocol error: " + msg} }
