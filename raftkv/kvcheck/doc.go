// Package kvcheck judges whether a history of raftkv client operations is
// linearizable, using the porcupine checker.
//
// A workload records every operation it issues through a Recorder: Invoke before
// the request is sent, Return when the outcome is known. Get, Put and CAS
// (compare-and-swap, which clients implement as a raftkv Txn comparing the key's
// value or version) are supported. Each operation ends in one of three outcomes:
//
//   - OutcomeOK: the server answered; the output is what it said.
//   - OutcomeFail: the operation definitely did not take effect (for example it
//     was rejected before it was sent). It is left out of the checked history.
//   - OutcomeUnknown: it may or may not have taken effect (a timeout, a lost
//     connection). Like porcupine's indeterminate operations, it is checked as if
//     it returned at the end of the history with no observed output, so the model
//     may place it anywhere after its invocation, including after every other
//     operation, which is the same as never having applied it.
//
// Check runs the checker with a timeout. A Result is Ok, Illegal or Unknown; Unknown
// means the checker ran out of time and proved nothing, so callers must treat
// anything but Ok as a failure (Result.Err does exactly that).
//
//	rec := kvcheck.NewRecorder()
//	call := rec.Invoke(clientID, kvcheck.Put("k", "v1"))
//	_, err := kv.Put(ctx, ...)
//	out := kvcheck.Output{Outcome: kvcheck.OutcomeOK}
//	if err != nil {
//		out.Outcome = kvcheck.OutcomeUnknown // or OutcomeFail if it was never sent
//	}
//	rec.Return(call, out)
//	...
//	res, err := kvcheck.Check(rec.History(), time.Minute)
//	if err == nil { err = res.Err() }
//	if err != nil { res.WriteVisualization("history.html") }
package kvcheck
