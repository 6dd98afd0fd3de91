package streamd_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/rpcerr"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/client"
	"cairn.dev/cairn/streamd/streamdtest"
)

// member is a raw group member driven by the test.
type member struct {
	id   string
	gen  int64
	tps  []*streamdv1.TopicPartition
	sess time.Duration
}

// join joins (or rejoins) m, returning once the rebalance completes.
func join(ctx context.Context, gc streamdv1.GroupServiceClient, group string, topics []string, m *member) error {
	resp, err := gc.JoinGroup(ctx, &streamdv1.JoinGroupRequest{Group: group, MemberId: m.id, ClientId: "test", Topics: topics,
		SessionTimeout: durationpb.New(m.sess), Assignor: streamdv1.Assignor_ASSIGNOR_STICKY})
	if err != nil {
		return err
	}
	m.id, m.gen, m.tps = resp.GetMemberId(), resp.GetGeneration(), resp.GetAssignment()
	return nil
}

// joinAll rejoins every member concurrently (a rebalance waits for all).
func joinAll(t *testing.T, gc streamdv1.GroupServiceClient, group string, topics []string, ms ...*member) {
	t.Helper()
	errs := make(chan error, len(ms))
	for _, m := range ms {
		go func() { errs <- join(testCtx(t), gc, group, topics, m) }()
	}
	for range ms {
		if err := <-errs; err != nil {
			t.Fatalf("join: %v", err)
		}
	}
}

// checkSplit checks that the members share one generation and own every
// partition of a topic with n partitions exactly once, as evenly as can be.
func checkSplit(t *testing.T, n int, ms ...*member) {
	t.Helper()
	seen := map[int32]bool{}
	for _, m := range ms {
		if m.gen != ms[0].gen {
			t.Fatalf("generations differ: %d and %d", m.gen, ms[0].gen)
		}
		if len(m.tps) < n/len(ms) || len(m.tps) > (n+len(ms)-1)/len(ms) {
			t.Fatalf("member %s owns %d of %d partitions", m.id, len(m.tps), n)
		}
		for _, tp := range m.tps {
			if seen[tp.GetPartition()] {
				t.Fatalf("partition %d assigned twice", tp.GetPartition())
			}
			seen[tp.GetPartition()] = true
		}
	}
	if len(seen) != n {
		t.Fatalf("%d of %d partitions assigned", len(seen), n)
	}
}

// heartbeatUntilRebalance heartbeats m until the group says rebalance.
func heartbeatUntilRebalance(t *testing.T, gc streamdv1.GroupServiceClient, group string, m *member) {
	t.Helper()
	waitFor(t, m.id+" told to rebalance", 10*time.Second, func() bool {
		_, err := gc.Heartbeat(testCtx(t), &streamdv1.HeartbeatRequest{Group: group, MemberId: m.id, Generation: m.gen})
		return rpcerr.ReasonOf(err) == rpcerr.RebalanceInProgress
	})
}

func testGroupMembership(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "gtopic", Partitions: 6, Replication: 2})
	gc := groupsOf(c)
	topics := []string{"gtopic"}
	a := &member{sess: 30 * time.Second}
	if err := join(ctx, gc, "g1", topics, a); err != nil {
		t.Fatal(err)
	}
	checkSplit(t, 6, a)
	gen1 := a.gen

	// b joins: a learns of the rebalance by heartbeat and rejoins; the two
	// split the partitions in a new generation.
	b := &member{sess: 30 * time.Second}
	bDone := make(chan error, 1)
	go func() { bDone <- join(ctx, gc, "g1", topics, b) }()
	heartbeatUntilRebalance(t, gc, "g1", a)
	if err := join(ctx, gc, "g1", topics, a); err != nil {
		t.Fatal(err)
	}
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
	checkSplit(t, 6, a, b)
	if a.gen <= gen1 {
		t.Fatalf("generation %d after %d", a.gen, gen1)
	}
	gen2 := a.gen

	// A third member with a short session joins: three ways.
	cm := &member{sess: time.Second}
	cDone := make(chan error, 1)
	go func() { cDone <- join(ctx, gc, "g1", topics, cm) }()
	heartbeatUntilRebalance(t, gc, "g1", a)
	joinAll(t, gc, "g1", topics, a, b)
	if err := <-cDone; err != nil {
		t.Fatal(err)
	}
	checkSplit(t, 6, a, b, cm)
	// cm heartbeats until the test lets it go silent.
	stopCM := make(chan struct{})
	cmStopped := make(chan time.Time, 1)
	go func() {
		for {
			select {
			case <-stopCM:
				cmStopped <- time.Now()
				return
			case <-time.After(200 * time.Millisecond):
			}
			_, _ = gc.Heartbeat(ctx, &streamdv1.HeartbeatRequest{Group: "g1", MemberId: cm.id, Generation: cm.gen})
		}
	}()
	if a.gen <= gen2 {
		t.Fatalf("generation %d after %d", a.gen, gen2)
	}

	// Commits: only the owner, only in the current generation.
	produceValues(t, cli, "gtopic", a.tps[0].GetPartition(), "x", "y", "z")
	commit := func(m *member, gen int64, p int32, off int64) error {
		_, err := gc.CommitOffsets(ctx, &streamdv1.CommitOffsetsRequest{Group: "g1", MemberId: m.id, Generation: gen,
			Offsets: []*streamdv1.PartitionOffset{{Topic: "gtopic", Partition: p, Offset: off, Metadata: "note"}}})
		return err
	}
	wantErr(t, commit(a, a.gen, b.tps[0].GetPartition(), 1), codes.FailedPrecondition, rpcerr.NotAssigned, nil)
	wantErr(t, commit(a, gen2, a.tps[0].GetPartition(), 1), codes.FailedPrecondition, rpcerr.IllegalGeneration, nil)
	wantErr(t, commit(&member{id: "stranger"}, a.gen, a.tps[0].GetPartition(), 1), codes.NotFound, rpcerr.UnknownGroupMember, nil)
	if _, err := gc.CommitOffsets(ctx, &streamdv1.CommitOffsetsRequest{Group: "g1", Offsets: []*streamdv1.PartitionOffset{{Topic: "gtopic", Partition: 0, Offset: 1}}}); rpcerr.ReasonOf(err) != rpcerr.UnknownGroupMember {
		t.Fatalf("a standalone commit to a group with members: %v", err)
	}
	if err := commit(a, a.gen, a.tps[0].GetPartition(), 2); err != nil {
		t.Fatal(err)
	}
	offs, err := gc.FetchOffsets(ctx, &streamdv1.FetchOffsetsRequest{Group: "g1"})
	if err != nil || len(offs.GetOffsets()) != 1 || offs.GetOffsets()[0].GetOffset() != 2 || offs.GetOffsets()[0].GetMetadata() != "note" ||
		offs.GetOffsets()[0].GetPartition() != a.tps[0].GetPartition() {
		t.Fatalf("fetch offsets: %v %v", offs, err)
	}

	// DescribeGroup: members and lag (high watermark - committed, or -
	// log start where never committed).
	d, err := cli.DescribeGroup(ctx, "g1")
	if err != nil {
		t.Fatal(err)
	}
	if d.GetState() != "Stable" || d.GetGeneration() != a.gen || len(d.GetMembers()) != 3 || len(d.GetPartitions()) != 6 {
		t.Fatalf("describe: %v", d)
	}
	for _, pl := range d.GetPartitions() {
		want := &streamdv1.PartitionLag{Topic: "gtopic", Partition: pl.GetPartition(), Committed: -1}
		if pl.GetPartition() == a.tps[0].GetPartition() {
			want.Committed, want.HighWatermark, want.Lag = 2, 3, 1
		}
		if pl.GetCommitted() != want.Committed || pl.GetHighWatermark() != want.HighWatermark || pl.GetLag() != want.Lag || pl.GetMemberId() == "" {
			t.Fatalf("partition %d lag: %v, want %v", pl.GetPartition(), pl, want)
		}
	}

	// cm stops heartbeating: it is removed after its session (1s) and the
	// others rebalance without it.
	close(stopCM)
	cSilent := <-cmStopped
	waitFor(t, "the silent member removed", 10*time.Second, func() bool {
		_, err := gc.Heartbeat(ctx, &streamdv1.HeartbeatRequest{Group: "g1", MemberId: a.id, Generation: a.gen})
		return rpcerr.ReasonOf(err) == rpcerr.RebalanceInProgress
	})
	if d := time.Since(cSilent); d < 800*time.Millisecond {
		t.Fatalf("removed after %v, before its session ended", d)
	}
	_, err = gc.Heartbeat(ctx, &streamdv1.HeartbeatRequest{Group: "g1", MemberId: cm.id, Generation: cm.gen})
	wantErr(t, err, codes.NotFound, rpcerr.UnknownGroupMember, nil)
	joinAll(t, gc, "g1", topics, a, b)
	checkSplit(t, 6, a, b)

	// A member leaves: the other gets everything; the committed offset stays.
	if _, err := gc.LeaveGroup(ctx, &streamdv1.LeaveGroupRequest{Group: "g1", MemberId: b.id}); err != nil {
		t.Fatal(err)
	}
	heartbeatUntilRebalance(t, gc, "g1", a)
	joinAll(t, gc, "g1", topics, a)
	checkSplit(t, 6, a)
	if _, err := gc.LeaveGroup(ctx, &streamdv1.LeaveGroupRequest{Group: "g1", MemberId: a.id}); err != nil {
		t.Fatal(err)
	}
	d, err = cli.DescribeGroup(ctx, "g1")
	if err != nil || d.GetState() != "Empty" || len(d.GetMembers()) != 0 {
		t.Fatalf("describe after everyone left: %v %v", d, err)
	}
	groups, err := cli.ListGroups(ctx)
	if err != nil || !slices.ContainsFunc(groups, func(g *streamdv1.GroupSummary) bool { return g.GetGroup() == "g1" }) {
		t.Fatalf("list groups: %v %v", groups, err)
	}
}

func testGroupConsumerResume(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "resume", Partitions: 3, Replication: 3})
	var recs []client.Record
	for i := range 60 {
		recs = append(recs, client.Record{Key: fmt.Appendf(nil, "key-%d", i), Value: fmt.Appendf(nil, "v%d", i)})
	}
	if _, err := cli.Produce(ctx, "resume", recs, client.ProduceOptions{}); err != nil {
		t.Fatal(err)
	}
	cfg := client.GroupConfig{Group: "resumers", Topics: []string{"resume"}, SessionTimeout: 3 * time.Second, MaxWait: 100 * time.Millisecond, MaxBytes: 200}
	type pk struct {
		p   int32
		off int64
	}
	// The first consumer reads a little, commits, reads more without
	// committing, and leaves.
	g1, err := cli.JoinGroup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(g1.Assignment()) != 3 {
		t.Fatalf("a lone member got %v", g1.Assignment())
	}
	first, err := g1.Poll(ctx)
	if err != nil || len(first) == 0 {
		t.Fatalf("poll: %d records, %v", len(first), err)
	}
	if err := g1.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	committed := map[int32]int64{}
	for _, r := range first {
		committed[r.Partition] = max(committed[r.Partition], r.Offset+1)
	}
	if _, err := g1.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if err := g1.Close(ctx); err != nil {
		t.Fatal(err)
	}
	// The second starts exactly at the committed offsets (the uncommitted
	// records come again) and reads everything else once, in order.
	g2, err := cli.JoinGroup(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer g2.Close(ctx)
	next := map[int32]int64{}
	seen := map[pk]string{}
	for _, r := range first {
		seen[pk{r.Partition, r.Offset}] = string(r.Value)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(seen) < 60 {
		if time.Now().After(deadline) {
			t.Fatalf("read %d of 60 records", len(seen))
		}
		got, err := g2.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range got {
			want, ok := next[r.Partition]
			if !ok {
				want = committed[r.Partition]
			}
			if r.Offset != want {
				t.Fatalf("partition %d: offset %d, want %d (committed %d)", r.Partition, r.Offset, want, committed[r.Partition])
			}
			next[r.Partition] = r.Offset + 1
			if v, ok := seen[pk{r.Partition, r.Offset}]; ok && v != string(r.Value) {
				t.Fatalf("%d@%d read as %q and %q", r.Partition, r.Offset, v, r.Value)
			}
			seen[pk{r.Partition, r.Offset}] = string(r.Value)
		}
		if err := g2.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	for _, v := range seen {
		all = append(all, v)
	}
	slices.Sort(all)
	var want []string
	for _, r := range recs {
		want = append(want, string(r.Value))
	}
	slices.Sort(want)
	if !slices.Equal(all, want) {
		t.Fatalf("read %v", all)
	}
	// Everything is committed: the lag is zero everywhere.
	d, err := cli.DescribeGroup(ctx, "resumers")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, pl := range d.GetPartitions() {
		if pl.GetLag() != 0 || pl.GetCommitted() != pl.GetHighWatermark() {
			t.Fatalf("lag after reading everything: %v", pl)
		}
		total += pl.GetHighWatermark()
	}
	if total != 60 {
		t.Fatalf("high watermarks add up to %d", total)
	}
	// A member of another generation may not commit: the client says
	// rebalance.
	if err := g2.CommitUpTo(ctx, []client.Record{{Topic: "resume", Partition: 99, Offset: 1}}); !errors.Is(err, client.ErrPartitionNotFound) {
		t.Fatalf("commit of an unknown partition: %v", err)
	}
}
