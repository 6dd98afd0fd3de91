package meta

import (
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/node/raftnode"
	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
)

var propSeed = flag.Uint64("meta.seed", 0, "seed of TestPropertyInvariants (0: from the clock)")

// TestPropertyInvariants applies random command sequences to two stores and
// checks after every command that both return the same result bytes and
// that every partition keeps the invariants: the ISR is non-empty, a subset
// of the replicas in replica order; the leader is "" or an unfenced ISR
// member; a fenced node is in an ISR only alone; epochs never go back,
// leader_epoch moves exactly when the leader does, and partition_epoch moves
// whenever leader or ISR does. Replay a failure with -meta.seed.
func TestPropertyInvariants(t *testing.T) {
	seed := *propSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (replay with -meta.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	a, b := openTestStore(t), openTestStore(t)
	prev := map[[2]uint64]*streamdraftv1.PartitionRecord{}
	topicNames := []string{"t0", "t1", "t2", "t3"}
	node := func() string { return nodeID(1 + rng.IntN(5)) }

	for step := range 1500 {
		var cmd *streamdraftv1.Command
		switch r := rng.IntN(100); {
		case r < 10:
			cmd = RegisterNode(node(), fmt.Sprintf("addr-%d", rng.IntN(3)))
		case r < 25:
			cmd = FenceNode(node())
		case r < 40:
			cmd = UnfenceNode(node())
		case r < 50:
			cmd = CreateTopic(topicNames[rng.IntN(len(topicNames))], int32(1+rng.IntN(6)), int32(1+rng.IntN(4)), nil)
		case r < 53:
			cmd = DeleteTopic(topicNames[rng.IntN(len(topicNames))])
		case r < 57:
			cmd = AddPartitions(topicNames[rng.IntN(len(topicNames))], int32(1+rng.IntN(9)))
		case r < 82:
			cmd = randomAlter(rng, a)
		case r < 88:
			cmd = ElectPreferredLeaders(0)
		case r < 96:
			cmd = CommitOffsets("g", []*streamdv1.PartitionOffset{{Topic: topicNames[rng.IntN(len(topicNames))], Partition: int32(rng.IntN(4)), Offset: int64(rng.IntN(100))}})
		default:
			cmd = AllocateProducerID()
		}
		ea, eb := a.entry(cmd), b.entry(cmd)
		ra, err := a.s.ApplyBatch([]raftnode.Entry{ea})
		require.NoError(t, err)
		rb, err := b.s.ApplyBatch([]raftnode.Entry{eb})
		require.NoError(t, err)
		require.True(t, bytes.Equal(ra[0], rb[0]), "step %d: replicas disagree on %v", step, cmd)
		checkInvariants(t, a.s, prev, fmt.Sprintf("step %d (%v)", step, cmd))
	}
}

// randomAlter proposes an AlterPartition for a random partition: mostly from
// its current view (a random ISR of replicas that holds the leader), some
// stale, some malformed.
func randomAlter(rng *rand.Rand, ts *testStore) *streamdraftv1.Command {
	_, topics, err := ts.s.Metadata()
	if err != nil || len(topics) == 0 {
		return ElectPreferredLeaders(0)
	}
	tp := topics[rng.IntN(len(topics))]
	p := tp.Partitions[rng.IntN(len(tp.Partitions))]
	var isr []string
	for _, r := range p.Replicas {
		if r == p.Leader || rng.IntN(2) == 0 {
			isr = append(isr, r)
		}
	}
	rng.Shuffle(len(isr), func(i, j int) { isr[i], isr[j] = isr[j], isr[i] })
	switch rng.IntN(10) {
	case 0:
		p.LeaderEpoch--
	case 1:
		p.PartitionEpoch++
	case 2:
		isr = append(isr, "n9")
	}
	return AlterPartition(p, isr)
}

func checkInvariants(t *testing.T, s *Store, prev map[[2]uint64]*streamdraftv1.PartitionRecord, at string) {
	t.Helper()
	nodes, topics, err := s.Metadata()
	require.NoError(t, err)
	fenced := map[string]bool{}
	for _, n := range nodes {
		fenced[n.Id] = n.Fenced
	}
	for _, tp := range topics {
		require.Len(t, tp.Partitions, int(tp.Topic.Partitions), at)
		for _, p := range tp.Partitions {
			require.NotEmpty(t, p.Isr, "%s: empty ISR %v", at, p)
			require.Len(t, p.Replicas, int(tp.Topic.Replication), at)
			pos := -1
			for _, r := range p.Isr {
				i := slices.Index(p.Replicas, r)
				require.Greater(t, i, pos, "%s: ISR not a subset of replicas in order: %v", at, p)
				pos = i
				if fenced[r] {
					require.Len(t, p.Isr, 1, "%s: fenced %s in a shared ISR: %v", at, r, p)
				}
			}
			if p.Leader != "" {
				require.Contains(t, p.Isr, p.Leader, "%s: leader outside the ISR: %v", at, p)
				require.False(t, fenced[p.Leader], "%s: fenced leader: %v", at, p)
			} else {
				for _, r := range p.Isr {
					require.True(t, fenced[r], "%s: offline with unfenced ISR member %s: %v", at, r, p)
				}
			}
			key := [2]uint64{p.TopicId, uint64(p.Partition)}
			if old := prev[key]; old != nil {
				require.GreaterOrEqual(t, p.LeaderEpoch, old.LeaderEpoch, at)
				require.GreaterOrEqual(t, p.PartitionEpoch, old.PartitionEpoch, at)
				require.Equal(t, old.Leader != p.Leader, p.LeaderEpoch != old.LeaderEpoch, "%s: leader epoch vs leader: %v -> %v", at, old, p)
				changed := old.Leader != p.Leader || !slices.Equal(old.Isr, p.Isr)
				require.Equal(t, changed, p.PartitionEpoch != old.PartitionEpoch, "%s: partition epoch: %v -> %v", at, old, p)
				require.Equal(t, old.Replicas, p.Replicas, at)
			}
			prev[key] = p
		}
	}
}
