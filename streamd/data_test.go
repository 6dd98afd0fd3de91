package streamd_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"cairn.dev/cairn/node/rpcerr"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/client"
	"cairn.dev/cairn/streamd/record"
	"cairn.dev/cairn/streamd/streamdtest"
)

// TestServer covers produce, fetch, streams, offsets, topics, groups and bad
// input on one three-node cluster that no subtest stops a node of, one
// subtest per behaviour, each on its own topic and group.
func TestServer(t *testing.T) {
	t.Parallel()
	c := streamdtest.New(t, 3, nil)
	cli := newClient(t, c)

	t.Run("OffsetsAndPartitioning", func(t *testing.T) { testOffsetsAndPartitioning(t, c, cli) })
	t.Run("Acks", func(t *testing.T) { testAcks(t, c, cli) })
	t.Run("LongPoll", func(t *testing.T) { testLongPoll(t, c, cli) })
	t.Run("FetchStream", func(t *testing.T) { testFetchStream(t, c, cli) })
	t.Run("ListOffsets", func(t *testing.T) { testListOffsets(t, c, cli) })
	t.Run("RawRecords", func(t *testing.T) { testRawRecords(t, c, cli) })
	t.Run("ExpectedOffset", func(t *testing.T) { testExpectedOffset(t, c, cli) })
	t.Run("BadInput", func(t *testing.T) { testBadInput(t, c, cli) })
	t.Run("CreateDescribeList", func(t *testing.T) { testCreateDescribeList(t, c, cli) })
	t.Run("DeleteTopic", func(t *testing.T) { testDeleteTopic(t, c, cli) })
	t.Run("AddPartitions", func(t *testing.T) { testAddPartitions(t, c, cli) })
	t.Run("RetentionConfig", func(t *testing.T) { testRetentionConfig(t, c, cli) })
	t.Run("RetentionBySize", func(t *testing.T) { testRetentionBySize(t, c, cli) })
	t.Run("GroupMembership", func(t *testing.T) { testGroupMembership(t, c, cli) })
	t.Run("GroupConsumerResume", func(t *testing.T) { testGroupConsumerResume(t, c, cli) })
}

func testOffsetsAndPartitioning(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "parts", Partitions: 4, Replication: 3})
	// One key: every record in the key's partition, at consecutive offsets.
	want := record.KeyPartition([]byte("user-1"), 4)
	for i := range 10 {
		res, err := cli.Produce(ctx, "parts", []client.Record{{Key: []byte("user-1"), Value: fmt.Appendf(nil, "u%d", i)}}, client.ProduceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res[0].Partition != want || res[0].BaseOffset != int64(i) || res[0].LastOffset != int64(i) {
			t.Fatalf("record %d went to %d@%d-%d, want %d@%d", i, res[0].Partition, res[0].BaseOffset, res[0].LastOffset, want, i)
		}
	}
	// The server hashes keys as the client does (a raw produce naming no
	// partition).
	leaderless := c.Live()[0].ID
	resp, err := stream(c, leaderless).Produce(ctx, &streamdv1.ProduceRequest{Topic: "parts", Records: []*streamdv1.Record{{Key: []byte("user-1"), Value: []byte("raw")}}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetPartition() != want || resp.GetBaseOffset() != 10 {
		t.Fatalf("raw keyed produce went to %d@%d, want %d@10", resp.GetPartition(), resp.GetBaseOffset(), want)
	}
	// Many keys in one call: one batch per partition, each record in its
	// key's partition, a batch's offsets contiguous after what was there.
	var recs []client.Record
	for i := range 40 {
		recs = append(recs, client.Record{Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "v%d", i)})
	}
	res, err := cli.Produce(ctx, "parts", recs, client.ProduceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	perPart := map[int32][]string{}
	for _, r := range recs {
		p := record.KeyPartition(r.Key, 4)
		perPart[p] = append(perPart[p], string(r.Value))
	}
	if len(res) != len(perPart) {
		t.Fatalf("%d batches for %d partitions", len(res), len(perPart))
	}
	for _, r := range res {
		if n := int64(len(perPart[r.Partition])); r.LastOffset-r.BaseOffset+1 != n {
			t.Fatalf("partition %d: offsets %d-%d for %d records", r.Partition, r.BaseOffset, r.LastOffset, n)
		}
	}
	// An explicit partition wins over the key.
	p := (want + 1) % 4
	before := readAll(t, ctx, cli, "parts", p)
	res, err = cli.Produce(ctx, "parts", []client.Record{{Key: []byte("user-1"), Value: []byte("x1")}, {Value: []byte("x2")}, {Value: []byte("x3")}}, client.ProduceOptions{Partition: &p})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Partition != p || res[0].BaseOffset != int64(len(before)) || res[0].LastOffset != int64(len(before))+2 {
		t.Fatalf("explicit partition %d: %+v after %d records", p, res, len(before))
	}
	// Every partition reads back with offsets 0..n-1 and no gaps.
	total := 0
	for part := range int32(4) {
		got := readAll(t, ctx, cli, "parts", part)
		for i, r := range got {
			if r.Offset != int64(i) {
				t.Fatalf("partition %d: record %d has offset %d", part, i, r.Offset)
			}
		}
		if part == want {
			if v := values(got[:11]); !slices.Equal(v, []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "raw"}) {
				t.Fatalf("key partition holds %v", v)
			}
		}
		total += len(got)
	}
	if total != 10+40+1+3 {
		t.Fatalf("read %d records, produced %d", total, 54)
	}
}

func testAcks(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "acks", Partitions: 1, Replication: 3})
	p := int32(0)
	leader := c.Member(partitionInfo(t, cli, "acks", 0).GetLeader())
	for i := range 5 {
		// acks=ALL: acknowledged only once the high watermark passed the
		// batch, so the leader reports it committed at once.
		res, err := cli.Produce(ctx, "acks", []client.Record{{Value: fmt.Appendf(nil, "all%d", i)}}, client.ProduceOptions{Partition: &p, Acks: client.AcksAll})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := stream(c, leader.ID).ListOffsets(ctx, &streamdv1.ListOffsetsRequest{Topic: "acks", Partition: 0, Spec: streamdv1.OffsetSpec_OFFSET_SPEC_LATEST})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetHighWatermark() <= res[0].LastOffset {
			t.Fatalf("acks=all returned offset %d with the high watermark at %d", res[0].LastOffset, resp.GetHighWatermark())
		}
	}
	// acks=LEADER: the leader's log has it when the call returns.
	res, err := cli.Produce(ctx, "acks", []client.Record{{Value: []byte("leader")}}, client.ProduceOptions{Partition: &p, Acks: client.AcksLeader})
	if err != nil {
		t.Fatal(err)
	}
	o, err := cli.ListOffsets(ctx, "acks", 0, streamdv1.OffsetSpec_OFFSET_SPEC_LATEST, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].BaseOffset != 5 || o.LogEnd <= res[0].LastOffset {
		t.Fatalf("acks=leader at %d, leader log end %d", res[0].BaseOffset, o.LogEnd)
	}
	// acks=NONE: offsets come back; the record is committed soon after.
	res, err = cli.Produce(ctx, "acks", []client.Record{{Value: []byte("none")}}, client.ProduceOptions{Partition: &p, Acks: client.AcksNone})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].BaseOffset != 6 {
		t.Fatalf("acks=none at %d, want 6", res[0].BaseOffset)
	}
	waitFor(t, "the acks=none record committed", 10*time.Second, func() bool {
		return len(readAll(t, ctx, cli, "acks", 0)) == 7
	})
	if got := values(readAll(t, ctx, cli, "acks", 0)); !slices.Equal(got, []string{"all0", "all1", "all2", "all3", "all4", "leader", "none"}) {
		t.Fatalf("read %v", got)
	}
}

func testLongPoll(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "poll", Partitions: 1, Replication: 3})
	leader := c.Member(partitionInfo(t, cli, "poll", 0).GetLeader())
	type result struct {
		f   *client.Fetched
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		f, err := cli.Fetch(ctx, "poll", 0, 0, client.FetchOptions{MaxWait: 20 * time.Second})
		done <- result{f, err, time.Now()}
	}()
	waitFor(t, "the fetch parked at the leader", 10*time.Second, func() bool { return leader.Server.Waiters() == 1 })
	select {
	case r := <-done:
		t.Fatalf("the long poll returned before any record: %+v %v", r.f, r.err)
	default:
	}
	start := time.Now()
	p := int32(0)
	if _, err := cli.Produce(ctx, "poll", []client.Record{{Value: []byte("wake")}}, client.ProduceOptions{Partition: &p}); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.f.Records) != 1 || string(r.f.Records[0].Value) != "wake" || r.f.NextOffset != 1 {
		t.Fatalf("long poll got %+v", r.f)
	}
	if d := r.at.Sub(start); d > 5*time.Second {
		t.Fatalf("long poll returned %v after the produce", d)
	}
	if n := leader.Server.Waiters(); n != 0 {
		t.Fatalf("%d waiters left", n)
	}
	// A poll at the end with no record returns empty after its wait.
	f, err := cli.Fetch(ctx, "poll", 0, 1, client.FetchOptions{MaxWait: 100 * time.Millisecond})
	if err != nil || len(f.Records) != 0 || f.NextOffset != 1 || f.HighWatermark != 1 {
		t.Fatalf("empty poll: %+v %v", f, err)
	}
}

func testFetchStream(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "fstream", Partitions: 1, Replication: 3})
	leader := partitionInfo(t, cli, "fstream", 0).GetLeader()
	var want []string
	for i := range 5 {
		want = append(want, fmt.Sprintf("%03d-%s", i, strings.Repeat("x", 100)))
	}
	produceValues(t, cli, "fstream", 0, want...)

	st, err := stream(c, leader).FetchStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A one-byte grant: the server sends one batch (at least one is always
	// sent), then waits for more budget.
	if err := st.Send(&streamdv1.FetchStreamRequest{Start: &streamdv1.FetchRequest{Topic: "fstream", Partition: 0, Offset: 0}, GrantBytes: 1}); err != nil {
		t.Fatal(err)
	}
	type msg struct {
		m   *streamdv1.FetchStreamResponse
		err error
	}
	msgs := make(chan msg, 16)
	go func() {
		for {
			m, err := st.Recv()
			msgs <- msg{m, err}
			if err != nil {
				return
			}
		}
	}()
	var got []string
	take := func(m msg) {
		t.Helper()
		if m.err != nil {
			t.Fatalf("stream: %v", m.err)
		}
		b := m.m.GetBatches()
		for len(b) > 0 {
			batch, rest, err := record.Next(b)
			if err != nil {
				t.Fatal(err)
			}
			if err := batch.Records(func(r record.Record) bool {
				if r.Offset != int64(len(got)) {
					t.Fatalf("stream record at offset %d after %d records", r.Offset, len(got))
				}
				got = append(got, string(r.Value))
				return true
			}); err != nil {
				t.Fatal(err)
			}
			b = rest
		}
	}
	take(<-msgs)
	if len(got) != 1 {
		t.Fatalf("a one-byte grant brought %d records", len(got))
	}
	// The budget is spent: nothing more comes without a grant.
	select {
	case m := <-msgs:
		t.Fatalf("the stream sent past its budget: %v %v", m.m, m.err)
	case <-time.After(500 * time.Millisecond):
	}
	if err := st.Send(&streamdv1.FetchStreamRequest{GrantBytes: 1 << 20}); err != nil {
		t.Fatal(err)
	}
	for len(got) < 5 {
		take(<-msgs)
	}
	// Records produced later are pushed as they commit.
	produceValues(t, cli, "fstream", 0, "live")
	for len(got) < 6 {
		select {
		case m := <-msgs:
			take(m)
		case <-time.After(10 * time.Second):
			t.Fatal("the stream did not push a new record")
		}
	}
	if !slices.Equal(got, append(want, "live")) {
		t.Fatalf("streamed %v", got)
	}
	if err := st.CloseSend(); err != nil {
		t.Fatal(err)
	}
	m := <-msgs
	if m.err != io.EOF {
		t.Fatalf("stream end: %v %v", m.m, m.err)
	}
}

func testListOffsets(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "times", Partitions: 1, Replication: 3})
	p := int32(0)
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for i := range 4 {
		if _, err := cli.Produce(ctx, "times", []client.Record{{Value: fmt.Appendf(nil, "t%d", i), Timestamp: base.Add(time.Duration(i) * 10 * time.Second)}}, client.ProduceOptions{Partition: &p}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		spec streamdv1.OffsetSpec
		at   time.Time
		want int64
	}{
		{streamdv1.OffsetSpec_OFFSET_SPEC_EARLIEST, time.Time{}, 0},
		{streamdv1.OffsetSpec_OFFSET_SPEC_LATEST, time.Time{}, 4},
		{streamdv1.OffsetSpec_OFFSET_SPEC_TIMESTAMP, base.Add(-time.Minute), 0},
		{streamdv1.OffsetSpec_OFFSET_SPEC_TIMESTAMP, base, 0},
		{streamdv1.OffsetSpec_OFFSET_SPEC_TIMESTAMP, base.Add(5 * time.Second), 1},
		{streamdv1.OffsetSpec_OFFSET_SPEC_TIMESTAMP, base.Add(20 * time.Second), 2},
		{streamdv1.OffsetSpec_OFFSET_SPEC_TIMESTAMP, base.Add(21 * time.Second), 3},
		{streamdv1.OffsetSpec_OFFSET_SPEC_TIMESTAMP, base.Add(time.Minute), 4},
	} {
		o, err := cli.ListOffsets(ctx, "times", 0, tc.spec, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		if o.Offset != tc.want || o.HighWatermark != 4 || o.LogStart != 0 || o.LogEnd != 4 {
			t.Errorf("%v at %v: %+v, want offset %d", tc.spec, tc.at.Sub(base), o, tc.want)
		}
	}
	// Served (forwarded) by any node.
	for _, m := range c.Live() {
		resp, err := stream(c, m.ID).ListOffsets(ctx, &streamdv1.ListOffsetsRequest{Topic: "times", Spec: streamdv1.OffsetSpec_OFFSET_SPEC_TIMESTAMP, Timestamp: timestamppb.New(base.Add(15 * time.Second))})
		if err != nil || resp.GetOffset() != 2 {
			t.Fatalf("%s: %v %v", m.ID, resp, err)
		}
	}
	// Record timestamps come back as produced.
	got := readAll(t, ctx, cli, "times", 0)
	for i, r := range got {
		if !r.Timestamp.Equal(base.Add(time.Duration(i) * 10 * time.Second)) {
			t.Fatalf("record %d has timestamp %v", i, r.Timestamp)
		}
	}
}

func testRawRecords(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "raw", Partitions: 2, Replication: 3})
	leader := partitionInfo(t, cli, "raw", 1).GetLeader()
	var other string
	for _, m := range c.Live() {
		if m.ID != leader {
			other = m.ID
		}
	}
	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	p := int32(1)
	// The grpcurl form: records as protobuf messages, sent to a node that
	// does not lead the partition (it forwards).
	resp, err := stream(c, other).Produce(ctx, &streamdv1.ProduceRequest{Topic: "raw", Partition: &p, Acks: streamdv1.Acks_ACKS_ALL, Records: []*streamdv1.Record{
		{Key: []byte("k1"), Value: []byte("v1"), Headers: []*streamdv1.Header{{Key: "h", Value: []byte("hv")}}, Timestamp: timestamppb.New(ts)},
		{Value: []byte("v2")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetPartition() != 1 || resp.GetBaseOffset() != 0 || resp.GetLastOffset() != 1 || resp.GetHeader().GetMemberId() != leader {
		t.Fatalf("records form: %v", resp)
	}
	// The batch form, as the Go client sends it.
	batch := record.AppendBatch(nil, []record.Record{{Key: []byte("k3"), Value: []byte("v3"), Timestamp: ts.UnixMilli()}}, record.Producer{ID: -1, Epoch: -1, BaseSequence: -1})
	resp, err = stream(c, other).Produce(ctx, &streamdv1.ProduceRequest{Topic: "raw", Partition: &p, Batch: batch})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetBaseOffset() != 2 || resp.GetLastOffset() != 2 {
		t.Fatalf("batch form: %v", resp)
	}
	// Fetch decoded records (the grpcurl form) from any node.
	f, err := stream(c, other).Fetch(ctx, &streamdv1.FetchRequest{Topic: "raw", Partition: 1, Offset: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.GetRecords()) != 2 || f.GetNextOffset() != 3 || f.GetHighWatermark() != 3 {
		t.Fatalf("fetch from 1: %v", f)
	}
	f, err = stream(c, leader).Fetch(ctx, &streamdv1.FetchRequest{Topic: "raw", Partition: 1, Offset: 0, MaxRecords: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.GetRecords()) != 1 || f.GetNextOffset() != 1 {
		t.Fatalf("fetch with max_records 1: %v", f)
	}
	r := f.GetRecords()[0]
	if r.GetOffset() != 0 || string(r.GetKey()) != "k1" || string(r.GetValue()) != "v1" || !r.GetTimestamp().AsTime().Equal(ts) ||
		len(r.GetHeaders()) != 1 || r.GetHeaders()[0].GetKey() != "h" || string(r.GetHeaders()[0].GetValue()) != "hv" {
		t.Fatalf("record 0 read back as %v", r)
	}
	// The Go client sees the same records.
	got := readAll(t, ctx, cli, "raw", 1)
	if v := values(got); !slices.Equal(v, []string{"v1", "v2", "v3"}) || string(got[2].Key) != "k3" || got[1].Key != nil {
		t.Fatalf("client read %v", got)
	}
}

func testExpectedOffset(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "account-1", Partitions: 1, Replication: 3})
	p := int32(0)
	appendAt := func(expect int64, v string) ([]client.Result, error) {
		return cli.Produce(ctx, "account-1", []client.Record{{Value: []byte(v)}}, client.ProduceOptions{Partition: &p, ExpectedOffset: &expect})
	}
	for i, v := range []string{"deposit 100", "withdraw 30"} {
		res, err := appendAt(int64(i), v)
		if err != nil {
			t.Fatal(err)
		}
		if res[0].BaseOffset != int64(i) {
			t.Fatalf("append at %d went to %d", i, res[0].BaseOffset)
		}
	}
	// A writer that read only the first event conflicts, learning the end.
	_, err := appendAt(1, "withdraw 80")
	if !errors.Is(err, client.ErrOffsetMismatch) {
		t.Fatalf("stale append: %v", err)
	}
	wantErr(t, err, codes.FailedPrecondition, rpcerr.OffsetMismatch, map[string]string{"end_offset": "2", "expected_offset": "1"})
	if end, ok := client.CurrentEnd(err); !ok || end != 2 {
		t.Fatalf("CurrentEnd(%v) = %d, %v", err, end, ok)
	}
	_, err = appendAt(7, "withdraw 80")
	wantErr(t, err, codes.FailedPrecondition, rpcerr.OffsetMismatch, map[string]string{"end_offset": "2"})
	// Through a node that forwards, in the records form.
	for _, m := range c.Live() {
		exp := int64(0)
		_, err := stream(c, m.ID).Produce(ctx, &streamdv1.ProduceRequest{Topic: "account-1", Partition: &p, ExpectedOffset: &exp, Records: []*streamdv1.Record{{Value: []byte("x")}}})
		wantErr(t, err, codes.FailedPrecondition, rpcerr.OffsetMismatch, map[string]string{"end_offset": "2"})
	}
	if _, err := appendAt(2, "withdraw 20"); err != nil {
		t.Fatal(err)
	}
	if got := values(readAll(t, ctx, cli, "account-1", 0)); !slices.Equal(got, []string{"deposit 100", "withdraw 30", "withdraw 20"}) {
		t.Fatalf("events %v", got)
	}
}

func testBadInput(t *testing.T, c *streamdtest.Cluster, cli *client.Client) {
	ctx := testCtx(t)
	createTopic(t, cli, &streamdv1.CreateTopicRequest{Name: "bad", Partitions: 2, Replication: 3, Config: &streamdv1.TopicConfig{MaxBatchBytes: 4096}})
	produceValues(t, cli, "bad", 0, "a", "b")
	node := c.Live()[1].ID
	sc := stream(c, node)
	tc := topics(c, node)
	p := func(v int32) *int32 { return &v }
	good := record.AppendBatch(nil, []record.Record{{Value: []byte("hello")}}, record.Producer{ID: -1, Epoch: -1, BaseSequence: -1})
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)-2] ^= 0xff
	short := good[:len(good)-3]
	big := record.AppendBatch(nil, []record.Record{{Value: make([]byte, 5000)}}, record.Producer{ID: -1, Epoch: -1, BaseSequence: -1})

	type check struct {
		name   string
		call   func() error
		code   codes.Code
		reason rpcerr.Reason
		md     map[string]string
	}
	produce := func(req *streamdv1.ProduceRequest) func() error {
		return func() error { _, err := sc.Produce(ctx, req); return err }
	}
	fetch := func(req *streamdv1.FetchRequest) func() error {
		return func() error { _, err := sc.Fetch(ctx, req); return err }
	}
	create := func(req *streamdv1.CreateTopicRequest) func() error {
		return func() error { _, err := tc.CreateTopic(ctx, req); return err }
	}
	recs := []*streamdv1.Record{{Value: []byte("v")}}
	checks := []check{
		{"produce unknown topic", produce(&streamdv1.ProduceRequest{Topic: "nope", Records: recs}), codes.NotFound, rpcerr.TopicNotFound, nil},
		{"produce partition out of range", produce(&streamdv1.ProduceRequest{Topic: "bad", Partition: p(2), Records: recs}), codes.NotFound, rpcerr.PartitionNotFound, map[string]string{"field": "partition", "limit": "2"}},
		{"produce negative partition", produce(&streamdv1.ProduceRequest{Topic: "bad", Partition: p(-1), Records: recs}), codes.NotFound, rpcerr.PartitionNotFound, map[string]string{"field": "partition"}},
		{"produce no records", produce(&streamdv1.ProduceRequest{Topic: "bad"}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "records"}},
		{"produce records and batch", produce(&streamdv1.ProduceRequest{Topic: "bad", Records: recs, Batch: good}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "batch"}},
		{"produce corrupt batch", produce(&streamdv1.ProduceRequest{Topic: "bad", Partition: p(0), Batch: corrupt}), codes.InvalidArgument, rpcerr.CorruptBatch, nil},
		{"produce short batch", produce(&streamdv1.ProduceRequest{Topic: "bad", Partition: p(0), Batch: short}), codes.InvalidArgument, rpcerr.CorruptBatch, nil},
		{"produce garbage", produce(&streamdv1.ProduceRequest{Topic: "bad", Partition: p(0), Batch: []byte("not a batch")}), codes.InvalidArgument, rpcerr.CorruptBatch, nil},
		{"produce oversize batch", produce(&streamdv1.ProduceRequest{Topic: "bad", Partition: p(0), Batch: big}), codes.ResourceExhausted, rpcerr.LimitExceeded, map[string]string{"field": "batch", "limit": "4096", "limit_name": "max_batch_bytes"}},
		{"produce oversize records", produce(&streamdv1.ProduceRequest{Topic: "bad", Partition: p(0), Records: []*streamdv1.Record{{Value: make([]byte, 5000)}}}), codes.ResourceExhausted, rpcerr.LimitExceeded, map[string]string{"field": "records", "limit": "4096"}},
		{"produce bad timeout", produce(&streamdv1.ProduceRequest{Topic: "bad", Partition: p(0), Records: recs, Timeout: durationpb.New(-time.Second)}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "timeout"}},
		{"fetch unknown topic", fetch(&streamdv1.FetchRequest{Topic: "nope"}), codes.NotFound, rpcerr.TopicNotFound, nil},
		{"fetch partition out of range", fetch(&streamdv1.FetchRequest{Topic: "bad", Partition: 9}), codes.NotFound, rpcerr.PartitionNotFound, map[string]string{"field": "partition"}},
		{"fetch offset past the end", fetch(&streamdv1.FetchRequest{Topic: "bad", Partition: 0, Offset: 1000}), codes.OutOfRange, rpcerr.OffsetOutOfRange, nil},
		{"fetch negative offset", fetch(&streamdv1.FetchRequest{Topic: "bad", Partition: 0, Offset: -1}), codes.OutOfRange, rpcerr.OffsetOutOfRange, nil},
		{"fetch negative max_bytes", fetch(&streamdv1.FetchRequest{Topic: "bad", Partition: 0, MaxBytes: -1}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "max_bytes"}},
		{"fetch huge max_bytes", fetch(&streamdv1.FetchRequest{Topic: "bad", Partition: 0, MaxBytes: 1 << 30}), codes.ResourceExhausted, rpcerr.LimitExceeded, map[string]string{"field": "max_bytes"}},
		{"fetch long max_wait", fetch(&streamdv1.FetchRequest{Topic: "bad", Partition: 0, MaxWait: durationpb.New(time.Hour)}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "max_wait"}},
		{"fetch negative max_records", fetch(&streamdv1.FetchRequest{Topic: "bad", Partition: 0, MaxRecords: -1}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "max_records"}},
		{"list offsets partition out of range", func() error {
			_, err := sc.ListOffsets(ctx, &streamdv1.ListOffsetsRequest{Topic: "bad", Partition: 5})
			return err
		}, codes.NotFound, rpcerr.PartitionNotFound, map[string]string{"field": "partition"}},
		{"list offsets timestamp missing", func() error {
			_, err := sc.ListOffsets(ctx, &streamdv1.ListOffsetsRequest{Topic: "bad", Spec: streamdv1.OffsetSpec_OFFSET_SPEC_TIMESTAMP})
			return err
		}, codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "timestamp"}},
		{"create empty name", create(&streamdv1.CreateTopicRequest{Name: ""}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "name"}},
		{"create name with slash", create(&streamdv1.CreateTopicRequest{Name: "a/b"}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "name"}},
		{"create name with dots only", create(&streamdv1.CreateTopicRequest{Name: ".."}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "name"}},
		{"create long name", create(&streamdv1.CreateTopicRequest{Name: strings.Repeat("n", 250)}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "name", "limit": "249"}},
		{"create negative partitions", create(&streamdv1.CreateTopicRequest{Name: "x", Partitions: -1}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "partitions"}},
		{"create too many partitions", create(&streamdv1.CreateTopicRequest{Name: "x", Partitions: 5000}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "partitions"}},
		{"create replication over nodes", create(&streamdv1.CreateTopicRequest{Name: "x", Replication: 4}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "replication"}},
		{"create tiny segments", create(&streamdv1.CreateTopicRequest{Name: "x", Config: &streamdv1.TopicConfig{SegmentBytes: 10}}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "config.segment_bytes"}},
		{"create min isr over replication", create(&streamdv1.CreateTopicRequest{Name: "x", Replication: 2, Config: &streamdv1.TopicConfig{MinInsyncReplicas: 3}}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "config.min_insync_replicas"}},
		{"create huge batches", create(&streamdv1.CreateTopicRequest{Name: "x", Config: &streamdv1.TopicConfig{MaxBatchBytes: 64 << 20}}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "config.max_batch_bytes"}},
		{"create negative segment age", create(&streamdv1.CreateTopicRequest{Name: "x", Config: &streamdv1.TopicConfig{SegmentAge: durationpb.New(-time.Second)}}), codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "config.segment_age"}},
		{"update unknown config field", func() error {
			_, err := tc.UpdateTopicConfig(ctx, &streamdv1.UpdateTopicConfigRequest{Name: "bad", Mask: []string{"colour"}})
			return err
		}, codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "mask[0]"}},
		{"update bad segment size", func() error {
			_, err := tc.UpdateTopicConfig(ctx, &streamdv1.UpdateTopicConfigRequest{Name: "bad", Config: &streamdv1.TopicConfig{SegmentBytes: 1}, Mask: []string{"segment_bytes"}})
			return err
		}, codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "config.segment_bytes"}},
		{"describe unknown topic", func() error {
			_, err := tc.DescribeTopic(ctx, &streamdv1.DescribeTopicRequest{Name: "nope"})
			return err
		}, codes.NotFound, rpcerr.TopicNotFound, nil},
		{"delete unknown topic", func() error { _, err := tc.DeleteTopic(ctx, &streamdv1.DeleteTopicRequest{Name: "nope"}); return err }, codes.NotFound, rpcerr.TopicNotFound, nil},
		{"add fewer partitions", func() error {
			_, err := tc.AddPartitions(ctx, &streamdv1.AddPartitionsRequest{Name: "bad", Partitions: 1})
			return err
		}, codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "partitions"}},
	}
	gc := groupsOf(c)
	checks = append(checks,
		check{"join with a short session", func() error {
			_, err := gc.JoinGroup(ctx, &streamdv1.JoinGroupRequest{Group: "g", Topics: []string{"bad"}, SessionTimeout: durationpb.New(10 * time.Millisecond)})
			return err
		}, codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "session_timeout"}},
		check{"join with a long session", func() error {
			_, err := gc.JoinGroup(ctx, &streamdv1.JoinGroupRequest{Group: "g", Topics: []string{"bad"}, SessionTimeout: durationpb.New(time.Hour)})
			return err
		}, codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "session_timeout"}},
		check{"join with a negative session", func() error {
			_, err := gc.JoinGroup(ctx, &streamdv1.JoinGroupRequest{Group: "g", Topics: []string{"bad"}, SessionTimeout: durationpb.New(-time.Second)})
			return err
		}, codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "session_timeout"}},
		check{"join with a short rebalance timeout", func() error {
			_, err := gc.JoinGroup(ctx, &streamdv1.JoinGroupRequest{Group: "g", Topics: []string{"bad"}, RebalanceTimeout: durationpb.New(time.Millisecond)})
			return err
		}, codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "rebalance_timeout"}},
		check{"join without a group", func() error {
			_, err := gc.JoinGroup(ctx, &streamdv1.JoinGroupRequest{Topics: []string{"bad"}})
			return err
		}, codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "group"}},
		check{"commit a negative offset", func() error {
			_, err := gc.CommitOffsets(ctx, &streamdv1.CommitOffsetsRequest{Group: "g", Offsets: []*streamdv1.PartitionOffset{{Topic: "bad", Partition: 0, Offset: -5}}})
			return err
		}, codes.InvalidArgument, rpcerr.InvalidArgument, map[string]string{"field": "offsets.offset"}},
		check{"commit an unknown partition", func() error {
			_, err := gc.CommitOffsets(ctx, &streamdv1.CommitOffsetsRequest{Group: "g", Offsets: []*streamdv1.PartitionOffset{{Topic: "bad", Partition: 2, Offset: 1}}})
			return err
		}, codes.NotFound, rpcerr.PartitionNotFound, map[string]string{"field": "partition"}},
		check{"describe an unknown group", func() error {
			_, err := gc.DescribeGroup(ctx, &streamdv1.DescribeGroupRequest{Group: "nobody"})
			return err
		}, codes.NotFound, rpcerr.GroupNotFound, map[string]string{"field": "group"}},
	)
	for _, ch := range checks {
		t.Run(ch.name, func(t *testing.T) {
			wantErr(t, ch.call(), ch.code, ch.reason, ch.md)
		})
	}
	// Nothing of the refused produces landed.
	if got := values(readAll(t, ctx, cli, "bad", 0)); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("partition 0 holds %v", got)
	}
	// The client maps the reasons to its sentinels.
	_, err := cli.Fetch(ctx, "bad", 0, 99, client.FetchOptions{})
	if !errors.Is(err, client.ErrOffsetOutOfRange) {
		t.Fatalf("client fetch past the end: %v", err)
	}
	_, err = cli.Produce(ctx, "nope", []client.Record{{Value: []byte("v")}}, client.ProduceOptions{})
	if !errors.Is(err, client.ErrTopicNotFound) {
		t.Fatalf("client produce to an unknown topic: %v", err)
	}
	_, err = cli.Produce(ctx, "bad", []client.Record{{Value: make([]byte, 5000)}}, client.ProduceOptions{Partition: p(0)})
	if !errors.Is(err, client.ErrLimitExceeded) {
		t.Fatalf("client oversize produce: %v", err)
	}
}
