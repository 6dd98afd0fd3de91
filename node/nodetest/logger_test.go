package nodetest

import "testing"

// A record logged after its test finished must be dropped: t.Log would
// panic.
func TestLoggerDropsAfterCleanup(t *testing.T) {
	var l interface{ Info(string, ...any) }
	t.Run("inner", func(t *testing.T) {
		l = Logger(t)
	})
	l.Info("after the subtest finished: dropped, no panic")
}
