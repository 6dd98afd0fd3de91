package queued_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/nodetest"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
	"cairn.dev/cairn/queued"
	"cairn.dev/cairn/queued/client"
	"cairn.dev/cairn/queued/queuedtest"
)

// TestQueueMetrics: every member reports per-queue counters and gauges from
// the replicated queue records on /metrics.
func TestQueueMetrics(t *testing.T) {
	c := queuedtest.New(t, 3, func(cfg *queued.Config) { cfg.Server.AdminAddr = "127.0.0.1:0" })
	cli := newClient(t, c)
	ctx := ctxFor(t, 60*time.Second)
	_, _, err := cli.CreateQueue(ctx, "m", nil)
	require.NoError(t, err)
	for i := range 3 {
		_, err := cli.SendMessage(ctx, "m", []byte(fmt.Sprint(i)))
		require.NoError(t, err)
	}
	msgs, err := cli.Receive(ctx, "m", client.WithWait(0))
	require.NoError(t, err)
	ackAll(t, ctx, cli, "m", msgs)

	f := c.Follower()
	scrape := func() string {
		resp, err := http.Get("http://" + f.Server.AdminAddr() + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	nodetest.WaitFor(t, 10*time.Second, "the follower's metrics", func() bool {
		m := scrape()
		return strings.Contains(m, `cairn_queued_messages_sent_total{queue="m"} 3`) &&
			strings.Contains(m, `cairn_queued_messages_received_total{queue="m"} 1`) &&
			strings.Contains(m, `cairn_queued_messages_acked_total{queue="m"} 1`) &&
			strings.Contains(m, `cairn_queued_messages_visible{queue="m"} 2`) &&
			strings.Contains(m, `cairn_queued_messages_in_flight{queue="m"} 0`)
	})
	require.Contains(t, scrape(), "cairn_queued_waiting_receivers 0")
}

// TestDeadLetterMetrics: a message moved to a dead letter queue counts in
// the dead letter queue's sent, so the source's dead_lettered and the dead
// letter queue's sent agree; a redrive counts in the source's sent.
func TestDeadLetterMetrics(t *testing.T) {
	c := queuedtest.New(t, 3, func(cfg *queued.Config) { cfg.Server.AdminAddr = "127.0.0.1:0" })
	cli := newClient(t, c)
	ctx := ctxFor(t, 60*time.Second)
	_, _, err := cli.CreateQueue(ctx, "m-dlq", nil)
	require.NoError(t, err)
	_, _, err = cli.CreateQueue(ctx, "m", &queuedv1.QueueAttributes{VisibilityTimeout: dur(100 * time.Millisecond), MaxReceives: 1, DeadLetterQueue: "m-dlq"})
	require.NoError(t, err)
	for i := range 2 {
		_, err := cli.SendMessage(ctx, "m", []byte(fmt.Sprint(i)))
		require.NoError(t, err)
	}
	msgs, err := cli.Receive(ctx, "m", client.WithMaxMessages(10), client.WithWait(0))
	require.NoError(t, err)
	require.Len(t, msgs, 2)

	f := c.Follower()
	scrape := func() string {
		resp, err := http.Get("http://" + f.Server.AdminAddr() + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	nodetest.WaitFor(t, 10*time.Second, "the dead letters in the metrics", func() bool {
		m := scrape()
		return strings.Contains(m, `cairn_queued_messages_dead_lettered_total{queue="m"} 2`) &&
			strings.Contains(m, `cairn_queued_messages_sent_total{queue="m-dlq"} 2`) &&
			strings.Contains(m, `cairn_queued_messages_visible{queue="m-dlq"} 2`)
	})
	n, err := cli.Redrive(ctx, "m-dlq", "", 0)
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	nodetest.WaitFor(t, 10*time.Second, "the redrive in the metrics", func() bool {
		m := scrape()
		return strings.Contains(m, `cairn_queued_messages_sent_total{queue="m"} 4`) &&
			strings.Contains(m, `cairn_queued_messages_sent_total{queue="m-dlq"} 2`) &&
			strings.Contains(m, `cairn_queued_messages_visible{queue="m-dlq"} 0`)
	})
}
