// Package lockchaos holds lockd's chaos scenarios, run by its tests through
// the chaos framework (cluster/chaos): lock contenders that write to a fenced
// resource in raftkv and sometimes crash or stall (Locks, Fence), campaigners
// and observers of an election (Election); mutual exclusion, token order and
// fencing (LockChecker), hand-over after crashes (LockLivenessChecker) and
// election safety and observation order (ElectionChecker); and the scenarios
// (LockFencing, LockLiveness, LockElection; LockdScenarios lists them).
package lockchaos
