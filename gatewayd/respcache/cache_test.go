package respcache

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var cacheable = http.Header{"Cache-Control": {"public, max-age=60"}, "Content-Type": {"application/json"}}

func TestMissThenHit(t *testing.T) {
	clock := newFakeClock()
	c := newTestCache(t, nil, clock)
	calls := 0
	up := func(w http.ResponseWriter, r *http.Request) { calls++; origin(200, cacheable, `{"n":1}`)(w, r) }

	w := serveThrough(t, c, httptest.NewRequest("GET", "/a", nil), up)
	require.Equal(t, 200, w.Code)
	require.Equal(t, "MISS", w.Header().Get("X-Cache"))
	require.Equal(t, "cairn-gateway; fwd=uri-miss", w.Header().Get("Cache-Status"))

	clock.Advance(5 * time.Second)
	w = serveThrough(t, c, httptest.NewRequest("GET", "/a", nil), up)
	require.Equal(t, 1, calls)
	require.Equal(t, 200, w.Code)
	require.Equal(t, `{"n":1}`, w.Body.String())
	require.Equal(t, "HIT", w.Header().Get("X-Cache"))
	require.Equal(t, "cairn-gateway; hit", w.Header().Get("Cache-Status"))
	require.Equal(t, "5", w.Header().Get("Age"))
	require.Equal(t, "7", w.Header().Get("Content-Length"))
	require.Equal(t, "application/json", w.Header().Get("Content-Type"))
	st := c.Stats()
	require.EqualValues(t, 1, st.LocalHits)
	require.EqualValues(t, 1, st.Misses)
	require.EqualValues(t, 1, st.Stores)
	require.Equal(t, 1, st.LocalEntries)
}

func TestTTLExpiry(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore(clock)
	c := newTestCache(t, store, clock)
	calls := 0
	h := http.Header{"Cache-Control": {"max-age=10"}}
	up := func(w http.ResponseWriter, r *http.Request) { calls++; origin(200, h, "x")(w, r) }
	serveThrough(t, c, httptest.NewRequest("GET", "/", nil), up)
	waitFor(t, "the shared store write", func() bool { return store.len() == 1 })
	clock.Advance(9*time.Second + 999*time.Millisecond)
	require.Equal(t, "HIT", serveThrough(t, c, httptest.NewRequest("GET", "/", nil), up).Header().Get("X-Cache"))
	clock.Advance(time.Millisecond)
	require.Equal(t, "MISS", serveThrough(t, c, httptest.NewRequest("GET", "/", nil), up).Header().Get("X-Cache"))
	require.Equal(t, 2, calls)
}

func TestUpstreamAgeCounts(t *testing.T) {
	clock := newFakeClock()
	c := newTestCache(t, nil, clock)
	h := http.Header{"Cache-Control": {"max-age=10"}, "Age": {"4"}}
	serveThrough(t, c, httptest.NewRequest("GET", "/", nil), origin(200, h, "x"))
	clock.Advance(time.Second)
	w := serveThrough(t, c, httptest.NewRequest("GET", "/", nil), origin(500, nil, ""))
	require.Equal(t, "5", w.Header().Get("Age"))
	clock.Advance(5 * time.Second) // 10 s old now
	w = serveThrough(t, c, httptest.NewRequest("GET", "/", nil), origin(500, nil, ""))
	require.Equal(t, 500, w.Code)
}

func TestRequestDirectives(t *testing.T) {
	clock := newFakeClock()
	c := newTestCache(t, nil, clock)
	serveThrough(t, c, httptest.NewRequest("GET", "/", nil), origin(200, cacheable, "x"))
	clock.Advance(20 * time.Second)
	get := func(hdr ...string) string {
		r := httptest.NewRequest("GET", "/", nil)
		for i := 0; i < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		_, ok := c.Lookup(context.Background(), Key("route", r, testSpec), r)
		if ok {
			return "hit"
		}
		return "miss"
	}
	require.Equal(t, "hit", get())
	require.Equal(t, "miss", get("Cache-Control", "no-cache"))
	require.Equal(t, "miss", get("Cache-Control", "max-age=0"))
	require.Equal(t, "miss", get("Pragma", "no-cache"))
	require.Equal(t, "miss", get("Cache-Control", "max-age=19"))
	require.Equal(t, "hit", get("Cache-Control", "max-age=20"))
	require.EqualValues(t, 3, c.Stats().Bypasses)
}

func TestHeadSharesGet(t *testing.T) {
	clock := newFakeClock()
	c := newTestCache(t, nil, clock)
	// A HEAD miss is not stored.
	w := serveThrough(t, c, httptest.NewRequest("HEAD", "/h", nil), origin(200, cacheable, "body"))
	require.Equal(t, "MISS", w.Header().Get("X-Cache"))
	w = serveThrough(t, c, httptest.NewRequest("HEAD", "/h", nil), origin(200, cacheable, "body"))
	require.Equal(t, "MISS", w.Header().Get("X-Cache"))
	// A GET stores; HEAD then hits without a body.
	serveThrough(t, c, httptest.NewRequest("GET", "/h", nil), origin(200, cacheable, "body"))
	w = serveThrough(t, c, httptest.NewRequest("HEAD", "/h", nil), origin(500, nil, ""))
	require.Equal(t, 200, w.Code)
	require.Equal(t, "HIT", w.Header().Get("X-Cache"))
	require.Equal(t, "4", w.Header().Get("Content-Length"))
	require.Empty(t, w.Body.String())
}

func TestVary(t *testing.T) {
	clock := newFakeClock()
	c := newTestCache(t, nil, clock)
	h := http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Accept-Encoding"}}
	req := func(enc string) *http.Request {
		r := httptest.NewRequest("GET", "/v", nil)
		if enc != "" {
			r.Header.Set("Accept-Encoding", enc)
		}
		return r
	}
	serveThrough(t, c, req("gzip"), origin(200, h, "gz"))
	require.Equal(t, "gz", serveThrough(t, c, req("gzip"), origin(500, nil, "")).Body.String())
	w := serveThrough(t, c, req("br"), origin(200, h, "br"))
	require.Equal(t, "MISS", w.Header().Get("X-Cache"))
	// The key now holds the br variant.
	require.Equal(t, "br", serveThrough(t, c, req("br"), origin(500, nil, "")).Body.String())
	require.Equal(t, "MISS", serveThrough(t, c, req(""), origin(200, h, "plain")).Header().Get("X-Cache"))
	require.Equal(t, "plain", serveThrough(t, c, req(""), origin(500, nil, "")).Body.String())
}

func TestNotStored(t *testing.T) {
	c := newTestCache(t, nil, newFakeClock())
	for _, tc := range []struct {
		name string
		up   http.HandlerFunc
	}{
		{"no-store", origin(200, http.Header{"Cache-Control": {"no-store"}}, "x")},
		{"set-cookie", origin(200, http.Header{"Cache-Control": {"max-age=60"}, "Set-Cookie": {"s=1"}}, "x")},
		{"500", origin(500, http.Header{"Cache-Control": {"max-age=60"}}, "x")},
		{"short-body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "10")
			w.Header().Set("Cache-Control", "max-age=60")
			w.Write([]byte("abc")) // the upstream died mid-body
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/"+tc.name, nil)
			serveThrough(t, c, r, tc.up)
			_, ok := c.Lookup(context.Background(), Key("route", r, testSpec), r)
			require.False(t, ok)
		})
	}
	require.Zero(t, c.Stats().Stores)
}

// TestRecorderOverflow: a body beyond maxBody reaches the client whole and
// is not stored.
func TestRecorderOverflow(t *testing.T) {
	c := newTestCache(t, nil, newFakeClock())
	for _, declared := range []bool{true, false} {
		w := httptest.NewRecorder()
		rec := c.NewRecorder(w, 10)
		if declared {
			rec.Header().Set("Content-Length", "26")
		}
		rec.Write([]byte("abcdefgh"))
		rec.Flush()
		rec.Write([]byte("ijklmnopqrstuvwxyz"))
		require.True(t, rec.Overflowed())
		require.Equal(t, "abcdefghijklmnopqrstuvwxyz", w.Body.String())
		require.True(t, w.Flushed)
		require.Nil(t, rec.Finish(context.Background(), "k", httptest.NewRequest("GET", "/", nil), 0, nil, time.Minute))
	}
	// Exactly maxBody fits.
	w := httptest.NewRecorder()
	rec := c.NewRecorder(w, 10)
	rec.Write([]byte("0123456789"))
	e := rec.Finish(context.Background(), "k", httptest.NewRequest("GET", "/", nil), 0, nil, time.Minute)
	require.NotNil(t, e)
	require.Equal(t, "0123456789", string(e.Body))
	require.Equal(t, 200, e.Status)
}

// TestFinishUsesUpstreamHeader: headers the gateway added for one request
// are not stored when Finish is given the upstream's header.
func TestFinishUsesUpstreamHeader(t *testing.T) {
	c := newTestCache(t, nil, newFakeClock())
	w := httptest.NewRecorder()
	rec := c.NewRecorder(w, 100)
	rec.Header().Set("X-Consumer", "alice")
	rec.Header().Set("Content-Type", "text/plain")
	rec.WriteHeader(203)
	rec.Write([]byte("hi"))
	e := rec.Finish(context.Background(), "k", httptest.NewRequest("GET", "/", nil), 200, http.Header{"Content-Type": {"text/plain"}}, time.Minute)
	require.Equal(t, 200, e.Status)
	require.Equal(t, http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"2"}}, e.Header)
}

func TestServeKeepsEntryIntact(t *testing.T) {
	c := newTestCache(t, nil, newFakeClock())
	r := httptest.NewRequest("GET", "/", nil)
	e := c.Put(context.Background(), "k", r, 200, http.Header{"X-A": {"1"}}, []byte("b"), time.Minute)
	w := httptest.NewRecorder()
	w.Header().Set("X-Request-Id", "rid")
	e.Serve(w, r)
	w.Header().Add("X-A", "2") // a later handler appends
	require.Equal(t, []string{"1"}, e.Header["X-A"])
	require.Equal(t, "rid", w.Header().Get("X-Request-Id"))
}

func TestSharedTier(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore(clock)
	a := newTestCache(t, store, clock)
	b := newTestCache(t, store, clock)
	serveThrough(t, a, httptest.NewRequest("GET", "/s", nil), origin(200, cacheable, "shared"))
	waitFor(t, "the shared store write", func() bool { return a.Stats().SharedSets == 1 })
	clock.Advance(3 * time.Second)
	w := serveThrough(t, b, httptest.NewRequest("GET", "/s", nil), origin(500, nil, ""))
	require.Equal(t, "shared", w.Body.String())
	require.Equal(t, "3", w.Header().Get("Age"))
	require.EqualValues(t, 1, b.Stats().SharedHits)
	// b now holds it locally: no second store read.
	gets := store.getCount()
	serveThrough(t, b, httptest.NewRequest("GET", "/s", nil), origin(500, nil, ""))
	require.Equal(t, gets, store.getCount())
	require.EqualValues(t, 1, b.Stats().LocalHits)
}

func TestStoreFailuresAreMisses(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore(clock)
	store.err = errStoreDown
	c := newTestCache(t, store, clock)
	w := serveThrough(t, c, httptest.NewRequest("GET", "/f", nil), origin(200, cacheable, "x"))
	require.Equal(t, 200, w.Code)
	waitFor(t, "the failed write", func() bool { return c.Stats().SetErrors == 1 })
	other := newTestCache(t, store, clock)
	w = serveThrough(t, other, httptest.NewRequest("GET", "/f", nil), origin(200, cacheable, "y"))
	require.Equal(t, "y", w.Body.String())
	require.EqualValues(t, 1, other.Stats().GetErrors)

	store.mu.Lock()
	store.err = nil
	store.vals["garbage"] = []byte("not an entry")
	store.exp["garbage"] = clock.Now().Add(time.Hour)
	store.mu.Unlock()
	_, ok := other.Lookup(context.Background(), "garbage", httptest.NewRequest("GET", "/", nil))
	require.False(t, ok)
	require.EqualValues(t, 1, other.Stats().Corrupt)
}

// TestPendingSetsBounded: with MaxPendingSets writes stuck, further stores
// stay local, and Close waits for the stuck ones.
func TestPendingSetsBounded(t *testing.T) {
	clock := newFakeClock()
	store := newMemStore(clock)
	store.block = make(chan struct{})
	c := New(Config{Store: store, Now: clock.Now, MaxPendingSets: 2, StoreTimeout: time.Minute})
	r := httptest.NewRequest("GET", "/", nil)
	for i := range 5 {
		require.NotNil(t, c.Put(context.Background(), string(rune('a'+i)), r, 200, http.Header{}, []byte("x"), time.Minute))
	}
	require.EqualValues(t, 3, c.Stats().SetsShed)
	closed := make(chan struct{})
	go func() { c.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned with writes in flight")
	case <-time.After(20 * time.Millisecond):
	}
	close(store.block)
	<-closed
	require.EqualValues(t, 2, c.Stats().SharedSets)
	require.Equal(t, 2, store.len())
	// After Close, stores stay local.
	c.Put(context.Background(), "z", r, 200, http.Header{}, []byte("x"), time.Minute)
	require.Equal(t, 2, store.len())
}

func TestLocalTierBounded(t *testing.T) {
	clock := newFakeClock()
	c := New(Config{Now: clock.Now, LocalBytes: 64 << 10})
	defer c.Close()
	r := httptest.NewRequest("GET", "/", nil)
	body := []byte(strings.Repeat("x", 1000))
	for i := range 1000 {
		c.Put(context.Background(), fmt.Sprintf("key-%d", i), r, 200, http.Header{}, body, time.Minute)
	}
	st := c.Stats()
	require.LessOrEqual(t, st.LocalBytes, int64(64<<10))
	require.Greater(t, st.LocalEntries, 20)
	// Too big for the local tier: not kept, but still returned.
	e := c.Put(context.Background(), "big", r, 200, http.Header{}, make([]byte, 8<<10), time.Minute)
	require.NotNil(t, e)
	_, ok := c.Lookup(context.Background(), "big", r)
	require.False(t, ok)
}

func TestLRUOrder(t *testing.T) {
	l := newLRU(lruShards * 3000)
	now := time.Now()
	e := func() *Entry {
		return &Entry{Header: http.Header{}, Body: make([]byte, 500), StoredAt: now, TTL: time.Hour}
	}
	// Find three keys in one shard.
	var keys []string
	for i := 0; len(keys) < 4; i++ {
		k := string(rune('A' + i))
		if l.shard(k) == l.shard("A") {
			keys = append(keys, k)
		}
	}
	for _, k := range keys[:3] {
		l.put(k, e())
	}
	require.NotNil(t, l.get(keys[0], now)) // keys[1] is now the oldest
	l.put(keys[3], e())
	require.Nil(t, l.get(keys[1], now))
	require.NotNil(t, l.get(keys[0], now))
	require.NotNil(t, l.get(keys[3], now))
	require.Nil(t, l.get(keys[0], now.Add(2*time.Hour)), "expired entries are dropped")
	l.remove(keys[3])
	require.Nil(t, l.get(keys[3], now))
}

func TestDoCoalesces(t *testing.T) {
	clock := newFakeClock()
	c := newTestCache(t, nil, clock)
	r := httptest.NewRequest("GET", "/d", nil)
	key := Key("route", r, testSpec)
	release := make(chan struct{})
	var runs atomic.Int32
	fn := func() *Entry {
		runs.Add(1)
		<-release
		return c.Put(context.Background(), key, r, 200, http.Header{}, []byte("once"), time.Minute)
	}
	const n = 8
	type result struct {
		e   *Entry
		ran bool
		err error
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			e, ran, err := c.Do(context.Background(), key, r, fn)
			results <- result{e, ran, err}
		})
	}
	waitFor(t, "the followers to queue", func() bool { return c.Stats().Coalesced == n-1 })
	close(release)
	wg.Wait()
	close(results)
	leaders := 0
	for res := range results {
		require.NoError(t, res.err)
		require.NotNil(t, res.e)
		require.Equal(t, "once", string(res.e.Body))
		if res.ran {
			leaders++
		}
	}
	require.Equal(t, 1, leaders)
	require.EqualValues(t, 1, runs.Load())
}

func TestDoFollowerCases(t *testing.T) {
	c := newTestCache(t, nil, newFakeClock())
	r := httptest.NewRequest("GET", "/d", nil)
	started, release := make(chan struct{}), make(chan struct{})
	leaderDone := make(chan struct{})
	go func() {
		defer close(leaderDone)
		defer func() { recover() }()
		c.Do(context.Background(), "k", r, func() *Entry {
			close(started)
			<-release
			panic(http.ErrAbortHandler)
		})
	}()
	<-started
	// A follower whose context ends stops waiting.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, ran, err := c.Do(ctx, "k", r, func() *Entry { t.Fatal("ran"); return nil })
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, ran)
	// A follower of a leader that panics gets nothing and forwards itself.
	got := make(chan *Entry, 1)
	go func() {
		e, _, _ := c.Do(context.Background(), "k", r, func() *Entry { t.Error("ran"); return nil })
		got <- e
	}()
	waitFor(t, "the follower", func() bool { return c.Stats().Coalesced == 2 })
	close(release)
	require.Nil(t, <-got)
	<-leaderDone
	// The flight is gone: the next caller runs fn.
	_, ran, _ = c.Do(context.Background(), "k", r, func() *Entry { return nil })
	require.True(t, ran)
}

func TestConditionalHit(t *testing.T) {
	clock := newFakeClock()
	c := newTestCache(t, nil, clock)
	lm := clock.Now().Add(-time.Hour)
	h := http.Header{"Cache-Control": {"max-age=60"}, "Etag": {`W/"v1"`}, "Last-Modified": {lm.Format(http.TimeFormat)},
		"Content-Type": {"text/plain"}}
	serveThrough(t, c, httptest.NewRequest("GET", "/c", nil), origin(200, h, "body"))
	tests := []struct {
		name, header, value string
		want                int
	}{
		{"etag match", "If-None-Match", `"v1"`, 304},
		{"etag list", "If-None-Match", `"v0", W/"v1"`, 304},
		{"star", "If-None-Match", `*`, 304},
		{"etag mismatch", "If-None-Match", `"v2"`, 200},
		{"not modified since", "If-Modified-Since", lm.Format(http.TimeFormat), 304},
		{"modified since", "If-Modified-Since", lm.Add(-time.Second).Format(http.TimeFormat), 200},
		{"bad date", "If-Modified-Since", "yesterday", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/c", nil)
			r.Header.Set(tc.header, tc.value)
			w := serveThrough(t, c, r, origin(500, nil, ""))
			require.Equal(t, tc.want, w.Code)
			require.Equal(t, "HIT", w.Header().Get("X-Cache"))
			if tc.want == 304 {
				require.Empty(t, w.Body.String())
				require.Empty(t, w.Header().Get("Content-Length"))
				require.Equal(t, `W/"v1"`, w.Header().Get("Etag"))
			} else {
				require.Equal(t, "body", w.Body.String())
			}
		})
	}
}

type failingWriter struct{ *httptest.ResponseRecorder }

func (f failingWriter) Write(p []byte) (int, error) { return 0, io.ErrClosedPipe }

func TestRecorderClientGone(t *testing.T) {
	c := newTestCache(t, nil, newFakeClock())
	rec := c.NewRecorder(failingWriter{httptest.NewRecorder()}, 100)
	_, err := rec.Write([]byte("abc"))
	require.ErrorIs(t, err, io.ErrClosedPipe)
	require.Nil(t, rec.Finish(context.Background(), "k", httptest.NewRequest("GET", "/", nil), 0, nil, time.Minute))
}

// TestVaryWithKeyHeaders: with the varying header in key_headers, both
// variants stay cached side by side.
func TestVaryWithKeyHeaders(t *testing.T) {
	c := newTestCache(t, nil, newFakeClock())
	spec := *testSpec
	spec.KeyHeaders = []string{"Accept-Encoding"}
	h := http.Header{"Cache-Control": {"max-age=60"}, "Vary": {"Accept-Encoding"}}
	for round := range 2 {
		for _, enc := range []string{"gzip", "br"} {
			r := httptest.NewRequest("GET", "/v", nil)
			r.Header.Set("Accept-Encoding", enc)
			key := Key("route", r, &spec)
			e, ok := c.Lookup(context.Background(), key, r)
			if round == 0 {
				require.False(t, ok)
				c.Put(context.Background(), key, r, 200, h, []byte(enc), time.Minute)
				continue
			}
			require.True(t, ok, enc)
			require.Equal(t, enc, string(e.Body))
		}
	}
}
