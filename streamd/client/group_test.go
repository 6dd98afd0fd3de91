package client_test

import (
	"context"
	"testing"
	"time"

	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/client"
	"cairn.dev/cairn/streamd/streamdtest"
)

// TestPollDoesNotWaitForIdlePartitions: a member with one busy and one idle
// partition gets the busy one's records at once, not after the idle one's
// long poll (20 s here, longer than the call's 10 s deadline).
func TestPollDoesNotWaitForIdlePartitions(t *testing.T) {
	c := streamdtest.New(t, 1, nil)
	cli, err := client.New(client.Config{Endpoints: c.Endpoints()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx := context.Background()
	if _, err := cli.CreateTopic(ctx, &streamdv1.CreateTopicRequest{Name: "busy-idle", Partitions: 2, Replication: 1}); err != nil {
		t.Fatal(err)
	}
	g, err := cli.JoinGroup(ctx, client.GroupConfig{Group: "g", Topics: []string{"busy-idle"}, MaxWait: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close(ctx)
	if n := len(g.Assignment()); n != 2 {
		t.Fatalf("assigned %d partitions, want 2", n)
	}
	// Nothing yet: a poll waits, and gets the record produced meanwhile.
	done := make(chan []client.Record, 1)
	go func() {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		recs, err := g.Poll(pctx)
		if err != nil {
			t.Error(err)
		}
		if pctx.Err() != nil {
			t.Error("the poll ran until its deadline: it waited for the idle partition")
		}
		done <- recs
	}()
	zero := int32(0)
	if _, err := cli.Produce(ctx, "busy-idle", []client.Record{{Value: []byte("x")}}, client.ProduceOptions{Partition: &zero}); err != nil {
		t.Fatal(err)
	}
	recs := <-done
	if len(recs) != 1 || string(recs[0].Value) != "x" {
		t.Fatalf("poll returned %v, want the one record of partition 0", recs)
	}
}
