package meta

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/raftnode"
	"cairn.dev/cairn/node/rpcerr"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
)

func TestRegisterNode(t *testing.T) {
	ts := openTestStore(t)
	res := ts.must(RegisterNode("a", "a:1"))
	require.True(t, res.GetNode().Created)
	require.EqualValues(t, 1, res.GetNode().Node.RegisteredIndex)
	require.False(t, res.GetNode().Node.Fenced)

	res = ts.must(RegisterNode("a", "a:2"))
	require.False(t, res.GetNode().Created)
	require.Equal(t, "a:2", res.GetNode().Node.Addr)
	require.EqualValues(t, 1, res.GetNode().Node.RegisteredIndex, "kept")

	ts.must(FenceNode("a"))
	res = ts.must(RegisterNode("a", "a:3"))
	require.True(t, res.GetNode().Node.Fenced, "registering again does not unfence")

	_, err := ts.refuse(RegisterNode("", "x"), ErrInvalidArgument)
	require.Equal(t, "id", rpcerr.MetadataOf(err)[rpcerr.KeyField])
	_, err = ts.refuse(RegisterNode("b", ""), ErrInvalidArgument)
	require.Equal(t, "addr", rpcerr.MetadataOf(err)[rpcerr.KeyField])
	ts.refuse(FenceNode("zz"), ErrNodeNotFound)
	ts.refuse(UnfenceNode("zz"), ErrNodeNotFound)

	n, err := ts.s.Node("a")
	require.NoError(t, err)
	require.Equal(t, "a:3", n.Addr)
	_, err = ts.s.Node("b")
	require.ErrorIs(t, err, ErrNodeNotFound)
}

// TestRestartedNodeIsFenced: a node registering with a new incarnation has
// restarted; it is fenced in the same entry, so it leads nothing it led in
// its old epochs and leaves the ISRs it shares, while registering again in
// the same incarnation changes nothing.
func TestRestartedNodeIsFenced(t *testing.T) {
	ts := openTestStore(t)
	for _, id := range []string{"n1", "n2", "n3"} {
		res := ts.must(RegisterIncarnation(id, id+":1", 100))
		require.False(t, res.GetNode().Node.Fenced)
		require.EqualValues(t, 100, res.GetNode().Node.Incarnation)
	}
	tr := ts.must(CreateTopic("t", 3, 3, nil)).GetTopic()
	led := map[int32]bool{}
	for _, p := range tr.Partitions {
		if p.Leader == "n1" {
			led[p.Partition] = true
		}
	}
	require.NotEmpty(t, led)
	res := ts.must(RegisterIncarnation("n1", "n1:1", 100)).GetNode()
	require.False(t, res.Node.Fenced, "same incarnation: nothing happens")
	require.Empty(t, res.Changed)

	res = ts.must(RegisterIncarnation("n1", "n1:1", 200)).GetNode()
	require.True(t, res.Node.Fenced, "a new incarnation fences")
	require.EqualValues(t, 200, res.Node.Incarnation)
	for _, p := range tr.Partitions {
		now := ts.partition(tr.Topic.Id, p.Partition)
		require.NotContains(t, now.Isr, "n1")
		if led[p.Partition] {
			require.NotEqual(t, "n1", now.Leader)
			require.Equal(t, p.LeaderEpoch+1, now.LeaderEpoch, "a new leader in a new epoch")
		}
	}
	// Unfenced when ready, it leads nothing until the ISR takes it back.
	ts.must(UnfenceNode("n1"))
	for _, p := range tr.Partitions {
		require.NotEqual(t, "n1", ts.partition(tr.Topic.Id, p.Partition).Leader)
	}
}

func TestCreateTopicPlacementSpreadsLeaders(t *testing.T) {
	ts := openTestStore(t)
	ts.nodes(3)
	res := ts.must(CreateTopic("orders", 6, 2, nil))
	tr := res.GetTopic()
	require.True(t, tr.Created)
	require.EqualValues(t, 4, tr.Topic.Id, "the creating entry's index")
	require.Equal(t, t0.UnixNano(), tr.Topic.CreatedUnixNanos)
	require.True(t, proto.Equal(DefaultTopicConfig(2), tr.Topic.Config))
	require.Len(t, tr.Partitions, 6)
	leads := map[string]int{}
	holds := map[string]int{}
	for i, p := range tr.Partitions {
		require.EqualValues(t, i, p.Partition)
		require.Len(t, p.Replicas, 2)
		require.NotEqual(t, p.Replicas[0], p.Replicas[1])
		require.Equal(t, p.Replicas[0], p.Leader)
		require.Equal(t, p.Replicas, p.Isr)
		require.Zero(t, p.LeaderEpoch)
		require.Zero(t, p.PartitionEpoch)
		leads[p.Leader]++
		for _, r := range p.Replicas {
			holds[r]++
		}
	}
	require.Equal(t, map[string]int{"n1": 2, "n2": 2, "n3": 2}, leads)
	require.Equal(t, map[string]int{"n1": 4, "n2": 4, "n3": 4}, holds)

	// Another topic starts elsewhere (topic id 5: offset 2).
	res = ts.must(CreateTopic("events", 1, 1, nil))
	require.Equal(t, []string{"n3"}, res.GetTopic().Partitions[0].Replicas)

	// The same again: not created; differences: TOPIC_EXISTS.
	res = ts.must(CreateTopic("orders", 6, 2, DefaultTopicConfig(2)))
	require.False(t, res.GetTopic().Created)
	require.EqualValues(t, 4, res.GetTopic().Topic.Id)
	require.Len(t, res.GetTopic().Partitions, 6)
	ts.refuse(CreateTopic("orders", 5, 2, nil), ErrTopicExists)
	ts.refuse(CreateTopic("orders", 6, 3, nil), ErrTopicExists)
	ts.refuse(CreateTopic("orders", 6, 2, &streamdv1.TopicConfig{SegmentBytes: 2 << 20}), ErrTopicExists)

	// Bad arguments.
	_, err := ts.refuse(CreateTopic("a/b", 1, 1, nil), ErrInvalidArgument)
	require.Equal(t, "name", rpcerr.MetadataOf(err)[rpcerr.KeyField])
	_, err = ts.refuse(CreateTopic("x", 0, 1, nil), ErrInvalidArgument)
	require.Equal(t, "partitions", rpcerr.MetadataOf(err)[rpcerr.KeyField])
	_, err = ts.refuse(CreateTopic("x", 1, 0, nil), ErrInvalidArgument)
	require.Equal(t, "replication", rpcerr.MetadataOf(err)[rpcerr.KeyField])
	_, err = ts.refuse(CreateTopic("x", 1, 1, &streamdv1.TopicConfig{MaxBatchBytes: 9 << 20}), ErrInvalidArgument)
	require.Equal(t, "config.max_batch_bytes", rpcerr.MetadataOf(err)[rpcerr.KeyField])

	// Replication above the registered nodes, then above the unfenced ones.
	_, err = ts.refuse(CreateTopic("x", 1, 4, nil), ErrInvalidArgument)
	require.Equal(t, map[string]string{rpcerr.KeyField: "replication", rpcerr.KeyLimit: "3"}, rpcerr.MetadataOf(err))
	ts.must(FenceNode("n2"))
	res, err = ts.refuse(CreateTopic("x", 1, 3, nil), ErrNotEnoughNodes)
	require.Equal(t, string(rpcerr.NotEnoughReplicas), res.Error)
	require.Equal(t, map[string]string{rpcerr.KeyField: "replication", rpcerr.KeyLimit: "2"}, rpcerr.MetadataOf(err))
	res = ts.must(CreateTopic("x", 4, 2, nil))
	for _, p := range res.GetTopic().Partitions {
		require.NotContains(t, p.Replicas, "n2", "fenced nodes get no replicas")
	}
	_, err = ts.s.Topic("nope")
	require.ErrorIs(t, err, ErrTopicNotFound)
}

func TestFenceAndUnfenceElect(t *testing.T) {
	ts := openTestStore(t)
	ts.nodes(3)
	tr := ts.must(CreateTopic("t", 3, 3, nil)).GetTopic()
	id := tr.Topic.Id
	// Find the partition n1 leads.
	var p0 int32 = -1
	for _, p := range tr.Partitions {
		if p.Leader == "n1" {
			p0 = p.Partition
		}
	}
	require.NotEqual(t, int32(-1), p0)
	before := ts.partition(id, p0)

	res := ts.must(FenceNode("n1")).GetNode()
	require.True(t, res.Node.Fenced)
	require.Len(t, res.Changed, 3, "n1 leaves every ISR")
	p := ts.partition(id, p0)
	require.NotContains(t, p.Isr, "n1")
	require.Equal(t, before.Replicas[1], p.Leader, "the next replica in the ISR leads")
	require.Equal(t, before.LeaderEpoch+1, p.LeaderEpoch)
	require.Equal(t, before.PartitionEpoch+1, p.PartitionEpoch)
	for _, q := range res.Changed {
		if q.Partition != p0 {
			require.Zero(t, q.LeaderEpoch, "the leader did not change")
			require.EqualValues(t, 1, q.PartitionEpoch, "the ISR did")
		}
	}
	// Fencing again changes nothing.
	require.Empty(t, ts.must(FenceNode("n1")).GetNode().Changed)

	// Fence the rest: the ISR keeps its last member, the partition is offline.
	ts.must(FenceNode("n2"))
	ts.must(FenceNode("n3"))
	for q := range int32(3) {
		p := ts.partition(id, q)
		require.Len(t, p.Isr, 1)
		require.Equal(t, "", p.Leader)
	}
	last := ts.partition(id, p0).Isr[0]

	// Unfencing a node outside the ISR does not bring the partition back.
	other := "n1"
	res = ts.must(UnfenceNode(other)).GetNode()
	require.Equal(t, "", ts.partition(id, p0).Leader)
	// Unfencing the last ISR member does.
	ep := ts.partition(id, p0)
	res = ts.must(UnfenceNode(last)).GetNode()
	require.NotEmpty(t, res.Changed)
	p = ts.partition(id, p0)
	require.Equal(t, last, p.Leader)
	require.Equal(t, ep.LeaderEpoch+1, p.LeaderEpoch)
	require.Equal(t, ep.PartitionEpoch+1, p.PartitionEpoch)
}

func TestAlterPartition(t *testing.T) {
	ts := openTestStore(t)
	ts.nodes(3)
	tr := ts.must(CreateTopic("t", 1, 3, nil)).GetTopic()
	cur := tr.Partitions[0]
	leader, f1, f2 := cur.Replicas[0], cur.Replicas[1], cur.Replicas[2]

	// Shrink.
	res := ts.must(AlterPartition(cur, []string{f2, leader}))
	p := res.GetPartitions().Partitions[0]
	require.Equal(t, []string{leader, f2}, p.Isr, "replica order")
	require.Zero(t, p.LeaderEpoch)
	require.EqualValues(t, 1, p.PartitionEpoch)

	// The old view is stale now: refused with the current state.
	res, err := ts.refuse(AlterPartition(cur, []string{leader}), ErrFencedLeaderEpoch)
	require.True(t, proto.Equal(p, res.GetPartitions().Partitions[0]))
	require.Equal(t, map[string]string{rpcerr.KeyLeader: leader, KeyEpoch: "0", KeyPartitionEpoch: "1"}, rpcerr.MetadataOf(err))
	// Another node posing as leader is refused too.
	wrong := proto.Clone(p).(*streamdraftv1.PartitionRecord)
	wrong.Leader = f1
	ts.refuse(AlterPartition(wrong, []string{f1}), ErrFencedLeaderEpoch)
	stale := proto.Clone(p).(*streamdraftv1.PartitionRecord)
	stale.LeaderEpoch = 5
	ts.refuse(AlterPartition(stale, []string{leader}), ErrFencedLeaderEpoch)

	// Malformed ISRs.
	_, err = ts.refuse(AlterPartition(p, []string{f2}), ErrInvalidArgument)
	require.Equal(t, "new_isr", rpcerr.MetadataOf(err)[rpcerr.KeyField])
	_, err = ts.refuse(AlterPartition(p, []string{leader, "n9"}), ErrInvalidArgument)
	require.Equal(t, "new_isr[1]", rpcerr.MetadataOf(err)[rpcerr.KeyField])
	ts.refuse(AlterPartition(p, []string{leader, leader}), ErrInvalidArgument)
	ts.refuse(AlterPartition(p, nil), ErrInvalidArgument)

	// A fenced node may not be added back.
	ts.must(FenceNode(f1))
	_, err = ts.refuse(AlterPartition(p, []string{leader, f1, f2}), ErrInvalidArgument)
	require.Contains(t, err.Error(), "fenced")
	ts.must(UnfenceNode(f1))
	p = ts.must(AlterPartition(p, []string{leader, f1, f2})).GetPartitions().Partitions[0]
	require.Equal(t, cur.Replicas, p.Isr)
	require.EqualValues(t, 2, p.PartitionEpoch)

	// The same ISR changes nothing.
	same := ts.must(AlterPartition(p, []string{f2, f1, leader})).GetPartitions().Partitions[0]
	require.True(t, proto.Equal(p, same))

	// Unknown topic and partition.
	bad := proto.Clone(p).(*streamdraftv1.PartitionRecord)
	bad.Partition = 1
	_, err = ts.refuse(AlterPartition(bad, []string{leader}), ErrPartitionNotFound)
	require.Equal(t, map[string]string{rpcerr.KeyField: "partition", rpcerr.KeyLimit: "1"}, rpcerr.MetadataOf(err))
	bad.TopicId = 999
	ts.refuse(AlterPartition(bad, []string{leader}), ErrTopicNotFound)
}

func TestElectPreferredLeader(t *testing.T) {
	ts := openTestStore(t)
	ts.nodes(3)
	tr := ts.must(CreateTopic("t", 3, 2, nil)).GetTopic()
	id := tr.Topic.Id
	pref := tr.Partitions[0].Replicas[0]

	ts.must(FenceNode(pref))
	// Still fenced: nothing moves.
	require.Empty(t, ts.must(ElectPreferredLeaders(0)).GetPartitions().Partitions)
	ts.must(UnfenceNode(pref))
	// Not in the ISR: nothing moves.
	require.Empty(t, ts.must(ElectPreferredLeader(id, 0)).GetPartitions().Partitions)
	p := ts.partition(id, 0)
	p = ts.must(AlterPartition(p, p.Replicas)).GetPartitions().Partitions[0]
	require.NotEqual(t, pref, p.Leader)

	moved := ts.must(ElectPreferredLeaders(id)).GetPartitions().Partitions
	// pref is the first replica of partition 0 only; the others' leaders
	// never moved.
	require.Len(t, moved, 1)
	for _, q := range moved {
		require.Equal(t, q.Replicas[0], q.Leader)
	}
	require.Equal(t, pref, ts.partition(id, 0).Leader)
	require.Equal(t, p.LeaderEpoch+1, ts.partition(id, 0).LeaderEpoch)
	require.Empty(t, ts.must(ElectPreferredLeaders(0)).GetPartitions().Partitions, "already preferred")

	ts.refuse(ElectPreferredLeader(id, 3), ErrPartitionNotFound)
	ts.refuse(ElectPreferredLeader(999, 0), ErrTopicNotFound)
	ts.refuse(&streamdraftv1.Command{Op: &streamdraftv1.Command_ElectPreferredLeader{ElectPreferredLeader: &streamdraftv1.ElectPreferredLeaderOp{Partition: proto.Int32(0)}}}, ErrInvalidArgument)
}

func TestTopicLifecycleAndOffsets(t *testing.T) {
	ts := openTestStore(t)
	ts.nodes(3)
	tr := ts.must(CreateTopic("t", 2, 2, nil)).GetTopic()
	ts.must(CreateTopic("u", 1, 1, nil))

	// AddPartitions.
	_, err := ts.refuse(AddPartitions("t", 2), ErrInvalidArgument)
	require.Equal(t, map[string]string{rpcerr.KeyField: "partitions", rpcerr.KeyLimit: "2"}, rpcerr.MetadataOf(err))
	ts.refuse(AddPartitions("nope", 3), ErrTopicNotFound)
	added := ts.must(AddPartitions("t", 5)).GetTopic()
	require.EqualValues(t, 5, added.Topic.Partitions)
	require.Len(t, added.Partitions, 5)
	require.True(t, proto.Equal(tr.Partitions[1], added.Partitions[1]), "old partitions unchanged")
	for _, p := range added.Partitions {
		require.Equal(t, place([]string{"n1", "n2", "n3"}, tr.Topic.Id, p.Partition, 2), p.Replicas)
	}

	// UpdateTopicConfig.
	up := ts.must(UpdateTopicConfig("t", &streamdv1.TopicConfig{Retention: durationpb.New(time.Hour)}, []string{"retention"})).GetTopic()
	require.Equal(t, time.Hour, up.Topic.Config.Retention.AsDuration())
	require.EqualValues(t, DefaultSegmentBytes, up.Topic.Config.SegmentBytes)
	_, err = ts.refuse(UpdateTopicConfig("t", &streamdv1.TopicConfig{MinInsyncReplicas: 3}, []string{"min_insync_replicas"}), ErrInvalidArgument)
	require.Equal(t, map[string]string{rpcerr.KeyField: "config.min_insync_replicas", rpcerr.KeyLimit: "2"}, rpcerr.MetadataOf(err))
	ts.refuse(UpdateTopicConfig("t", nil, []string{"colour"}), ErrInvalidArgument)
	ts.refuse(UpdateTopicConfig("nope", nil, []string{"retention"}), ErrTopicNotFound)

	// Offsets.
	ts.now = ts.now.Add(time.Minute)
	res := ts.must(CommitOffsets("g1", []*streamdv1.PartitionOffset{
		{Topic: "t", Partition: 4, Offset: 40, Metadata: "m"}, {Topic: "u", Partition: 0, Offset: 7}, {Topic: "t", Partition: 0, Offset: 1}}))
	require.EqualValues(t, 3, res.GetCommitOffsets().Committed)
	ts.must(CommitOffsets("g2", []*streamdv1.PartitionOffset{{Topic: "t", Partition: 1, Offset: 11}}))
	_, err = ts.refuse(CommitOffsets("g1", []*streamdv1.PartitionOffset{{Topic: "t", Partition: 0, Offset: 99}, {Topic: "t", Partition: 5, Offset: 1}}), ErrPartitionNotFound)
	require.Equal(t, map[string]string{rpcerr.KeyField: "offsets[1].partition", rpcerr.KeyLimit: "5"}, rpcerr.MetadataOf(err))
	ts.refuse(CommitOffsets("g1", []*streamdv1.PartitionOffset{{Topic: "zz", Partition: 0, Offset: 1}}), ErrTopicNotFound)
	ts.refuse(CommitOffsets("g1", []*streamdv1.PartitionOffset{{Topic: "t", Partition: 0, Offset: -1}}), ErrInvalidArgument)
	ts.refuse(CommitOffsets("", nil), ErrInvalidArgument)

	got, err := ts.s.GroupOffsets("g1", nil)
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, "t", got[0].Topic)
	require.EqualValues(t, 0, got[0].Partition)
	require.EqualValues(t, 1, got[0].Offset, "the refused commit changed nothing")
	require.EqualValues(t, 40, got[1].Offset)
	require.Equal(t, "m", got[1].Metadata)
	require.Equal(t, t0.Add(time.Minute), got[1].Committed.AsTime())
	require.Equal(t, "u", got[2].Topic)
	got, err = ts.s.GroupOffsets("g1", []*streamdv1.TopicPartition{{Topic: "t", Partition: 4}, {Topic: "t", Partition: 3}, {Topic: "zz"}})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.EqualValues(t, 40, got[0].Offset)
	groups, err := ts.s.Groups()
	require.NoError(t, err)
	require.Equal(t, []string{"g1", "g2"}, groups)

	// Deleting t drops its offsets in every group, and its partitions.
	del := ts.must(DeleteTopic("t")).GetDeleteTopic()
	require.EqualValues(t, 3, del.OffsetsDeleted)
	require.Equal(t, tr.Topic.Id, del.Topic.Id)
	ts.refuse(DeleteTopic("t"), ErrTopicNotFound)
	got, err = ts.s.GroupOffsets("g1", nil)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "u", got[0].Topic)
	groups, err = ts.s.Groups()
	require.NoError(t, err)
	require.Equal(t, []string{"g1"}, groups)
	_, err = ts.s.Partitions(tr.Topic.Id)
	require.ErrorIs(t, err, ErrTopicNotFound)
	_, err = ts.s.TopicByID(tr.Topic.Id)
	require.ErrorIs(t, err, ErrTopicNotFound)

	// A new topic of the same name has a new id and no offsets.
	again := ts.must(CreateTopic("t", 1, 1, nil)).GetTopic()
	require.NotEqual(t, tr.Topic.Id, again.Topic.Id)
	got, err = ts.s.GroupOffsets("g1", []*streamdv1.TopicPartition{{Topic: "t", Partition: 0}})
	require.NoError(t, err)
	require.Empty(t, got)

	// DeleteGroup.
	require.EqualValues(t, 1, ts.must(DeleteGroup("g1")).GetDeleteGroup().OffsetsDeleted)
	ts.refuse(DeleteGroup("g1"), ErrGroupNotFound)
	groups, err = ts.s.Groups()
	require.NoError(t, err)
	require.Empty(t, groups)
	// Its topic index is gone too: deleting u drops nothing.
	require.Zero(t, ts.must(DeleteTopic("u")).GetDeleteTopic().OffsetsDeleted)
}

func TestGroupsSkipsByName(t *testing.T) {
	ts := openTestStore(t)
	ts.nodes(1)
	ts.must(CreateTopic("t", 3, 1, nil))
	for _, g := range []string{"b", "a", "a b", "ab"} {
		ts.must(CommitOffsets(g, []*streamdv1.PartitionOffset{{Topic: "t", Partition: 0}, {Topic: "t", Partition: 2}}))
	}
	groups, err := ts.s.Groups()
	require.NoError(t, err)
	require.Equal(t, []string{"a", "a b", "ab", "b"}, groups)
}

func TestReadsAndReplicasOn(t *testing.T) {
	ts := openTestStore(t)
	ts.nodes(3)
	ts.must(CreateTopic("b", 3, 2, nil))
	ts.must(CreateTopic("a", 2, 1, nil))

	topics, err := ts.s.Topics()
	require.NoError(t, err)
	require.Equal(t, "a", topics[0].Name)
	require.Equal(t, "b", topics[1].Name)
	nodes, err := ts.s.Nodes()
	require.NoError(t, err)
	require.Len(t, nodes, 3)

	total := 0
	for i := 1; i <= 3; i++ {
		reps, err := ts.s.ReplicasOn(nodeID(i))
		require.NoError(t, err)
		for _, r := range reps {
			require.Contains(t, r.Partition.Replicas, nodeID(i))
			require.Equal(t, r.Topic.Id, r.Partition.TopicId)
		}
		total += len(reps)
	}
	require.Equal(t, 3*2+2*1, total)
	none, err := ts.s.ReplicasOn("n9")
	require.NoError(t, err)
	require.Empty(t, none)

	d, err := ts.s.DescribeTopic("b")
	require.NoError(t, err)
	require.Len(t, d.Partitions, 3)
	_, err = ts.s.DescribeTopic("c")
	require.ErrorIs(t, err, ErrTopicNotFound)
	ns, all, err := ts.s.Metadata()
	require.NoError(t, err)
	require.Len(t, ns, 3)
	require.Len(t, all, 2)
	_, some, err := ts.s.Metadata("b", "zz")
	require.NoError(t, err)
	require.Len(t, some, 1)
	require.Equal(t, "b", some[0].Topic.Name)

	_, err = ts.s.Partition(d.Topic.Id, 3)
	require.ErrorIs(t, err, ErrPartitionNotFound)
	_, err = ts.s.Partition(999, 0)
	require.ErrorIs(t, err, ErrTopicNotFound)
}

func TestProducerIDs(t *testing.T) {
	ts := openTestStore(t)
	require.EqualValues(t, 1000, ts.must(AllocateProducerID()).GetAllocateProducerId().ProducerId)
	require.EqualValues(t, 1001, ts.must(AllocateProducerID()).GetAllocateProducerId().ProducerId)
	ts.reopen()
	require.EqualValues(t, 1002, ts.must(AllocateProducerID()).GetAllocateProducerId().ProducerId)
}

func TestAppliedIndexSkipsReplayedEntries(t *testing.T) {
	ts := openTestStore(t)
	ts.nodes(1)
	e := ts.entry(AllocateProducerID())
	out, err := ts.s.ApplyBatch([]raftnode.Entry{e})
	require.NoError(t, err)
	require.NotEmpty(t, out[0])
	require.Equal(t, e.Index, ts.s.AppliedIndex())
	require.Equal(t, e.Index, ts.s.LastApplied())

	ts.reopen()
	require.Equal(t, e.Index, ts.s.AppliedIndex())
	// Raft replays the log: entries at or below the applied index do nothing.
	ch := ts.s.Changed()
	out, err = ts.s.ApplyBatch([]raftnode.Entry{{Index: 1, Data: mustMarshal(t, RegisterNode("n1", "other:1"))}, e})
	require.NoError(t, err)
	require.Equal(t, [][]byte{{}, {}}, out)
	select {
	case <-ch:
		t.Fatal("a replay changed nothing, Changed must not fire")
	default:
	}
	n, err := ts.s.Node("n1")
	require.NoError(t, err)
	require.Equal(t, "n1:9000", n.Addr)
	// A batch mixing old and new entries applies only the new ones.
	e2 := ts.entry(AllocateProducerID())
	out, err = ts.s.ApplyBatch([]raftnode.Entry{e, e2})
	require.NoError(t, err)
	require.Empty(t, out[0])
	res := &streamdraftv1.CommandResult{}
	require.NoError(t, proto.Unmarshal(out[1], res))
	require.EqualValues(t, 1001, res.GetAllocateProducerId().ProducerId)
}

func TestUndecodableAndEmptyCommands(t *testing.T) {
	ts := openTestStore(t)
	out, err := ts.s.ApplyBatch([]raftnode.Entry{{Index: 1, Data: []byte{0xff, 0xff}}})
	require.NoError(t, err)
	res := &streamdraftv1.CommandResult{}
	require.NoError(t, proto.Unmarshal(out[0], res))
	require.ErrorIs(t, ResultError(res), ErrInvalidArgument)
	ts.idx = 1
	ts.refuse(&streamdraftv1.Command{}, ErrInvalidArgument)
	require.EqualValues(t, 2, ts.s.AppliedIndex(), "failed commands advance the applied index")
}

func TestChanged(t *testing.T) {
	ts := openTestStore(t)
	ch := ts.s.Changed()
	ts.refuse(FenceNode("n1"), ErrNodeNotFound)
	select {
	case <-ch:
		t.Fatal("a failed command changed nothing")
	default:
	}
	ts.must(RegisterNode("n1", "a"))
	<-ch // closed
	ch = ts.s.Changed()
	ts.must(RegisterNode("n1", "a"))
	select {
	case <-ch:
		t.Fatal("an idempotent register changed nothing")
	default:
	}
	ts.must(CreateTopic("t", 1, 1, nil))
	<-ch
}

func TestSnapshotRestore(t *testing.T) {
	a := openTestStore(t)
	a.nodes(3)
	a.must(CreateTopic("t", 4, 3, nil))
	a.must(CommitOffsets("g", []*streamdv1.PartitionOffset{{Topic: "t", Partition: 2, Offset: 9}}))
	a.must(FenceNode("n2"))
	a.must(AllocateProducerID())

	snap, err := a.s.Snapshot()
	require.NoError(t, err)
	// WriteTo runs beside ApplyBatch (as raftnode persists snapshots), and
	// what is applied after the snapshot is not in it. (A batch that grows
	// the file waits for the snapshot's Release.)
	var buf bytes.Buffer
	written := make(chan error, 1)
	go func() {
		_, err := snap.WriteTo(&buf)
		snap.Release()
		written <- err
	}()
	a.must(DeleteTopic("t"))
	require.NoError(t, <-written)
	data := buf.Bytes()

	b := openTestStore(t)
	b.nodes(1)
	ch := b.s.Changed()
	require.NoError(t, b.s.Restore(bytes.NewReader(data)))
	<-ch
	require.Equal(t, a.s.AppliedIndex()-1, b.s.AppliedIndex())
	nodes, topics, err := b.s.Metadata()
	require.NoError(t, err)
	require.Len(t, nodes, 3)
	require.True(t, nodes[1].Fenced)
	require.Len(t, topics, 1)
	require.Len(t, topics[0].Partitions, 4)
	for _, p := range topics[0].Partitions {
		require.NotContains(t, p.Isr, "n2")
	}
	offs, err := b.s.GroupOffsets("g", nil)
	require.NoError(t, err)
	require.Len(t, offs, 1)
	require.EqualValues(t, 9, offs[0].Offset)
	// The restored store goes on from the snapshot's state.
	b.idx = b.s.AppliedIndex()
	require.EqualValues(t, 1001, b.must(AllocateProducerID()).GetAllocateProducerId().ProducerId)
	b.reopen()
	_, err = b.s.Topic("t")
	require.NoError(t, err)

	// Garbage is refused and the state kept.
	err = b.s.Restore(strings.NewReader("not a database"))
	require.ErrorIs(t, err, ErrCorrupt)
	_, err = b.s.Topic("t")
	require.NoError(t, err)
}

func TestClosed(t *testing.T) {
	ts := openTestStore(t)
	require.NoError(t, ts.s.Close())
	require.NoError(t, ts.s.Close())
	_, err := ts.s.ApplyBatch([]raftnode.Entry{ts.entry(AllocateProducerID())})
	require.ErrorIs(t, err, ErrClosed)
	_, err = ts.s.Topics()
	require.ErrorIs(t, err, ErrClosed)
	_, err = ts.s.Snapshot()
	require.ErrorIs(t, err, ErrClosed)
	ts.reopen()
}

func TestPropose(t *testing.T) {
	ts := openTestStore(t)
	apply := func(_ context.Context, cmd []byte) ([]byte, error) {
		ts.idx++
		out, err := ts.s.ApplyBatch([]raftnode.Entry{{Index: ts.idx, Term: 1, Data: cmd}})
		if err != nil {
			return nil, err
		}
		return out[0], nil
	}
	ctx := context.Background()
	now := t0.Add(time.Hour)
	_, err := Propose(ctx, apply, now, RegisterNode("n1", "a:1"))
	require.NoError(t, err)
	res, err := Propose(ctx, apply, now, CreateTopic("t", 1, 1, nil))
	require.NoError(t, err)
	require.Equal(t, now.UnixNano(), res.GetTopic().Topic.CreatedUnixNanos, "the proposer's clock")
	p := res.GetTopic().Partitions[0]
	stale := proto.Clone(p).(*streamdraftv1.PartitionRecord)
	stale.LeaderEpoch = 3
	res, err = Propose(ctx, apply, now, AlterPartition(stale, []string{"n1"}))
	require.ErrorIs(t, err, ErrFencedLeaderEpoch)
	require.True(t, proto.Equal(p, res.GetPartitions().Partitions[0]), "the current state comes with the refusal")
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	require.NoError(t, err)
	return b
}
