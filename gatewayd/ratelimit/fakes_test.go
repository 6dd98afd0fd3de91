package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock for Config.Now.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fakeStore is an in-memory GlobalStore with versions and TTLs measured by a
// fake clock, and knobs to make it fail, hang or lose races.
type fakeStore struct {
	clock *fakeClock

	mu      sync.Mutex // protects the fields below
	items   map[string]fakeItem
	version uint64
	// conflict, if set, is asked before each CompareAndSet whether to bump the
	// key's version first (another writer won the race).
	conflict func() bool

	down  atomic.Bool // every call fails with ErrUnavailable
	hang  atomic.Bool // every call blocks until its context ends
	gets  atomic.Int64
	cases atomic.Int64
}

type fakeItem struct {
	val     []byte
	version uint64
	expires int64
}

func newFakeStore(c *fakeClock) *fakeStore {
	return &fakeStore{clock: c, items: map[string]fakeItem{}}
}

func (s *fakeStore) fail(ctx context.Context) error {
	if s.hang.Load() {
		<-ctx.Done()
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	if s.down.Load() {
		return fmt.Errorf("%w: fake store down", ErrUnavailable)
	}
	return nil
}

func (s *fakeStore) Get(ctx context.Context, key string) ([]byte, uint64, bool, error) {
	s.gets.Add(1)
	if err := s.fail(ctx); err != nil {
		return nil, 0, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[key]
	if !ok || it.expires <= s.clock.ns.Load() {
		return nil, 0, false, nil
	}
	return append([]byte(nil), it.val...), it.version, true, nil
}

func (s *fakeStore) CompareAndSet(ctx context.Context, key string, version uint64, val []byte, ttl time.Duration) error {
	s.cases.Add(1)
	if err := s.fail(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.ns.Load()
	it, ok := s.items[key]
	if ok && it.expires <= now {
		ok = false
		delete(s.items, key)
	}
	if ok && s.conflict != nil && s.conflict() {
		s.version++
		it.version = s.version
		s.items[key] = it
	}
	if (version == 0 && ok) || (version != 0 && (!ok || it.version != version)) {
		return ErrConflict
	}
	s.version++
	s.items[key] = fakeItem{val: append([]byte(nil), val...), version: s.version, expires: now + int64(ttl)}
	return nil
}

// tat returns the stored TAT of key, or false when absent.
func (s *fakeStore) tat(t *testing.T, key string) (int64, bool) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.items[key]
	if !ok {
		return 0, false
	}
	tat, err := decodeState(it.val)
	if err != nil {
		t.Fatal(err)
	}
	return tat, true
}

// seededRand returns a generator from a fresh seed, logged so that a failing
// run can be replayed with RATELIMIT_SEED.
func seededRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := testSeed(); s != 0 {
		seed = s
	}
	t.Logf("seed %d (replay: RATELIMIT_SEED=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed^0x5eed))
}

// testSeed returns RATELIMIT_SEED, or 0 when unset.
func testSeed() uint64 {
	s, _ := strconv.ParseUint(os.Getenv("RATELIMIT_SEED"), 10, 64)
	return s
}
