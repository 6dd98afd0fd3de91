package streamd_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"cairn.dev/cairn/node/rpcerr"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/client"
	"cairn.dev/cairn/streamd/partlog"
	"cairn.dev/cairn/streamd/record"
	"cairn.dev/cairn/streamd/streamdtest"
)

// TestFailover stops and restarts nodes of one five-node cluster (five, so
// the controller keeps its quorum with two partition replicas down), in
// stages that build on each other: an idempotent retry across a leader
// failover, a returning old leader truncating a divergent tail, the ISR
// shrinking and growing with min_insync_replicas, a controller failover
// under a consumer group, and a whole-cluster restart.
func TestFailover(t *testing.T) {
	t.Parallel()
	c := streamdtest.New(t, 5, nil)
	cli := newClient(t, c)
	ctx := testCtx(t)
	tp := createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "fo", Partitions: 1, Replication: 3})
	var want []string
	for i := range 20 {
		want = append(want, fmt.Sprintf("v%d", i))
	}
	produceValues(t, cli, "fo", 0, want...)
	p0 := int32(0)

	// An idempotent batch acknowledged by the old leader and sent again to
	// the new one (a retry after a lost answer) is not appended twice.
	oldLeader := leaderOf(t, cli, "fo", 0)
	init, err := stream(c, oldLeader).InitProducer(ctx, &streamdv1.InitProducerRequest{})
	if err != nil {
		t.Fatal(err)
	}
	prod := record.Producer{ID: init.GetProducerId(), Epoch: int16(init.GetProducerEpoch())}
	batch := record.AppendBatch(nil, []record.Record{{Value: []byte("i0")}, {Value: []byte("i1")}, {Value: []byte("i2")}}, prod)
	req := &streamdv1.ProduceRequest{Topic: "fo", Partition: &p0, Acks: streamdv1.Acks_ACKS_ALL, Batch: batch}
	first, err := stream(c, oldLeader).Produce(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.GetBaseOffset() != 20 || first.GetLastOffset() != 22 || first.GetDuplicate() {
		t.Fatalf("idempotent produce: %v", first)
	}
	want = append(want, "i0", "i1", "i2")
	again, err := stream(c, oldLeader).Produce(ctx, req)
	if err != nil || !again.GetDuplicate() || again.GetBaseOffset() != 20 || again.GetLastOffset() != 22 {
		t.Fatalf("resent to the same leader: %v %v", again, err)
	}
	c.Stop(oldLeader)
	newLeader := leaderOf(t, cli, "fo", 0, oldLeader)
	retry, err := stream(c, newLeader).Produce(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !retry.GetDuplicate() || retry.GetBaseOffset() != 20 || retry.GetLastOffset() != 22 || retry.GetLeaderEpoch() <= first.GetLeaderEpoch() {
		t.Fatalf("resent to the new leader %s: %v (first %v)", newLeader, retry, first)
	}
	// The producer's next sequence follows on the new leader; a gap is refused.
	prod.BaseSequence = 3
	next, err := stream(c, newLeader).Produce(ctx, &streamdv1.ProduceRequest{Topic: "fo", Partition: &p0,
		Batch: record.AppendBatch(nil, []record.Record{{Value: []byte("i3")}}, prod)})
	if err != nil || next.GetBaseOffset() != 23 || next.GetDuplicate() {
		t.Fatalf("next sequence: %v %v", next, err)
	}
	want = append(want, "i3")
	prod.BaseSequence = 10
	_, err = stream(c, newLeader).Produce(ctx, &streamdv1.ProduceRequest{Topic: "fo", Partition: &p0,
		Batch: record.AppendBatch(nil, []record.Record{{Value: []byte("gap")}}, prod)})
	wantErr(t, err, codes.FailedPrecondition, rpcerr.OutOfOrderSequence, nil)
	// Every acknowledged record is on the new leader, once, in order.
	if got := values(readAll(t, ctx, cli, "fo", 0)); !slices.Equal(got, want) {
		t.Fatalf("after failover: %v, want %v", got, want)
	}

	// While the old leader is down, give its log an uncommitted tail in its
	// old epoch (what an isolated leader takes with acks=none): offsets the
	// new leader has filled with other records.
	stale, err := partlog.Open(partlog.Options{Dir: c.Member(oldLeader).Server.ReplicaDir(tp.GetId(), 0)})
	if err != nil {
		t.Fatal(err)
	}
	staleEpoch := stale.LastEpoch()
	if stale.EndOffset() != 23 {
		t.Fatalf("the old leader's log ends at %d, want 23", stale.EndOffset())
	}
	for _, v := range []string{"lost-a", "lost-b", "lost-c"} {
		b := record.AppendBatch(nil, []record.Record{{Value: []byte(v)}}, record.Producer{ID: -1, Epoch: -1, BaseSequence: -1})
		if _, _, err := stale.Append(b, staleEpoch, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stale.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := stale.Close(); err != nil {
		t.Fatal(err)
	}
	produceValues(t, cli, "fo", 0, "n0")
	want = append(want, "n0")
	// It comes back as a follower: it truncates the tail, copies the
	// leader's records, and rejoins the ISR with a log equal to the leader's.
	c.Restart(oldLeader)
	waitFor(t, oldLeader+" back in the ISR", 20*time.Second, func() bool {
		return slices.Contains(partitionInfo(t, cli, "fo", 0).GetIsr(), oldLeader)
	})
	replicas := partitionInfo(t, cli, "fo", 0).GetReplicas()
	waitFor(t, "every replica equal to the leader's", 10*time.Second, func() bool {
		lead, err := c.Member(newLeader).Server.ReplicaBytes(tp.GetId(), 0)
		if err != nil {
			return false
		}
		for _, id := range replicas {
			b, err := c.Member(id).Server.ReplicaBytes(tp.GetId(), 0)
			if err != nil || !bytes.Equal(b, lead) {
				return false
			}
		}
		return true
	})
	if got := values(readAll(t, ctx, cli, "fo", 0)); !slices.Equal(got, want) {
		t.Fatalf("after the old leader returned: %v, want %v", got, want)
	}

	// ISR: a stopped follower leaves the ISR within about a session; with
	// two of three replicas down and min_insync_replicas 2, acks=all is
	// refused and acks=leader still works; the followers come back.
	var followers []string
	for _, id := range replicas {
		if id != newLeader {
			followers = append(followers, id)
		}
	}
	for i, f := range followers {
		c.Stop(f)
		stopped := time.Now()
		waitFor(t, f+" out of the ISR", 15*time.Second, func() bool {
			return !slices.Contains(partitionInfo(t, cli, "fo", 0).GetIsr(), f)
		})
		if d := time.Since(stopped); d > 8*time.Second {
			t.Errorf("%s left the ISR %v after it stopped", f, d)
		}
		if i == 0 {
			produceValues(t, cli, "fo", 0, "isr2")
			want = append(want, "isr2")
		}
	}
	if isr := partitionInfo(t, cli, "fo", 0).GetIsr(); !slices.Equal(isr, []string{newLeader}) {
		t.Fatalf("ISR %v with two followers down", isr)
	}
	_, err = stream(c, newLeader).Produce(ctx, &streamdv1.ProduceRequest{Topic: "fo", Partition: &p0, Acks: streamdv1.Acks_ACKS_ALL, Records: []*streamdv1.Record{{Value: []byte("refused")}}})
	wantErr(t, err, codes.Unavailable, rpcerr.NotEnoughReplicas, nil)
	// (Warm the client's metadata first: with two nodes down, finding a
	// ready node for the first metadata call may take a while.)
	if _, err := cli.Metadata(ctx, "fo"); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 4*time.Second)
	_, err = cli.Produce(short, "fo", []client.Record{{Value: []byte("refused")}}, client.ProduceOptions{Partition: &p0, Acks: client.AcksAll})
	cancel()
	if !errors.Is(err, client.ErrNotEnoughReplicas) || client.IsUnknownOutcome(err) {
		t.Fatalf("client acks=all with one in-sync replica: %v", err)
	}
	res, err := cli.Produce(ctx, "fo", []client.Record{{Value: []byte("leader-only")}}, client.ProduceOptions{Partition: &p0, Acks: client.AcksLeader})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, "leader-only")
	if res[0].BaseOffset != int64(len(want)-1) {
		t.Fatalf("acks=leader at %d, want %d", res[0].BaseOffset, len(want)-1)
	}
	for _, f := range followers {
		c.Restart(f)
	}
	waitFor(t, "the followers back in the ISR", 20*time.Second, func() bool {
		return len(partitionInfo(t, cli, "fo", 0).GetIsr()) == 3
	})
	produceValues(t, cli, "fo", 0, "isr3")
	want = append(want, "isr3")
	if got := values(readAll(t, ctx, cli, "fo", 0)); !slices.Equal(got, want) {
		t.Fatalf("after the ISR healed: %v, want %v", got, want)
	}

	// A controller failover under a consumer group: the member joins again
	// in a later generation and resumes from the committed offsets.
	createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "gfo", Partitions: 3, Replication: 3})
	var recs []client.Record
	for i := range 30 {
		recs = append(recs, client.Record{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "g%d", i)})
	}
	if _, err := cli.Produce(ctx, "gfo", recs, client.ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	gcfg := client.GroupConfig{Group: "gfo-readers", Topics: []string{"gfo"}, SessionTimeout: 2 * time.Second, MaxWait: 100 * time.Millisecond, MaxBytes: 100}
	g, err := cli.JoinGroup(ctx, gcfg)
	if err != nil {
		t.Fatal(err)
	}
	read := map[int32]int64{}
	consume := func(until func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !until() {
			if time.Now().After(deadline) {
				t.Fatalf("consumed %v", read)
			}
			got, err := g.Poll(ctx)
			if err != nil {
				t.Logf("poll: %v", err)
				continue
			}
			for _, r := range got {
				if r.Offset > read[r.Partition] {
					t.Fatalf("partition %d: offset %d skipped to after %d", r.Partition, r.Offset, read[r.Partition])
				}
				read[r.Partition] = max(read[r.Partition], r.Offset+1)
			}
			if err := g.Commit(ctx); err != nil {
				t.Logf("commit: %v", err)
			}
		}
	}
	total := func() int64 {
		var n int64
		for _, v := range read {
			n += v
		}
		return n
	}
	consume(func() bool { return total() >= 10 })
	gen := g.Generation()
	committed := committedOffsets(t, cli, "gfo-readers")
	ctrl := c.WaitLeader()
	c.Stop(ctrl)
	c.WaitLeader(ctrl)
	// Records produced now must reach the member too.
	if _, err := cli.Produce(ctx, "gfo", []client.Record{{Key: []byte("late"), Value: []byte("late")}}, client.ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	after := committedOffsets(t, cli, "gfo-readers")
	for tp, off := range committed {
		if after[tp] < off {
			t.Fatalf("partition %d: committed %d before the controller failover, %d after", tp, off, after[tp])
		}
	}
	consume(func() bool { return g.Generation() > gen && total() >= 31 })
	if err := g.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c.Restart(ctrl)
	finalGroup := committedOffsets(t, cli, "gfo-readers")
	var sum int64
	for _, off := range finalGroup {
		sum += off
	}
	if sum != 31 {
		t.Fatalf("committed %v after reading all 31 records", finalGroup)
	}

	// Every node stops and starts again: every acknowledged record and the
	// committed offsets survive.
	ids := make([]string, 0, 5)
	for _, m := range c.All() {
		ids = append(ids, m.ID)
		c.Stop(m.ID)
	}
	for _, id := range ids {
		c.Restart(id)
	}
	c.WaitLeader()
	waitFor(t, "fo readable after the restart", 30*time.Second, func() bool {
		_, err := cli.ListOffsets(ctx, "fo", 0, streamdv1.OffsetSpec_OFFSET_SPEC_LATEST, time.Time{})
		return err == nil
	})
	waitFor(t, "every acknowledged record committed after the restart", 20*time.Second, func() bool {
		return len(readAll(t, ctx, cli, "fo", 0)) >= len(want)
	})
	if got := values(readAll(t, ctx, cli, "fo", 0)); !slices.Equal(got, want) {
		t.Fatalf("after a whole-cluster restart: %v, want %v", got, want)
	}
	if got := committedOffsets(t, cli, "gfo-readers"); !maps.Equal(got, finalGroup) {
		t.Fatalf("committed offsets %v after the restart, want %v", got, finalGroup)
	}
}

// committedOffsets is the group's committed offset per partition.
func committedOffsets(t *testing.T, cli *client.Client, group string) map[int32]int64 {
	t.Helper()
	var d *streamdv1.DescribeGroupResponse
	waitFor(t, "the group described", 20*time.Second, func() bool {
		var err error
		d, err = cli.DescribeGroup(testCtx(t), group)
		return err == nil
	})
	out := map[int32]int64{}
	for _, p := range d.GetPartitions() {
		if p.GetCommitted() >= 0 {
			out[p.GetPartition()] = p.GetCommitted()
		}
	}
	return out
}
