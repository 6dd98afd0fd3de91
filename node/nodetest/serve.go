package nodetest

import (
	"context"
	"testing"
	"time"
)

// Server is a daemon as tests run it: Serve until the context ends, ready
// once ReadyNotify is closed.
type Server interface {
	Serve(ctx context.Context) error
	ReadyNotify() <-chan struct{}
}

// Serve runs srv.Serve in the background until the test ends (its cleanup
// cancels the context and waits for Serve to return) and waits until srv is
// ready. A Serve that returns before, or no readiness within a minute,
// fails the test.
func Serve(t testing.TB, name string, srv Server) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-srv.ReadyNotify():
	case err := <-done:
		t.Fatalf("%s stopped at start: %v", name, err)
	case <-time.After(time.Minute):
		t.Fatalf("%s not ready after a minute", name)
	}
}
