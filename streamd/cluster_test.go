package streamd_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/client"
	"cairn.dev/cairn/streamd/streamdtest"
)

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

func TestProduceFetchAndLeaderFailover(t *testing.T) {
	c := streamdtest.New(t, 3, nil)
	cli := newClient(t, c)
	ctx := context.Background()
	if _, err := cli.CreateTopic(ctx, &streamdv1.CreateTopicRequest{Name: "orders", Partitions: 3, Replication: 3}); err != nil {
		t.Fatal(err)
	}
	p0 := int32(0)
	var want []string
	for i := range 20 {
		v := fmt.Sprintf("v%d", i)
		res, err := cli.Produce(ctx, "orders", []client.Record{{Value: []byte(v)}}, client.ProduceOptions{Partition: &p0})
		if err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
		if res[0].BaseOffset != int64(i) {
			t.Fatalf("produce %d at offset %d", i, res[0].BaseOffset)
		}
		want = append(want, v)
	}
	// Kill partition 0's leader: another in-sync replica takes over, with
	// every acknowledged record.
	topic, err := cli.DescribeTopic(ctx, "orders")
	if err != nil {
		t.Fatal(err)
	}
	leader := topic.GetPartitions()[0].GetLeader()
	c.Stop(leader)
	for i := 20; i < 30; i++ {
		v := fmt.Sprintf("v%d", i)
		if _, err := cli.Produce(ctx, "orders", []client.Record{{Value: []byte(v)}}, client.ProduceOptions{Partition: &p0}); err != nil {
			t.Fatalf("produce %d after killing %s: %v", i, leader, err)
		}
		want = append(want, v)
	}
	got := readAll(t, ctx, cli, "orders", 0)
	var vals []string
	for i, r := range got {
		if r.Offset != int64(i) {
			t.Fatalf("record %d has offset %d", i, r.Offset)
		}
		vals = append(vals, string(r.Value))
	}
	if !slices.Equal(vals, want) {
		t.Fatalf("read %v, want %v", vals, want)
	}
	// The old leader comes back as a follower and rejoins the ISR.
	c.Restart(leader)
	waitFor(t, leader+" back in the ISR", 20*time.Second, func() bool {
		topic, err := cli.DescribeTopic(ctx, "orders")
		return err == nil && slices.Contains(topic.GetPartitions()[0].GetIsr(), leader)
	})
}
