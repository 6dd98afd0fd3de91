package client

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

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

// reasonSentinels maps rpcerr reasons to the sentinels above.
var reasonSentinels = map[rpcerr.Reason]error{
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
}

// Error is the error of a failed call or batch entry. It keeps the gRPC
// status (status.FromError returns it) and, where one applies, a sentinel
// that errors.Is matches.
type Error struct {
	// Op names the call: "send", "receive", "ack", ...
	Op string
	// ID is the batch entry the error is about ("" for a whole call).
	ID string
	// Unknown is true when the call was a write that may have been applied.
	Unknown bool
	// Reason is the rpcerr reason the server (or the connection layer) gave,
	// or "" when there is none.
	Reason   rpcerr.Reason
	sentinel error
	err      error
	st       *status.Status
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("queued client: ")
	b.WriteString(e.Op)
	if e.ID != "" {
		fmt.Fprintf(&b, " (entry %q)", e.ID)
	}
	b.WriteString(": ")
	if e.st != nil {
		fmt.Fprintf(&b, "%s: %s", e.st.Code(), e.st.Message())
	} else {
		b.WriteString(e.err.Error())
	}
	if e.Unknown {
		b.WriteString(" (outcome unknown: the write may have been applied)")
	}
	return b.String()
}

// GRPCStatus returns the gRPC status of the failure, for status.FromError.
func (e *Error) GRPCStatus() *status.Status { return e.st }

// Unwrap returns the original error, the sentinel and ErrUnknownOutcome as
// they apply.
func (e *Error) Unwrap() []error {
	errs := []error{e.err}
	if e.sentinel != nil {
		errs = append(errs, e.sentinel)
	}
	if e.Unknown {
		errs = append(errs, ErrUnknownOutcome)
	}
	return errs
}

// IsUnknownOutcome reports whether err comes from a write that may have been
// applied.
func IsUnknownOutcome(err error) bool { return errors.Is(err, ErrUnknownOutcome) }

// toError turns a gRPC call's error into an *Error.
func toError(op string, kind callKind, err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return err
	}
	st, ok := status.FromError(err)
	if !ok {
		st = nil
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			st = status.FromContextError(err)
		}
	}
	e := &Error{Op: op, err: err, st: st}
	if st == nil {
		return e
	}
	e.Reason = rpcerr.ReasonOf(err)
	e.sentinel = reasonSentinels[e.Reason]
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		e.Unknown = kind != kindRead && !e.Reason.TryOther() && e.Reason != rpcerr.NotSent
	}
	return e
}

// EntryErr returns the error a failed batch entry stands for, matching the
// sentinel of its reason; op names the call. nil for nil.
func EntryErr(op string, e *queuedv1.EntryError) error {
	if e == nil {
		return nil
	}
	r := rpcerr.Reason(e.GetReason())
	st := rpcerr.New(r, e.GetMessage(), nil)
	if r.Code() == codes.Unknown {
		st = status.New(codes.Internal, e.GetMessage())
	}
	return &Error{Op: op, ID: e.GetId(), Reason: r, sentinel: reasonSentinels[r], err: errors.New(e.GetMessage()), st: st}
}
