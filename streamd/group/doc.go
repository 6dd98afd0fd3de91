// Package group is streamd's consumer-group coordinator: the in-memory logic
// the controller runs behind GroupService. It knows members, generations and
// assignments; it does not store offsets (those are replicated through the
// controller's state machine, package streamd/meta) and it imports no gRPC:
// the server converts requests to the plain types here and maps the sentinel
// errors of errors.go to rpcerr reasons.
//
// The protocol is Kafka's classic eager rebalance with the assignment made by
// the coordinator. A group is in one of three states:
//
//	Empty              → PreparingRebalance  a Join by a new member (the group is created)
//	PreparingRebalance → Stable              every member has a Join waiting, or the
//	                                         rebalance timeout passed (laggards removed)
//	Stable             → PreparingRebalance  a new member, a member's topics or assignor
//	                                         changed, a member left or expired, or
//	                                         TopicsChanged saw other partition counts
//	either             → Empty               the last member left, expired or timed out;
//	                                         the group is forgotten
//
// In PreparingRebalance every member must call Join again; Heartbeat answers
// ErrRebalanceInProgress to tell it so. The rebalance completes when every
// member has a Join waiting, or when the largest rebalance timeout of the
// members has passed since it began, in which case members without a waiting
// Join are removed. Completion increments the generation, computes the
// assignment with the group's Assignor over the partitions of the union of
// the members' topics (partition counts from Options.Partitions) and returns
// every waiting Join. A member of a Stable group that joins again with the
// same topics and assignor gets its assignment back without a rebalance.
//
// Time comes from Options.Now. Session expiry and rebalance timeouts are
// applied by Tick(now), which the server calls from Run(ctx, interval) and
// tests call with a fake clock. Join waits on a channel closed when its
// rebalance completes; the Coordinator starts no goroutines, and Close makes
// every waiting Join return ErrClosed.
//
// Generations. A group's generation increases by one per completed rebalance.
// A group whose last member goes is forgotten (its committed offsets live in
// the controller's state); when it comes back its generations continue above
// every generation this Coordinator has handed out to a forgotten group, so a
// group's generations never repeat for the life of a Coordinator. A new
// controller starts a new Coordinator, which knows no members: a consumer of
// the previous controller gets ErrUnknownMember from Heartbeat, CheckCommit
// and Join with its old member id, and must join again with an empty member
// id (Kafka clients do this on UNKNOWN_MEMBER_ID). Its commits in flight are
// refused, since it no longer owns its partitions. To keep generations above
// the previous controller's as well, the server sets Options.GenerationBase
// (GenerationSeed(now) derives one from the clock in microseconds: it stays
// above the previous controller's generations unless a group completed more
// than one rebalance per microsecond of that controller's life or the clocks
// of the two nodes disagree by more than the time between the two
// controllers; a value from the Raft log, such as the index at which the node
// became leader shifted left, works without clocks).
//
//	c, err := group.New(group.Options{Partitions: partitionCount})
//	go c.Run(ctx, 100*time.Millisecond)
//	res, err := c.Join(ctx, group.JoinRequest{Group: "g", Topics: []string{"t"}})
//	err = c.Heartbeat("g", res.MemberID, res.Generation)
//	err = c.CheckCommit("g", res.MemberID, res.Generation, res.Assignment)
//	c.Close()
package group
