package store

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/rpcerr"
)

func TestReasonsAreRPCErrReasons(t *testing.T) {
	for _, r := range reasons {
		require.Equal(t, r.reason, string(rpcerr.Reason(r.reason)))
	}
	for _, want := range []rpcerr.Reason{rpcerr.QueueNotFound, rpcerr.QueueExists, rpcerr.TopicNotFound,
		rpcerr.ReceiptInvalid, rpcerr.ReceiptStale, rpcerr.ReceiptExpired, rpcerr.DeadLetterLoop,
		rpcerr.QueueMismatch, rpcerr.InvalidArgument, rpcerr.LimitExceeded} {
		require.ErrorIs(t, ResultError(string(want), "x"), sentinelOf(t, string(want)))
	}
	require.NoError(t, ResultError("", ""))
}

func sentinelOf(t *testing.T, reason string) error {
	for _, r := range reasons {
		if r.reason == reason {
			return r.err
		}
	}
	t.Fatalf("no sentinel for %s", reason)
	return nil
}

func TestSendReceiveAck(t *testing.T) {
	ts := openTestStore(t)
	ts.ok(createQueue("q", stdAttrs()))
	res := ts.ok(sendCmd("q", body("a"), body("b"), body("c"))).GetSend()
	require.Len(t, res.GetResults(), 3)
	require.Empty(t, res.GetErrors())
	require.Equal(t, "0", res.GetResults()[0].GetId())
	require.Equal(t, md5Hex([]byte("a")), res.GetResults()[0].GetMd5OfBody())

	ms := ts.receive("q", 2, 0)
	require.Equal(t, []string{"a", "b"}, bodies(ms))
	require.EqualValues(t, 1, ms[0].GetReceiveCount())
	require.Equal(t, res.GetResults()[0].GetMessageId(), ms[0].GetMessageId())
	require.Equal(t, ts.now.Add(30*time.Second), ms[0].GetVisibleAt().AsTime())

	st := ts.queue("q").GetStats()
	require.EqualValues(t, 1, st.GetVisible())
	require.EqualValues(t, 2, st.GetInFlight())

	set := ts.ok(ackCmd("q", handles(ms)...)).GetSettle()
	require.Equal(t, []string{"0", "1"}, set.GetSucceeded())
	require.Equal(t, []string{"c"}, bodies(ts.receive("q", 10, 0)))
	require.Empty(t, ts.receive("q", 10, 0))
	_, _, n := ts.s.Counts()
	require.EqualValues(t, 1, n)
}
