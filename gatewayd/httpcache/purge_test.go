package httpcache

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// fill stores key with the given Surrogate-Key tags (and Vary on X-V when
// variants are given, one request per variant).
func fill(t *testing.T, c *Cache, o *origin, key, tags string, variants ...string) {
	t.Helper()
	hdr := []string{"Cache-Control: max-age=600", `ETag: "e"`, "Surrogate-Key: " + tags}
	if len(variants) == 0 {
		o.set(respond(200, key, hdr...))
		if _, out := do(c, o, "GET", key); out != Miss {
			t.Fatalf("fill %s: %s", key, out)
		}
		return
	}
	o.set(respond(200, key, append(hdr, "Vary: X-V")...))
	for _, v := range variants {
		if _, out := do(c, o, "GET", key, "X-V: "+v); out != Miss {
			t.Fatalf("fill %s %s: %s", key, v, out)
		}
	}
}

func TestPurge(t *testing.T) {
	c, st, clock := newTestCache(t, Options{})
	o := &origin{}
	fill(t, c, o, "/a/1", "red")
	fill(t, c, o, "/a/2", "red blue", "x", "y")
	fill(t, c, o, "/b/1", "blue")
	fill(t, c, o, "/ab", "green")
	if st.len() != 5 {
		t.Fatalf("%d stored", st.len())
	}
	if n := c.PurgePrefix("/a/", false); n != 3 {
		t.Fatalf("PurgePrefix removed %d, want 3", n)
	}
	if _, out := do(c, o, "GET", "/ab"); out != Hit {
		t.Fatalf("/ab: %s", out)
	}
	if n := c.PurgeTag("blue", false); n != 1 {
		t.Fatalf("PurgeTag removed %d, want 1", n)
	}
	if n := c.PurgeTag("blue", false); n != 0 {
		t.Fatalf("PurgeTag again removed %d", n)
	}
	fill(t, c, o, "/a/2", "red", "x", "y")
	if n := c.PurgeKey("/a/2", false); n != 2 {
		t.Fatalf("PurgeKey removed %d variants, want 2", n)
	}
	// Soft purge by tag: marked stale, revalidated next, served stale on error.
	fill(t, c, o, "/s/1", "soft")
	fill(t, c, o, "/s/2", "soft")
	if n := c.PurgeTag("soft", true); n != 2 {
		t.Fatalf("soft PurgeTag marked %d", n)
	}
	if v := c.Inspect("/s/1"); len(v) != 1 || !v[0].SoftPurged || v[0].TTL > 0 {
		t.Fatalf("inspect after soft purge: %+v", v)
	}
	o.set(respond(http.StatusNotModified, ""))
	if w, out := do(c, o, "GET", "/s/1"); out != Revalidated || w.Body.String() != "/s/1" {
		t.Fatalf("/s/1 after soft purge: %s %q", out, w.Body.String())
	}
	if v := c.Inspect("/s/1"); v[0].SoftPurged {
		t.Fatal("revalidation did not clear the soft purge")
	}
	o.mu.Lock()
	o.err = http.ErrHandlerTimeout
	o.mu.Unlock()
	clock.Advance(time.Second)
	if w, out := do(c, o, "GET", "/s/2"); out != Stale || w.Body.String() != "/s/2" {
		t.Fatalf("/s/2 soft purged, origin down: %s %q", out, w.Body.String())
	}
	if n := c.PurgeAll(); st.len() != 0 || n != 3 {
		t.Fatalf("PurgeAll removed %d, %d left", n, st.len())
	}
	if c.Stats().PurgesApplied != 6 {
		t.Fatalf("purges applied %d", c.Stats().PurgesApplied)
	}
}

func TestInspect(t *testing.T) {
	c, _, clock := newTestCache(t, Options{})
	o := &origin{}
	fill(t, c, o, "/i", "t1 t2", "x", "y")
	clock.Advance(100 * time.Second)
	v := c.Inspect("/i")
	if len(v) != 2 {
		t.Fatalf("%d variants", len(v))
	}
	want := []string{"x", "y"}
	for i, vi := range v {
		if vi.Vary["X-V"] != want[i] || vi.Status != 200 || vi.Size != 2 || vi.Age != 100*time.Second ||
			vi.TTL != 500*time.Second || vi.ETag != `"e"` || len(vi.Tags) != 2 || vi.Tier != "memory" ||
			vi.Headers["Cache-Control"] != "max-age=600" || vi.Stored.IsZero() {
			t.Fatalf("variant %d: %+v", i, vi)
		}
	}
	if v := c.Inspect("/none"); len(v) != 0 {
		t.Fatalf("%+v", v)
	}
}

func TestRebuildAfterRestart(t *testing.T) {
	c, st, _ := newTestCache(t, Options{})
	o := &origin{}
	fill(t, c, o, "/r/1", "t1", "x", "y")
	fill(t, c, o, "/r/2", "t1 t2")
	fill(t, c, o, "/q", "t2")
	c.Close()
	// A corrupt object left by the previous run is dropped.
	w, _ := st.Create("junk", []byte{9, 9, 9}, 0)
	w.Commit()

	st2 := st.reopen()
	c2, _, _ := newTestCache(t, Options{Storage: st2})
	if _, _, ok := st2.Get("junk"); ok {
		t.Fatal("corrupt object kept")
	}
	o.set(respond(500, "origin must not be asked"))
	for _, v := range []string{"x", "y"} {
		if r, out := do(c2, o, "GET", "/r/1", "X-V: "+v); out != Hit || r.Body.String() != "/r/1" {
			t.Fatalf("variant %s after restart: %s", v, out)
		}
	}
	if n := c2.PurgeTag("t1", false); n != 3 {
		t.Fatalf("PurgeTag after restart removed %d, want 3", n)
	}
	if n := c2.PurgePrefix("/q", false); n != 1 {
		t.Fatalf("PurgePrefix after restart removed %d", n)
	}
	if o.count() != 4 {
		t.Fatalf("%d fetches", o.count())
	}
}

// A request Options.Downstream names (a shield hop from another edge)
// receives the edge-only headers, on a miss and on a hit, so the edge that
// asked can store the response with its tags and edge freshness; other
// requests never see them.
func TestDownstreamKeepsEdgeHeaders(t *testing.T) {
	c, _, _ := newTestCache(t, Options{Downstream: func(r *http.Request) bool { return r.Header.Get("X-Hop") == "1" }})
	o := &origin{}
	o.set(respond(200, "/x", "Cache-Control: max-age=60", "Surrogate-Control: max-age=600", "Surrogate-Key: t1"))
	w, out := do(c, o, "GET", "/x", "X-Hop: 1")
	if out != Miss || w.Header().Get("Surrogate-Key") != "t1" || w.Header().Get("Surrogate-Control") != "max-age=600" {
		t.Fatalf("hop miss: %s, headers %v", out, w.Header())
	}
	w, out = do(c, o, "GET", "/x", "X-Hop: 1")
	if out != Hit || w.Header().Get("Surrogate-Key") != "t1" || w.Header().Get("Surrogate-Control") != "max-age=600" {
		t.Fatalf("hop hit: %s, headers %v", out, w.Header())
	}
	w, out = do(c, o, "GET", "/x")
	if out != Hit || w.Header().Get("Surrogate-Key") != "" || w.Header().Get("Surrogate-Control") != "" {
		t.Fatalf("client hit: %s, headers %v", out, w.Header())
	}
}

// Regression (edge chaos, purges): a response fetched before a purge of its
// key is not stored after the purge; otherwise an edge that applied the
// purge while a miss was in flight kept the purged version (max-age 3600)
// after the purge was acknowledged.
func TestPurgeDuringFetchIsNotStored(t *testing.T) {
	c, st, _ := newTestCache(t, Options{})
	o := &origin{}
	o.set(respond(200, "v1", "Cache-Control: max-age=3600", "Surrogate-Key: t"))
	inFetch, release := make(chan struct{}), make(chan struct{})
	slow := func(ctx context.Context, r *http.Request) (*http.Response, error) {
		close(inFetch)
		<-release
		return o.Fetch(ctx, r)
	}
	done := make(chan Outcome, 1)
	go func() {
		r := httptest.NewRequest("GET", "http://edge.test/x", nil)
		done <- c.Serve(httptest.NewRecorder(), r, "/x", slow)
	}()
	<-inFetch
	c.PurgeTag("t", false) // nothing stored yet: the purge is of the version in flight
	c.PurgeKey("/x", false)
	close(release)
	if out := <-done; out != Miss {
		t.Fatalf("in-flight request: %s", out)
	}
	if st.len() != 0 {
		t.Fatalf("%d objects stored after a purge that ran during their fetch", st.len())
	}
	o.set(respond(200, "v2", "Cache-Control: max-age=3600"))
	w, out := do(c, o, "GET", "/x")
	if out != Miss || w.Body.String() != "v2" {
		t.Fatalf("after the purge: %s %q, want a MISS of v2", out, w.Body.String())
	}
	if _, out := do(c, o, "GET", "/x"); out != Hit {
		t.Fatalf("a fetch with no purge during it is stored: %s", out)
	}
}
