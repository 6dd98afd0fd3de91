package streamchaos

import (
	"errors"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/streamd/client"

	"cairn.dev/cairn/cluster/chaos"
)

// newClient returns a streamd client over every node of the service (through
// their client proxies when the scenario has them). It finds each
// partition's leader itself and retries what was certainly not applied; the
// workload records what it finally answers.
func newClient(env *chaos.Env, timeout time.Duration) (*client.Client, error) {
	var eps []string
	for _, n := range env.Nodes() {
		eps = append(eps, env.Via(n))
	}
	return client.New(client.Config{
		Endpoints:      eps,
		RequestTimeout: timeout,
		DialTimeout:    2 * time.Second,
		TLS:            env.TLS,
	})
}

// outcomeOf classifies the error of a call that may change the cluster
// (Produce, CommitOffsets): Fail when the error contract says it was not
// applied (refused before anything was appended, never sent, a definite
// domain error, or the client closed), Unknown otherwise (a timeout, a lost
// connection, OUTCOME_UNKNOWN).
func outcomeOf(err error) chaos.Outcome {
	switch {
	case err == nil:
		return chaos.OK
	case client.IsUnknownOutcome(err):
		return chaos.Unknown
	case errors.Is(err, client.ErrClosed), errors.Is(err, client.ErrNotEnoughReplicas), errors.Is(err, client.ErrPartitionOffline),
		errors.Is(err, client.ErrRebalance), errors.Is(err, client.ErrNotAssigned),
		rpcerr.TryOther(err), rpcerr.ReasonOf(err) == rpcerr.NotSent:
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
