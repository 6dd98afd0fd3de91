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

func protoErr(msg string) error { return &ProtocolError{Msg: "Protocol error: " + msg} }
