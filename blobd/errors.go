package blobd

import (
	"errors"

	"cairn.dev/cairn/blobd/meta"
	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
)

// Sentinel errors of the object API, beside meta's.
var (
	// ErrShuttingDown means the server is stopping.
	ErrShuttingDown = errors.New("blobd: server is shutting down")
	// ErrInvalidArgument means a request field is malformed.
	ErrInvalidArgument = errors.New("blobd: invalid argument")
	// ErrBadDigest means the data's MD5 differs from the Content-MD5 given.
	ErrBadDigest = errors.New("blobd: content MD5 does not match the data")
	// ErrIncompleteBody means the body ended before the declared size.
	ErrIncompleteBody = errors.New("blobd: body shorter than its declared size")
	// ErrTooLarge means an object or part is over its size limit.
	ErrTooLarge = errors.New("blobd: object too large")
	// ErrInvalidRange means a range starts at or past the object's end.
	ErrInvalidRange = errors.New("blobd: range not satisfiable")
	// ErrNotEnoughServers means fewer volume servers are up than a write
	// needs (Replicas for hot, the scheme's shards for cool and archive).
	ErrNotEnoughServers = errors.New("blobd: not enough volume servers up")
	// ErrDataUnavailable means no healthy copy of a chunk could be read
	// (every replica down or corrupt, or too few shards).
	ErrDataUnavailable = errors.New("blobd: data unavailable")
	// ErrUploadTooSlow means an object or part took so long to stream that
	// garbage collection may already have deleted its first chunks (their
	// needle ids were allocated more than 3/4 of Config.GCGrace ago), so
	// it was not committed: nothing stored, the client retries (S3's
	// RequestTimeout).
	ErrUploadTooSlow = errors.New("blobd: upload too slow to commit safely")
)

// sentinels map this package's sentinels to reasons.
var sentinels = rpcerr.Sentinels{
	{Err: ErrShuttingDown, Reason: rpcerr.ShuttingDown},
	{Err: ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: ErrBadDigest, Reason: rpcerr.BadDigest},
	{Err: ErrIncompleteBody, Reason: rpcerr.IncompleteBody},
	{Err: ErrTooLarge, Reason: rpcerr.LimitExceeded},
	{Err: ErrInvalidRange, Reason: rpcerr.InvalidRange},
	{Err: ErrNotEnoughServers, Reason: rpcerr.NotEnoughServers},
	{Err: ErrDataUnavailable, Reason: rpcerr.DataUnavailable},
	{Err: ErrUploadTooSlow, Reason: rpcerr.RequestTimeout},
}

// ReasonOf returns the rpcerr reason of an error of this package, of meta,
// or of the Raft host (NOT_LEADER, OUTCOME_UNKNOWN, ...); "" when none. A
// gRPC status error from a peer keeps its reason (rpcerr.ReasonOf).
func ReasonOf(err error) rpcerr.Reason {
	if r := sentinels.ReasonOf(err); r != "" {
		return r
	}
	if r := meta.ReasonOf(err); r != "" {
		return r
	}
	for _, rule := range raftnode.StatusRules {
		if errors.Is(err, rule.Err) {
			return rule.Reason
		}
	}
	return rpcerr.ReasonOf(err)
}

// statusRules map every error the services return to a gRPC status (the
// volume store's on the peer protocol: volumeRules).
var statusRules = append(append(append(append([]rpcerr.Rule{}, sentinels...), volumeRules...), meta.StatusRules()...), raftnode.StatusRules...)

// toStatus is blobd's one error mapper: every gRPC handler returns its
// errors through it. This package's sentinels decide first, even when the
// error also wraps a peer's gRPC status (a write that failed on volume
// servers is NOT_ENOUGH_SERVERS, a read that found no copy
// DATA_UNAVAILABLE, whatever the servers answered); other errors go
// through rpcerr.ToStatus, which passes a peer's status on as it is.
func toStatus(err error) error {
	for _, r := range sentinels {
		if errors.Is(err, r.Err) {
			return rpcerr.Error(r.Reason, err.Error(), rpcerr.MetadataOf(err))
		}
	}
	return rpcerr.ToStatus(err, statusRules)
}
