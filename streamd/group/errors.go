package group

import "errors"

// Errors of the coordinator. Each maps to one rpcerr reason at the server
// edge (shown in brackets); errors may be wrapped with detail, so test them
// with errors.Is.
var (
	// ErrUnknownMember means the group has no such member: it left, its
	// session expired, the rebalance timeout removed it, or it joined through
	// a previous controller. The member must join again with an empty member
	// id. [UNKNOWN_GROUP_MEMBER]
	ErrUnknownMember = errors.New("group: unknown member")
	// ErrIllegalGeneration means the generation named is not the member's
	// current one: the member must join again. [ILLEGAL_GENERATION]
	ErrIllegalGeneration = errors.New("group: illegal generation")
	// ErrRebalanceInProgress means the group is rebalancing: the member
	// should commit what it has processed, then join again.
	// [REBALANCE_IN_PROGRESS]
	ErrRebalanceInProgress = errors.New("group: rebalance in progress")
	// ErrNotAssigned means an offset commit named a partition that is not
	// assigned to the member. [NOT_ASSIGNED]
	ErrNotAssigned = errors.New("group: partition not assigned to the member")
	// ErrAssignorMismatch means a join asked for another assignor than the
	// one the group's other members use. [INVALID_ARGUMENT, field assignor]
	ErrAssignorMismatch = errors.New("group: assignor differs from the group's")
	// ErrInvalidArgument means a malformed request: no group name, no
	// topics, a negative timeout, an unknown assignor. [INVALID_ARGUMENT]
	ErrInvalidArgument = errors.New("group: invalid argument")
	// ErrLimit means MaxGroups, MaxMembersPerGroup or MaxTopicsPerMember was
	// reached. [LIMIT_EXCEEDED]
	ErrLimit = errors.New("group: limit reached")
	// ErrClosed means the Coordinator was closed (the node stopped being
	// controller or is shutting down): the client should find the new
	// controller. [NOT_LEADER, with the controller as the leader hint]
	ErrClosed = errors.New("group: coordinator closed")
)
