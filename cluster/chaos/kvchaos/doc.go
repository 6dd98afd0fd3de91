// Package kvchaos holds raftkv's chaos scenarios, run by its tests through the
// chaos framework (cluster/chaos): the register workload (KV), a prefix watch
// (Watch) and leases (Leases); porcupine linearizability of the register
// history (Linearizability, through raftkv/kvcheck), durability of
// acknowledged writes (Durability), no acknowledged write through a
// partitioned minority (MinorityWrites), and the watch and lease checkers; and
// the scenarios (LeaderKill, …, Mixed; RaftKVScenarios lists them).
//
// It also serves other daemons' scenarios that use raftkv as a companion:
// NewClient, ReadFinal and WriteOutcome (lockchaos keeps its fenced resource
// in raftkv), and Membership for member-replace faults.
package kvchaos
