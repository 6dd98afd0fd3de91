package group

import (
	"cmp"
	"fmt"
	"slices"
)

// Assignor names a partition assignment strategy. The values match
// cairn.streamd.v1.Assignor, so the server converts with a cast.
type Assignor int

// The assignors. AssignorUnspecified means AssignorSticky.
const (
	AssignorUnspecified Assignor = 0
	// AssignorRange: per topic, the subscribed members sorted by id get
	// contiguous ranges of partitions, the first ones one more when the
	// count does not divide (Kafka's RangeAssignor).
	AssignorRange Assignor = 1
	// AssignorRoundRobin: every partition of every topic, sorted by topic
	// and partition, dealt in turn to the members sorted by id, skipping
	// members not subscribed to the partition's topic.
	AssignorRoundRobin Assignor = 2
	// AssignorSticky: balanced (with equal subscriptions the counts differ
	// by at most one; otherwise no single move would narrow the gap between
	// two members), each member keeping its previous partitions where that
	// keeps the balance, so that as few partitions as possible move.
	AssignorSticky Assignor = 3
)

// String returns the assignor's name: "range", "round-robin" or "sticky".
func (a Assignor) String() string {
	switch a {
	case AssignorUnspecified, AssignorSticky:
		return "sticky"
	case AssignorRange:
		return "range"
	case AssignorRoundRobin:
		return "round-robin"
	}
	return fmt.Sprintf("Assignor(%d)", int(a))
}

// normalize maps AssignorUnspecified to AssignorSticky; ok is false for
// values that name no assignor.
func (a Assignor) normalize() (Assignor, bool) {
	switch a {
	case AssignorUnspecified:
		return AssignorSticky, true
	case AssignorRange, AssignorRoundRobin, AssignorSticky:
		return a, true
	}
	return a, false
}

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s/%d", tp.Topic, tp.Partition) }

func compareTP(a, b TopicPartition) int {
	if c := cmp.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}

// Subscription is one member's input to an assignor.
type Subscription struct {
	MemberID string
	// Topics the member consumes; duplicates are ignored.
	Topics []string
	// Previous is the member's assignment in the last generation; only the
	// sticky assignor reads it.
	Previous []TopicPartition
}

// Assign computes an assignment: every partition of every topic some member
// subscribes to goes to exactly one member subscribed to its topic.
// counts[topic] is the topic's partition count (absent or <= 0: no
// partitions, so an unknown topic is assigned nothing). Member ids must be
// unique. The result has an entry for every member (possibly empty), each
// sorted by topic and partition. Assign is a pure function, deterministic
// for a given input whatever the order of subs; AssignorUnspecified and
// unknown values mean AssignorSticky.
func Assign(a Assignor, subs []Subscription, counts map[string]int) map[string][]TopicPartition {
	members := slices.Clone(subs)
	slices.SortFunc(members, func(x, y Subscription) int { return cmp.Compare(x.MemberID, y.MemberID) })
	// subscribers[topic] is the members (indexes into members, ascending)
	// subscribed to topic.
	subscribers := map[string][]int{}
	for i, m := range members {
		for _, t := range m.Topics {
			s := subscribers[t]
			if len(s) == 0 || s[len(s)-1] != i {
				subscribers[t] = append(s, i)
			}
		}
	}
	topics := make([]string, 0, len(subscribers))
	for t := range subscribers {
		if counts[t] > 0 {
			topics = append(topics, t)
		}
	}
	slices.Sort(topics)

	owned := make([][]TopicPartition, len(members))
	switch a {
	case AssignorRange:
		assignRange(topics, subscribers, counts, owned)
	case AssignorRoundRobin:
		assignRoundRobin(topics, subscribers, counts, owned)
	default:
		assignSticky(members, topics, subscribers, counts, owned)
	}
	out := make(map[string][]TopicPartition, len(members))
	for i, m := range members {
		slices.SortFunc(owned[i], compareTP)
		out[m.MemberID] = owned[i]
	}
	return out
}

func assignRange(topics []string, subscribers map[string][]int, counts map[string]int, owned [][]TopicPartition) {
	for _, t := range topics {
		subs, n := subscribers[t], counts[t]
		per, extra := n/len(subs), n%len(subs)
		p := 0
		for k, i := range subs {
			c := per
			if k < extra {
				c++
			}
			for range c {
				owned[i] = append(owned[i], TopicPartition{t, int32(p)})
				p++
			}
		}
	}
}

func assignRoundRobin(topics []string, subscribers map[string][]int, counts map[string]int, owned [][]TopicPartition) {
	// next is the member index that gets the next partition; it cycles over
	// all members, skipping those not subscribed to the topic at hand.
	next, nmembers := 0, len(owned)
	for _, t := range topics {
		subscribed := make(map[int]bool, len(subscribers[t]))
		for _, i := range subscribers[t] {
			subscribed[i] = true
		}
		for p := range counts[t] {
			for !subscribed[next%nmembers] {
				next++
			}
			i := next % nmembers
			owned[i] = append(owned[i], TopicPartition{t, int32(p)})
			next++
		}
	}
}

// assignSticky keeps every member's previous partitions that still exist and
// that it still subscribes to (the first claimant by member id wins a
// partition claimed twice), gives each remaining partition, in order, to the
// least loaded subscribed member, then moves partitions one at a time from
// the most loaded member to a less loaded subscribed one while that narrows
// a gap of two or more. Each move lowers the sum of squared counts, so the
// loop ends; with equal subscriptions it ends with counts differing by at
// most one, having moved only partitions over a member's fair share.
func assignSticky(members []Subscription, topics []string, subscribers map[string][]int, counts map[string]int, owned [][]TopicPartition) {
	subscribed := func(i int, topic string) bool {
		_, ok := slices.BinarySearch(subscribers[topic], i)
		return ok
	}
	taken := map[TopicPartition]bool{}
	for i, m := range members {
		for _, tp := range m.Previous {
			if tp.Partition < 0 || int(tp.Partition) >= counts[tp.Topic] || taken[tp] || !subscribed(i, tp.Topic) {
				continue
			}
			taken[tp] = true
			owned[i] = append(owned[i], tp)
		}
	}
	leastLoaded := func(topic string) int {
		best := -1
		for _, i := range subscribers[topic] {
			if best < 0 || len(owned[i]) < len(owned[best]) {
				best = i
			}
		}
		return best
	}
	for _, t := range topics {
		for p := range counts[t] {
			tp := TopicPartition{t, int32(p)}
			if taken[tp] {
				continue
			}
			i := leastLoaded(t)
			owned[i] = append(owned[i], tp)
		}
	}

	// Balance. order holds member indexes by descending count (then id).
	order := make([]int, len(members))
	for i := range order {
		order[i] = i
	}
	for {
		slices.SortFunc(order, func(x, y int) int {
			if c := cmp.Compare(len(owned[y]), len(owned[x])); c != 0 {
				return c
			}
			return cmp.Compare(x, y)
		})
		if len(owned[order[0]])-len(owned[order[len(order)-1]]) < 2 {
			return
		}
		if !moveOne(order, owned, leastLoaded) {
			return
		}
	}
}

// moveOne moves one partition from the most loaded member that has one a
// less loaded subscriber could take (by two or more), taking the member's
// last partition that qualifies. It reports whether it moved one.
func moveOne(order []int, owned [][]TopicPartition, leastLoaded func(string) int) bool {
	for _, hi := range order {
		for k := len(owned[hi]) - 1; k >= 0; k-- {
			tp := owned[hi][k]
			lo := leastLoaded(tp.Topic)
			if len(owned[hi])-len(owned[lo]) < 2 {
				continue
			}
			owned[hi] = slices.Delete(owned[hi], k, k+1)
			owned[lo] = append(owned[lo], tp)
			return true
		}
	}
	return false
}
