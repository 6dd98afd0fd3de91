package node

import (
	"errors"
	"testing"
	"time"
)

func TestLifecycleServeOnceCloseWaits(t *testing.T) {
	var l Lifecycle
	released := 0
	served := make(chan error, 1)
	go func() {
		served <- l.Serve(func() error {
			l.SetReady()
			<-l.Stopping()
			released++ // the serving loop releases at its end
			return nil
		}, func() { t.Error("release called instead of the serving loop's") })
	}()
	select {
	case <-l.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("not ready")
	}
	if err := l.Serve(func() error { return nil }, func() {}); !errors.Is(err, ErrAlreadyServing) {
		t.Fatalf("second Serve = %v, want ErrAlreadyServing", err)
	}
	shut := 0
	l.Close(func() { shut++ }, func() { t.Error("release called although Serve ran") })
	if err := <-served; err != nil || released != 1 || shut != 1 {
		t.Fatalf("Serve = %v, released %d, shutdown %d", err, released, shut)
	}
	l.Close(func() { shut++ }, func() {}) // idempotent but for shutdown
	if err := l.Serve(func() error { return nil }, func() {}); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Close = %v, want ErrServerClosed", err)
	}
}

func TestLifecycleCloseWithoutServeReleases(t *testing.T) {
	var l Lifecycle
	released := 0
	l.Close(nil, func() { released++ })
	l.Close(nil, func() { released++ })
	if released != 1 {
		t.Fatalf("released %d times, want 1", released)
	}
}

func TestLifecycleStopBeforeServeReleases(t *testing.T) {
	var l Lifecycle
	l.Stop()
	released := 0
	err := l.Serve(func() error { t.Error("serving loop ran after Stop"); return nil }, func() { released++ })
	if err != nil || released != 1 {
		t.Fatalf("Serve after Stop = %v, released %d", err, released)
	}
}
