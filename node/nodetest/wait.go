package nodetest

import (
	"testing"
	"time"
)

// PollInterval is how often WaitFor checks its condition.
const PollInterval = 10 * time.Millisecond

// WaitFor polls cond every PollInterval until it holds, and fails the test
// when timeout passes first, naming what it waited for. Use it instead of
// sleeping: the timeout is a bound for a loaded machine, not a guess at how
// long the thing takes. Call it from the test's goroutine.
func WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(PollInterval)
	}
}
