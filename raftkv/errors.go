package raftkv

import (
	"errors"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/raftkv/mvcc"
)

// Errors of raftkv. Storage outcomes (compacted, lease not found, …) come from the
// mvcc package and group errors (no leader, …) from raftnode; toStatus maps them all.
var (
	// ErrEmptyKey means a request named no key.
	ErrEmptyKey = errors.New("raftkv: key is empty")
	// ErrKeyTooLarge means a key exceeds max_key_bytes.
	ErrKeyTooLarge = errors.New("raftkv: key too large")
	// ErrValueTooLarge means a value exceeds max_value_bytes.
	ErrValueTooLarge = errors.New("raftkv: value too large")
	// ErrRequestTooLarge means an encoded write exceeds max_request_bytes.
	ErrRequestTooLarge = errors.New("raftkv: request too large")
	// ErrTooManyOps means a txn has more compares or ops than max_txn_ops.
	ErrTooManyOps = errors.New("raftkv: too many operations in txn")
	// ErrBadRange means range_end does not follow key.
	ErrBadRange = errors.New("raftkv: bad range")
	// ErrInvalidArgument covers other malformed requests.
	ErrInvalidArgument = errors.New("raftkv: invalid argument")
	// ErrBadTTL means a lease TTL outside [1, max_lease_ttl].
	ErrBadTTL = errors.New("raftkv: lease ttl out of range")
	// ErrShuttingDown means the server is stopping.
	ErrShuttingDown = errors.New("raftkv: server is shutting down")
)

// statusRules map raftkv's, mvcc's and raftnode's errors to reasons; see toStatus.
var statusRules = append([]rpcerr.Rule{
	{Err: ErrEmptyKey, Reason: rpcerr.InvalidArgument},
	{Err: ErrBadRange, Reason: rpcerr.InvalidArgument},
	{Err: ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: ErrBadTTL, Reason: rpcerr.InvalidArgument},
	{Err: mvcc.ErrDuplicateKey, Reason: rpcerr.InvalidArgument},
	{Err: mvcc.ErrEmptyKey, Reason: rpcerr.InvalidArgument},
	// A count, not a size: InvalidArgument as etcd has it, with the limit in
	// the metadata.
	{Err: ErrTooManyOps, Reason: rpcerr.InvalidArgument},
	{Err: ErrKeyTooLarge, Reason: rpcerr.LimitExceeded},
	{Err: ErrValueTooLarge, Reason: rpcerr.LimitExceeded},
	{Err: ErrRequestTooLarge, Reason: rpcerr.LimitExceeded},
	{Err: mvcc.ErrCompacted, Reason: rpcerr.Compacted},
	{Err: mvcc.ErrFutureRevision, Reason: rpcerr.FutureRevision},
	{Err: mvcc.ErrLeaseNotFound, Reason: rpcerr.LeaseNotFound},
	{Err: mvcc.ErrLeaseExists, Reason: rpcerr.LeaseExists},
	{Err: ErrShuttingDown, Reason: rpcerr.ShuttingDown},
}, raftnode.StatusRules...)

// toStatus is the one place where raftkv, mvcc and raftnode errors become gRPC
// status errors, each with its rpcerr reason and the metadata the error carries
// (field, size, limit, leader). Status errors (relayed from the leader) pass
// through unchanged; context errors keep their own codes.
func toStatus(err error) error { return rpcerr.ToStatus(err, statusRules) }
