package blobchaos

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/blobd/client"
	"cairn.dev/cairn/node/rpcerr"

	"cairn.dev/cairn/cluster/chaos"
)

// objectStore is what the workload, the drain and the checkers need of
// blobd: one bucket's objects and the repair status. newStore (client.go)
// implements it over blobd's Go client; the tests' fake in memory. Errors
// carry blobd's rpcerr reasons. Every method may be called concurrently.
type objectStore interface {
	// CreateBucket creates bucket; one that exists already is no error.
	CreateBucket(ctx context.Context, bucket string) error
	// Put stores exactly size bytes of body as bucket/key.
	Put(ctx context.Context, bucket, key string, body io.Reader, size int64) error
	// Get writes the whole object bucket/key to w; an absent one is an
	// error with reason OBJECT_NOT_FOUND.
	Get(ctx context.Context, bucket, key string, w io.Writer) error
	// Delete removes bucket/key; an absent one is no error.
	Delete(ctx context.Context, bucket, key string) error
	// List returns every key of bucket under prefix, in order, following
	// continuations.
	List(ctx context.Context, bucket, prefix string) ([]string, error)
	// Repair returns the cluster's redundancy as the metadata leader sees
	// it (blob repair status).
	Repair(ctx context.Context) (RepairStatus, error)
	// Close releases the client.
	Close() error
}

// RepairStatus is the part of blobd's repair status the checkers use.
type RepairStatus struct {
	// Healthy: no volume degraded or being repaired, and no DOWN server
	// holds a volume.
	Healthy bool
	// Volumes, Degraded and Repairing count volumes; Down counts DOWN
	// servers.
	Volumes, Degraded, Repairing, Down int
	// BytesToCopy is the estimate left to copy; CorruptFound the corrupt
	// needles the scrubber found.
	BytesToCopy, CorruptFound int64
}

// isNotFound reports whether err says the object does not exist.
func isNotFound(err error) bool { return rpcerr.ReasonOf(err) == rpcerr.ObjectNotFound }

// writeOutcome classifies the error of a PUT or DELETE per blobd's error
// contract: Fail when the reason says it was not applied (refused before
// anything was committed: another member may serve it, never sent, a
// definite domain error such as BAD_DIGEST, INCOMPLETE_BODY or
// NOT_ENOUGH_SERVERS, whose chunks are garbage that no manifest names);
// Unknown otherwise (OUTCOME_UNKNOWN, a timeout, a lost connection, any
// error without a reason that proves the write was refused).
func writeOutcome(err error) chaos.Outcome {
	if err == nil {
		return chaos.OK
	}
	r := rpcerr.ReasonOf(err)
	switch {
	case r == rpcerr.OutcomeUnknown, client.IsUnknownOutcome(err):
		return chaos.Unknown
	case r.TryOther(), r == rpcerr.NotSent, errors.Is(err, client.ErrClosed):
		return chaos.Fail
	}
	switch r {
	case rpcerr.BadDigest, rpcerr.IncompleteBody, rpcerr.InvalidArgument, rpcerr.LimitExceeded,
		rpcerr.NotEnoughServers, rpcerr.BucketNotFound, rpcerr.PreconditionFailed:
		return chaos.Fail
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return chaos.Unknown
	}
	switch status.Code(err) {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.NotFound, codes.AlreadyExists,
		codes.PermissionDenied, codes.Unauthenticated, codes.OutOfRange, codes.Unimplemented,
		codes.ResourceExhausted:
		return chaos.Fail
	}
	return chaos.Unknown
}
