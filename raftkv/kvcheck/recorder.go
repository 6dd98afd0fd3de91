package kvcheck

import (
	"sync"
	"time"
)

// Recorder collects a history. It is safe for concurrent use by any number of
// clients. Timestamps come from one monotonic clock: the time elapsed since
// NewRecorder.
type Recorder struct {
	start time.Time

	mu      sync.Mutex // protects the fields below
	ops     []Operation
	pending int // operations invoked and not yet returned
}

// Call identifies an invoked operation; pass it to Return exactly once.
type Call struct {
	idx int
}

// NewRecorder returns an empty Recorder whose clock starts now.
func NewRecorder() *Recorder {
	return &Recorder{start: time.Now()}
}

func (r *Recorder) now() int64 { return int64(time.Since(r.start)) }

// Invoke records that client is about to send in, and returns the handle to pass
// to Return. Call it immediately before sending the request. A client must not
// have two operations in flight at once.
func (r *Recorder) Invoke(client int, in Input) Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, Operation{
		Client: client,
		Input:  in,
		Output: Output{Outcome: OutcomeUnknown},
		Call:   r.now(),
		Return: -1,
	})
	r.pending++
	return Call{idx: len(r.ops) - 1}
}

// Return records the outcome of c. Call it immediately after the answer (or the
// error) arrives. An unset out.Outcome counts as OutcomeUnknown. Only the first
// Return for c counts; later ones are ignored.
func (r *Recorder) Return(c Call, out Output) {
	t := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	op := &r.ops[c.idx]
	if op.Return >= 0 {
		return
	}
	if out.Outcome == 0 {
		out.Outcome = OutcomeUnknown
	}
	op.Output = out
	op.Return = t
	r.pending--
}

// History returns a copy of the operations recorded so far. Operations invoked
// and not yet returned appear with OutcomeUnknown.
func (r *Recorder) History() History {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := make(History, len(r.ops))
	copy(h, r.ops)
	return h
}

// Pending reports how many operations were invoked and not yet returned.
func (r *Recorder) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending
}
