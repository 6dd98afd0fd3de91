package clusterconn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
)

// Errors describes how one service's client reports failed calls: its name,
// its "outcome unknown" sentinel and which sentinel each server reason
// stands for. A client keeps one Errors value and builds every error it
// returns with it, so all clients' errors behave alike.
type Errors struct {
	// Client prefixes messages: "queued client".
	Client string
	// Unknown is the client's sentinel for a write whose outcome is unknown;
	// every such Error matches it with errors.Is.
	Unknown error
	// Sentinels maps server reasons to the client's sentinels.
	Sentinels map[rpcerr.Reason]error
	// KnownOutcome lists reasons that come with Unavailable or
	// DeadlineExceeded but say the write was certainly not applied (lockd's
	// WAIT_TIMEOUT). TryOther reasons and NOT_SENT are always known.
	KnownOutcome []rpcerr.Reason
}

// Error is the error of a failed call or batch entry. It keeps the gRPC
// status of the failure (status.FromError returns it unchanged) and, where
// one applies, the client's sentinel, which errors.Is matches.
type Error struct {
	// Op names the call: "put", "send", "produce", ...
	Op string
	// ID is the batch entry the error is about ("" for a whole call).
	ID string
	// Unknown is true when the call was a write that may have been applied.
	Unknown bool
	// Reason is the rpcerr reason the server (or the connection layer) gave,
	// or "" when there is none.
	Reason rpcerr.Reason

	client   string
	unknown  error
	sentinel error
	err      error
	st       *status.Status
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.client)
	b.WriteString(": ")
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

// Metadata is the metadata of the status's rpcerr ErrorInfo (field, limit,
// leader, ...), nil when there is none.
func (e *Error) Metadata() map[string]string {
	if e.st == nil {
		return nil
	}
	info, _ := rpcerr.FromError(e.st.Err())
	return info.Metadata
}

// Unwrap returns the original error, the sentinel and the unknown-outcome
// sentinel as they apply.
func (e *Error) Unwrap() []error {
	errs := []error{e.err}
	if e.sentinel != nil {
		errs = append(errs, e.sentinel)
	}
	if e.Unknown && e.unknown != nil {
		errs = append(errs, e.unknown)
	}
	return errs
}

// Wrap returns an *Error for err, a call's error that is not already one:
// its status (context errors get theirs), reason and sentinel, and, for a
// write (write true) that failed with Unavailable, DeadlineExceeded or
// Canceled for a reason that does not say it was not applied, Unknown.
// An *Error is returned unchanged; nil stays nil.
func (k *Errors) Wrap(op string, write bool, err error) error {
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
	e := &Error{Op: op, err: err, st: st, client: k.Client, unknown: k.Unknown}
	if st == nil {
		return e
	}
	e.Reason = rpcerr.ReasonOf(err)
	e.sentinel = k.Sentinels[e.Reason]
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled:
		e.Unknown = write && !k.knownOutcome(e.Reason)
	}
	return e
}

func (k *Errors) knownOutcome(r rpcerr.Reason) bool {
	if r.TryOther() || r == rpcerr.NotSent {
		return true
	}
	for _, known := range k.KnownOutcome {
		if r == known {
			return true
		}
	}
	return false
}

// Local returns an *Error for a failure found on the client side, before
// anything was sent (a closed client, a malformed argument): err is wrapped
// as is and matched by errors.Is.
func (k *Errors) Local(op string, err error) error {
	return &Error{Op: op, err: err, client: k.Client, unknown: k.Unknown}
}

// Entry returns the error of one failed entry of a batch call, from the
// reason and message the server gave for it.
func (k *Errors) Entry(op, id string, reason rpcerr.Reason, msg string) error {
	st := rpcerr.New(reason, msg, nil)
	if reason.Code() == codes.Unknown {
		st = status.New(codes.Internal, msg)
	}
	return &Error{Op: op, ID: id, Reason: reason, client: k.Client, unknown: k.Unknown, sentinel: k.Sentinels[reason], err: errors.New(msg), st: st}
}
