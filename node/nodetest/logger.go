// Package nodetest holds test helpers for code built on package node. Import
// it only from _test.go files.
package nodetest

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
)

// Logger returns a debug-level text logger whose records go to t.Log, so
// they are shown only for failing or verbose tests and attributed to t.
// Records logged after t has finished (by goroutines that outlive the test)
// are dropped instead of panicking.
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testWriter forwards each Write, one slog record, to t.Log.
type testWriter struct {
	t testing.TB

	mu   sync.Mutex // protects done and serialises t.Log calls against Cleanup
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}
