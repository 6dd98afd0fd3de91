package health

import "time"

// MinShare is the smallest share of its weight SlowStart gives a backend.
const MinShare = 0.1

// SlowStart returns the share of its weight a backend gets `since` after it
// came up (after its health check passed or its ejection ended): it grows
// linearly from 0 to 1 over window and is never below MinShare, so a backend
// has MinShare just after coming up, half its weight after half the window and
// all of it from the end of the window on. A window of 0 or less gives 1.
func SlowStart(since, window time.Duration) float64 {
	if window <= 0 || since >= window {
		return 1
	}
	return max(float64(since)/float64(window), MinShare)
}
