package sqlchaos

import (
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

func TestCheckMinorityCommits(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	faults := []chaos.FaultRecord{
		{Step: 0, Fault: chaos.FaultPartition, Nodes: []string{"raftkv-2"}, Start: ms(100), End: ms(200)},
		{Step: 1, Fault: chaos.FaultPartition, Nodes: []string{"raftkv-3"}, Params: chaos.Params{OneWay: true}, Start: ms(300), End: ms(400)},
	}
	op := func(id int, kind chaos.OpKind, via string, call, ret int, outcome chaos.Outcome) chaos.Op {
		return chaos.Op{ID: id, Kind: kind, Via: via, Call: ms(call), Return: ms(ret), Outcome: outcome}
	}
	ops := []chaos.Op{
		op(0, KindTransfer, "raftkv-2", 110, 150, chaos.Fail),
		op(1, KindBuy, "raftkv-2", 120, 190, chaos.Unknown),
		op(2, KindAppendTxn, "raftkv-1", 120, 150, chaos.OK), // through the majority
		op(3, KindTransfer, "raftkv-2", 90, 150, chaos.OK),   // invoked before the partition
		op(4, KindBankRead, "raftkv-2", 110, 150, chaos.OK),  // a read
		op(5, KindAppendTxn, "raftkv-3", 310, 350, chaos.OK), // one-way partition
		op(6, KindAppendTxn, "raftkv-2", 150, 250, chaos.OK), // returned after the heal
	}
	v := CheckMinorityCommits(ops, faults)
	if !v.Pass() || !strings.Contains(v.Summary, "2 write transactions through isolated nodes during partitions: 1 failed, 1 unknown") {
		t.Fatalf("pass=%v %v %s", v.Pass(), v.Violations, v.Summary)
	}
	ops = append(ops, op(7, KindBuy, "raftkv-2", 130, 170, chaos.OK))
	if v := CheckMinorityCommits(ops, faults); v.Count != 1 || !strings.Contains(v.Violations[0], "op 7") {
		t.Fatalf("violations %v, want op 7", v.Violations)
	}
}
