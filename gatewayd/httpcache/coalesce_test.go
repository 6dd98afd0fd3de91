package httpcache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCoalescing1000Misses(t *testing.T) {
	c, _, _ := newTestCache(t, Options{})
	body := strings.Repeat("x", 16<<10)
	release := make(chan struct{})
	o := &origin{}
	o.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		respond(200, body, "Cache-Control: max-age=60")(w, r)
	})
	const n = 1000
	outcomes := make([]Outcome, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, out := do(c, o, "GET", "/hot")
			outcomes[i], bodies[i] = out, w.Body.String()
		}()
	}
	waitFor(t, "999 coalesced requests", func() bool { return c.Stats().Coalesced == n-1 })
	close(release)
	wg.Wait()
	if got := o.count(); got != 1 {
		t.Fatalf("origin fetched %d times, want 1", got)
	}
	misses := 0
	for i := range n {
		if bodies[i] != body {
			t.Fatalf("request %d: body of %d bytes", i, len(bodies[i]))
		}
		switch outcomes[i] {
		case Miss:
			misses++
		case Hit:
		default:
			t.Fatalf("request %d: outcome %s", i, outcomes[i])
		}
	}
	if misses != 1 {
		t.Fatalf("%d misses, want 1", misses)
	}
	st := c.Stats()
	if st.Fetches != 1 || st.Requests != n || st.Hits != n-1 || st.Misses != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// signalWriter is a ResponseWriter that reports its first body write.
type signalWriter struct {
	h     http.Header
	mu    sync.Mutex
	buf   bytes.Buffer
	code  int
	first chan struct{}
	once  sync.Once
}

func newSignalWriter() *signalWriter {
	return &signalWriter{h: http.Header{}, first: make(chan struct{})}
}

func (w *signalWriter) Header() http.Header { return w.h }
func (w *signalWriter) WriteHeader(code int) {
	w.mu.Lock()
	w.code = code
	w.mu.Unlock()
}
func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	w.mu.Unlock()
	w.once.Do(func() { close(w.first) })
	return len(p), nil
}
func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestFirstResponseStreamsWhileStored(t *testing.T) {
	c, st, _ := newTestCache(t, Options{})
	pr, pw := io.Pipe()
	var calls sync.Mutex
	n := 0
	fetch := func(ctx context.Context, r *http.Request) (*http.Response, error) {
		calls.Lock()
		n++
		calls.Unlock()
		h := http.Header{}
		h.Set("Cache-Control", "max-age=60")
		return &http.Response{StatusCode: 200, Header: h, Body: pr, ContentLength: -1}, nil
	}
	leader := newSignalWriter()
	done := make(chan Outcome)
	go func() {
		done <- c.Serve(leader, httptest.NewRequest("GET", "/s", nil), "/s", fetch)
	}()
	pw.Write([]byte("part1-"))
	select {
	case <-leader.first:
	case <-time.After(5 * time.Second):
		t.Fatal("the first chunk did not reach the client while the origin was still sending")
	}
	if st.len() != 0 {
		t.Fatal("object visible before its commit")
	}
	follower := make(chan *httptest.ResponseRecorder)
	go func() {
		w := httptest.NewRecorder()
		c.Serve(w, httptest.NewRequest("GET", "/s", nil), "/s", fetch)
		follower <- w
	}()
	waitFor(t, "the follower to wait", func() bool { return c.Stats().Coalesced == 1 })
	pw.Write([]byte("part2"))
	pw.Close()
	if o := <-done; o != Miss {
		t.Fatalf("leader %s", o)
	}
	fw := <-follower
	if leader.String() != "part1-part2" || fw.Body.String() != "part1-part2" || fw.Header().Get("X-Cache") != "HIT" {
		t.Fatalf("leader %q, follower %q %v", leader.String(), fw.Body.String(), fw.Header())
	}
	if n != 1 {
		t.Fatalf("%d fetches", n)
	}
}

func TestUncacheableFollowersFetchOnTheirOwn(t *testing.T) {
	c, _, clock := newTestCache(t, Options{})
	release := make(chan struct{})
	o := &origin{}
	var once sync.Once
	o.set(func(w http.ResponseWriter, r *http.Request) {
		first := false
		once.Do(func() { first = true })
		if first {
			<-release
		}
		respond(200, "p", "Cache-Control: private")(w, r)
	})
	const n = 20
	var wg sync.WaitGroup
	outs := make(chan Outcome, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, out := do(c, o, "GET", "/u")
			outs <- out
		}()
	}
	waitFor(t, "followers", func() bool { return c.Stats().Coalesced == n-1 })
	close(release)
	wg.Wait()
	close(outs)
	count := map[Outcome]int{}
	for out := range outs {
		count[out]++
	}
	if o.count() != n || count[Miss] != 1 || count[Pass] != n-1 {
		t.Fatalf("fetches %d, outcomes %v", o.count(), count)
	}
	// Hit-for-pass: concurrent requests do not wait on each other.
	block := make(chan struct{})
	o.set(func(w http.ResponseWriter, r *http.Request) {
		<-block
		respond(200, "p", "Cache-Control: private")(w, r)
	})
	before := o.count()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, out := do(c, o, "GET", "/u"); out != Pass {
				t.Errorf("outcome %s, want PASS", out)
			}
		}()
	}
	waitFor(t, "two concurrent fetches", func() bool { return o.count() == before+2 })
	close(block)
	wg.Wait()
	// After hit-for-pass, a cacheable response is stored again.
	clock.Advance(hitForPassTTL + time.Second)
	o.set(respond(200, "c", "Cache-Control: max-age=60"))
	if _, out := do(c, o, "GET", "/u"); out != Miss {
		t.Fatalf("outcome %s", out)
	}
	if _, out := do(c, o, "GET", "/u"); out != Hit {
		t.Fatalf("outcome %s", out)
	}
}

func TestFollowersOfAFailedFetchDoNotRefetch(t *testing.T) {
	c, _, _ := newTestCache(t, Options{})
	release := make(chan struct{})
	var mu sync.Mutex
	calls := 0
	fetch := func(ctx context.Context, r *http.Request) (*http.Response, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		<-release
		return nil, errors.New("refused")
	}
	const n = 10
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := httptest.NewRecorder()
			c.Serve(w, httptest.NewRequest("GET", "/f", nil), "/f", fetch)
			codes <- w.Code
		}()
	}
	waitFor(t, "followers", func() bool { return c.Stats().Coalesced == n-1 })
	close(release)
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusBadGateway {
			t.Fatalf("status %d", code)
		}
	}
	if calls != 1 {
		t.Fatalf("%d fetches", calls)
	}
}

func TestVaryDiscoveredByTheFlight(t *testing.T) {
	// Requests for an unknown key coalesce before its Vary is known; the
	// followers whose variant differs fetch their own.
	c, _, _ := newTestCache(t, Options{})
	release := make(chan struct{})
	o := &origin{}
	o.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		respond(200, "lang="+r.Header.Get("X-Lang"), "Cache-Control: max-age=60", "Vary: X-Lang")(w, r)
	})
	var wg sync.WaitGroup
	got := make([]string, 4)
	langs := []string{"en", "en", "fr", "fr"}
	for i, l := range langs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, _ := do(c, o, "GET", "/v", "X-Lang: "+l)
			got[i] = w.Body.String()
		}()
	}
	waitFor(t, "followers", func() bool { return c.Stats().Coalesced >= 3 })
	close(release)
	wg.Wait()
	for i, l := range langs {
		if got[i] != "lang="+l {
			t.Fatalf("request %d (%s) got %q", i, l, got[i])
		}
	}
	if o.count() > 2 {
		t.Fatalf("%d fetches, want at most 2", o.count())
	}
}

func TestStorageRefusalStillAnswers(t *testing.T) {
	c, st, _ := newTestCache(t, Options{})
	st.refuse = true
	o := &origin{}
	o.set(respond(200, "a", "Cache-Control: max-age=60"))
	for range 2 {
		w, out := do(c, o, "GET", "/r")
		if out != Miss || w.Body.String() != "a" {
			t.Fatalf("%s %q", out, w.Body.String())
		}
	}
	if o.count() != 2 {
		t.Fatalf("%d fetches", o.count())
	}
}

func TestMaxObjectBytes(t *testing.T) {
	c, st, _ := newTestCache(t, Options{MaxObjectBytes: 10})
	o := &origin{}
	o.set(respond(200, strings.Repeat("b", 11), "Cache-Control: max-age=60"))
	w, _ := do(c, o, "GET", "/big")
	if w.Body.Len() != 11 || st.len() != 0 {
		t.Fatalf("body %d, stored %d", w.Body.Len(), st.len())
	}
	// Unknown length, found too large while streaming.
	fetch := func(ctx context.Context, r *http.Request) (*http.Response, error) {
		h := http.Header{"Cache-Control": {"max-age=60"}}
		return &http.Response{StatusCode: 200, Header: h, Body: io.NopCloser(strings.NewReader(strings.Repeat("c", 25))), ContentLength: -1}, nil
	}
	w = httptest.NewRecorder()
	c.Serve(w, httptest.NewRequest("GET", "/big2", nil), "/big2", fetch)
	if w.Body.Len() != 25 || st.len() != 0 {
		t.Fatalf("body %d, stored %d", w.Body.Len(), st.len())
	}
}

func TestCloseWaitsForBackgroundRevalidation(t *testing.T) {
	c, st, clock := newTestCache(t, Options{})
	o := &origin{}
	o.set(respond(200, "old", "Cache-Control: max-age=10, stale-while-revalidate=100"))
	do(c, o, "GET", "/w")
	clock.Advance(20 * time.Second)
	release := make(chan struct{})
	o.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		respond(200, "new", "Cache-Control: max-age=10")(w, r)
	})
	if w, out := do(c, o, "GET", "/w"); out != Stale || w.Body.String() != "old" {
		t.Fatalf("%s %q", out, w.Body.String())
	}
	go close(release)
	c.Close()
	_, body, ok := st.Get("/w\x00")
	if !ok {
		t.Fatal("entry gone")
	}
	buf := make([]byte, body.Size())
	body.ReadAt(buf, 0)
	if string(buf) != "new" {
		t.Fatalf("after Close the entry holds %q", buf)
	}
}

func TestFollowersOfAFailedRevalidationGetStale(t *testing.T) {
	c, _, clock := newTestCache(t, Options{})
	o := &origin{}
	o.set(respond(200, "old", "Cache-Control: max-age=10, stale-if-error=600"))
	do(c, o, "GET", "/e")
	clock.Advance(20 * time.Second)
	release := make(chan struct{})
	o.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		respond(503, "down")(w, r)
	})
	const n = 5
	var wg sync.WaitGroup
	outs := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, out := do(c, o, "GET", "/e")
			outs <- string(out) + " " + w.Body.String()
		}()
	}
	waitFor(t, "followers", func() bool { return c.Stats().Coalesced == n-1 })
	close(release)
	wg.Wait()
	close(outs)
	for s := range outs {
		if s != "STALE old" {
			t.Fatalf("got %q", s)
		}
	}
	if o.count() != 2 {
		t.Fatalf("%d fetches", o.count())
	}
}

func TestUnsafeMethodInvalidatesEveryVariant(t *testing.T) {
	c, st, _ := newTestCache(t, Options{})
	o := &origin{}
	o.set(respond(200, "v", "Cache-Control: max-age=60", "Vary: X-V"))
	do(c, o, "GET", "/p", "X-V: 1")
	do(c, o, "GET", "/p", "X-V: 2")
	if st.len() != 2 {
		t.Fatalf("%d stored", st.len())
	}
	o.set(respond(204, ""))
	if _, out := do(c, o, "PUT", "/p"); out != Pass {
		t.Fatalf("PUT: %s", out)
	}
	if st.len() != 0 {
		t.Fatalf("%d left after PUT", st.len())
	}
	if o.last().Method != "PUT" {
		t.Fatalf("origin saw %s", o.last().Method)
	}
}

func TestFollowersOfAnUncacheable5xxDoNotRefetch(t *testing.T) {
	c, _, _ := newTestCache(t, Options{})
	release := make(chan struct{})
	o := &origin{}
	o.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		respond(503, "busy")(w, r)
	})
	const n = 10
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, _ := do(c, o, "GET", "/5")
			codes <- w.Code
		}()
	}
	waitFor(t, "followers", func() bool { return c.Stats().Coalesced == n-1 })
	close(release)
	wg.Wait()
	close(codes)
	got := map[int]int{}
	for code := range codes {
		got[code]++
	}
	if o.count() != 1 || got[503] != 1 || got[502] != n-1 {
		t.Fatalf("fetches %d, statuses %v", o.count(), got)
	}
}

// failingWriter is a client that went away: every body write fails.
type failingWriter struct{ h http.Header }

func (f failingWriter) Header() http.Header       { return f.h }
func (f failingWriter) WriteHeader(int)           {}
func (f failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestLeaderClientGoneStillStores(t *testing.T) {
	c, _, _ := newTestCache(t, Options{})
	o := &origin{}
	body := strings.Repeat("z", 100<<10)
	o.set(respond(200, body, "Cache-Control: max-age=60"))
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest("GET", "/g", nil).WithContext(ctx)
	cancel()
	c.Serve(failingWriter{h: http.Header{}}, r, "/g", o.Fetch)
	if w, out := do(c, o, "GET", "/g"); out != Hit || w.Body.String() != body {
		t.Fatalf("after the leader's client left: %s, %d bytes", out, w.Body.Len())
	}
}

func TestFollowerClientGone(t *testing.T) {
	c, _, _ := newTestCache(t, Options{})
	release := make(chan struct{})
	o := &origin{}
	o.set(func(w http.ResponseWriter, r *http.Request) {
		<-release
		respond(200, "x", "Cache-Control: max-age=60")(w, r)
	})
	leader := make(chan Outcome)
	go func() {
		_, out := do(c, o, "GET", "/fg")
		leader <- out
	}()
	waitFor(t, "the leader's fetch", func() bool { return o.count() == 1 })
	ctx, cancel := context.WithCancel(context.Background())
	follower := make(chan Outcome)
	go func() {
		w := httptest.NewRecorder()
		follower <- c.Serve(w, httptest.NewRequest("GET", "/fg", nil).WithContext(ctx), "/fg", o.Fetch)
	}()
	waitFor(t, "the follower", func() bool { return c.Stats().Coalesced == 1 })
	cancel()
	if out := <-follower; out != Error {
		t.Fatalf("follower %s", out)
	}
	close(release)
	if out := <-leader; out != Miss {
		t.Fatalf("leader %s", out)
	}
}
