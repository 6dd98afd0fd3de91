package streamd_test

import (
	"errors"
	"fmt"
	"os"
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

func testCreateDescribeList(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	req := &streamdv1.CreateTopicRequest{Name: "orders", Partitions: 3, Replication: 3, Config: &streamdv1.TopicConfig{Retention: durationpb.New(time.Hour)}}
	resp, err := cli.CreateTopic(ctx, req)
	if err != nil || !resp.GetCreated() {
		t.Fatalf("create: %v %v", resp, err)
	}
	// The same request again succeeds without creating.
	again, err := cli.CreateTopic(ctx, req)
	if err != nil || again.GetCreated() || again.GetTopic().GetId() != resp.GetTopic().GetId() {
		t.Fatalf("create again: %v %v", again, err)
	}
	// Another configuration under the same name is refused.
	for _, other := range []*streamdv1.CreateTopicRequest{
		{Name: "orders", Partitions: 4, Replication: 3, Config: req.Config},
		{Name: "orders", Partitions: 3, Replication: 2, Config: req.Config},
		{Name: "orders", Partitions: 3, Replication: 3},
	} {
		_, err := cli.CreateTopic(ctx, other)
		if !errors.Is(err, client.ErrTopicExists) {
			t.Fatalf("create %v: %v", other, err)
		}
		wantErr(t, err, codes.AlreadyExists, rpcerr.TopicExists, nil)
	}
	// Placement: distinct replicas per partition, leaders spread, the
	// leader first and in the ISR; offsets known.
	produceValues(t, cli, "orders", 1, "a", "b")
	var d *streamdv1.Topic
	waitFor(t, "orders described with offsets", 10*time.Second, func() bool {
		d, err = cli.DescribeTopic(ctx, "orders")
		if err != nil {
			return false
		}
		for _, p := range d.GetPartitions() {
			if !p.GetOffsetsKnown() || len(p.GetIsr()) != 3 {
				return false
			}
		}
		return true
	})
	if d.GetName() != "orders" || d.GetReplication() != 3 || len(d.GetPartitions()) != 3 || d.GetConfig().GetRetention().AsDuration() != time.Hour ||
		d.GetConfig().GetMinInsyncReplicas() != 2 || d.GetConfig().GetSegmentBytes() != 128<<20 {
		t.Fatalf("describe: %v", d)
	}
	leaders := map[string]bool{}
	for i, p := range d.GetPartitions() {
		if p.GetPartition() != int32(i) || len(p.GetReplicas()) != 3 || len(slices.Compact(slices.Sorted(slices.Values(p.GetReplicas())))) != 3 {
			t.Fatalf("partition %d: %v", i, p)
		}
		if p.GetLeader() != p.GetReplicas()[0] || !slices.Contains(p.GetIsr(), p.GetLeader()) || p.GetLeaderAddr() != c.Member(p.GetLeader()).Server.Addr() {
			t.Fatalf("partition %d leader: %v", i, p)
		}
		leaders[p.GetLeader()] = true
	}
	if len(leaders) != 3 {
		t.Fatalf("leaders %v: not spread over the nodes", leaders)
	}
	if p := d.GetPartitions()[1]; p.GetHighWatermark() != 2 || p.GetLogEndOffset() != 2 || p.GetLogStartOffset() != 0 {
		t.Fatalf("partition 1 offsets: %v", p)
	}
	// Every node describes it the same way.
	for _, m := range c.Live() {
		resp, err := topics(c, m.ID).DescribeTopic(ctx, &streamdv1.DescribeTopicRequest{Name: "orders"})
		if err != nil || resp.GetTopic().GetId() != d.GetId() {
			t.Fatalf("%s describes %v %v", m.ID, resp, err)
		}
	}
	list, err := cli.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tp := range list {
		names = append(names, tp.GetName())
		if tp.GetName() == "orders" && (len(tp.GetPartitions()) != 3 || tp.GetPartitions()[0].GetLeader() == "" || tp.GetConfig().GetRetention().AsDuration() != time.Hour) {
			t.Fatalf("listed orders as %v", tp)
		}
	}
	if !slices.Contains(names, "orders") || !slices.IsSorted(names) {
		t.Fatalf("list: %v", names)
	}
}

func testDeleteTopic(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	tp := createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "doomed", Partitions: 2, Replication: 3})
	produceValues(t, cli, "doomed", 0, "old1", "old2")
	produceValues(t, cli, "doomed", 1, "old3")
	var dirs []string
	for _, m := range c.Live() {
		for p := range int32(2) {
			dir := m.Server.ReplicaDir(tp.GetId(), p)
			if _, err := os.Stat(dir); err != nil {
				t.Fatalf("%s has no replica dir: %v", m.ID, err)
			}
			dirs = append(dirs, dir)
		}
	}
	if err := cli.DeleteTopic(ctx, "doomed"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every replica dir removed", 10*time.Second, func() bool {
		for _, d := range dirs {
			if _, err := os.Stat(d); !os.IsNotExist(err) {
				return false
			}
		}
		return true
	})
	if _, err := cli.DescribeTopic(ctx, "doomed"); !errors.Is(err, client.ErrTopicNotFound) {
		t.Fatalf("describe a deleted topic: %v", err)
	}
	if _, err := cli.Fetch(ctx, "doomed", 0, 0, client.FetchOptions{}); !errors.Is(err, client.ErrTopicNotFound) {
		t.Fatalf("fetch a deleted topic: %v", err)
	}
	// A new topic of that name is another topic, empty.
	tp2 := createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "doomed", Partitions: 2, Replication: 3})
	if tp2.GetId() == tp.GetId() {
		t.Fatalf("the new topic reuses id %d", tp.GetId())
	}
	for p := range int32(2) {
		o, err := cli.ListOffsets(ctx, "doomed", p, streamdv1.OffsetSpec_OFFSET_SPEC_LATEST, time.Time{})
		if err != nil || o.LogEnd != 0 || o.HighWatermark != 0 {
			t.Fatalf("new partition %d: %+v %v", p, o, err)
		}
	}
	res := produceValues(t, cli, "doomed", 0, "new")
	if res[0] != 0 {
		t.Fatalf("the new topic's first record at %d", res[0])
	}
	if got := values(readAll(t, ctx, cli, "doomed", 0)); !slices.Equal(got, []string{"new"}) {
		t.Fatalf("new topic holds %v", got)
	}
}

func testAddPartitions(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "grow", Partitions: 1, Replication: 2})
	produceValues(t, cli, "grow", 0, "p0")
	tp, err := cli.AddPartitions(ctx, "grow", 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(tp.GetPartitions()) != 4 {
		t.Fatalf("after add: %v", tp)
	}
	for p := range int32(4) {
		leader := leaderOf(t, cli, "grow", p)
		want := int64(0)
		if p == 0 {
			want = 1
		}
		if got := produceValues(t, cli, "grow", p, fmt.Sprintf("in %d", p)); got[0] != want {
			t.Fatalf("partition %d (led by %s): first new record at %d", p, leader, got[0])
		}
	}
	// Keys hash over the new count; the server and the client agree.
	res, err := cli.Produce(ctx, "grow", []client.Record{{Key: []byte("k"), Value: []byte("v")}}, client.ProduceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := stream(c, c.Live()[0].ID).Produce(ctx, &streamdv1.ProduceRequest{Topic: "grow", Records: []*streamdv1.Record{{Key: []byte("k"), Value: []byte("v")}}})
	if err != nil || raw.GetPartition() != res[0].Partition {
		t.Fatalf("server put key k in %v (%v), the client in %d", raw.GetPartition(), err, res[0].Partition)
	}
	_, err = cli.AddPartitions(ctx, "grow", 4)
	if !errors.Is(err, client.ErrInvalidArgument) {
		t.Fatalf("add to the same count: %v", err)
	}
}

func testRetentionConfig(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	// segment_age of 1ms: every batch rolls a new segment.
	tp := createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "aged", Partitions: 1, Replication: 3, Config: &streamdv1.TopicConfig{SegmentAge: durationpb.New(time.Millisecond)}})
	for i := range 6 {
		produceValues(t, cli, "aged", 0, fmt.Sprintf("r%d", i))
		time.Sleep(2 * time.Millisecond) // let the next batch roll a segment (not synchronisation)
	}
	o, err := cli.ListOffsets(ctx, "aged", 0, streamdv1.OffsetSpec_OFFSET_SPEC_EARLIEST, time.Time{})
	if err != nil || o.Offset != 0 {
		t.Fatalf("before: %+v %v", o, err)
	}
	// Retention of 1ms: every closed segment goes, on every replica.
	resp, err := topics(c, c.Live()[2].ID).UpdateTopicConfig(ctx, &streamdv1.UpdateTopicConfigRequest{Name: "aged", Config: &streamdv1.TopicConfig{Retention: durationpb.New(time.Millisecond)}, Mask: []string{"retention"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetTopic().GetConfig().GetRetention().AsDuration() != time.Millisecond || resp.GetTopic().GetConfig().GetSegmentAge().AsDuration() != time.Millisecond {
		t.Fatalf("updated config: %v", resp.GetTopic().GetConfig())
	}
	waitFor(t, "old segments deleted on every replica", 10*time.Second, func() bool {
		for _, m := range c.Live() {
			r, ok := m.Server.Replica(tp.GetId(), 0)
			if !ok || r.Start != 5 {
				return false
			}
		}
		return true
	})
	o, err = cli.ListOffsets(ctx, "aged", 0, streamdv1.OffsetSpec_OFFSET_SPEC_EARLIEST, time.Time{})
	if err != nil || o.Offset != 5 || o.HighWatermark != 6 {
		t.Fatalf("after: %+v %v", o, err)
	}
	if _, err := cli.Fetch(ctx, "aged", 0, 0, client.FetchOptions{}); !errors.Is(err, client.ErrOffsetOutOfRange) {
		t.Fatalf("fetch below the log start: %v", err)
	}
	if got := values(readFrom(t, cli, "aged", 0, 5)); !slices.Equal(got, []string{"r5"}) {
		t.Fatalf("left %v", got)
	}
	d, err := cli.DescribeTopic(ctx, "aged")
	if err != nil || d.GetConfig().GetRetention().AsDuration() != time.Millisecond {
		t.Fatalf("describe: %v %v", d, err)
	}
}

func testRetentionBySize(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	tp := createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "sized", Partitions: 1, Replication: 3, Config: &streamdv1.TopicConfig{
		SegmentAge: durationpb.New(time.Millisecond), RetentionBytes: 3000,
	}})
	leader := c.Member(partitionInfo(t, cli, "sized", 0).GetLeader())
	val := make([]byte, 900)
	p := int32(0)
	for i := range 10 {
		copy(val, fmt.Sprintf("r%d", i))
		if _, err := cli.Produce(ctx, "sized", []client.Record{{Value: val}}, client.ProduceOptions{Partition: &p}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // one segment per batch (not synchronisation)
		r, _ := leader.Server.Replica(tp.GetId(), 0)
		if r.Start > r.HW {
			t.Fatalf("retention passed the high watermark: %+v", r)
		}
	}
	waitFor(t, "the oldest segments deleted by size", 10*time.Second, func() bool {
		o, err := cli.ListOffsets(ctx, "sized", 0, streamdv1.OffsetSpec_OFFSET_SPEC_EARLIEST, time.Time{})
		return err == nil && o.Offset >= 6
	})
	o, err := cli.ListOffsets(ctx, "sized", 0, streamdv1.OffsetSpec_OFFSET_SPEC_EARLIEST, time.Time{})
	if err != nil || o.Offset > 8 || o.HighWatermark != 10 {
		t.Fatalf("after retention: %+v %v", o, err)
	}
	got := readFrom(t, cli, "sized", 0, o.Offset)
	if len(got) != int(10-o.Offset) || got[0].Offset != o.Offset {
		t.Fatalf("read %d records from %d", len(got), o.Offset)
	}
}

// readFrom reads partition p of topic from offset to its high watermark.
func readFrom(t *testing.T, cli *client.Client, topic string, p int32, offset int64) []client.Record {
	t.Helper()
	var out []client.Record
	for {
		f, err := cli.Fetch(testCtx(t), topic, p, offset, client.FetchOptions{})
		if err != nil {
			t.Fatalf("fetch %s/%d at %d: %v", topic, p, offset, err)
		}
		out = append(out, f.Records...)
		if f.NextOffset >= f.HighWatermark || len(f.Records) == 0 {
			return out
		}
		offset = f.NextOffset
	}
}
