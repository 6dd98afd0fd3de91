package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/queued/queuedtest"
)

// queuedCLI runs cairn commands in-process against an in-process queued cluster.
type queuedCLI struct {
	t   *testing.T
	c   *queuedtest.Cluster
	eps string
}

func newQueuedCLI(t *testing.T) *queuedCLI {
	c := queuedtest.New(t, 3, nil)
	return &queuedCLI{t: t, c: c, eps: strings.Join(c.Endpoints(), ",")}
}

func (q *queuedCLI) run(args ...string) cliResult {
	return q.runCtx(testCtx(q.t), args...)
}

func (q *queuedCLI) runCtx(ctx context.Context, args ...string) cliResult {
	var stdout, stderr syncBuffer
	root := newRootCmd()
	root.SetArgs(withEndpoints(args, q.eps))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	root.SetIn(strings.NewReader("from stdin"))
	err := root.ExecuteContext(ctx)
	return cliResult{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// ok runs a command that must succeed and returns its stdout.
func (q *queuedCLI) ok(args ...string) string {
	q.t.Helper()
	r := q.run(args...)
	require.NoError(q.t, r.err, "%v: %s", args, r.stderr)
	return r.stdout
}

// jsonLines decodes one JSON object per line.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "line %q", line)
		objs = append(objs, m)
	}
	return objs
}

// TestQueueCLIDeadLetter is the walk-through: a message received and
// not acked lands in the dead letter queue after 3 deliveries.
func TestQueueCLIDeadLetter(t *testing.T) {
	q := newQueuedCLI(t)
	require.Contains(t, q.ok("queue", "create", "orders-dlq"), "created queue orders-dlq")
	q.ok("queue", "create", "orders", "--visibility-timeout", "300ms", "--max-receives", "3", "--dead-letter", "orders-dlq")
	id := strings.TrimSpace(q.ok("queue", "send", "orders", `{"order":1}`))
	require.NotEmpty(t, id)

	for i := 1; i <= 3; i++ {
		msgs := jsonLines(t, q.ok("queue", "receive", "orders", "--wait", "5s", "--output", "json"))
		require.Len(t, msgs, 1, "delivery %d", i)
		require.Equal(t, `{"order":1}`, msgs[0]["body"])
		require.Equal(t, id, msgs[0]["message_id"])
		require.NotEmpty(t, msgs[0]["receipt_handle"])
		require.EqualValues(t, i, msgs[0]["receive_count"])
	}
	var stats map[string]any
	require.Eventually(t, func() bool {
		stats = jsonLines(t, q.ok("queue", "stats", "orders-dlq", "--output", "json"))[0]
		return stats["messages"] == float64(1)
	}, 10*time.Second, 20*time.Millisecond, "the DLQ holds the message: %v", stats)
	require.Equal(t, "orders-dlq", stats["queue"])

	// Text output names the message; --ack deletes it.
	out := q.ok("queue", "receive", "orders-dlq", "--wait", "5s", "--ack")
	require.Contains(t, out, "message "+id)
	require.Contains(t, out, "from=orders")
	require.Contains(t, out, `{"order":1}`)
	require.Empty(t, q.ok("queue", "receive", "orders-dlq", "--wait", "0s"), "acked")
}

func TestQueueCLICommands(t *testing.T) {
	q := newQueuedCLI(t)
	q.ok("queue", "create", "jobs", "--visibility-timeout", "1m")
	require.Contains(t, q.ok("queue", "create", "jobs", "--visibility-timeout", "1m"), "exists with these attributes")
	r := q.run("queue", "create", "jobs", "--visibility-timeout", "2m")
	require.Equal(t, exitConflict, r.code(), "other attributes: %v", r.err)
	r = q.run("queue", "create", "bad name")
	require.Equal(t, exitUsage, r.code(), "%v", r.err)
	r = q.run("queue", "send", "missing", "x")
	require.Equal(t, exitNotFound, r.code(), "%v", r.err)
	r = q.run("queue", "create", "x", "--type", "lifo")
	require.Equal(t, exitUsage, r.code())

	// attrs shows, and sets what its flags name.
	attrs := jsonLines(t, q.ok("queue", "attrs", "jobs", "--output", "json"))[0]
	require.Equal(t, "1m0s", attrs["visibility_timeout"])
	require.Equal(t, "standard", attrs["type"])
	require.Contains(t, q.ok("queue", "attrs", "jobs", "--delay", "0s", "--receive-wait", "1s"), "receive_wait: 1s")

	q.ok("queue", "send", "jobs", "-", "--attr", "kind=test")
	q.ok("queue", "send", "jobs", "second")
	msgs := jsonLines(t, q.ok("queue", "receive", "jobs", "--max", "10", "--wait", "2s", "--output", "json"))
	require.Len(t, msgs, 2)
	require.Equal(t, "from stdin", msgs[0]["body"])
	h1, h2 := msgs[0]["receipt_handle"].(string), msgs[1]["receipt_handle"].(string)

	require.Contains(t, q.ok("queue", "extend", "jobs", h1, "--timeout", "5m"), "extend: 1 of 1")
	require.Contains(t, q.ok("queue", "nack", "jobs", h2), "nack: 1 of 1")
	r = q.run("queue", "nack", "jobs", h2)
	require.Equal(t, exitConflict, r.code(), "a nacked receipt is stale: %v", r.err)
	r = q.run("queue", "ack", "jobs", "not-a-receipt")
	require.Equal(t, exitUsage, r.code(), "a malformed receipt: %v", r.err)
	require.Contains(t, q.ok("queue", "ack", "jobs", h1), "ack: 1 of 1")

	list := q.ok("queue", "list")
	require.Contains(t, list, "NAME")
	require.Contains(t, list, "jobs")
	lj := jsonLines(t, q.ok("queue", "list", "--output", "json"))[0]
	require.Len(t, lj["queues"], 1)

	require.Contains(t, q.ok("queue", "purge", "jobs"), "purged 1 messages")
	q.ok("queue", "create", "dlq")
	require.Contains(t, q.ok("queue", "redrive", "dlq"), "moved 0")
	require.Contains(t, q.ok("queue", "delete", "jobs"), "deleted queue jobs")
	r = q.run("queue", "stats", "jobs")
	require.Equal(t, exitNotFound, r.code())
}

func TestQueueCLIFollow(t *testing.T) {
	q := newQueuedCLI(t)
	q.ok("queue", "create", "live")
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	done := make(chan cliResult, 1)
	var out syncBuffer
	go func() {
		root := newRootCmd()
		root.SetArgs(withEndpoints([]string{"queue", "receive", "live", "--follow", "--ack", "--output", "json"}, q.eps))
		root.SetOut(&out)
		root.SetErr(&out)
		done <- cliResult{err: root.ExecuteContext(ctx)}
	}()
	q.ok("queue", "send", "live", "one")
	q.ok("queue", "send", "live", "two")
	require.Eventually(t, func() bool { return strings.Count(out.String(), "\n") >= 2 }, 10*time.Second, 10*time.Millisecond)
	cancel()
	r := <-done
	require.NoError(t, r.err)
	got := jsonLines(t, out.String())
	require.Equal(t, "one", got[0]["body"])
	require.Equal(t, "two", got[1]["body"])
	require.Empty(t, q.ok("queue", "receive", "live", "--wait", "0s"), "--ack acked them")
}

func TestTopicCLI(t *testing.T) {
	q := newQueuedCLI(t)
	q.ok("topic", "create", "order.created")
	q.ok("queue", "create", "payments")
	q.ok("queue", "create", "email")
	q.ok("topic", "subscribe", "order.created", "payments")
	q.ok("topic", "subscribe", "order.created", "email", "--filter", "region=eu,us")
	out := q.ok("topic", "publish", "order.created", `{"order":2}`, "--attr", "region=eu")
	require.Contains(t, out, "published to 2 queue(s)")
	for _, queue := range []string{"payments", "email"} {
		msgs := jsonLines(t, q.ok("queue", "receive", queue, "--wait", "2s", "--output", "json"))
		require.Len(t, msgs, 1)
		require.Equal(t, `{"order":2}`, msgs[0]["body"])
	}
	list := q.ok("topic", "list")
	require.Contains(t, list, "order.created")
	require.Contains(t, list, "email (region=eu|us)")
	q.ok("topic", "unsubscribe", "order.created", "email")
	d := jsonLines(t, q.ok("topic", "describe", "order.created", "--output", "json"))[0]
	require.Len(t, d["subscriptions"], 1)
	r := q.run("topic", "publish", "nope", "x")
	require.Equal(t, exitNotFound, r.code())
	r = q.run("topic", "subscribe", "order.created", "q", "--filter", "novalue")
	require.Equal(t, exitUsage, r.code())
}
