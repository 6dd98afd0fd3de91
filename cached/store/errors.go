package store

import (
	"errors"
	"fmt"
)

// Errors returned by Store methods. Test for them with errors.Is.
var (
	// ErrNotStored means a conditional Set did not apply: OnlyIfAbsent and the
	// key exists, OnlyIfPresent and it does not, or IfVersion does not match.
	ErrNotStored = errors.New("store: not stored")
	// ErrTooLarge means len(key)+len(value) would exceed Config.MaxItemBytes.
	ErrTooLarge = errors.New("store: item too large")
	// ErrOutOfMemory means the write needs memory the limit does not allow
	// and eviction is disabled or cannot free enough.
	ErrOutOfMemory = errors.New("store: out of memory")
	// ErrNotInteger means IncrBy found a value that is not a base-10 int64.
	ErrNotInteger = errors.New("store: value is not an integer or out of range")
	// ErrOverflow means IncrBy would overflow int64.
	ErrOverflow = errors.New("store: increment or decrement would overflow")
	// ErrNotFloat means IncrByFloat found a value, or was given an
	// increment, that is not a floating-point number.
	ErrNotFloat = errors.New("store: value is not a valid float")
	// ErrNaNOrInf means IncrByFloat's result would not be finite.
	ErrNaNOrInf = errors.New("store: increment would produce NaN or Infinity")
	// ErrBadOptions means SetOptions are contradictory or out of range
	// (OnlyIfAbsent with OnlyIfPresent, KeepTTL with TTL, negative TTL).
	ErrBadOptions = errors.New("store: invalid set options")
	// ErrWrongType means the operation does not apply to the kind of value
	// the key holds: a string operation on a hash or a hash operation on a
	// string (Redis's WRONGTYPE).
	ErrWrongType = errors.New("store: operation against a key holding the wrong kind of value")
	// ErrNoSuchKey means Rename's source key does not exist.
	ErrNoSuchKey = errors.New("store: no such key")
	// ErrInvalidConfig wraps every error returned by Config.Validate.
	ErrInvalidConfig = errors.New("store: invalid config")
)

// TooLargeError is the error of a write whose item would exceed
// Config.MaxItemBytes; errors.Is(err, ErrTooLarge) is true for it.
type TooLargeError struct {
	Size  int // len(key) + len(value) the write would store
	Limit int // Config.MaxItemBytes
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("store: item too large: key plus value is %d bytes, the limit (max_item_bytes) is %d", e.Size, e.Limit)
}

// Is makes errors.Is(err, ErrTooLarge) true.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }
