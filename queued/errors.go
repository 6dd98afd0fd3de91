package queued

import (
	"errors"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/queued/store"
)

// Errors of queued. Group errors (no leader, …) come from raftnode; toStatus
// maps them all to gRPC status codes. Errors the state machine records in a
// command result arrive as reason strings and become these sentinels through
// errorFromReason.
var (
	// ErrInvalidArgument covers malformed requests: bad names, out-of-range
	// attributes, unknown mask fields; the metadata names the field.
	ErrInvalidArgument = errors.New("queued: invalid argument")
	// ErrTooLarge means a size or count is over its limit (a batch, a body, a
	// request's bodies in all); the metadata names the field and the limit.
	ErrTooLarge = errors.New("queued: too large")
	// ErrQueueNotFound means the queue does not exist.
	ErrQueueNotFound = errors.New("queued: queue not found")
	// ErrQueueExists means a queue of that name exists with other attributes.
	ErrQueueExists = errors.New("queued: queue exists with other attributes")
	// ErrTopicNotFound means the topic does not exist.
	ErrTopicNotFound = errors.New("queued: topic not found")
	// ErrReceiptInvalid means a receipt handle is malformed or names another queue.
	ErrReceiptInvalid = errors.New("queued: receipt handle invalid")
	// ErrReceiptStale means the message was delivered again since the receipt
	// handle was issued.
	ErrReceiptStale = errors.New("queued: receipt handle stale")
	// ErrReceiptExpired means the delivery's visibility deadline has passed.
	ErrReceiptExpired = errors.New("queued: receipt handle expired")
	// ErrDeadLetterLoop means following dead letter queues would come back to
	// the queue.
	ErrDeadLetterLoop = errors.New("queued: dead letter loop")
	// ErrQueueMismatch means the request does not fit the queue: FIFO
	// parameters on a standard queue, a dead letter queue of another type.
	ErrQueueMismatch = errors.New("queued: request does not fit the queue")
	// ErrTooMany means a node-wide count limit (waiting receivers) was reached.
	ErrTooMany = errors.New("queued: limit reached")
	// ErrShuttingDown means the server is stopping.
	ErrShuttingDown = errors.New("queued: server is shutting down")
)

// reasonErrors maps the reasons the state machine records in a result to
// sentinels.
var reasonErrors = map[rpcerr.Reason]error{
	rpcerr.InvalidArgument: ErrInvalidArgument,
	rpcerr.LimitExceeded:   ErrTooLarge,
	rpcerr.QueueNotFound:   ErrQueueNotFound,
	rpcerr.QueueExists:     ErrQueueExists,
	rpcerr.TopicNotFound:   ErrTopicNotFound,
	rpcerr.ReceiptInvalid:  ErrReceiptInvalid,
	rpcerr.ReceiptStale:    ErrReceiptStale,
	rpcerr.ReceiptExpired:  ErrReceiptExpired,
	rpcerr.DeadLetterLoop:  ErrDeadLetterLoop,
	rpcerr.QueueMismatch:   ErrQueueMismatch,
}

// errorFromReason turns a whole-command failure recorded by the state machine
// (its reason, message and the field at fault, if any) into the matching
// sentinel, keeping the message and naming the field in the metadata. An
// unknown reason is an internal error.
func errorFromReason(reason, msg, field string) error {
	base, ok := reasonErrors[rpcerr.Reason(reason)]
	if !ok {
		return errors.New("queued: command rejected by the state machine: " + reason + ": " + msg)
	}
	var err error = &domainError{base: base, msg: msg}
	if field != "" {
		err = rpcerr.WithMetadata(err, rpcerr.KeyField, field)
	}
	return err
}

// domainError carries a sentinel and a message naming the queue or field.
type domainError struct {
	base error
	msg  string
}

func (e *domainError) Error() string {
	if e.msg == "" {
		return e.base.Error()
	}
	return e.base.Error() + ": " + e.msg
}
func (e *domainError) Unwrap() error { return e.base }

// statusRules map queued's, the store's and raftnode's errors to reasons; see
// toStatus.
var statusRules = append([]rpcerr.Rule{
	{Err: ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: ErrTooLarge, Reason: rpcerr.LimitExceeded},
	{Err: ErrTooMany, Reason: rpcerr.LimitExceeded},
	{Err: ErrQueueNotFound, Reason: rpcerr.QueueNotFound},
	{Err: store.ErrQueueNotFound, Reason: rpcerr.QueueNotFound},
	{Err: ErrQueueExists, Reason: rpcerr.QueueExists},
	{Err: ErrTopicNotFound, Reason: rpcerr.TopicNotFound},
	{Err: store.ErrTopicNotFound, Reason: rpcerr.TopicNotFound},
	{Err: ErrReceiptInvalid, Reason: rpcerr.ReceiptInvalid},
	{Err: ErrReceiptStale, Reason: rpcerr.ReceiptStale},
	{Err: ErrReceiptExpired, Reason: rpcerr.ReceiptExpired},
	{Err: ErrDeadLetterLoop, Reason: rpcerr.DeadLetterLoop},
	{Err: ErrQueueMismatch, Reason: rpcerr.QueueMismatch},
	{Err: ErrShuttingDown, Reason: rpcerr.ShuttingDown},
	{Err: store.ErrQueueExists, Reason: rpcerr.QueueExists},
	{Err: store.ErrReceiptInvalid, Reason: rpcerr.ReceiptInvalid},
	{Err: store.ErrReceiptStale, Reason: rpcerr.ReceiptStale},
	{Err: store.ErrReceiptExpired, Reason: rpcerr.ReceiptExpired},
	{Err: store.ErrDeadLetterLoop, Reason: rpcerr.DeadLetterLoop},
	{Err: store.ErrQueueMismatch, Reason: rpcerr.QueueMismatch},
	{Err: store.ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: store.ErrLimitExceeded, Reason: rpcerr.LimitExceeded},
	{Err: store.ErrClosed, Reason: rpcerr.ShuttingDown},
}, raftnode.StatusRules...)

// toStatus is the one place where queued, store and raftnode errors become
// gRPC status errors, each with its rpcerr reason and the metadata the error
// carries. Status errors pass through unchanged; context errors keep their
// own codes.
func toStatus(err error) error { return rpcerr.ToStatus(err, statusRules) }
