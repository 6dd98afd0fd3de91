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
