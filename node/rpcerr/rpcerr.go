package rpcerr

import (
	"context"
	"errors"
	"maps"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Domain is the ErrorInfo domain of every cairn error.
const Domain = "cairn.dev"

// Reason is a stable, machine-readable reason code, the Reason of an
// errdetails.ErrorInfo. The package documentation lists them all.
type Reason string

// The reasons. Append new ones; never rename or reuse one.
const (
	NoLeader            Reason = "NO_LEADER"
	NotLeader           Reason = "NOT_LEADER"
	NoQuorum            Reason = "NO_QUORUM"
	ShuttingDown        Reason = "SHUTTING_DOWN"
	NotServing          Reason = "NOT_SERVING"
	OutcomeUnknown      Reason = "OUTCOME_UNKNOWN"
	OwnerUnreachable    Reason = "OWNER_UNREACHABLE"
	Unreachable         Reason = "UNREACHABLE"
	NotSent             Reason = "NOT_SENT"
	InvalidArgument     Reason = "INVALID_ARGUMENT"
	LimitExceeded       Reason = "LIMIT_EXCEEDED"
	OutOfMemory         Reason = "OUT_OF_MEMORY"
	KeyNotFound         Reason = "KEY_NOT_FOUND"
	LeaseNotFound       Reason = "LEASE_NOT_FOUND"
	LeaseExists         Reason = "LEASE_EXISTS"
	UnknownMember       Reason = "UNKNOWN_MEMBER"
	Compacted           Reason = "COMPACTED"
	FutureRevision      Reason = "FUTURE_REVISION"
	SessionNotFound     Reason = "SESSION_NOT_FOUND"
	NotHolder           Reason = "NOT_HOLDER"
	NotHeld             Reason = "NOT_HELD"
	PermitsMismatch     Reason = "PERMITS_MISMATCH"
	ModeConflict        Reason = "MODE_CONFLICT"
	WaitTimeout         Reason = "WAIT_TIMEOUT"
	WaitEnded           Reason = "WAIT_ENDED"
	ObserverLagged      Reason = "OBSERVER_LAGGED"
	NotInteger          Reason = "NOT_INTEGER"
	Overflow            Reason = "OVERFLOW"
	Internal            Reason = "INTERNAL"
	WrongType           Reason = "WRONG_TYPE"
	QueueNotFound       Reason = "QUEUE_NOT_FOUND"
	QueueExists         Reason = "QUEUE_EXISTS"
	TopicNotFound       Reason = "TOPIC_NOT_FOUND"
	ReceiptInvalid      Reason = "RECEIPT_INVALID"
	ReceiptStale        Reason = "RECEIPT_STALE"
	ReceiptExpired      Reason = "RECEIPT_EXPIRED"
	DeadLetterLoop      Reason = "DEAD_LETTER_LOOP"
	QueueMismatch       Reason = "QUEUE_MISMATCH"
	TopicExists         Reason = "TOPIC_EXISTS"
	PartitionNotFound   Reason = "PARTITION_NOT_FOUND"
	NotPartitionLeader  Reason = "NOT_PARTITION_LEADER"
	PartitionOffline    Reason = "PARTITION_OFFLINE"
	OffsetOutOfRange    Reason = "OFFSET_OUT_OF_RANGE"
	OffsetMismatch      Reason = "OFFSET_MISMATCH"
	NotEnoughReplicas   Reason = "NOT_ENOUGH_REPLICAS"
	FencedLeaderEpoch   Reason = "FENCED_LEADER_EPOCH"
	OutOfOrderSequence  Reason = "OUT_OF_ORDER_SEQUENCE"
	ProducerFenced      Reason = "PRODUCER_FENCED"
	GroupNotFound       Reason = "GROUP_NOT_FOUND"
	UnknownGroupMember  Reason = "UNKNOWN_GROUP_MEMBER"
	IllegalGeneration   Reason = "ILLEGAL_GENERATION"
	RebalanceInProgress Reason = "REBALANCE_IN_PROGRESS"
	NotAssigned         Reason = "NOT_ASSIGNED"
	CorruptBatch        Reason = "CORRUPT_BATCH"
	BucketNotFound      Reason = "BUCKET_NOT_FOUND"
	BucketExists        Reason = "BUCKET_EXISTS"
	BucketNotEmpty      Reason = "BUCKET_NOT_EMPTY"
	ObjectNotFound      Reason = "OBJECT_NOT_FOUND"
	UploadNotFound      Reason = "UPLOAD_NOT_FOUND"
	PreconditionFailed  Reason = "PRECONDITION_FAILED"
	InvalidPart         Reason = "INVALID_PART"
	InvalidPartOrder    Reason = "INVALID_PART_ORDER"
	EntityTooSmall      Reason = "ENTITY_TOO_SMALL"
	InvalidObjectState  Reason = "INVALID_OBJECT_STATE"
	VolumeNotFound      Reason = "VOLUME_NOT_FOUND"
	ServerNotFound      Reason = "SERVER_NOT_FOUND"
	AccessKeyNotFound   Reason = "ACCESS_KEY_NOT_FOUND"
	BadDigest           Reason = "BAD_DIGEST"
	IncompleteBody      Reason = "INCOMPLETE_BODY"
	InvalidRange        Reason = "INVALID_RANGE"
	NotEnoughServers    Reason = "NOT_ENOUGH_SERVERS"
	DataUnavailable     Reason = "DATA_UNAVAILABLE"
	NeedleNotFound      Reason = "NEEDLE_NOT_FOUND"
	CorruptData         Reason = "CORRUPT_DATA"
	RequestTimeout      Reason = "REQUEST_TIMEOUT"
	IndexNotFound       Reason = "INDEX_NOT_FOUND"
	IndexExists         Reason = "INDEX_EXISTS"
	DocumentNotFound    Reason = "DOCUMENT_NOT_FOUND"
	VersionConflict     Reason = "VERSION_CONFLICT"
	MappingConflict     Reason = "MAPPING_CONFLICT"
	StrictMapping       Reason = "STRICT_MAPPING"
	ParseError          Reason = "PARSE_ERROR"
	TooManyClauses      Reason = "TOO_MANY_CLAUSES"
	ShardUnavailable    Reason = "SHARD_UNAVAILABLE"
	InvalidConfig       Reason = "INVALID_CONFIG"
	ConfigConflict      Reason = "CONFIG_CONFLICT"
	ConsumerNotFound    Reason = "CONSUMER_NOT_FOUND"
	APIKeyNotFound      Reason = "API_KEY_NOT_FOUND"
	NoIssuerKey         Reason = "NO_ISSUER_KEY"
	PoolNotFound        Reason = "POOL_NOT_FOUND"
	BackendNotFound     Reason = "BACKEND_NOT_FOUND"
	AmbiguousBackend    Reason = "AMBIGUOUS_BACKEND"
)

// Metadata keys used across daemons.
const (
	// KeyField is the request field the error is about, as a path: "put.value",
	// "compare[2].key", "ttl".
	KeyField = "field"
	// KeySize is the size or count the request had.
	KeySize = "size"
	// KeyLimit is the limit that was exceeded, as a decimal number or a duration.
	KeyLimit = "limit"
	// KeyLimitName is the configuration key of the limit: "max_value_bytes".
	KeyLimitName = "limit_name"
	// KeyLeader and KeyLeaderAddr name the leader the member knows of.
	KeyLeader     = "leader"
	KeyLeaderAddr = "leader_addr"
	// KeyMember is the id of the member that answered.
	KeyMember = "member"
	// KeyOwner is the address of a cached key's owner.
	KeyOwner = "owner"
	// KeyEndpoints is the comma-separated list of endpoints a client tried.
	KeyEndpoints = "endpoints"
	// KeyEndOffset and KeyExpectedOffset are a log's end offset and the
	// offset a conditional append expected (streamd's OFFSET_MISMATCH).
	KeyEndOffset      = "end_offset"
	KeyExpectedOffset = "expected_offset"
)

// reasonInfo is one row of the reason table.
type reasonInfo struct {
	code codes.Code
	// tryOther: the request was not applied, and another member may serve it.
	tryOther bool
}

var table = map[Reason]reasonInfo{
	NoLeader:            {codes.Unavailable, true},
	NotLeader:           {codes.Unavailable, true},
	NoQuorum:            {codes.Unavailable, true},
	ShuttingDown:        {codes.Unavailable, true},
	NotServing:          {codes.Unavailable, true},
	OutcomeUnknown:      {codes.Unavailable, false},
	OwnerUnreachable:    {codes.Unavailable, false},
	Unreachable:         {codes.Unavailable, true},
	NotSent:             {codes.DeadlineExceeded, false},
	InvalidArgument:     {codes.InvalidArgument, false},
	LimitExceeded:       {codes.ResourceExhausted, false},
	OutOfMemory:         {codes.ResourceExhausted, false},
	KeyNotFound:         {codes.NotFound, false},
	LeaseNotFound:       {codes.NotFound, false},
	LeaseExists:         {codes.AlreadyExists, false},
	UnknownMember:       {codes.NotFound, false},
	Compacted:           {codes.OutOfRange, false},
	FutureRevision:      {codes.OutOfRange, false},
	SessionNotFound:     {codes.NotFound, false},
	NotHolder:           {codes.PermissionDenied, false},
	NotHeld:             {codes.FailedPrecondition, false},
	PermitsMismatch:     {codes.FailedPrecondition, false},
	ModeConflict:        {codes.FailedPrecondition, false},
	WaitTimeout:         {codes.DeadlineExceeded, false},
	WaitEnded:           {codes.Aborted, false},
	ObserverLagged:      {codes.Aborted, false},
	NotInteger:          {codes.FailedPrecondition, false},
	Overflow:            {codes.FailedPrecondition, false},
	Internal:            {codes.Internal, false},
	WrongType:           {codes.FailedPrecondition, false},
	QueueNotFound:       {codes.NotFound, false},
	QueueExists:         {codes.AlreadyExists, false},
	TopicNotFound:       {codes.NotFound, false},
	ReceiptInvalid:      {codes.InvalidArgument, false},
	ReceiptStale:        {codes.FailedPrecondition, false},
	ReceiptExpired:      {codes.FailedPrecondition, false},
	DeadLetterLoop:      {codes.FailedPrecondition, false},
	QueueMismatch:       {codes.FailedPrecondition, false},
	TopicExists:         {codes.AlreadyExists, false},
	PartitionNotFound:   {codes.NotFound, false},
	NotPartitionLeader:  {codes.Unavailable, true},
	PartitionOffline:    {codes.Unavailable, false},
	OffsetOutOfRange:    {codes.OutOfRange, false},
	OffsetMismatch:      {codes.FailedPrecondition, false},
	NotEnoughReplicas:   {codes.Unavailable, false},
	FencedLeaderEpoch:   {codes.FailedPrecondition, false},
	OutOfOrderSequence:  {codes.FailedPrecondition, false},
	ProducerFenced:      {codes.FailedPrecondition, false},
	GroupNotFound:       {codes.NotFound, false},
	UnknownGroupMember:  {codes.NotFound, false},
	IllegalGeneration:   {codes.FailedPrecondition, false},
	RebalanceInProgress: {codes.Aborted, false},
	NotAssigned:         {codes.FailedPrecondition, false},
	CorruptBatch:        {codes.InvalidArgument, false},
	BucketNotFound:      {codes.NotFound, false},
	BucketExists:        {codes.AlreadyExists, false},
	BucketNotEmpty:      {codes.FailedPrecondition, false},
	ObjectNotFound:      {codes.NotFound, false},
	UploadNotFound:      {codes.NotFound, false},
	PreconditionFailed:  {codes.FailedPrecondition, false},
	InvalidPart:         {codes.InvalidArgument, false},
	InvalidPartOrder:    {codes.InvalidArgument, false},
	EntityTooSmall:      {codes.InvalidArgument, false},
	InvalidObjectState:  {codes.FailedPrecondition, false},
	VolumeNotFound:      {codes.NotFound, false},
	ServerNotFound:      {codes.NotFound, false},
	AccessKeyNotFound:   {codes.NotFound, false},
	BadDigest:           {codes.InvalidArgument, false},
	IncompleteBody:      {codes.InvalidArgument, false},
	InvalidRange:        {codes.OutOfRange, false},
	NotEnoughServers:    {codes.Unavailable, false},
	DataUnavailable:     {codes.Unavailable, false},
	NeedleNotFound:      {codes.NotFound, false},
	CorruptData:         {codes.DataLoss, false},
	RequestTimeout:      {codes.DeadlineExceeded, false},
	IndexNotFound:       {codes.NotFound, false},
	IndexExists:         {codes.AlreadyExists, false},
	DocumentNotFound:    {codes.NotFound, false},
	VersionConflict:     {codes.AlreadyExists, false},
	MappingConflict:     {codes.FailedPrecondition, false},
	StrictMapping:       {codes.InvalidArgument, false},
	ParseError:          {codes.InvalidArgument, false},
	TooManyClauses:      {codes.InvalidArgument, false},
	ShardUnavailable:    {codes.Unavailable, false},
	InvalidConfig:       {codes.InvalidArgument, false},
	ConfigConflict:      {codes.FailedPrecondition, false},
	ConsumerNotFound:    {codes.NotFound, false},
	APIKeyNotFound:      {codes.NotFound, false},
	PoolNotFound:        {codes.NotFound, false},
	BackendNotFound:     {codes.NotFound, false},
	AmbiguousBackend:    {codes.FailedPrecondition, false},
	NoIssuerKey:         {codes.FailedPrecondition, false},
}

// Reasons returns every reason, for tests and documentation.
func Reasons() []Reason {
	out := make([]Reason, 0, len(table))
	for r := range table {
		out = append(out, r)
	}
	return out
}

// Code is the gRPC code r is sent with; codes.Unknown for a reason not in the
// table.
func (r Reason) Code() codes.Code {
	if i, ok := table[r]; ok {
		return i.code
	}
	return codes.Unknown
}

// TryOther reports whether a request that failed with r was certainly not
// applied, and another member may serve it: a client may send it again, even a
// write, to another member. OUTCOME_UNKNOWN and every domain reason say no.
func (r Reason) TryOther() bool { return table[r].tryOther }

// New returns a status with r's code, message msg and one ErrorInfo holding r,
// Domain and md (which may be nil; it is copied).
func New(r Reason, msg string, md map[string]string) *status.Status {
	st := status.New(r.Code(), msg)
	info := &errdetails.ErrorInfo{Reason: string(r), Domain: Domain}
	if len(md) > 0 {
		info.Metadata = maps.Clone(md)
	}
	if withInfo, err := st.WithDetails(info); err == nil {
		return withInfo
	}
	return st
}

// Error is New(r, msg, md).Err().
func Error(r Reason, msg string, md map[string]string) error { return New(r, msg, md).Err() }

// Info is what a client learns from a failed call.
type Info struct {
	// Code is the status code; codes.OK never appears in an Info from FromError.
	Code codes.Code
	// Reason is the cairn reason, or "" when the error carries none (a context
	// error, or an error from something other than a cairn server).
	Reason Reason
	// Message is the status message, for people.
	Message string
	// Metadata is the ErrorInfo metadata; nil when there is none.
	Metadata map[string]string
}

// FromError decodes err, a gRPC status error possibly wrapped (see
// status.FromError), or a context error. ok is false for nil and for errors that
// are neither; Info then has Code codes.Unknown and the error's text.
func FromError(err error) (info Info, ok bool) {
	if err == nil {
		return Info{Code: codes.OK}, false
	}
	st, ok := status.FromError(err)
	if !ok {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			st, ok = status.FromContextError(err), true
		}
	}
	info = Info{Code: st.Code(), Message: st.Message()}
	for _, d := range st.Details() {
		if ei, isInfo := d.(*errdetails.ErrorInfo); isInfo && ei.GetDomain() == Domain {
			info.Reason = Reason(ei.GetReason())
			info.Metadata = ei.GetMetadata()
			break
		}
	}
	return info, ok
}

// ReasonOf returns the cairn reason of err, or "" when it carries none.
func ReasonOf(err error) Reason {
	info, _ := FromError(err)
	return info.Reason
}

// TryOther reports whether err carries a reason for which Reason.TryOther holds.
func TryOther(err error) bool { return ReasonOf(err).TryOther() }
