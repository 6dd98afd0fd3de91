package group

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Defaults of Options and JoinRequest.
const (
	DefaultMaxGroups          = 10000
	DefaultMaxMembersPerGroup = 1000
	DefaultMaxTopicsPerMember = 1000
	DefaultSessionTimeout     = 10 * time.Second
)

// Options configures a Coordinator. The zero value of every field but
// Partitions means its default.
type Options struct {
	// Partitions returns a topic's partition count, 0 for a topic that does
	// not exist. It is called with the Coordinator's lock held, so it must
	// be fast and must not call the Coordinator. Nil means every topic has
	// no partitions.
	Partitions func(topic string) int
	// Now is the clock of Join, Heartbeat, CheckCommit, Leave and Run; nil
	// means time.Now. Tick takes its time as an argument.
	Now func() time.Time
	// MaxGroups bounds the groups with members (default 10000).
	MaxGroups int
	// MaxMembersPerGroup bounds one group's members (default 1000).
	MaxMembersPerGroup int
	// MaxTopicsPerMember bounds the topics one member subscribes to
	// (default 1000).
	MaxTopicsPerMember int
	// GenerationBase is a floor for generations: a group's first generation
	// is above it. Set it above every generation a previous coordinator may
	// have handed out (see GenerationSeed and the package doc). Negative
	// values mean 0.
	GenerationBase int64
	// Logger receives rebalances, removals and expiries; nil discards.
	Logger *slog.Logger
}

// GenerationSeed returns a GenerationBase derived from the clock: now in
// microseconds since the Unix epoch. The package doc says when it is enough.
func GenerationSeed(now time.Time) int64 { return now.UnixMicro() }

// State is a group's state.
type State int

// The states of a group. StateEmpty is what Describe reports for a group
// with no members; the Coordinator forgets such groups.
const (
	StateEmpty State = iota
	StatePreparingRebalance
	StateStable
)

// String returns "Empty", "PreparingRebalance" or "Stable", the names
// DescribeGroupResponse.state uses.
func (s State) String() string {
	switch s {
	case StateEmpty:
		return "Empty"
	case StatePreparingRebalance:
		return "PreparingRebalance"
	case StateStable:
		return "Stable"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Coordinator keeps the consumer groups of one controller term. All methods
// are safe for concurrent use. It owns no goroutines; Run is a loop the
// caller runs. Close ends every waiting Join.
type Coordinator struct {
	opts  Options
	log   *slog.Logger
	nonce string        // random, in member ids, so a new Coordinator never reissues an id
	done  chan struct{} // closed by Close

	mu sync.Mutex // guards the fields below; Partitions and Logger are called under it
	// groups holds every group with members.
	groups map[string]*group
	// genFloor is at least GenerationBase and every generation of a
	// forgotten group; a new group's first generation is genFloor+1.
	genFloor int64
	seq      uint64 // member id counter
	closed   bool
	stats    Stats
}

// Stats counts the Coordinator's work since New.
type Stats struct {
	Groups      int   // groups with members now
	Members     int   // members now
	Rebalances  int64 // completed rebalances
	Expired     int64 // members removed because their session passed
	TimedOut    int64 // members removed because they did not join a rebalance in time
	Left        int64 // members that left
	JoinsWaited int64 // Join calls that entered a rebalance (did not return the current assignment at once)
}

type group struct {
	name       string
	state      State // StatePreparingRebalance or StateStable once members exist
	generation int64 // the last completed generation; genFloor when none yet
	// completedOnce is set by the first completed rebalance.
	completedOnce bool
	assignor      Assignor
	members       map[string]*member
	// While PreparingRebalance: round is what waiting Joins wait on, and
	// rebalanceStart when the state was entered.
	round          *round
	rebalanceStart time.Time
	// counts are the partition counts of the last assignment, for
	// TopicsChanged.
	counts map[string]int
}

type member struct {
	id, clientID     string
	topics           []string // sorted, unique
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	lastSeen         time.Time // the session ends at lastSeen+sessionTimeout
	generation       int64     // the last generation the member completed; 0 if none
	assignment       []TopicPartition
	waiting          int // Join calls waiting in the current round
}

// round is one rebalance. done is closed (under Coordinator.mu) when it
// completes or its group is forgotten; results is written before and only
// read after.
type round struct {
	done      chan struct{}
	completed bool
	results   map[string]JoinResult
}

// New returns a Coordinator with no groups.
func New(opts Options) (*Coordinator, error) {
	switch {
	case opts.MaxGroups < 0:
		return nil, fmt.Errorf("group: max_groups is %d, must not be negative", opts.MaxGroups)
	case opts.MaxMembersPerGroup < 0:
		return nil, fmt.Errorf("group: max_members_per_group is %d, must not be negative", opts.MaxMembersPerGroup)
	case opts.MaxTopicsPerMember < 0:
		return nil, fmt.Errorf("group: max_topics_per_member is %d, must not be negative", opts.MaxTopicsPerMember)
	}
	if opts.Partitions == nil {
		opts.Partitions = func(string) int { return 0 }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxGroups == 0 {
		opts.MaxGroups = DefaultMaxGroups
	}
	if opts.MaxMembersPerGroup == 0 {
		opts.MaxMembersPerGroup = DefaultMaxMembersPerGroup
	}
	if opts.MaxTopicsPerMember == 0 {
		opts.MaxTopicsPerMember = DefaultMaxTopicsPerMember
	}
	opts.GenerationBase = max(opts.GenerationBase, 0)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("group: member id nonce: %w", err)
	}
	return &Coordinator{
		opts:     opts,
		log:      log,
		nonce:    hex.EncodeToString(b[:]),
		done:     make(chan struct{}),
		groups:   map[string]*group{},
		genFloor: opts.GenerationBase,
	}, nil
}

// Close makes every waiting Join, and every later call, return ErrClosed.
// It is idempotent.
func (c *Coordinator) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		close(c.done)
	}
	return nil
}

// Run calls Tick(Options.Now()) every interval until ctx ends (returning
// ctx.Err()) or the Coordinator is closed (returning ErrClosed). The
// interval is the resolution of session expiry and rebalance timeouts.
func (c *Coordinator) Run(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return fmt.Errorf("%w: interval is %v, must be positive", ErrInvalidArgument, interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return ErrClosed
		case <-t.C:
			c.Tick(c.opts.Now())
		}
	}
}

// Tick applies time: a member without a waiting Join whose session ended at
// or before now is removed (its group rebalances), and a rebalance that
// began at least the largest rebalance timeout of its members before now
// completes without the members that have no Join waiting. Tick costs time
// linear in the number of members.
func (c *Coordinator) Tick(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	for _, g := range c.groups {
		if g.state == StatePreparingRebalance && !now.Before(g.rebalanceStart.Add(g.maxRebalanceTimeout())) {
			for id, m := range g.members {
				if m.waiting == 0 {
					c.log.Info("group: member removed: did not join the rebalance in time",
						"group", g.name, "member", id, "rebalance_timeout", m.rebalanceTimeout)
					delete(g.members, id)
					c.stats.TimedOut++
				}
			}
			if len(g.members) == 0 {
				c.forget(g)
			} else {
				c.complete(g, now)
			}
			continue
		}
		expired := false
		for id, m := range g.members {
			if m.waiting == 0 && !now.Before(m.lastSeen.Add(m.sessionTimeout)) {
				c.log.Info("group: member session expired", "group", g.name, "member", id,
					"session_timeout", m.sessionTimeout)
				delete(g.members, id)
				c.stats.Expired++
				expired = true
			}
		}
		if expired {
			c.membersGone(g, now, "member session expired")
		}
	}
}

// TopicsChanged tells the Coordinator that partition counts may have
// changed: every Stable group whose topics now have other counts than its
// assignment was made with rebalances. (A group already rebalancing reads
// the counts when it completes.)
func (c *Coordinator) TopicsChanged() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	now := c.opts.Now()
	for _, g := range c.groups {
		if g.state != StateStable {
			continue
		}
		for t, n := range g.partitionCounts(c.opts.Partitions) {
			if g.counts[t] != n {
				c.prepare(g, now, "partition count changed", "topic", t, "partitions", n)
				break
			}
		}
	}
}

// GroupInfo describes a group.
type GroupInfo struct {
	Group      string
	State      State
	Generation int64 // the last completed generation (0 for an empty group)
	Assignor   Assignor
	Members    []MemberInfo // sorted by MemberID
}

// MemberInfo describes a member.
type MemberInfo struct {
	MemberID   string
	ClientID   string
	Topics     []string
	Generation int64 // the last generation the member completed; 0 if none
	Assignment []TopicPartition
	// Joining is set while a Join of the member waits in a rebalance.
	Joining bool
}

// GroupSummary is one group in List.
type GroupSummary struct {
	Group   string
	State   State
	Members int
}

// Describe returns a copy of a group's state. ok is false, with State
// StateEmpty, when the group has no members (the server then reports the
// group from its committed offsets, or GROUP_NOT_FOUND).
func (c *Coordinator) Describe(name string) (info GroupInfo, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups[name]
	if g == nil {
		return GroupInfo{Group: name, State: StateEmpty}, false
	}
	info = GroupInfo{Group: name, State: g.state, Generation: g.generation, Assignor: g.assignor}
	for _, m := range g.members {
		info.Members = append(info.Members, MemberInfo{
			MemberID:   m.id,
			ClientID:   m.clientID,
			Topics:     slices.Clone(m.topics),
			Generation: m.generation,
			Assignment: slices.Clone(m.assignment),
			Joining:    m.waiting > 0,
		})
	}
	slices.SortFunc(info.Members, func(a, b MemberInfo) int { return cmp.Compare(a.MemberID, b.MemberID) })
	if !g.completedOnce {
		info.Generation = 0
	}
	return info, true
}

// List returns the groups with members, sorted by name.
func (c *Coordinator) List() []GroupSummary {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]GroupSummary, 0, len(c.groups))
	for _, g := range c.groups {
		out = append(out, GroupSummary{Group: g.name, State: g.state, Members: len(g.members)})
	}
	slices.SortFunc(out, func(a, b GroupSummary) int { return cmp.Compare(a.Group, b.Group) })
	return out
}

// Empty reports whether the group has no members, so that its offsets may
// be deleted or committed without a member id.
func (c *Coordinator) Empty(name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.groups[name] == nil
}

// Stats returns the Coordinator's counters.
func (c *Coordinator) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Groups = len(c.groups)
	for _, g := range c.groups {
		s.Members += len(g.members)
	}
	return s
}
