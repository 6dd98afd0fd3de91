package balance

import (
	"testing"
	"time"
)

func TestBackendWeightClamped(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{-5, 1}, {0, 1}, {1, 1}, {7, 7}, {MaxWeight, MaxWeight}, {MaxWeight + 1, MaxWeight}} {
		b := NewBackend("a", "127.0.0.1:1", tc.in)
		if got := b.Weight(); got != tc.want {
			t.Errorf("NewBackend weight %d: Weight() = %d, want %d", tc.in, got, tc.want)
		}
		b.SetWeight(tc.in)
		if got := b.Weight(); got != tc.want {
			t.Errorf("SetWeight(%d): Weight() = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestBackendInflight(t *testing.T) {
	b := NewBackend("a", "127.0.0.1:1", 1)
	b.Begin()
	b.Begin()
	if got := b.Inflight(); got != 2 {
		t.Fatalf("Inflight = %d after two Begins, want 2", got)
	}
	b.End(0)
	b.End(0)
	b.End(0) // unpaired: must not go negative
	if got := b.Inflight(); got != 0 {
		t.Fatalf("Inflight = %d after three Ends, want 0", got)
	}
	if got := b.Latency(); got != 0 {
		t.Fatalf("Latency = %v after Ends without a latency, want 0", got)
	}
}

func TestBackendLatencyEWMA(t *testing.T) {
	b := NewBackend("a", "127.0.0.1:1", 1)
	if b.Latency() != 0 {
		t.Fatal("Latency before any sample is not 0")
	}
	b.End(10 * time.Millisecond)
	if got := b.Latency(); got != 10*time.Millisecond {
		t.Fatalf("first sample: Latency = %v, want 10ms", got)
	}
	b.End(-time.Second) // not a sample
	if got := b.Latency(); got != 10*time.Millisecond {
		t.Fatalf("after a negative latency: Latency = %v, want 10ms", got)
	}
	// One sample moves the average by a fraction; tens of samples nearly all
	// the way.
	b.End(20 * time.Millisecond)
	if got := b.Latency(); got <= 10*time.Millisecond || got >= 15*time.Millisecond {
		t.Fatalf("after one 20ms sample: Latency = %v, want a little above 10ms", got)
	}
	for range 40 {
		b.End(20 * time.Millisecond)
	}
	if got := b.Latency(); got < 19*time.Millisecond || got > 20*time.Millisecond {
		t.Fatalf("after 41 20ms samples: Latency = %v, want within 1ms of 20ms", got)
	}
	// Tiny samples never bring it to 0 (which means "unmeasured").
	for range 1000 {
		b.End(time.Nanosecond)
	}
	if got := b.Latency(); got < 1 || got > time.Microsecond {
		t.Fatalf("after 1000 1ns samples: Latency = %v, want 1ns..1µs", got)
	}
}
