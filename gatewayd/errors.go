package gatewayd

import (
	"errors"

	"cairn.dev/cairn/node/rpcerr"
)

// Errors of the gateway's admin API. Match with errors.Is.
var (
	// ErrInvalidConfig: a configuration document failed to parse or
	// validate; the wrapped error lists every problem with its path.
	ErrInvalidConfig = errors.New("gatewayd: invalid configuration")
	// ErrConfigConflict: the stored document is not at the expected version.
	ErrConfigConflict = errors.New("gatewayd: configuration version conflict")
	// ErrConsumerNotFound: no consumer of that name in the live document.
	ErrConsumerNotFound = errors.New("gatewayd: consumer not found")
	// ErrKeyNotFound: no API key with that id.
	ErrKeyNotFound = errors.New("gatewayd: api key not found")
	// ErrNoIssuerKey: the node has no token key (--issuer-key).
	ErrNoIssuerKey = errors.New("gatewayd: no token key on this node (--issuer-key)")
	// ErrNoRegistry: the node has no raftkv (--registry), which the call needs.
	ErrNoRegistry = errors.New("gatewayd: no registry (--registry): the configuration is a file")
	// ErrInvalidArgument: a request field is malformed.
	ErrInvalidArgument = errors.New("gatewayd: invalid argument")
	// ErrShuttingDown: the node is stopping.
	ErrShuttingDown = errors.New("gatewayd: shutting down")
)

// rules map the sentinels to reasons; first match wins.
var rules = []rpcerr.Rule{
	{Err: ErrInvalidConfig, Reason: rpcerr.InvalidConfig},
	{Err: ErrConfigConflict, Reason: rpcerr.ConfigConflict},
	{Err: ErrConsumerNotFound, Reason: rpcerr.ConsumerNotFound},
	{Err: ErrKeyNotFound, Reason: rpcerr.APIKeyNotFound},
	{Err: ErrNoIssuerKey, Reason: rpcerr.NoIssuerKey},
	{Err: ErrNoRegistry, Reason: rpcerr.InvalidArgument},
	{Err: ErrInvalidArgument, Reason: rpcerr.InvalidArgument},
	{Err: ErrShuttingDown, Reason: rpcerr.ShuttingDown},
}

// toStatus is the one place admin-API errors become gRPC statuses. Errors
// from raftkv keep their status (they already carry a reason); context
// errors keep their codes.
func toStatus(err error) error { return rpcerr.ToStatus(err, rules) }
