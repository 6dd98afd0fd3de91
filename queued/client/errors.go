package client

import (
	"errors"

	"cairn.dev/cairn/node/clusterconn"
	"cairn.dev/cairn/node/rpcerr"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// Sentinel errors. Errors returned by the client match them with errors.Is.
var (
	// ErrNoEndpoints is returned by New when Config.Endpoints is empty.
	ErrNoEndpoints = errors.New("queued client: no endpoints")
	// ErrClosed is returned by calls made after Close.
	ErrClosed = errors.New("queued client: client closed")
	// ErrUnknownOutcome marks a write that failed after it may have reached a
	// server: it may or may not have been applied.
	ErrUnknownOutcome = errors.New("queued client: outcome of write unknown")
	// ErrInvalidArgument means the server refused a malformed request (reason
	// INVALID_ARGUMENT); the status metadata names the field.
	ErrInvalidArgument = errors.New("queued client: invalid argument")
	// ErrLimitExceeded means a size or count is over its limit (reason
	// LIMIT_EXCEEDED).
	ErrLimitExceeded = errors.New("queued client: limit exceeded")
	// ErrQueueNotFound means the queue does not exist (QUEUE_NOT_FOUND).
	ErrQueueNotFound = errors.New("queued client: queue not found")
	// ErrQueueExists means the queue exists with other attributes (QUEUE_EXISTS).
	ErrQueueExists = errors.New("queued client: queue exists with other attributes")
	// ErrTopicNotFound means the topic does not exist (TOPIC_NOT_FOUND).
	ErrTopicNotFound = errors.New("queued client: topic not found")
	// ErrReceiptInvalid means a receipt handle is malformed or names another
	// queue (RECEIPT_INVALID).
	ErrReceiptInvalid = errors.New("queued client: receipt handle invalid")
	// ErrReceiptStale means the message was delivered again since the receipt
	// was issued (RECEIPT_STALE).
	ErrReceiptStale = errors.New("queued client: receipt handle stale")
	// ErrReceiptExpired means the delivery's visibility deadline passed
	// (RECEIPT_EXPIRED): the message may be delivered to someone else.
	ErrReceiptExpired = errors.New("queued client: receipt handle expired")
	// ErrDeadLetterLoop means the dead letter queue would lead back to the
	// queue (DEAD_LETTER_LOOP).
	ErrDeadLetterLoop = errors.New("queued client: dead letter loop")
	// ErrQueueMismatch means the request does not fit the queue: FIFO
	// parameters on a standard queue, a dead letter queue of another type
	// (QUEUE_MISMATCH).
	ErrQueueMismatch = errors.New("queued client: request does not fit the queue")
)

// errs builds every error the client returns.
var errs = clusterconn.Errors{
	Client:  "queued client",
	Unknown: ErrUnknownOutcome,
	Sentinels: map[rpcerr.Reason]error{
		rpcerr.InvalidArgument: ErrInvalidArgument,
		rpcerr.LimitExceeded:   ErrLimitExceeded,
		rpcerr.QueueNotFound:   ErrQueueNotFound,
		rpcerr.QueueExists:     ErrQueueExists,
		rpcerr.TopicNotFound:   ErrTopicNotFound,
		rpcerr.ReceiptInvalid:  ErrReceiptInvalid,
		rpcerr.ReceiptStale:    ErrReceiptStale,
		rpcerr.ReceiptExpired:  ErrReceiptExpired,
		rpcerr.DeadLetterLoop:  ErrDeadLetterLoop,
		rpcerr.QueueMismatch:   ErrQueueMismatch,
	},
}

// Error is the error of a failed call or batch entry (see clusterconn.Error).
// It keeps the gRPC status (status.FromError returns it) and, where one
// applies, a sentinel that errors.Is matches.
type Error = clusterconn.Error

// IsUnknownOutcome reports whether err comes from a write that may have been
// applied.
func IsUnknownOutcome(err error) bool { return errors.Is(err, ErrUnknownOutcome) }

// toError turns a gRPC call's error into an *Error; kindIdempotent and
// kindWrite calls' errors can have an unknown outcome.
func toError(op string, kind callKind, err error) error {
	return errs.Wrap(op, kind != kindRead, err)
}

// EntryErr returns the error a failed batch entry stands for, matching the
// sentinel of its reason; op names the call. nil for nil.
func EntryErr(op string, e *queuedv1.EntryError) error {
	if e == nil {
		return nil
	}
	return errs.Entry(op, e.GetId(), rpcerr.Reason(e.GetReason()), e.GetMessage())
}
