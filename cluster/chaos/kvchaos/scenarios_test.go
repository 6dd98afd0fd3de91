package kvchaos

import (
	"testing"

	"cairn.dev/cairn/cluster/chaos"
)

func TestMain(m *testing.M) { chaos.Main(m) }

// One test per raftkv scenario: the short version by default, the long one with
// -chaos.duration or CAIRN_CHAOS_DURATION. They run one after the other: each
// starts its own three-node cluster.

func TestLeaderKill(t *testing.T)        { chaos.Test(t, LeaderKill()) }
func TestLeaderPartition(t *testing.T)   { chaos.Test(t, LeaderPartition()) }
func TestPausedLeaderReads(t *testing.T) { chaos.Test(t, PausedLeaderReads()) }
func TestMinorityClient(t *testing.T)    { chaos.Test(t, MinorityClient()) }
func TestFailpoints(t *testing.T)        { chaos.Test(t, Failpoints()) }
func TestFullCrash(t *testing.T)         { chaos.Test(t, FullCrash()) }
func TestMemberReplace(t *testing.T)     { chaos.Test(t, MemberReplace()) }
func TestWatchLeaderChange(t *testing.T) { chaos.Test(t, WatchLeaderChange()) }
func TestLeaseLeaderChange(t *testing.T) { chaos.Test(t, LeaseLeaderChange()) }
func TestMixed(t *testing.T)             { chaos.Test(t, Mixed()) }
