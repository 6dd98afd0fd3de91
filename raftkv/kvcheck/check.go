package kvcheck

import (
	"errors"
	"fmt"
	"time"

	"github.com/anishathalye/porcupine"
)

// Errors returned by Result.Err and Check.
var (
	// ErrNotLinearizable means the checker proved the history is not linearizable.
	ErrNotLinearizable = errors.New("kvcheck: history is not linearizable")
	// ErrInconclusive means the checker timed out before deciding.
	ErrInconclusive = errors.New("kvcheck: linearizability check timed out (inconclusive)")
	// ErrBadHistory means the history is malformed (unknown kind, return before call).
	ErrBadHistory = errors.New("kvcheck: malformed history")
)

// Verdict is the checker's conclusion.
type Verdict string

// The verdicts.
const (
	// Ok means the history is linearizable.
	Ok Verdict = "ok"
	// Illegal means the history is not linearizable.
	Illegal Verdict = "illegal"
	// Unknown means the checker timed out: nothing was proved either way, and
	// callers must not count it as a pass.
	Unknown Verdict = "unknown"
)

// Result is the outcome of Check.
type Result struct {
	Verdict Verdict
	// Checked is the number of operations given to the checker; Failed is the
	// number of OutcomeFail operations left out, Indeterminate the number of
	// OutcomeUnknown operations.
	Checked, Failed, Indeterminate int
	// Duration is how long the checker ran.
	Duration time.Duration

	info porcupine.LinearizationInfo
}

// Ok reports whether the history was proved linearizable. It is false for an
// inconclusive check.
func (r Result) Ok() bool { return r.Verdict == Ok }

// Illegal reports whether the history was proved not linearizable.
func (r Result) Illegal() bool { return r.Verdict == Illegal }

// Inconclusive reports whether the checker timed out without a verdict.
func (r Result) Inconclusive() bool { return r.Verdict == Unknown }

// Err returns nil when the history was proved linearizable, ErrNotLinearizable when
// it was proved not to be, and ErrInconclusive when the checker timed out.
func (r Result) Err() error {
	switch r.Verdict {
	case Ok:
		return nil
	case Illegal:
		return ErrNotLinearizable
	default:
		return ErrInconclusive
	}
}

func (r Result) String() string {
	return fmt.Sprintf("%s (%d ops checked, %d failed left out, %d indeterminate, in %v)",
		r.Verdict, r.Checked, r.Failed, r.Indeterminate, r.Duration.Round(time.Millisecond))
}

// WriteVisualization writes porcupine's interactive HTML view of the history and
// of the longest linearizable prefixes found, to path.
func (r Result) WriteVisualization(path string) error {
	return porcupine.VisualizePath(Model(), r.info, path)
}

// Check decides whether history is linearizable with respect to Model(), giving up
// after timeout (0 means no limit). It returns an error only for a malformed
// history; the verdict is in Result (use Result.Err to turn anything but Ok into
// an error). Operations with OutcomeFail are left out; operations with
// OutcomeUnknown are given a return time after every other event in the history.
func Check(history History, timeout time.Duration) (Result, error) {
	var res Result
	var end int64
	for i, op := range history {
		switch op.Input.Kind {
		case KindGet, KindPut, KindCAS:
		default:
			return res, fmt.Errorf("%w: operation %d has kind %v", ErrBadHistory, i, op.Input.Kind)
		}
		switch op.Output.Outcome {
		case OutcomeOK:
			if op.Return < op.Call {
				return res, fmt.Errorf("%w: operation %d (%v) returns at %d before its call at %d",
					ErrBadHistory, i, op.Input, op.Return, op.Call)
			}
			end = max(end, op.Return)
		case OutcomeFail, OutcomeUnknown:
		default:
			return res, fmt.Errorf("%w: operation %d (%v) has outcome %v", ErrBadHistory, i, op.Input, op.Output.Outcome)
		}
		end = max(end, op.Call)
	}
	end++ // strictly after every call and return

	ops := make([]porcupine.Operation, 0, len(history))
	for _, op := range history {
		ret := op.Return
		switch op.Output.Outcome {
		case OutcomeFail:
			res.Failed++
			continue
		case OutcomeUnknown:
			res.Indeterminate++
			ret = end
		}
		ops = append(ops, porcupine.Operation{
			ClientId: op.Client,
			Input:    op.Input,
			Call:     op.Call,
			Output:   op.Output,
			Return:   ret,
		})
	}
	res.Checked = len(ops)
	start := time.Now()
	verdict, info := porcupine.CheckOperationsVerbose(Model(), ops, timeout)
	res.Duration = time.Since(start)
	res.info = info
	switch verdict {
	case porcupine.Ok:
		res.Verdict = Ok
	case porcupine.Illegal:
		res.Verdict = Illegal
	default:
		res.Verdict = Unknown
	}
	return res, nil
}
