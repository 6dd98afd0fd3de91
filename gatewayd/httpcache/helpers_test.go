package httpcache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
}

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

// mapBacking is what a mapStore keeps; a store reopened on the same backing
// sees what the previous one committed (a storage that survives a restart).
type mapBacking struct {
	mu   sync.Mutex
	objs map[string]*mapObj
}

type mapObj struct {
	meta []byte
	body []byte
}

// mapStore is a Storage in a map.
type mapStore struct {
	b      *mapBacking
	refuse bool // Create answers ErrNotAdmitted
}

func newMapStore() *mapStore { return &mapStore{b: &mapBacking{objs: map[string]*mapObj{}}} }

// reopen returns a new store over the same objects.
func (s *mapStore) reopen() *mapStore { return &mapStore{b: s.b} }

func (s *mapStore) Get(id string) ([]byte, Body, bool) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	o, ok := s.b.objs[id]
	if !ok {
		return nil, nil, false
	}
	return o.meta, &memBody{r: bytes.NewReader(o.body), n: int64(len(o.body))}, true
}

func (s *mapStore) Touch(string) {}

func (s *mapStore) Create(id string, meta []byte, size int64) (Writer, error) {
	if s.refuse {
		return nil, ErrNotAdmitted
	}
	return &mapWriter{s: s, id: id, meta: meta, size: size}, nil
}

func (s *mapStore) SetMeta(id string, meta []byte) bool {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	o, ok := s.b.objs[id]
	if ok {
		s.b.objs[id] = &mapObj{meta: meta, body: o.body}
	}
	return ok
}

func (s *mapStore) Delete(id string) bool {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	_, ok := s.b.objs[id]
	delete(s.b.objs, id)
	return ok
}

func (s *mapStore) Range(fn func(id string, meta []byte) bool) {
	s.b.mu.Lock()
	type kv struct {
		id   string
		meta []byte
	}
	var all []kv
	for id, o := range s.b.objs {
		all = append(all, kv{id, o.meta})
	}
	s.b.mu.Unlock()
	for _, e := range all {
		if !fn(e.id, e.meta) {
			return
		}
	}
}

func (s *mapStore) Usage() Usage {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	u := Usage{Objects: int64(len(s.b.objs))}
	for _, o := range s.b.objs {
		u.MemoryBytes += int64(len(o.body))
	}
	return u
}

func (s *mapStore) len() int {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return len(s.b.objs)
}

type memBody struct {
	r *bytes.Reader
	n int64
}

func (b *memBody) ReadAt(p []byte, off int64) (int, error) { return b.r.ReadAt(p, off) }
func (b *memBody) Close() error                            { return nil }
func (b *memBody) Size() int64                             { return b.n }
func (b *memBody) Tier() string                            { return "memory" }

type mapWriter struct {
	s    *mapStore
	id   string
	meta []byte
	size int64
	buf  bytes.Buffer
	done bool
}

func (w *mapWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (w *mapWriter) Commit() error {
	if w.done {
		return errors.New("mapWriter: already ended")
	}
	w.done = true
	if w.size >= 0 && int64(w.buf.Len()) != w.size {
		return ErrTooLarge
	}
	w.s.b.mu.Lock()
	w.s.b.objs[w.id] = &mapObj{meta: w.meta, body: bytes.Clone(w.buf.Bytes())}
	w.s.b.mu.Unlock()
	return nil
}

func (w *mapWriter) Abort() { w.done = true }

// origin is a scripted origin: handler answers each fetch.
type origin struct {
	mu      sync.Mutex
	calls   int
	reqs    []*http.Request
	handler func(w http.ResponseWriter, r *http.Request)
	err     error
}

func (o *origin) Fetch(ctx context.Context, r *http.Request) (*http.Response, error) {
	o.mu.Lock()
	o.calls++
	o.reqs = append(o.reqs, r)
	h, err := o.handler, o.err
	o.mu.Unlock()
	if err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	h(rec, r)
	resp := rec.Result()
	if resp.Header.Get("Content-Length") == "" && rec.Body != nil {
		resp.ContentLength = int64(rec.Body.Len())
	}
	return resp, nil
}

func (o *origin) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.calls
}

func (o *origin) last() *http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.reqs) == 0 {
		return nil
	}
	return o.reqs[len(o.reqs)-1]
}

func (o *origin) set(h func(w http.ResponseWriter, r *http.Request)) {
	o.mu.Lock()
	o.handler = h
	o.mu.Unlock()
}

// newTestCache returns a cache on a map store and a fake clock.
func newTestCache(t testing.TB, opts Options) (*Cache, *mapStore, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	st := newMapStore()
	if opts.Storage == nil {
		opts.Storage = st
	}
	opts.Now = clock.Now
	if opts.Name == "" {
		opts.Name = "edge-t"
	}
	opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c, st, clock
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// do serves one request and returns the recorder.
func do(c *Cache, o *origin, method, key string, hdr ...string) (*httptest.ResponseRecorder, Outcome) {
	r := httptest.NewRequest(method, "http://edge.test"+key, nil)
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ":")
		r.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	w := httptest.NewRecorder()
	out := c.Serve(w, r, key, o.Fetch)
	return w, out
}

// waitIdle waits until no fetch (background revalidations included) runs.
func waitIdle(t testing.TB, c *Cache) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		n := len(c.flights)
		c.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d fetches still running", n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// respond returns a handler answering status, header lines and body.
func respond(status int, body string, hdr ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, h := range hdr {
			k, v, _ := strings.Cut(h, ":")
			w.Header().Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			io.WriteString(w, body)
		}
	}
}
