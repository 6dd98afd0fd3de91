package chaos

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Outcome says whether an operation took effect.
type Outcome string

// The outcomes of an operation.
const (
	// OK means the server answered; the operation's result fields hold the answer.
	OK Outcome = "ok"
	// Fail means the operation definitely did not take effect (a read that
	// failed, or a write the server rejected with a definite error).
	Fail Outcome = "fail"
	// Unknown means a write may or may not have taken effect (timeout, lost
	// connection), or the operation never returned.
	Unknown Outcome = "unknown"
)

// OpKind names what an operation did. The daemon packages declare their kinds
// and classify them for the framework with Kinds.
type OpKind string

// KindClass says how the framework counts the operations of a kind.
type KindClass int

// The classes of operation kinds.
const (
	// ClassRead is a client request that changes nothing; it counts in the
	// report's rates. Kinds no workload lists are reads.
	ClassRead KindClass = iota
	// ClassWrite is a client request that changes the system. The first
	// acknowledged write after a fault is healed is the cluster's recovery,
	// and faults start only once a write succeeded.
	ClassWrite
	// ClassEvent is not a client request: something observed (a watch event,
	// an observation of an election) or a marker of what a client did (a
	// crash). Events are left out of the report's counts and rates.
	ClassEvent
)

// Kinds maps operation kinds to their class. A Kinds is not changed after it
// is built, so it may be shared.
type Kinds map[OpKind]KindClass

// IsWrite reports whether kind is a write.
func (k Kinds) IsWrite(kind OpKind) bool { return k[kind] == ClassWrite }

// IsRequest reports whether kind is a client request (a read or a write), as
// opposed to an event.
func (k Kinds) IsRequest(kind OpKind) bool { return k[kind] != ClassEvent }

// merge adds the kinds of o to k; it fails when they classify a kind
// differently.
func (k Kinds) merge(o Kinds) error {
	for kind, c := range o {
		if old, ok := k[kind]; ok && old != c {
			return fmt.Errorf("chaos: operation kind %q classified both as %d and as %d", kind, old, c)
		}
		k[kind] = c
	}
	return nil
}

// Expected is what a compare-and-swap required its key to hold: Data, or no
// key at all when Present is false.
type Expected struct {
	Data    string
	Present bool
}

// Op is one recorded operation. Times are offsets from the start of the run on
// one monotonic clock shared with the fault timeline.
type Op struct {
	ID     int    `json:"id"`
	Client int    `json:"client"`
	Via    string `json:"via,omitempty"` // the node a pinned client talks to
	Kind   OpKind `json:"kind"`
	Key    string `json:"key,omitempty"`
	Value  string `json:"value,omitempty"` // written value, or the value read
	// Expect is what a compare-and-swap required the key to hold.
	Expect *Expected `json:"expect,omitempty"`
	// Found is whether a read found the key (or a TimeToLive found the lease).
	Found bool `json:"found,omitempty"`
	// Succeeded is whether a cas found its expected value and wrote.
	Succeeded bool  `json:"succeeded,omitempty"`
	Rev       int64 `json:"rev,omitempty"` // revision of a write or an event; TTL of lease ops
	Lease     int64 `json:"lease,omitempty"`
	// Session, Token and Index are for sessions and grants (the lockd
	// workloads): the session of the operation, the fencing token of the grant
	// it concerns, and the Raft index an observation reflects.
	Session uint64        `json:"session,omitempty"`
	Token   uint64        `json:"token,omitempty"`
	Index   uint64        `json:"index,omitempty"`
	Delete  bool          `json:"delete,omitempty"` // a delete event
	Call    time.Duration `json:"call_ns"`
	Return  time.Duration `json:"return_ns"` // -1 if it never returned
	Outcome Outcome       `json:"outcome"`
	Err     string        `json:"err,omitempty"`
}

// Done reports whether the operation returned.
func (o Op) Done() bool { return o.Return >= 0 }

// History records the operations of every workload of a run. It is safe for
// concurrent use. A client must not have two operations in flight at once.
type History struct {
	start time.Time
	kinds Kinds

	mu  sync.Mutex // protects ops
	ops []Op
}

// NewHistory returns an empty history whose clock starts at start; kinds
// classifies the operations it will hold.
func NewHistory(start time.Time, kinds Kinds) *History { return &History{start: start, kinds: kinds} }

// Now returns the time since the start of the run.
func (h *History) Now() time.Duration { return time.Since(h.start) }

// Invoke records that op is about to be sent and returns its id for Complete.
// Call and Return are set by the history.
func (h *History) Invoke(op Op) int {
	op.Call = h.Now()
	op.Return = -1
	op.Outcome = Unknown
	h.mu.Lock()
	defer h.mu.Unlock()
	op.ID = len(h.ops)
	h.ops = append(h.ops, op)
	return op.ID
}

// Complete records the outcome of operation id: fill may set the result fields
// of the operation. Only the first Complete of an operation counts.
func (h *History) Complete(id int, outcome Outcome, err error, fill func(*Op)) {
	now := h.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	op := &h.ops[id]
	if op.Done() {
		return
	}
	op.Return = now
	op.Outcome = outcome
	if err != nil {
		op.Err = err.Error()
	}
	if fill != nil {
		fill(op)
	}
}

// Event records an operation that happened at one instant (a watch event).
func (h *History) Event(op Op) {
	op.Call = h.Now()
	op.Return = op.Call
	if op.Outcome == "" {
		op.Outcome = OK
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	op.ID = len(h.ops)
	h.ops = append(h.ops, op)
}

// Ops returns a copy of the operations recorded so far, in invocation order.
func (h *History) Ops() []Op {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Op(nil), h.ops...)
}

// FirstWriteOK returns the return time of the first successful write that
// returned at or after t, and whether there is one.
func (h *History) FirstWriteOK(t time.Duration) (time.Duration, bool) {
	return firstWriteOK(h.Ops(), h.kinds, t)
}

func firstWriteOK(ops []Op, kinds Kinds, t time.Duration) (time.Duration, bool) {
	best, found := time.Duration(0), false
	for _, op := range ops {
		if op.Outcome == OK && kinds.IsWrite(op.Kind) && op.Return >= t && (!found || op.Return < best) {
			best, found = op.Return, true
		}
	}
	return best, found
}

// writeHistoryJSON encodes ops, sorted by id, one operation per line inside a
// JSON array so that the file diffs and greps well.
func writeHistoryJSON(ops []Op) ([]byte, error) {
	sort.Slice(ops, func(i, j int) bool { return ops[i].ID < ops[j].ID })
	b := []byte("[\n")
	for i, op := range ops {
		line, err := json.Marshal(op)
		if err != nil {
			return nil, err
		}
		b = append(b, line...)
		if i < len(ops)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
	}
	return append(b, "]\n"...), nil
}
