package health

import "fmt"

// Active is the rise/fall state machine of one backend's active checks. It
// starts Down with the reason "no check yet". The initial check decides at
// once: if the very first recorded check passes, the backend is Up
// immediately. After that (including after a failed first check) it takes
// rise consecutive passing checks to go Up and fall consecutive failing checks
// to go Down; a result of the other kind starts the count again.
//
// Active is not safe for concurrent use: the Monitor calls it from one
// goroutine per backend.
type Active struct {
	rise, fall int
	checked    bool // a check has been recorded
	up         bool
	successes  int // consecutive passing checks, while Down
	failures   int // consecutive failing checks
	reason     string
}

// NewActive returns the state machine of a backend that has not been checked
// yet. rise and fall below 1 count as 1.
func NewActive(rise, fall int) *Active {
	return &Active{rise: max(rise, 1), fall: max(fall, 1), reason: "no check yet"}
}

// Record counts the result of one check (err nil means it passed) and
// reports the state after it and whether the state changed.
func (a *Active) Record(err error) (up, changed bool) {
	first := !a.checked
	a.checked = true
	if err == nil {
		a.failures = 0
		if a.up {
			return true, false
		}
		a.successes++
		switch {
		case first:
			a.reason = "initial check passed"
		case a.successes >= a.rise:
			a.reason = fmt.Sprintf("%d consecutive %s", a.successes, plural(a.successes, "success", "successes"))
		default:
			return false, false
		}
		a.up, a.successes = true, 0
		return true, true
	}
	a.successes = 0
	a.failures++
	if a.up && a.failures < a.fall {
		return true, false
	}
	// Down, or going Down now: the reason follows the latest error so that
	// Status tells why the backend is still out.
	a.reason = fmt.Sprintf("%d consecutive %s: %v", a.failures, plural(a.failures, "failure", "failures"), err)
	if !a.up {
		return false, false
	}
	a.up = false
	return false, true
}

// Up reports whether the backend is Up.
func (a *Active) Up() bool { return a.up }

// Reason says why the backend is in its state: "no check yet", "initial
// check passed", "2 consecutive successes", or, while Down after failures,
// "3 consecutive failures: " and the latest check's error.
func (a *Active) Reason() string { return a.reason }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
