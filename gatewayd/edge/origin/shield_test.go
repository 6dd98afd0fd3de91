package origin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// countingOrigin answers "object <path>" and counts fetches per path;
// paths under /fail/ answer 503.
type countingOrigin struct {
	mu     sync.Mutex
	counts map[string]int
}

func newCountingOrigin() *countingOrigin { return &countingOrigin{counts: map[string]int{}} }

func (o *countingOrigin) Fetch(ctx context.Context, r *http.Request) (*http.Response, error) {
	o.mu.Lock()
	o.counts[r.URL.Path]++
	o.mu.Unlock()
	if r.Header.Get(HeaderShield) != "" {
		return nil, fmt.Errorf("the origin got a hop header from %s", r.Header.Get(HeaderShield))
	}
	if strings.HasPrefix(r.URL.Path, "/fail/") {
		return TextResponse(r, http.StatusServiceUnavailable, "origin overloaded"), nil
	}
	body := "object " + r.URL.Path
	resp := newResponse(r, http.StatusOK, http.Header{"Cache-Control": {"max-age=60"}, "Content-Length": {strconv.Itoa(len(body))}}, int64(len(body)))
	resp.Body = io.NopCloser(strings.NewReader(body))
	return resp, nil
}

func (o *countingOrigin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[path]
}

func (o *countingOrigin) total() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := 0
	for _, c := range o.counts {
		n += c
	}
	return n
}

// testNode is an in-process edge node: an HTTP server whose handler asks
// its Shield on a miss and caches (with coalescing) only the keys it owns,
// so that what it does not own always goes through the shield.
type testNode struct {
	name   string
	srv    *httptest.Server
	shield *Shield
	sick   atomic.Bool // answers 503 of its own

	mu    sync.Mutex // protects cache
	cache map[string]*cached
}

type cached struct {
	done chan struct{}
	code int
	hdr  http.Header
	body []byte
}

func (nd *testNode) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if nd.sick.Load() {
		http.Error(w, "node sick", http.StatusServiceUnavailable)
		return
	}
	key := RequestKey(r)
	if nd.shield.Owner(key) != nd.name {
		resp, err := nd.shield.Fetch(r.Context(), r)
		relay(w, resp, err)
		return
	}
	nd.mu.Lock()
	e, ok := nd.cache[key]
	if !ok {
		e = &cached{done: make(chan struct{})}
		nd.cache[key] = e
	}
	nd.mu.Unlock()
	if ok {
		<-e.done
		for k, vv := range e.hdr {
			w.Header()[k] = vv
		}
		w.Header().Set("X-Cache", "HIT")
		w.WriteHeader(e.code)
		_, _ = w.Write(e.body)
		return
	}
	resp, err := nd.shield.Fetch(r.Context(), r)
	if err != nil || resp.StatusCode != http.StatusOK {
		nd.mu.Lock()
		delete(nd.cache, key)
		nd.mu.Unlock()
		close(e.done)
		relay(w, resp, err)
		return
	}
	e.code, e.hdr = resp.StatusCode, resp.Header
	e.body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	close(e.done)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for k, vv := range e.hdr {
		w.Header()[k] = vv
	}
	w.Header().Set("X-Cache", "MISS")
	w.WriteHeader(e.code)
	_, _ = w.Write(e.body)
}

// relay writes a fetch's outcome.
func relay(w http.ResponseWriter, resp *http.Response, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vv := range resp.Header {
		w.Header()[k] = vv
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startNodes starts n edge nodes sharing origin, each with its Shield over
// all of them.
func startNodes(t *testing.T, n int, origin Origin, opts ShieldOptions) []*testNode {
	t.Helper()
	nodes := make([]*testNode, n)
	var list []ShieldNode
	for i := range nodes {
		nd := &testNode{name: fmt.Sprintf("edge-%d", i+1), cache: map[string]*cached{}}
		nd.srv = httptest.NewServer(nd)
		t.Cleanup(nd.srv.Close)
		nodes[i] = nd
		list = append(list, ShieldNode{Name: nd.name, Addr: nd.srv.Listener.Addr().String()})
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(tWriter{t}, nil))
	}
	for _, nd := range nodes {
		sh, err := NewShield(nd.name, list, origin, nil, opts)
		require.NoError(t, err)
		nd.shield = sh
	}
	return nodes
}

// get asks node nd for path as a client of the CDN hostname would.
func get(t *testing.T, nd *testNode, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, nd.srv.URL+path, nil)
	require.NoError(t, err)
	req.Host = "cdn.test"
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// ownerName computes the owner of path as the nodes do.
func ownerName(nd *testNode, path string) string { return nd.shield.Owner("cdn.test" + path) }

// TestShieldOneOriginFetchPerKey: every node asks for every key at once;
// the origin sees each key once, fetched by its owner.
func TestShieldOneOriginFetchPerKey(t *testing.T) {
	origin := newCountingOrigin()
	// A generous dial timeout: hundreds of connections at once under the
	// race detector on two cores may overflow a listener's accept queue,
	// and a dropped SYN is retried after a second.
	nodes := startNodes(t, 3, origin, ShieldOptions{DialTimeout: 20 * time.Second})
	const keys = 50
	var wg sync.WaitGroup
	errs := make(chan string, keys*len(nodes)*2)
	for k := range keys {
		for _, nd := range nodes {
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					path := fmt.Sprintf("/obj/%d", k)
					code, body := get(t, nd, path)
					if code != http.StatusOK || body != "object "+path {
						errs <- fmt.Sprintf("%s from %s: %d %q", path, nd.name, code, body)
					}
				}()
			}
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for _, nd := range nodes {
		t.Logf("%s: %+v", nd.name, nd.shield.Stats())
	}
	owned := map[string]int{}
	for k := range keys {
		path := fmt.Sprintf("/obj/%d", k)
		require.Equal(t, 1, origin.count(path), "origin fetches of %s", path)
		owned[ownerName(nodes[0], path)]++
	}
	t.Logf("keys per owner: %v", owned)
	var forwarded, fetched int64
	for _, nd := range nodes {
		require.Greater(t, owned[nd.name], 0, "%s owns some keys", nd.name)
		st := nd.shield.Stats()
		forwarded += st.Forwarded
		fetched += st.HopsServed + st.Direct
		require.Zero(t, st.Failovers, nd.name)
		require.Empty(t, nd.shield.Ejected(), nd.name)
	}
	require.EqualValues(t, 2*2*keys, forwarded, "each key asked twice from each of the two nodes not owning it")
	require.EqualValues(t, keys, fetched, "each key fetched from the origin once: by its owner, for a hop or for itself")
}

// TestShieldFailover: an owner that is down (refused connections) or
// answers 503 of its own is ejected, its keys fetched from the origin;
// after the ejection it is tried again, and ejected twice as long if it
// still fails. A 503 the owner relays from the origin ejects no one.
func TestShieldFailover(t *testing.T) {
	origin := newCountingOrigin()
	clock := &fakeClock{now: time.Unix(1_000_000, 0)}
	nodes := startNodes(t, 3, origin, ShieldOptions{Now: clock.Now, EjectBase: time.Second, EjectMax: 3 * time.Second})
	a, b := nodes[0], nodes[1]

	// Keys of node b, asked of node a.
	var keysOfB []string
	for k := 0; len(keysOfB) < 4; k++ {
		if p := fmt.Sprintf("/k/%d", k); ownerName(a, p) == b.name {
			keysOfB = append(keysOfB, p)
		}
	}

	// The owner relays an origin 503: no ejection.
	var failKey string
	for k := 0; failKey == ""; k++ {
		if p := fmt.Sprintf("/fail/%d", k); ownerName(a, p) == b.name {
			failKey = p
		}
	}
	code, body := get(t, a, failKey)
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Contains(t, body, "origin overloaded")
	require.Equal(t, 1, origin.count(failKey), "fetched once, by the owner")
	require.Empty(t, a.shield.Ejected(), "the origin failed, not the owner")

	// The owner sick: its own 503 ejects it; the request goes to the origin.
	b.sick.Store(true)
	code, body = get(t, a, keysOfB[0])
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "object "+keysOfB[0], body)
	require.Equal(t, map[string]time.Time{b.name: clock.Now().Add(time.Second)}, a.shield.Ejected())
	require.EqualValues(t, 1, a.shield.Stats().Failovers)

	// While ejected, the owner is not tried: straight to the origin.
	b.sick.Store(false)
	code, _ = get(t, a, keysOfB[1])
	require.Equal(t, http.StatusOK, code)
	require.EqualValues(t, 1, a.shield.Stats().Failovers)
	require.Equal(t, 1, origin.count(keysOfB[1]))

	// Down: connections refused. After the ejection it is tried again,
	// fails, and is ejected for twice as long, then capped.
	b.srv.Close()
	for i, want := range []time.Duration{2 * time.Second, 3 * time.Second, 3 * time.Second} {
		clock.Advance(time.Minute)
		code, body = get(t, a, keysOfB[2])
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, map[string]time.Time{b.name: clock.Now().Add(want)}, a.shield.Ejected(), "failure %d", i+2)
	}
	require.EqualValues(t, 4, a.shield.Stats().Failovers)

	// The third node is unaffected: its keys still go to it.
	c := nodes[2]
	for k := 0; ; k++ {
		if p := fmt.Sprintf("/c/%d", k); ownerName(a, p) == c.name {
			get(t, a, p)
			get(t, c, p)
			require.Equal(t, 1, origin.count(p))
			break
		}
	}

	// The node comes back (at a new address the registry gives): it is
	// used again once its ejection is over, and a success clears its
	// record.
	nb := &testNode{name: b.name, cache: map[string]*cached{}, shield: b.shield}
	nb.srv = httptest.NewServer(nb)
	t.Cleanup(nb.srv.Close)
	list := a.shield.Nodes()
	for i := range list {
		if list[i].Name == b.name {
			list[i].Addr = nb.srv.Listener.Addr().String()
		}
	}
	for _, nd := range nodes {
		require.NoError(t, nd.shield.SetNodes(list))
	}
	require.NotEmpty(t, a.shield.Ejected(), "a node that stays keeps its record")
	clock.Advance(time.Minute)
	before := origin.count(keysOfB[3])
	get(t, a, keysOfB[3])
	get(t, c, keysOfB[3])
	require.Equal(t, before+1, origin.count(keysOfB[3]), "the owner fetched it once and cached it")
	require.Empty(t, a.shield.Ejected())
}

// tWriter routes log lines to t.Log.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
