// Package ha makes one lbd node of a group the active one: every node
// campaigns in a lockd election; the leader runs its active work (binding
// the frontends on the virtual address) for as long as its lockd session
// lives, and stops it the moment the session is lost or the node resigns.
// The others wait in the election's queue and take over when the leader's
// session ends: at once on a graceful stop (it resigns), within the session
// TTL after a crash.
//
// Fencing: a leader whose session renewals fail stops its active work when
// its own view of the session runs out (the lockd client gives up after one
// TTL without a renewal), no later than lockd expires the session and elects
// the next candidate. On one machine the virtual address is also guarded by
// the kernel: a port can only be bound once, so a new leader retries its bind
// until the old one has let go.
//
// Use:
//
//	e := ha.New(ha.Config{Client: lc, Election: "lbd", Node: "lbd-1", TTL: 3 * time.Second, Active: bindVIP})
//	go e.Run(ctx)
//	e.Role() // "active" or "standby"; e.Leader() names the active node
package ha
