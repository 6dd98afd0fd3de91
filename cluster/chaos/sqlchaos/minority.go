package sqlchaos

import (
	"context"
	"fmt"
	"slices"

	"cairn.dev/cairn/cluster/chaos"
)

// MinorityCommits checks that no transaction that writes committed through a
// node cut off from the majority: a transfer, buy or append transaction of a
// client pinned to a node, invoked after a two-way partition isolating that
// node was in place and returned before it healed, must fail or stay
// unknown. (The SQL engine of a node commits through its local raftkv node,
// which cannot commit without a quorum.)
type MinorityCommits struct{}

// Name implements chaos.Checker.
func (c *MinorityCommits) Name() string { return "minority-commits" }

// Check implements chaos.Checker.
func (c *MinorityCommits) Check(_ context.Context, env *chaos.Env) chaos.Verdict {
	return CheckMinorityCommits(env.History.Ops(), env.Timeline.Records())
}

// writeKinds are the operation kinds of this package that change the
// database.
var writeKinds = []chaos.OpKind{KindTransfer, KindBuy, KindAppendTxn}

// CheckMinorityCommits is the pure part of MinorityCommits.
func CheckMinorityCommits(ops []chaos.Op, faults []chaos.FaultRecord) chaos.Verdict {
	v := chaos.Verdict{Checker: "minority-commits"}
	attempted, unknown, failed := 0, 0, 0
	for _, f := range faults {
		if f.Fault != chaos.FaultPartition || f.Params.OneWay || f.Start < 0 || f.End < 0 {
			continue
		}
		for _, op := range ops {
			if !slices.Contains(writeKinds, op.Kind) || !slices.Contains(f.Nodes, op.Via) || op.Call < f.Start || !op.Done() || op.Return > f.End {
				continue
			}
			attempted++
			switch op.Outcome {
			case chaos.OK:
				v.Violate("%s (op %d, %s %s) through isolated %s committed during partition %d", op.Kind, op.ID, op.Key, op.Value, op.Via, f.Step)
			case chaos.Unknown:
				unknown++
			default:
				failed++
			}
		}
	}
	v.Summary = fmt.Sprintf("%d write transactions through isolated nodes during partitions: %d failed, %d unknown", attempted, failed, unknown)
	return v
}
