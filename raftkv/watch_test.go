package raftkv

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// collect reads events from a watch stream until n have arrived.
func collect(t *testing.T, stream raftkvv1.WatchService_WatchClient, n int) []*raftkvv1.Event {
	t.Helper()
	var out []*raftkvv1.Event
	for len(out) < n {
		resp, err := stream.Recv()
		require.NoError(t, err)
		out = append(out, resp.GetEvents()...)
	}
	return out
}

func TestWatchOrderedAcrossLeaderChangeAndResumable(t *testing.T) {
	c := newTestCluster(t, 3, nil)
	leader := c.WaitLeader()
	var w *testMember
	for _, m := range c.Live() {
		if m.ID != leader {
			w = m
		}
	}
	first := put(t, w, "w/0", "0").GetHeader().GetRevision()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream, err := raftkvv1.NewWatchServiceClient(w.Conn).Watch(ctx, &raftkvv1.WatchRequest{
		Key: []byte("w/"), RangeEnd: []byte("w0"), StartRevision: first, PrevKv: true,
	})
	require.NoError(t, err)
	created, err := stream.Recv()
	require.NoError(t, err)
	require.True(t, created.GetCreated())

	// Writes before, during and after a leader change.
	for i := 1; i <= 20; i++ {
		put(t, w, fmt.Sprintf("w/%d", i%5), fmt.Sprint(i))
	}
	c.Stop(leader)
	c.WaitLeader(leader)
	for i := 21; i <= 40; i++ {
		put(t, w, fmt.Sprintf("w/%d", i%5), fmt.Sprint(i))
	}
	_, err = kv(w).DeleteRange(ctxT(t), &raftkvv1.DeleteRangeRequest{Key: []byte("w/1")})
	require.NoError(t, err)
	put(t, w, "other", "not watched")

	evs := collect(t, stream, 42)
	require.Len(t, evs, 42, "exactly the watched events, none duplicated")
	for i, ev := range evs {
		if i > 0 {
			require.Greater(t, ev.GetKv().GetModRevision(), evs[i-1].GetKv().GetModRevision(), "revision order")
		}
	}
	require.Equal(t, first, evs[0].GetKv().GetModRevision())
	require.Equal(t, raftkvv1.Event_EVENT_TYPE_DELETE, evs[41].GetType())
	require.Equal(t, "40", string(evs[40].GetKv().GetValue()))
	require.Equal(t, "35", string(evs[40].GetPrevKv().GetValue()), "prev_kv")

	// Resume from a revision in the middle, on another member: same events from there.
	mid := evs[20].GetKv().GetModRevision()
	var other *testMember
	for _, m := range c.Live() {
		if m.ID != w.ID {
			other = m
		}
	}
	stream2, err := raftkvv1.NewWatchServiceClient(other.Conn).Watch(ctx, &raftkvv1.WatchRequest{
		Key: []byte("w/"), RangeEnd: []byte("w0"), StartRevision: mid,
		Filters: []raftkvv1.WatchRequest_FilterType{raftkvv1.WatchRequest_FILTER_TYPE_NODELETE},
	})
	require.NoError(t, err)
	_, err = stream2.Recv() // created
	require.NoError(t, err)
	evs2 := collect(t, stream2, 21)
	for i, ev := range evs2 {
		require.Equal(t, evs[20+i].GetKv().GetModRevision(), ev.GetKv().GetModRevision())
		require.Equal(t, raftkvv1.Event_EVENT_TYPE_PUT, ev.GetType())
		require.Nil(t, ev.GetPrevKv(), "prev_kv only when asked")
	}
}

func TestWatchCompactedRevision(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	m := c.Member(c.WaitLeader())
	var last int64
	for i := 0; i < 10; i++ {
		last = put(t, m, "c", fmt.Sprint(i)).GetHeader().GetRevision()
	}
	_, err := kv(m).Compact(ctxT(t), &raftkvv1.CompactRequest{Revision: last - 2})
	require.NoError(t, err)
	stream, err := raftkvv1.NewWatchServiceClient(m.Conn).Watch(ctxT(t), &raftkvv1.WatchRequest{Key: []byte("c"), StartRevision: 2})
	require.NoError(t, err)
	_, err = stream.Recv()
	require.Equal(t, codes.OutOfRange, status.Code(err))
	require.Contains(t, status.Convert(err).Message(), "compacted")

	_, err = kv(m).Range(ctxT(t), &raftkvv1.RangeRequest{Key: []byte("c"), Revision: 2})
	require.Equal(t, codes.OutOfRange, status.Code(err))
	resp, err := kv(m).Range(ctxT(t), &raftkvv1.RangeRequest{Key: []byte("c"), Revision: last - 1})
	require.NoError(t, err)
	require.Equal(t, "8", string(resp.GetKvs()[0].GetValue()), "read at a retained past revision")
}

func TestWatchSlowConsumerLosesNothing(t *testing.T) {
	c := newTestCluster(t, 1, nil)
	m := c.Member(c.WaitLeader())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream, err := raftkvv1.NewWatchServiceClient(m.Conn).Watch(ctx, &raftkvv1.WatchRequest{Key: []byte("s")})
	require.NoError(t, err)
	_, err = stream.Recv()
	require.NoError(t, err)
	// More writes than the watcher's buffer while nobody reads the stream.
	const n = watcherBuffer * 3
	for i := 0; i < n; i++ {
		put(t, m, "s", fmt.Sprint(i))
	}
	evs := collect(t, stream, n)
	require.Len(t, evs, n)
	for i, ev := range evs {
		require.Equal(t, fmt.Sprint(i), string(ev.GetKv().GetValue()))
	}
}
