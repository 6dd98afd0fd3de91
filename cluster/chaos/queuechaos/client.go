package queuechaos

import (
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
	"cairn.dev/cairn/queued/client"

	"cairn.dev/cairn/cluster/chaos"
)

// newClient returns a queued client over every node of the service (through
// their client proxies when the scenario has them). The client sends calls to
// the leader and retries those that were certainly not applied; the workload
// records what it finally answers.
func newClient(env *chaos.Env, cfg config) (*client.Client, error) {
	var eps []string
	for _, n := range env.Nodes() {
		eps = append(eps, env.Via(n))
	}
	return client.New(client.Config{
		Endpoints:      eps,
		RequestTimeout: cfg.timeout,
		DialTimeout:    2 * time.Second,
		TLS:            env.TLS,
	})
}

// outcomeOf classifies the error of a call that may change the queue (Send,
// Receive, Ack): Fail when the error contract says it was not applied (refused
// before being applied on any member, never sent, a definite domain error, or
// the client closed), Unknown otherwise (a timeout, a lost connection,
// OUTCOME_UNKNOWN).
func outcomeOf(err error) chaos.Outcome {
	switch {
	case err == nil:
		return chaos.OK
	case client.IsUnknownOutcome(err):
		return chaos.Unknown
	case errors.Is(err, client.ErrClosed), rpcerr.TryOther(err), rpcerr.ReasonOf(err) == rpcerr.NotSent:
		return chaos.Fail
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.Unauthenticated, codes.OutOfRange, codes.Unimplemented,
		codes.ResourceExhausted:
		return chaos.Fail
	}
	return chaos.Unknown
}

// entryOutcome classifies the error of one entry of a batch (Send, Ack): an
// entry the sender got wrong, or one refused with a reason that says it was
// not applied, failed; OUTCOME_UNKNOWN and server failures are unknown.
func entryOutcome(e *queuedv1.EntryError) chaos.Outcome {
	r := rpcerr.Reason(e.GetReason())
	if e.GetSenderFault() || r.TryOther() || r == rpcerr.NotSent {
		return chaos.Fail
	}
	switch r.Code() {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.OutOfRange, codes.ResourceExhausted:
		return chaos.Fail
	}
	return chaos.Unknown
}
