package client

import (
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

func TestChangedCompare(t *testing.T) {
	changed := func(key, end string, result raftkvv1.Compare_CompareResult, v int64) *raftkvv1.Compare {
		c := &raftkvv1.Compare{Key: []byte(key), Target: raftkvv1.Compare_COMPARE_TARGET_CHANGED, Result: result,
			TargetUnion: &raftkvv1.Compare_ModRevision{ModRevision: v}}
		if end != "" {
			c.RangeEnd = []byte(end)
		}
		return c
	}
	for _, tc := range []struct {
		name string
		cmp  Cmp
		want *raftkvv1.Compare
	}{
		{"key", Compare(Changed("k"), "<", 8), changed("k", "", raftkvv1.Compare_COMPARE_RESULT_LESS, 8)},
		{"range", Compare(ChangedRange("a", "b"), "=", int64(3)), changed("a", "b", raftkvv1.Compare_COMPARE_RESULT_EQUAL, 3)},
		{"from key", Compare(ChangedRange("a", "\x00"), ">", int32(0)), changed("a", "\x00", raftkvv1.Compare_COMPARE_RESULT_GREATER, 0)},
		{"WithRange", Compare(Changed("a"), "!=", 2).WithRange("c"), changed("a", "c", raftkvv1.Compare_COMPARE_RESULT_NOT_EQUAL, 2)},
		{"WithPrefix", Compare(Changed("p/"), "<", 1).WithPrefix(), changed("p/", "p0", raftkvv1.Compare_COMPARE_RESULT_LESS, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, tc.cmp.Err())
			require.True(t, proto.Equal(tc.want, tc.cmp.Proto()), "got %v", tc.cmp.Proto())
		})
	}
	for _, bad := range []Cmp{Compare(Changed("k"), "<", "7"), Compare(ChangedRange("a", "b"), "<=", 1)} {
		require.ErrorIs(t, bad.Err(), ErrInvalidCompare)
	}
}
