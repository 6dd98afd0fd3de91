package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestGetOrLoadCoalescesMisses: N concurrent misses of one key run load once.
// The barrier is the flight group's join hook: load is released only once the
// other N-1 callers are waiting for it.
func TestGetOrLoadCoalescesMisses(t *testing.T) {
	const n = 16
	cl := newFakeCluster(t, 3, 1)
	c := cl.newClient(nil)
	ctx := ctxT(t)
	var joined sync.WaitGroup
	joined.Add(n - 1)
	c.loads.joined = func(string) { joined.Done() }
	release := make(chan struct{})
	var loads atomic.Int64
	load := func(ctx context.Context) ([]byte, error) {
		loads.Add(1)
		select {
		case <-release:
			return []byte("loaded"), nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var wg sync.WaitGroup
	results := make([]string, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			v, err := c.GetOrLoad(ctx, "hot", time.Minute, load)
			results[i], errs[i] = string(v), err
		})
	}
	joined.Wait()
	close(release)
	wg.Wait()
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, "loaded", results[i])
	}
	require.EqualValues(t, 1, loads.Load())
	v, ok := cl.owner("hot").get("hot")
	require.True(t, ok, "the loaded value is cached")
	require.Equal(t, "loaded", string(v))

	// A hit does not load.
	v, err := c.GetOrLoad(ctx, "hot", time.Minute, func(context.Context) ([]byte, error) { panic("loaded on a hit") })
	require.NoError(t, err)
	require.Equal(t, "loaded", string(v))

	// A load error is returned and nothing is cached.
	boom := errors.New("boom")
	_, err = c.GetOrLoad(ctx, "bad", 0, func(context.Context) ([]byte, error) { return nil, boom })
	require.ErrorIs(t, err, boom)
	_, ok = cl.owner("bad").get("bad")
	require.False(t, ok)
}

// TestGetOrLoadCallerCancel: a caller that gives up does not cancel a load
// others wait for; when every caller has given up, the load is canceled.
func TestGetOrLoadCallerCancel(t *testing.T) {
	cl := newFakeCluster(t, 1, 1)
	c := cl.newClient(nil)
	started := make(chan struct{})
	release := make(chan struct{})
	canceled := make(chan struct{})
	load := func(ctx context.Context) ([]byte, error) {
		close(started)
		select {
		case <-release:
			return []byte("v"), nil
		case <-ctx.Done():
			close(canceled)
			return nil, ctx.Err()
		}
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	done1 := make(chan error, 1)
	go func() {
		_, err := c.GetOrLoad(ctx1, "k", 0, load)
		done1 <- err
	}()
	<-started
	var joined sync.WaitGroup
	joined.Add(1)
	c.loads.joined = func(string) { joined.Done() }
	done2 := make(chan string, 1)
	go func() {
		v, _ := c.GetOrLoad(ctxT(t), "k", 0, load)
		done2 <- string(v)
	}()
	joined.Wait()
	cancel1()
	require.ErrorIs(t, <-done1, context.Canceled)
	close(release)
	require.Equal(t, "v", <-done2)

	// Now the only caller gives up: the load is canceled.
	started = make(chan struct{})
	ctx3, cancel3 := context.WithCancel(context.Background())
	done3 := make(chan error, 1)
	go func() {
		_, err := c.GetOrLoad(ctx3, "k2", 0, func(ctx context.Context) ([]byte, error) {
			close(started)
			<-ctx.Done()
			close(canceled)
			return nil, ctx.Err()
		})
		done3 <- err
	}()
	<-started
	cancel3()
	require.ErrorIs(t, <-done3, context.Canceled)
	<-canceled
}

// memStore is a Store over a map that can be made to fail or block.
type memStore struct {
	mu    sync.Mutex // protects the fields below
	data  map[string][]byte
	saves []string // keys saved, in order
	loads int
	fail  error
	gate  chan struct{} // if set, Save waits for it
}

func newMemStore() *memStore { return &memStore{data: map[string][]byte{}} }

func (s *memStore) Load(_ context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loads++
	v, ok := s.data[key]
	return v, ok, s.fail
}

func (s *memStore) Save(ctx context.Context, key string, val []byte) error {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.data[key] = val
	s.saves = append(s.saves, key)
	return nil
}

func (s *memStore) Delete(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	delete(s.data, key)
	s.saves = append(s.saves, "-"+key)
	return nil
}

func (s *memStore) value(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	return string(v), ok
}

func TestWriteThrough(t *testing.T) {
	cl := newFakeCluster(t, 3, 1)
	c := cl.newClient(func(c *Config) { c.RequestTimeout = 500 * time.Millisecond })
	ctx := ctxT(t)
	st := newMemStore()
	st.data["db"] = []byte("from-db")
	wt := &WriteThrough{Cache: c, Store: st, TTL: time.Minute}

	v, ok, err := wt.Get(ctx, "db")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "from-db", string(v))
	_, ok, err = wt.Get(ctx, "db")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, 1, st.loads, "the second Get is a cache hit")
	_, ok, err = wt.Get(ctx, "absent")
	require.NoError(t, err)
	require.False(t, ok)

	// u's owner will go down; "db", deleted last, must live elsewhere.
	u := "u"
	for i := 0; cl.owner(u) == cl.owner("db"); i++ {
		u = fmt.Sprintf("u%d", i)
	}
	require.NoError(t, wt.Set(ctx, u, []byte("1")))
	got, _ := st.value(u)
	require.Equal(t, "1", got)
	cv, ok := cl.owner(u).get(u)
	require.True(t, ok)
	require.Equal(t, "1", string(cv))

	// The store fails: nothing reaches the cache.
	st.fail = errors.New("db down")
	require.ErrorIs(t, wt.Set(ctx, u, []byte("2")), st.fail)
	cv, _ = cl.owner(u).get(u)
	require.Equal(t, "1", string(cv))
	st.fail = nil

	// The cache owner is down: the store has the value, the error says so.
	down := cl.owner(u)
	down.stop()
	err = wt.Set(ctx, u, []byte("3"))
	require.ErrorIs(t, err, ErrUnavailable)
	got, _ = st.value(u)
	require.Equal(t, "3", got)

	require.NoError(t, wt.Delete(ctx, "db"))
	_, ok = st.value("db")
	require.False(t, ok)
}

func TestWriteBehindBatchesAndFlushesOnClose(t *testing.T) {
	cl := newFakeCluster(t, 3, 1)
	c := cl.newClient(nil)
	ctx := ctxT(t)
	st := newMemStore()
	st.gate = make(chan struct{})
	wb, err := NewWriteBehind(c, st, WriteBehindConfig{QueueSize: 100, BatchSize: 10, FlushInterval: time.Hour})
	require.NoError(t, err)

	for i := range 25 {
		require.NoError(t, wb.Set(ctx, fmt.Sprintf("k%d", i%5), []byte(fmt.Sprint(i))))
	}
	require.NoError(t, wb.Delete(ctx, "k4"))
	// The cache has every write at once; the store has none yet.
	v, ok, err := wb.Get(ctx, "k0")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "20", string(v))
	require.Equal(t, 26, wb.Pending())
	_, ok = st.value("k0")
	require.False(t, ok)

	close(st.gate)
	require.NoError(t, wb.Close(ctx))
	require.Zero(t, wb.Pending())
	for i := range 4 {
		got, ok := st.value(fmt.Sprintf("k%d", i))
		require.True(t, ok)
		require.Equal(t, fmt.Sprint(20+i), got)
	}
	_, ok = st.value("k4")
	require.False(t, ok)
	// Batches of 10 with 5 keys: each batch saves each key once.
	require.Less(t, len(st.saves), 26)
	require.ErrorIs(t, wb.Set(ctx, "k", nil), ErrWriteBehindClosed)
	require.NoError(t, wb.Close(ctx))
}

func TestWriteBehindFullQueueBlocksUntilContextEnds(t *testing.T) {
	cl := newFakeCluster(t, 1, 1)
	c := cl.newClient(nil)
	ctx := ctxT(t)
	st := newMemStore()
	st.gate = make(chan struct{})
	wb, err := NewWriteBehind(c, st, WriteBehindConfig{QueueSize: 2, BatchSize: 1, FlushInterval: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, wb.Set(ctx, "a", []byte("1")))
	require.NoError(t, wb.Set(ctx, "b", []byte("2")))
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, wb.Set(short, "c", []byte("3")), context.DeadlineExceeded)
	_, ok := cl.nodes[0].get("c")
	require.False(t, ok, "a write that found the queue full changes nothing")

	// Pending writes are readable while the store lags, even after a cache loss.
	cl.nodes[0].mu.Lock()
	delete(cl.nodes[0].items, "a")
	cl.nodes[0].mu.Unlock()
	v, ok, err := wb.Get(ctx, "a")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "1", string(v))

	// Close with an expired context drops what the blocked store holds.
	expired, cancel2 := context.WithCancel(ctx)
	cancel2()
	require.ErrorContains(t, wb.Close(expired), "not saved")
}

func TestWriteBehindRetriesFailedSaves(t *testing.T) {
	cl := newFakeCluster(t, 1, 1)
	c := cl.newClient(nil)
	ctx := ctxT(t)
	st := newMemStore()
	st.fail = errors.New("db down")
	failures := make(chan string, 100)
	wb, err := NewWriteBehind(c, st, WriteBehindConfig{FlushInterval: time.Millisecond,
		OnError: func(key string, _ error) {
			select {
			case failures <- key:
			default:
			}
		}})
	require.NoError(t, err)
	require.NoError(t, wb.Set(ctx, "a", []byte("1")))
	require.Equal(t, "a", <-failures)
	st.mu.Lock()
	st.fail = nil
	st.mu.Unlock()
	require.NoError(t, wb.Close(ctx))
	got, ok := st.value("a")
	require.True(t, ok)
	require.Equal(t, "1", got)
}
