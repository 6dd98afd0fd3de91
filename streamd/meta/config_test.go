package meta

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/rpcerr"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
)

func TestDefaults(t *testing.T) {
	cfg := DefaultTopicConfig(3)
	require.Equal(t, DefaultRetention, cfg.Retention.AsDuration())
	require.EqualValues(t, 128<<20, cfg.SegmentBytes)
	require.EqualValues(t, 2, cfg.MinInsyncReplicas)
	require.EqualValues(t, 1, DefaultTopicConfig(1).MinInsyncReplicas)
	require.NoError(t, ValidateTopicConfig(cfg, 3))
	require.True(t, proto.Equal(cfg, WithDefaults(nil, 3)))
	require.EqualValues(t, 1, DefaultReplication(1))
	require.EqualValues(t, 3, DefaultReplication(5))
	require.EqualValues(t, 1, DefaultReplication(0))

	// Nonzero fields are kept, valid or not.
	in := &streamdv1.TopicConfig{SegmentBytes: 5, Retention: durationpb.New(-time.Second), RetentionBytes: -1}
	got := WithDefaults(in, 3)
	require.EqualValues(t, 5, got.SegmentBytes)
	require.Equal(t, -time.Second, got.Retention.AsDuration())
	require.EqualValues(t, -1, got.RetentionBytes)
	require.EqualValues(t, DefaultMaxBatchBytes, got.MaxBatchBytes)
	require.EqualValues(t, 5, in.SegmentBytes, "the input is not changed")
	require.Nil(t, in.SegmentAge)
}

func TestValidateTopicConfig(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*streamdv1.TopicConfig)
		field string
		limit string
	}{
		{"segment too small", func(c *streamdv1.TopicConfig) { c.SegmentBytes = MinSegmentBytes - 1 }, "config.segment_bytes", "1048576"},
		{"segment too large", func(c *streamdv1.TopicConfig) { c.SegmentBytes = MaxSegmentBytes + 1 }, "config.segment_bytes", "1073741824"},
		{"segment age negative", func(c *streamdv1.TopicConfig) { c.SegmentAge = durationpb.New(-time.Second) }, "config.segment_age", "0s"},
		{"policy unknown", func(c *streamdv1.TopicConfig) { c.CleanupPolicy = 7 }, "config.cleanup_policy", ""},
		{"min isr above replication", func(c *streamdv1.TopicConfig) { c.MinInsyncReplicas = 4 }, "config.min_insync_replicas", "3"},
		{"min isr zero", func(c *streamdv1.TopicConfig) { c.MinInsyncReplicas = -1 }, "config.min_insync_replicas", "1"},
		{"batch too large", func(c *streamdv1.TopicConfig) { c.MaxBatchBytes = MaxMaxBatchBytes + 1 }, "config.max_batch_bytes", "8388608"},
		{"batch too small", func(c *streamdv1.TopicConfig) { c.MaxBatchBytes = 10 }, "config.max_batch_bytes", "1024"},
		{"delete retention negative", func(c *streamdv1.TopicConfig) { c.DeleteRetention = durationpb.New(-time.Hour) }, "config.delete_retention", "0s"},
		{"retention malformed", func(c *streamdv1.TopicConfig) { c.Retention = &durationpb.Duration{Seconds: 1, Nanos: -1} }, "config.retention", ""},
		{"retention unset", func(c *streamdv1.TopicConfig) { c.Retention = nil }, "config.retention", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultTopicConfig(3)
			tc.edit(cfg)
			err := ValidateTopicConfig(cfg, 3)
			require.ErrorIs(t, err, ErrInvalidArgument)
			md := rpcerr.MetadataOf(err)
			require.Equal(t, tc.field, md[rpcerr.KeyField])
			require.Equal(t, tc.limit, md[rpcerr.KeyLimit])
			require.Contains(t, err.Error(), tc.field)
		})
	}
	// Extremes that are allowed.
	cfg := DefaultTopicConfig(3)
	cfg.Retention = durationpb.New(-1)
	cfg.RetentionBytes = -1
	cfg.SegmentBytes = MaxSegmentBytes
	cfg.MaxBatchBytes = MaxMaxBatchBytes
	cfg.MinInsyncReplicas = 3
	cfg.CleanupPolicy = streamdv1.CleanupPolicy_CLEANUP_POLICY_COMPACT
	cfg.DeleteRetention = durationpb.New(0)
	require.NoError(t, ValidateTopicConfig(cfg, 3))
}

func TestValidateTopicName(t *testing.T) {
	for _, ok := range []string{"a", "orders", "A-b_c.9", "...", strings.Repeat("x", MaxTopicNameLen)} {
		require.NoError(t, ValidateTopicName(ok), ok)
	}
	for _, bad := range []string{"", ".", "..", "a b", "a/b", "é", strings.Repeat("x", MaxTopicNameLen+1)} {
		err := ValidateTopicName(bad)
		require.ErrorIs(t, err, ErrInvalidArgument, bad)
		require.Equal(t, "name", rpcerr.MetadataOf(err)[rpcerr.KeyField])
	}
	err := ValidateTopicName(strings.Repeat("x", MaxTopicNameLen+1))
	require.Equal(t, "249", rpcerr.MetadataOf(err)[rpcerr.KeyLimit])
}

func TestValidateOthers(t *testing.T) {
	require.NoError(t, ValidateGroupName("billing group/é"))
	require.ErrorIs(t, ValidateGroupName(""), ErrInvalidArgument)
	require.ErrorIs(t, ValidateGroupName("a\x00b"), ErrInvalidArgument)
	require.ErrorIs(t, ValidateGroupName("\xff"), ErrInvalidArgument)

	require.NoError(t, ValidatePartitions(1024, 1024))
	err := ValidatePartitions(1025, 1024)
	require.Equal(t, map[string]string{rpcerr.KeyField: "partitions", rpcerr.KeyLimit: "1024"}, rpcerr.MetadataOf(err))
	err = ValidatePartitions(0, 1024)
	require.Equal(t, "1", rpcerr.MetadataOf(err)[rpcerr.KeyLimit])

	require.NoError(t, ValidateReplication(3, 3))
	err = ValidateReplication(4, 3)
	require.Equal(t, map[string]string{rpcerr.KeyField: "replication", rpcerr.KeyLimit: "3"}, rpcerr.MetadataOf(err))

	require.NoError(t, ValidateCommitOffsets("g", []*streamdv1.PartitionOffset{{Topic: "t", Partition: 0, Offset: 5}}))
	err = ValidateCommitOffsets("g", []*streamdv1.PartitionOffset{{Topic: "t"}, {Topic: "t", Offset: -1}})
	require.Equal(t, "offsets[1].offset", rpcerr.MetadataOf(err)[rpcerr.KeyField])
	err = ValidateCommitOffsets("g", []*streamdv1.PartitionOffset{{Topic: "t", Metadata: strings.Repeat("m", MaxOffsetMetadataBytes+1)}})
	require.Equal(t, map[string]string{rpcerr.KeyField: "offsets[0].metadata", rpcerr.KeyLimit: "4096"}, rpcerr.MetadataOf(err))

	require.ErrorIs(t, ValidateNodeID(""), ErrInvalidArgument)
	require.NoError(t, ValidateNodeID("node-1"))
}

func TestMergeTopicConfig(t *testing.T) {
	cur := DefaultTopicConfig(3)
	upd := &streamdv1.TopicConfig{SegmentBytes: 2 << 20, MaxBatchBytes: 2 << 20, Retention: durationpb.New(time.Hour)}
	got, err := MergeTopicConfig(cur, upd, []string{"segment_bytes", "retention"}, 3)
	require.NoError(t, err)
	require.EqualValues(t, 2<<20, got.SegmentBytes)
	require.Equal(t, time.Hour, got.Retention.AsDuration())
	require.EqualValues(t, DefaultMaxBatchBytes, got.MaxBatchBytes, "not in the mask")

	// A masked zero field returns to its default.
	back, err := MergeTopicConfig(got, nil, []string{"segment_bytes"}, 3)
	require.NoError(t, err)
	require.EqualValues(t, DefaultSegmentBytes, back.SegmentBytes)

	for _, tc := range []struct {
		mask  []string
		field string
	}{{nil, "mask"}, {[]string{"retention", "nope"}, "mask[1]"}, {[]string{"retention", "retention"}, "mask[1]"}} {
		_, err := MergeTopicConfig(cur, upd, tc.mask, 3)
		require.ErrorIs(t, err, ErrInvalidArgument)
		require.Equal(t, tc.field, rpcerr.MetadataOf(err)[rpcerr.KeyField])
	}
	_, err = MergeTopicConfig(cur, &streamdv1.TopicConfig{MinInsyncReplicas: 5}, []string{"min_insync_replicas"}, 3)
	require.Equal(t, "config.min_insync_replicas", rpcerr.MetadataOf(err)[rpcerr.KeyField])
	for _, f := range TopicConfigFields {
		_, err := MergeTopicConfig(cur, nil, []string{f}, 3)
		require.NoError(t, err, f)
	}
}

func TestResultErrorRoundTrip(t *testing.T) {
	require.NoError(t, ResultError(&streamdraftv1.CommandResult{}))
	known := map[rpcerr.Reason]bool{}
	for _, r := range rpcerr.Reasons() {
		known[r] = true
	}
	for _, r := range reasons {
		require.True(t, known[r.Reason], "%s is an rpcerr reason", r.Reason)
		err := ResultError(&streamdraftv1.CommandResult{Error: string(r.Reason), ErrorMessage: "what",
			ErrorMetadata: map[string]string{rpcerr.KeyField: "f", rpcerr.KeyLimit: "3"}})
		require.ErrorIs(t, err, r.Err)
		require.Equal(t, r.Reason, ReasonOf(err))
		require.Contains(t, err.Error(), "what")
		require.Equal(t, map[string]string{rpcerr.KeyField: "f", rpcerr.KeyLimit: "3"}, rpcerr.MetadataOf(err))
	}
	err := ResultError(&streamdraftv1.CommandResult{Error: "SOMETHING_NEW", ErrorMessage: "x"})
	require.ErrorContains(t, err, "SOMETHING_NEW")
	require.Equal(t, rpcerr.Reason(""), ReasonOf(err))

	// A validation error through a result keeps its message once.
	f := failureOf(ValidateTopicName(""))
	err = ResultError(failResult(f))
	require.Equal(t, "meta: invalid argument: name must not be empty", err.Error())
}
