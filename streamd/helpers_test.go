package streamd_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"cairn.dev/cairn/node/rpcerr"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/client"
	"cairn.dev/cairn/streamd/streamdtest"
)

// testCtx is a context that ends a minute from now, or when the test ends.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// wantErr checks that err is a gRPC status with code and reason, and with
// every metadata entry of md.
func wantErr(t *testing.T, err error, code codes.Code, reason rpcerr.Reason, md map[string]string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v %s, got success", code, reason)
	}
	info, _ := rpcerr.FromError(err)
	if info.Code != code || info.Reason != reason {
		t.Fatalf("want %v %s, got %v %s: %v", code, reason, info.Code, info.Reason, err)
	}
	for k, v := range md {
		if got, ok := info.Metadata[k]; !ok || got != v {
			t.Fatalf("want metadata %s=%q, got %v: %v", k, v, info.Metadata, err)
		}
	}
}

// stream is the raw StreamService of member id.
func stream(c *streamdtest.Cluster, id string) streamdv1.StreamServiceClient {
	return streamdv1.NewStreamServiceClient(c.Member(id).Conn)
}

// topics is the raw TopicService of member id.
func topics(c *streamdtest.Cluster, id string) streamdv1.TopicServiceClient {
	return streamdv1.NewTopicServiceClient(c.Member(id).Conn)
}

// groupsOf is the raw GroupService of the controller.
func groupsOf(c *streamdtest.Cluster) streamdv1.GroupServiceClient {
	return streamdv1.NewGroupServiceClient(c.Leader().Conn)
}

// createTopic creates a topic and waits until every partition has a
// leader that serves it.
func createTopic(t *testing.T, cli *client.Client, req *streamdv1.CreateTopicRequest) *streamdv1.Topic {
	t.Helper()
	ctx := testCtx(t)
	resp, err := cli.CreateTopic(ctx, req)
	if err != nil {
		t.Fatalf("create topic %s: %v", req.GetName(), err)
	}
	waitFor(t, req.GetName()+" partitions served", 15*time.Second, func() bool {
		for p := range int32(len(resp.GetTopic().GetPartitions())) {
			if _, err := cli.ListOffsets(ctx, req.GetName(), p, streamdv1.OffsetSpec_OFFSET_SPEC_LATEST, time.Time{}); err != nil {
				return false
			}
		}
		return true
	})
	return resp.GetTopic()
}

// partitionInfo describes partition p of topic.
func partitionInfo(t *testing.T, cli *client.Client, topic string, p int32) *streamdv1.PartitionInfo {
	t.Helper()
	d, err := cli.DescribeTopic(testCtx(t), topic)
	if err != nil {
		t.Fatalf("describe %s: %v", topic, err)
	}
	return d.GetPartitions()[p]
}

// leaderOf waits for partition p of topic to have a leader other than
// the excluded nodes, and returns it.
func leaderOf(t *testing.T, cli *client.Client, topic string, p int32, exclude ...string) string {
	t.Helper()
	var leader string
	waitFor(t, "a leader of "+topic, 20*time.Second, func() bool {
		d, err := cli.DescribeTopic(testCtx(t), topic)
		if err != nil {
			return false
		}
		leader = d.GetPartitions()[p].GetLeader()
		if leader == "" {
			return false
		}
		for _, x := range exclude {
			if leader == x {
				return false
			}
		}
		return true
	})
	return leader
}

// produceValues produces each value as its own acks=all record to
// partition p and returns the offsets.
func produceValues(t *testing.T, cli *client.Client, topic string, p int32, values ...string) []int64 {
	t.Helper()
	var offs []int64
	for _, v := range values {
		res, err := cli.Produce(testCtx(t), topic, []client.Record{{Value: []byte(v)}}, client.ProduceOptions{Partition: &p})
		if err != nil {
			t.Fatalf("produce %q to %s/%d: %v", v, topic, p, err)
		}
		offs = append(offs, res[0].BaseOffset)
	}
	return offs
}

// values are the records' values as strings.
func values(recs []client.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Value)
	}
	return out
}

// newClient returns a client of c, closed by t.Cleanup.
func newClient(t *testing.T, c *streamdtest.Cluster) *client.Client {
	t.Helper()
	cli, err := client.New(client.Config{Endpoints: c.Endpoints(), RequestTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// waitFor polls cond every 20ms until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readAll reads partition p of topic from offset 0 to its high watermark.
func readAll(t *testing.T, ctx context.Context, cli *client.Client, topic string, p int32) []client.Record {
	t.Helper()
	var out []client.Record
	off := int64(0)
	for {
		f, err := cli.Fetch(ctx, topic, p, off, client.FetchOptions{})
		if err != nil {
			t.Fatalf("fetch %s/%d at %d: %v", topic, p, off, err)
		}
		out = append(out, f.Records...)
		if f.NextOffset >= f.HighWatermark || len(f.Records) == 0 {
			return out
		}
		off = f.NextOffset
	}
}
