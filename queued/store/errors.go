package store

import (
	"errors"
	"fmt"
)

// Sentinel errors. Reads return them (wrapped, with the name they are about);
// apply results carry the matching reason string instead, which ResultError
// turns back into the sentinel.
var (
	// ErrQueueNotFound means the queue does not exist.
	ErrQueueNotFound = errors.New("store: queue not found")
	// ErrQueueExists means a queue of that name exists with other attributes.
	ErrQueueExists = errors.New("store: queue exists with other attributes")
	// ErrTopicNotFound means the topic does not exist.
	ErrTopicNotFound = errors.New("store: topic not found")
	// ErrReceiptInvalid means a receipt handle is malformed or names another
	// queue.
	ErrReceiptInvalid = errors.New("store: receipt handle invalid")
	// ErrReceiptStale means the message was delivered again (or nacked) since
	// the receipt was issued, or is gone (nack, extend).
	ErrReceiptStale = errors.New("store: receipt handle stale")
	// ErrReceiptExpired means the delivery's visibility deadline has passed.
	ErrReceiptExpired = errors.New("store: receipt handle expired")
	// ErrDeadLetterLoop means following dead letter queues would lead back to
	// the queue.
	ErrDeadLetterLoop = errors.New("store: dead letter queue loop")
	// ErrQueueMismatch means the request does not fit the queue's type.
	ErrQueueMismatch = errors.New("store: request does not fit the queue")
	// ErrInvalidArgument means a command is malformed.
	ErrInvalidArgument = errors.New("store: invalid argument")
	// ErrLimitExceeded means a message is larger than its queue allows.
	ErrLimitExceeded = errors.New("store: limit exceeded")
	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("store: closed")
	// ErrCorrupt means the database holds data this package did not write.
	ErrCorrupt = errors.New("store: corrupt database")
)

// Reason codes of apply results; the same strings as node/rpcerr's reasons
// (a test checks), kept here so that the store does not depend on gRPC.
const (
	reasonQueueNotFound   = "QUEUE_NOT_FOUND"
	reasonQueueExists     = "QUEUE_EXISTS"
	reasonTopicNotFound   = "TOPIC_NOT_FOUND"
	reasonReceiptInvalid  = "RECEIPT_INVALID"
	reasonReceiptStale    = "RECEIPT_STALE"
	reasonReceiptExpired  = "RECEIPT_EXPIRED"
	reasonDeadLetterLoop  = "DEAD_LETTER_LOOP"
	reasonQueueMismatch   = "QUEUE_MISMATCH"
	reasonInvalidArgument = "INVALID_ARGUMENT"
	reasonLimitExceeded   = "LIMIT_EXCEEDED"
)

// reasons pairs each reason with its sentinel.
var reasons = []struct {
	reason string
	err    error
}{
	{reasonQueueNotFound, ErrQueueNotFound},
	{reasonQueueExists, ErrQueueExists},
	{reasonTopicNotFound, ErrTopicNotFound},
	{reasonReceiptInvalid, ErrReceiptInvalid},
	{reasonReceiptStale, ErrReceiptStale},
	{reasonReceiptExpired, ErrReceiptExpired},
	{reasonDeadLetterLoop, ErrDeadLetterLoop},
	{reasonQueueMismatch, ErrQueueMismatch},
	{reasonInvalidArgument, ErrInvalidArgument},
	{reasonLimitExceeded, ErrLimitExceeded},
}

// ResultError returns the error that a CommandResult's (or an EntryError's)
// reason and message stand for: the sentinel of the reason wrapped with the
// message, or nil when reason is empty. An unknown reason gives a plain error
// naming it.
func ResultError(reason, message string) error {
	if reason == "" {
		return nil
	}
	for _, r := range reasons {
		if r.reason == reason {
			if message == "" {
				return r.err
			}
			return fmt.Errorf("%w: %s", r.err, message)
		}
	}
	return fmt.Errorf("store: %s: %s", reason, message)
}

// failure is a deterministic apply outcome: a reason and a message, and
// the field at fault when one is.
type failure struct {
	reason string
	msg    string
	field  string
}

func (f *failure) Error() string { return f.reason + ": " + f.msg }

func fail(reason, format string, args ...any) *failure {
	return &failure{reason: reason, msg: fmt.Sprintf(format, args...)}
}

// failField is fail about field.
func failField(reason, field, format string, args ...any) *failure {
	return &failure{reason: reason, msg: fmt.Sprintf(format, args...), field: field}
}
