package chaos

import "testing"

// One test per raftkv scenario: the short version by default, the long one with
// -chaos.duration or CAIRN_CHAOS_DURATION. They run one after the other: each
// starts its own three-node cluster.

func TestLeaderKill(t *testing.T)        { runScenario(t, LeaderKill()) }
func TestLeaderPartition(t *testing.T)   { runScenario(t, LeaderPartition()) }
func TestPausedLeaderReads(t *testing.T) { runScenario(t, PausedLeaderReads()) }
func TestMinorityClient(t *testing.T)    { runScenario(t, MinorityClient()) }
func TestFailpoints(t *testing.T)        { runScenario(t, Failpoints()) }
func TestFullCrash(t *testing.T)         { runScenario(t, FullCrash()) }
func TestMemberReplace(t *testing.T)     { runScenario(t, MemberReplace()) }
func TestWatchLeaderChange(t *testing.T) { runScenario(t, WatchLeaderChange()) }
func TestLeaseLeaderChange(t *testing.T) { runScenario(t, LeaseLeaderChange()) }
func TestMixed(t *testing.T)             { runScenario(t, Mixed()) }
