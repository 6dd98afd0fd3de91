package chaos

import (
	"encoding/json"
	"sort"
	"sync"
	"time"

	"cairn.dev/cairn/raftkv/kvcheck"
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

// OpKind names what an operation did. Register operations (KindGet, KindPut,
// KindCAS) form the linearizability history.
type OpKind string

// The operation kinds recorded by the raftkv workloads.
const (
	KindGet        OpKind = "get"         // linearizable read of a register key
	KindPut        OpKind = "put"         // unconditional write of a register key
	KindCAS        OpKind = "cas"         // compare-and-swap of a register key (a Txn)
	KindPutUnique  OpKind = "put-unique"  // write of a key written exactly once (durability)
	KindWatchStart OpKind = "watch-start" // a watch opened at Rev
	KindWatchEvent OpKind = "watch-event" // one event delivered by a watch
	KindWatchEnd   OpKind = "watch-end"   // the watch caught up with store revision Rev
	KindLeaseGrant OpKind = "lease-grant" // a lease granted (Lease) with TTL Rev seconds
	KindLeasePut   OpKind = "lease-put"   // a key attached to Lease
	KindLeaseTTL   OpKind = "lease-ttl"   // TimeToLive of Lease: Rev is the TTL, Found false if gone
	KindLeaseGet   OpKind = "lease-get"   // linearizable read of a key attached to Lease
	KindLeaseEnd   OpKind = "lease-end"   // a KeepAlive channel closed although its context lived
)

// IsWrite reports whether the kind changes the store.
func (k OpKind) IsWrite() bool {
	switch k {
	case KindPut, KindCAS, KindPutUnique, KindLeaseGrant, KindLeasePut,
		KindLockAcquire, KindLockRelease, KindFencedWrite, KindFencedLate,
		KindCampaign, KindProclaim, KindResign, KindCacheSet:
		return true
	}
	return false
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
	// Expect is what a cas required the key to hold.
	Expect *kvcheck.Value `json:"expect,omitempty"`
	// Found is whether a read found the key (or a TimeToLive found the lease).
	Found bool `json:"found,omitempty"`
	// Succeeded is whether a cas found its expected value and wrote.
	Succeeded bool  `json:"succeeded,omitempty"`
	Rev       int64 `json:"rev,omitempty"` // revision of a write or an event; TTL of lease ops
	Lease     int64 `json:"lease,omitempty"`
	// Session, Token and Index are set by the lockd workloads: the lockd session
	// of the operation, the fencing token of the grant it concerns, and the Raft
	// index an observation reflects.
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

	mu  sync.Mutex // protects ops
	ops []Op
}

// NewHistory returns an empty history whose clock starts at start.
func NewHistory(start time.Time) *History { return &History{start: start} }

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
	return firstWriteOK(h.Ops(), t)
}

func firstWriteOK(ops []Op, t time.Duration) (time.Duration, bool) {
	best, found := time.Duration(0), false
	for _, op := range ops {
		if op.Outcome == OK && op.Kind.IsWrite() && op.Return >= t && (!found || op.Return < best) {
			best, found = op.Return, true
		}
	}
	return best, found
}

// Linearizable returns the register operations of ops as a kvcheck history.
// Operations that never returned are unknown.
func Linearizable(ops []Op) kvcheck.History {
	var out kvcheck.History
	for _, op := range ops {
		var in kvcheck.Input
		switch op.Kind {
		case KindGet:
			in = kvcheck.Get(op.Key)
		case KindPut:
			in = kvcheck.Put(op.Key, op.Value)
		case KindCAS:
			var expect kvcheck.Value
			if op.Expect != nil {
				expect = *op.Expect
			}
			in = kvcheck.CAS(op.Key, expect, op.Value)
		default:
			continue
		}
		o := kvcheck.Operation{Client: op.Client, Input: in, Call: int64(op.Call), Return: int64(op.Return)}
		switch {
		case !op.Done() || op.Outcome == Unknown:
			o.Output = kvcheck.Output{Outcome: kvcheck.OutcomeUnknown}
			o.Return = o.Call
		case op.Outcome == Fail:
			o.Output = kvcheck.Output{Outcome: kvcheck.OutcomeFail}
		default:
			o.Output = kvcheck.Output{Outcome: kvcheck.OutcomeOK, Succeeded: op.Succeeded}
			if op.Kind == KindGet && op.Found {
				o.Output.Value = kvcheck.Present(op.readValue())
			}
		}
		out = append(out, o)
	}
	return out
}

// readValue is the value a get read (for gets Value holds what was read).
func (o Op) readValue() string { return o.Value }

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
