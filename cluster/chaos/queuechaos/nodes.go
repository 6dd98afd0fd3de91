package queuechaos

import (
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/rpcerr"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"

	"cairn.dev/cairn/cluster/chaos"
)

// nodes holds one gRPC connection per queued node of a run. Every node serves
// the whole API (writes are forwarded to the leader), so a client sends each
// request to one node and moves to the next one (pick+1) after a failure. It
// is safe for concurrent use; close it once its users stopped.
type nodes struct {
	names []string
	conns []*grpc.ClientConn
	qs    []queuedv1.QueueServiceClient
}

// dialNodes connects to every queued node of env. The connections reconnect
// within a fraction of a second after a node restarts: with gRPC's default
// backoff (up to minutes) a node killed for a second would stay unusable for
// longer than the run.
func dialNodes(env *chaos.Env) (*nodes, error) {
	bc := backoff.DefaultConfig
	bc.BaseDelay, bc.MaxDelay = 50*time.Millisecond, 250*time.Millisecond
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(env.TransportCredentials()),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: bc, MinConnectTimeout: time.Second}),
	}
	ns := &nodes{}
	for _, name := range env.Nodes() {
		cc, err := grpc.NewClient(env.Via(name), opts...)
		if err != nil {
			ns.close()
			return nil, err
		}
		ns.names = append(ns.names, name)
		ns.conns = append(ns.conns, cc)
		ns.qs = append(ns.qs, queuedv1.NewQueueServiceClient(cc))
	}
	if len(ns.qs) == 0 {
		return nil, errors.New("queuechaos: the cluster runs no node of the service")
	}
	return ns, nil
}

// queue returns the QueueService client of node pick modulo the node count.
func (n *nodes) queue(pick int) queuedv1.QueueServiceClient { return n.qs[n.index(pick)] }

// name returns the name of node pick modulo the node count.
func (n *nodes) name(pick int) string { return n.names[n.index(pick)] }

func (n *nodes) index(pick int) int {
	i := pick % len(n.qs)
	if i < 0 {
		i += len(n.qs)
	}
	return i
}

func (n *nodes) close() {
	for _, cc := range n.conns {
		_ = cc.Close()
	}
}

// outcomeOf classifies the error of a call that may change the queue (Send,
// Receive, Ack): Fail when the error contract says it was not applied (refused
// before being applied on any member, never sent, or a definite domain error),
// Unknown otherwise (a timeout, a lost connection, OUTCOME_UNKNOWN).
func outcomeOf(err error) chaos.Outcome {
	if err == nil {
		return chaos.OK
	}
	if rpcerr.TryOther(err) || rpcerr.ReasonOf(err) == rpcerr.NotSent {
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

// retryable reports whether a failed call may succeed if sent again (to
// another member): the member could not serve it, or nothing answered.
func retryable(err error) bool {
	if rpcerr.TryOther(err) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.DeadlineExceeded:
		return true
	}
	return false
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
