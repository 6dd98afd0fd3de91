package meta

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/rpcerr"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
)

// Defaults and bounds of a topic, as the client API (cairn.streamd.v1)
// documents them.
const (
	DefaultRetention       = 7 * 24 * time.Hour
	DefaultSegmentBytes    = 128 << 20
	MinSegmentBytes        = 1 << 20
	MaxSegmentBytes        = 1 << 30
	DefaultSegmentAge      = 7 * 24 * time.Hour
	DefaultMaxBatchBytes   = 1 << 20
	MinMaxBatchBytes       = 1 << 10
	MaxMaxBatchBytes       = 8 << 20
	DefaultDeleteRetention = 24 * time.Hour
	// DefaultPartitions is the partition count of a CreateTopic that names
	// none; DefaultMaxPartitions the default of the server's limit on it.
	DefaultPartitions    = 1
	DefaultMaxPartitions = 1024
	// MaxPartitions is the most partitions the state machine accepts for one
	// topic, whatever the server's limit.
	MaxPartitions = 1 << 16
	// MaxTopicNameLen is the longest topic name, in bytes.
	MaxTopicNameLen = 249
	// MaxGroupNameLen is the longest group name, in bytes.
	MaxGroupNameLen = 249
	// MaxOffsetMetadataBytes bounds a committed offset's metadata.
	MaxOffsetMetadataBytes = 4 << 10
	// FirstProducerID is the first id AllocateProducerId returns.
	FirstProducerID = 1000
)

// TopicConfigFields are the TopicConfig field names an UpdateTopicConfig mask
// may hold.
var TopicConfigFields = []string{"retention", "retention_bytes", "segment_bytes", "segment_age",
	"cleanup_policy", "min_insync_replicas", "max_batch_bytes", "delete_retention"}

// invalid is ErrInvalidArgument about field, with the field in its metadata.
func invalid(field, format string, args ...any) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s %s", ErrInvalidArgument, field, fmt.Sprintf(format, args...)),
		rpcerr.KeyField, field)
}

// outOfRange is ErrInvalidArgument about field, whose value is outside
// [lo, hi]; limit is the bound it passed.
func outOfRange(field string, v, lo, hi, limit any) error {
	return rpcerr.WithMetadata(fmt.Errorf("%w: %s is %v, it must be from %v to %v", ErrInvalidArgument, field, v, lo, hi),
		rpcerr.KeyField, field, rpcerr.KeyLimit, fmt.Sprint(limit))
}

// DefaultReplication is the replication of a CreateTopic that names none:
// min(3, nodes), at least 1.
func DefaultReplication(nodes int) int32 {
	return int32(max(1, min(3, nodes)))
}

// DefaultMinInsyncReplicas is min(2, replication), at least 1.
func DefaultMinInsyncReplicas(replication int32) int32 {
	return max(1, min(2, replication))
}

// DefaultTopicConfig returns the default configuration of a topic with the
// given replication.
func DefaultTopicConfig(replication int32) *streamdv1.TopicConfig {
	return &streamdv1.TopicConfig{
		Retention:         durationpb.New(DefaultRetention),
		RetentionBytes:    0,
		SegmentBytes:      DefaultSegmentBytes,
		SegmentAge:        durationpb.New(DefaultSegmentAge),
		CleanupPolicy:     streamdv1.CleanupPolicy_CLEANUP_POLICY_DELETE,
		MinInsyncReplicas: DefaultMinInsyncReplicas(replication),
		MaxBatchBytes:     DefaultMaxBatchBytes,
		DeleteRetention:   durationpb.New(DefaultDeleteRetention),
	}
}

// WithDefaults returns a copy of cfg (nil is the empty config) whose zero
// fields hold the defaults of a topic with the given replication. Nonzero
// fields are kept as they are, valid or not; retention_bytes 0 (no size
// limit) is its own default.
func WithDefaults(cfg *streamdv1.TopicConfig, replication int32) *streamdv1.TopicConfig {
	out := &streamdv1.TopicConfig{}
	if cfg != nil {
		out = proto.Clone(cfg).(*streamdv1.TopicConfig)
	}
	def := DefaultTopicConfig(replication)
	if zeroDuration(out.Retention) {
		out.Retention = def.Retention
	}
	if out.SegmentBytes == 0 {
		out.SegmentBytes = def.SegmentBytes
	}
	if zeroDuration(out.SegmentAge) {
		out.SegmentAge = def.SegmentAge
	}
	if out.CleanupPolicy == streamdv1.CleanupPolicy_CLEANUP_POLICY_UNSPECIFIED {
		out.CleanupPolicy = def.CleanupPolicy
	}
	if out.MinInsyncReplicas == 0 {
		out.MinInsyncReplicas = def.MinInsyncReplicas
	}
	if out.MaxBatchBytes == 0 {
		out.MaxBatchBytes = def.MaxBatchBytes
	}
	if zeroDuration(out.DeleteRetention) {
		out.DeleteRetention = def.DeleteRetention
	}
	return out
}

func zeroDuration(d *durationpb.Duration) bool {
	return d == nil || d.Seconds == 0 && d.Nanos == 0
}

// ValidateTopicConfig checks a complete configuration (see WithDefaults) of
// a topic with the given replication against the bounds of the client API:
// retention any well-formed duration (negative: forever); segment_bytes from
// MinSegmentBytes to MaxSegmentBytes; segment_age positive; cleanup_policy
// DELETE or COMPACT; min_insync_replicas from 1 to replication;
// max_batch_bytes from MinMaxBatchBytes to MaxMaxBatchBytes;
// delete_retention not negative. Its errors wrap ErrInvalidArgument and
// carry the field ("config.segment_bytes") and, for a bound, the limit in
// their rpcerr metadata.
func ValidateTopicConfig(cfg *streamdv1.TopicConfig, replication int32) error {
	if cfg == nil {
		return invalid("config", "must be set")
	}
	for _, d := range []struct {
		field string
		v     *durationpb.Duration
	}{{"config.retention", cfg.Retention}, {"config.segment_age", cfg.SegmentAge}, {"config.delete_retention", cfg.DeleteRetention}} {
		if d.v == nil {
			return invalid(d.field, "must be set")
		}
		if err := d.v.CheckValid(); err != nil {
			return invalid(d.field, "is malformed: %v", err)
		}
	}
	if n := cfg.SegmentBytes; n < MinSegmentBytes || n > MaxSegmentBytes {
		return outOfRange("config.segment_bytes", n, MinSegmentBytes, MaxSegmentBytes, bound(n < MinSegmentBytes, MinSegmentBytes, MaxSegmentBytes))
	}
	if d := cfg.SegmentAge.AsDuration(); d <= 0 {
		return rpcerr.WithMetadata(invalid("config.segment_age", "is %v, it must be positive", d), rpcerr.KeyLimit, "0s")
	}
	switch cfg.CleanupPolicy {
	case streamdv1.CleanupPolicy_CLEANUP_POLICY_DELETE, streamdv1.CleanupPolicy_CLEANUP_POLICY_COMPACT:
	default:
		return invalid("config.cleanup_policy", "is %v, it must be DELETE or COMPACT", cfg.CleanupPolicy)
	}
	if n := cfg.MinInsyncReplicas; n < 1 || n > replication {
		return outOfRange("config.min_insync_replicas", n, 1, replication, bound(n < 1, 1, replication))
	}
	if n := cfg.MaxBatchBytes; n < MinMaxBatchBytes || n > MaxMaxBatchBytes {
		return outOfRange("config.max_batch_bytes", n, MinMaxBatchBytes, MaxMaxBatchBytes, bound(n < MinMaxBatchBytes, MinMaxBatchBytes, MaxMaxBatchBytes))
	}
	if d := cfg.DeleteRetention.AsDuration(); d < 0 {
		return rpcerr.WithMetadata(invalid("config.delete_retention", "is %v, it must not be negative", d), rpcerr.KeyLimit, "0s")
	}
	return nil
}

func bound[T any](low bool, lo, hi T) T {
	if low {
		return lo
	}
	return hi
}

// MergeTopicConfig returns cur with the fields named in mask taken from upd
// (nil is the empty config), the zero ones among them back at their
// defaults, validated for a topic with the given replication. An unknown or
// repeated mask name, or an empty mask, is ErrInvalidArgument about
// "mask[i]" or "mask".
func MergeTopicConfig(cur, upd *streamdv1.TopicConfig, mask []string, replication int32) (*streamdv1.TopicConfig, error) {
	if len(mask) == 0 {
		return nil, invalid("mask", "must name at least one field (%v)", TopicConfigFields)
	}
	if upd == nil {
		upd = &streamdv1.TopicConfig{}
	}
	out := &streamdv1.TopicConfig{}
	if cur != nil {
		out = proto.Clone(cur).(*streamdv1.TopicConfig)
	}
	seen := map[string]bool{}
	for i, name := range mask {
		field := "mask[" + strconv.Itoa(i) + "]"
		if seen[name] {
			return nil, invalid(field, "names %q twice", name)
		}
		seen[name] = true
		switch name {
		case "retention":
			out.Retention = upd.Retention
		case "retention_bytes":
			out.RetentionBytes = upd.RetentionBytes
		case "segment_bytes":
			out.SegmentBytes = upd.SegmentBytes
		case "segment_age":
			out.SegmentAge = upd.SegmentAge
		case "cleanup_policy":
			out.CleanupPolicy = upd.CleanupPolicy
		case "min_insync_replicas":
			out.MinInsyncReplicas = upd.MinInsyncReplicas
		case "max_batch_bytes":
			out.MaxBatchBytes = upd.MaxBatchBytes
		case "delete_retention":
			out.DeleteRetention = upd.DeleteRetention
		default:
			return nil, invalid(field, "%q is not a topic configuration field (%v)", name, TopicConfigFields)
		}
	}
	out = WithDefaults(out, replication)
	if err := ValidateTopicConfig(out, replication); err != nil {
		return nil, err
	}
	return out, nil
}

// ValidateTopicName checks a topic name: 1 to MaxTopicNameLen characters of
// [A-Za-z0-9._-], and neither "." nor "..". Its errors wrap
// ErrInvalidArgument with field "name" (and, for the length, the limit).
func ValidateTopicName(name string) error {
	if name == "" {
		return invalid("name", "must not be empty")
	}
	if len(name) > MaxTopicNameLen {
		return rpcerr.WithMetadata(invalid("name", "is %d characters, at most %d are allowed", len(name), MaxTopicNameLen),
			rpcerr.KeyLimit, strconv.Itoa(MaxTopicNameLen))
	}
	if name == "." || name == ".." {
		return invalid("name", "%q is not allowed", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return invalid("name", "%q has %q at %d: names use A-Z, a-z, 0-9, '.', '_' and '-'", name, c, i)
		}
	}
	return nil
}

// ValidateGroupName checks a consumer group name: 1 to MaxGroupNameLen bytes
// of valid UTF-8 without control characters. Its errors wrap
// ErrInvalidArgument with field "group".
func ValidateGroupName(group string) error {
	if group == "" {
		return invalid("group", "must not be empty")
	}
	if len(group) > MaxGroupNameLen {
		return rpcerr.WithMetadata(invalid("group", "is %d bytes, at most %d are allowed", len(group), MaxGroupNameLen),
			rpcerr.KeyLimit, strconv.Itoa(MaxGroupNameLen))
	}
	if !utf8.ValidString(group) {
		return invalid("group", "is not valid UTF-8")
	}
	for i, r := range group {
		if r < 0x20 || r == 0x7f {
			return invalid("group", "has a control character at %d", i)
		}
	}
	return nil
}

// ValidatePartitions checks a partition count for CreateTopic: from 1 to
// limit (the server's max_partitions; at most MaxPartitions). Its errors wrap
// ErrInvalidArgument with field "partitions" and the limit.
func ValidatePartitions(n, limit int32) error {
	limit = min(limit, MaxPartitions)
	if n < 1 || n > limit {
		return outOfRange("partitions", n, 1, limit, bound(n < 1, 1, limit))
	}
	return nil
}

// ValidateReplication checks a replication factor against the number of
// registered nodes: from 1 to nodes. Its errors wrap ErrInvalidArgument with
// field "replication" and the limit. (Whether enough of those nodes are
// unfenced is decided when the command applies: ErrNotEnoughNodes.)
func ValidateReplication(n int32, nodes int) error {
	if n < 1 || int(n) > nodes {
		return outOfRange("replication", n, 1, nodes, bound(n < 1, 1, int32(nodes)))
	}
	return nil
}
