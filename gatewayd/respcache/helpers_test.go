package respcache

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/nodetest"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// memStore is a Store in a map, honouring TTLs on its clock.
type memStore struct {
	clock *fakeClock
	mu    sync.Mutex
	vals  map[string][]byte
	exp   map[string]time.Time
	gets  int
	err   error // returned by every call when set
	block chan struct{}
}

func newMemStore(clock *fakeClock) *memStore {
	return &memStore{clock: clock, vals: map[string][]byte{}, exp: map[string]time.Time{}}
}

func (s *memStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gets++
	if s.err != nil {
		return nil, false, s.err
	}
	v, ok := s.vals[key]
	if ok && !s.clock.Now().Before(s.exp[key]) {
		return nil, false, nil
	}
	return v, ok, nil
}

func (s *memStore) Set(ctx context.Context, key string, val []byte, ttl time.Duration) error {
	s.mu.Lock()
	block := s.block
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.vals[key] = append([]byte(nil), val...)
	s.exp[key] = s.clock.Now().Add(ttl)
	return nil
}

func (s *memStore) getCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets
}

func (s *memStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.vals)
}

var errStoreDown = errors.New("store down")

func newTestCache(t testing.TB, store Store, clock *fakeClock) *Cache {
	cfg := Config{Store: store, Now: clock.Now}
	if tt, ok := t.(*testing.T); ok {
		cfg.Logger = nodetest.Logger(tt)
	}
	c := New(cfg)
	t.Cleanup(func() { c.Close() })
	return c
}

var testSpec = &gwconfig.Cache{TTL: time.Minute}

// origin answers like an upstream: a JSON body with the given headers.
func origin(status int, h http.Header, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range h {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			w.Write([]byte(body))
		}
	}
}

// serveThrough answers r with c in front of the handler, the way the
// gateway does, and returns the recorded response.
func serveThrough(t testing.TB, c *Cache, r *http.Request, upstream http.HandlerFunc) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	ctx := context.Background()
	key := Key("route", r, testSpec)
	if e, ok := c.Lookup(ctx, key, r); ok {
		e.Serve(w, r)
		return w
	}
	rec := c.NewRecorder(w, int64(1<<20))
	upstream(rec, r)
	ttl, ok := StorableHeader(r, rec.Status(), rec.header, testSpec, c.now())
	if ok {
		rec.Finish(ctx, key, r, 0, nil, ttl)
	}
	return w
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
