package streamchaos

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"time"

	"cairn.dev/cairn/streamd"

	"cairn.dev/cairn/cluster/chaos"
)

// TargetPartitionLeader is the node leading partition Pick (modulo the
// partition count) of the workload's topic when the step runs; before the
// topic exists, the controller.
const TargetPartitionLeader chaos.Target = "partition-leader"

// partitionLeader resolves TargetPartitionLeader for topic.
func partitionLeader(topic string) chaos.TargetFunc {
	return func(ctx context.Context, env *chaos.Env, pick int) ([]string, error) {
		c, err := newClient(env, 5*time.Second)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		for {
			t, err := c.DescribeTopic(ctx, topic)
			if err == nil && len(t.GetPartitions()) > 0 {
				p := t.GetPartitions()[pick%len(t.GetPartitions())]
				if p.GetLeader() != "" {
					return []string{p.GetLeader()}, nil
				}
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("no leader of a partition of %s: %w", topic, errors.Join(err, ctx.Err()))
			}
			chaos.Hold(ctx, 200*time.Millisecond) // the partition is electing
		}
	}
}

// TamperTornTail names tornTail in the scenarios' Tampers.
const TamperTornTail = "torn-tail"

// tornTail tears the tail of the last segment file of one of node's
// partition replicas (<data>/partitions/<topic id>-<p>/*.log, one drawn
// among those holding data): it cuts 1 to 300 bytes off the end, or flips a
// byte among the last 200, as a crash in the middle of a write (or a bad
// sector) would leave it. The node then recovers the replica at its last
// valid batch and catches up from the partition's leader.
func tornTail(env *chaos.Env, node string, rng *rand.Rand) (string, error) {
	n, ok := env.Node(node)
	if !ok {
		return "", fmt.Errorf("unknown node %s", node)
	}
	dirs, err := filepath.Glob(filepath.Join(n.DataDir, streamd.PartitionsDir, "*"))
	if err != nil {
		return "", err
	}
	sort.Strings(dirs)
	type seg struct {
		path string
		size int64
	}
	var segs []seg
	for _, d := range dirs {
		logs, _ := filepath.Glob(filepath.Join(d, "*.log"))
		if len(logs) == 0 {
			continue
		}
		sort.Strings(logs)
		last := logs[len(logs)-1]
		if fi, err := os.Stat(last); err == nil && fi.Size() > 1 {
			segs = append(segs, seg{last, fi.Size()})
		}
	}
	if len(segs) == 0 {
		return "no segment with data", nil
	}
	s := segs[rng.IntN(len(segs))]
	rel, _ := filepath.Rel(n.DataDir, s.path)
	if rng.IntN(2) == 0 {
		cut := 1 + rng.Int64N(min(s.size-1, 300))
		if err := os.Truncate(s.path, s.size-cut); err != nil {
			return "", err
		}
		return fmt.Sprintf("cut %d of %d bytes off %s", cut, s.size, rel), nil
	}
	at := s.size - 1 - rng.Int64N(min(s.size, 200))
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, at); err != nil {
		return "", err
	}
	b[0] ^= byte(1 + rng.IntN(255))
	if _, err := f.WriteAt(b, at); err != nil {
		return "", err
	}
	return fmt.Sprintf("flipped byte %d of %d in %s", at, s.size, rel), f.Sync()
}
