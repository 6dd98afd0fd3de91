package benchrun

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

type client struct {
	i      int
	closed *atomic.Int32
}

func (c *client) Close() error { c.closed.Add(1); return nil }

func TestOpenAll(t *testing.T) {
	var closed atomic.Int32
	cs, err := OpenAll(context.Background(), time.Second, 4, func(ctx context.Context, i int) (*client, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Errorf("client %d opened without a deadline", i)
		}
		return &client{i: i, closed: &closed}, nil
	})
	if err != nil || len(cs) != 4 {
		t.Fatalf("OpenAll = %v, %v", cs, err)
	}
	for i, c := range cs {
		if c.i != i {
			t.Fatalf("client %d is number %d", i, c.i)
		}
	}
	CloseAll(cs)
	if closed.Load() != 4 {
		t.Fatalf("CloseAll closed %d of 4", closed.Load())
	}
}

func TestOpenAllClosesTheOpenedOnesOnFailure(t *testing.T) {
	var closed atomic.Int32
	boom := errors.New("boom")
	cs, err := OpenAll(context.Background(), time.Second, 5, func(_ context.Context, i int) (*client, error) {
		if i%2 == 1 {
			return nil, boom
		}
		return &client{i: i, closed: &closed}, nil
	})
	if !errors.Is(err, boom) || cs != nil {
		t.Fatalf("OpenAll = %v, %v; want nil, boom", cs, err)
	}
	if closed.Load() != 3 {
		t.Fatalf("closed %d of the 3 opened clients", closed.Load())
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 5}, {0.9, 9}, {0.99, 10}, {1, 10}, {0.01, 1}, {0.1, 1}} {
		if got := Percentile(d, tc.p); got != tc.want {
			t.Errorf("Percentile(1..10, %v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}
