package kvcheck

import (
	"fmt"
	"hash/fnv"

	"github.com/anishathalye/porcupine"
)

// Model returns the porcupine model of a raftkv key space: a map from key to Value,
// partitioned per key, so the per-partition state is the Value of one key. Its
// inputs are Input and its outputs are Output.
//
// Operations with OutcomeUnknown are always legal: a get observes nothing, a put
// applies, and a cas applies when its expectation holds. Check gives them a return
// time at the end of the history, so the checker may order them after every other
// operation of their key, which is indistinguishable from not applying them.
// Operations with OutcomeFail are no-ops (Check leaves them out anyway).
func Model() porcupine.Model {
	return porcupine.Model{
		Partition:         partition,
		PartitionEvent:    partitionEvents,
		Init:              func() any { return Absent() },
		Step:              step,
		Equal:             func(a, b any) bool { return a.(Value) == b.(Value) },
		Hash:              hashValue,
		DescribeOperation: describeOperation,
		DescribeState:     func(state any) string { return state.(Value).String() },
	}
}

// Step is the sequential specification: it reports whether a key in state may
// answer in with out, and the key's value afterwards. It never mutates anything.
func Step(state Value, in Input, out Output) (bool, Value) {
	if out.Outcome == OutcomeFail {
		return true, state
	}
	unknown := out.Outcome != OutcomeOK
	switch in.Kind {
	case KindGet:
		return unknown || out.Value == state, state
	case KindPut:
		return true, Present(in.Value)
	case KindCAS:
		matches := state == in.Expect
		if !unknown && out.Succeeded != matches {
			return false, state
		}
		if matches {
			return true, Present(in.Value)
		}
		return true, state
	}
	return false, state
}

func step(state, input, output any) (bool, any) {
	return Step(state.(Value), input.(Input), output.(Output))
}

func hashValue(state any) uint64 {
	v := state.(Value)
	if !v.Present {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(v.Data))
	return h.Sum64() | 1
}

func describeOperation(input, output any) string {
	in, out := input.(Input), output.(Output)
	return fmt.Sprintf("%v -> %s", in, out.describe(in.Kind))
}

func partition(history []porcupine.Operation) [][]porcupine.Operation {
	index := map[string]int{}
	var parts [][]porcupine.Operation
	for _, op := range history {
		key := op.Input.(Input).Key
		i, ok := index[key]
		if !ok {
			i = len(parts)
			index[key] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

func partitionEvents(history []porcupine.Event) [][]porcupine.Event {
	keyOf := map[int]string{} // event id -> key, from the call events
	for _, ev := range history {
		if ev.Kind == porcupine.CallEvent {
			keyOf[ev.Id] = ev.Value.(Input).Key
		}
	}
	index := map[string]int{}
	var parts [][]porcupine.Event
	for _, ev := range history {
		key := keyOf[ev.Id]
		i, ok := index[key]
		if !ok {
			i = len(parts)
			index[key] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], ev)
	}
	return parts
}
