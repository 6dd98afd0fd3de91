package l7

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/lbd/lbconfig"
	"cairn.dev/cairn/lbd/pool"
	"cairn.dev/cairn/node/nodetest"
)

// routingTable is the routes of the routing tests; each pool has one
// backend named after it.
var routingTable = []lbconfig.Route{
	{Host: "api.example.com", PathPrefix: "/api", Pool: "api"},
	{Host: "api.example.com", PathPrefix: "/api/v2", Pool: "never"}, // shadowed: the first match wins
	{Host: "*.example.com", PathPrefix: "/", Pool: "wild"},
	{Host: "", PathPrefix: "/static/", Pool: "static"},
}

func routingPools(t *testing.T) []*Pool {
	var out []*Pool
	for _, name := range []string{"api", "never", "wild", "static", "fallback"} {
		out = append(out, newPool(t, name, 1, nil, startBackend(t, name)))
	}
	return out
}

func TestRoutesMatchHostAndWholePathSegmentsFirstMatchWins(t *testing.T) {
	pools := routingPools(t)
	withDefault := serveFrontend(t, routingTable, "fallback", pools...)
	noDefault := serveFrontend(t, routingTable, "", pools...)
	cases := []struct {
		host, path string
		want       string // the pool; "" means no route
	}{
		{"api.example.com", "/api", "api"},
		{"api.example.com", "/api/", "api"},
		{"api.example.com", "/api/users/7", "api"},
		{"api.example.com", "/api/v2/users", "api"}, // the later, longer /api/v2 route never wins
		{"API.Example.COM:8443", "/api/x", "api"},   // host: any case, port ignored
		{"api.example.com", "/apix", "wild"},        // /api is a whole segment: falls to *.example.com
		{"api.example.com", "/ap", "wild"},
		{"www.example.com", "/api", "wild"},
		{"a.b.example.com", "/", "wild"},
		{"example.com", "/api", ""}, // *.example.com needs a subdomain
		{"notexample.com", "/", ""},
		{"other.org", "/static/app.js", "static"}, // empty host: any host
		{"other.org", "/static", "static"},        // a trailing / in the prefix still matches the segment itself
		{"api.example.com", "/static/x", "wild"},  // an earlier route matched first
		{"other.org", "/staticx", ""},
		{"other.org", "/", ""},
	}
	for _, tc := range cases {
		got := send(t, http.MethodGet, withDefault+tc.path, tc.host, nil)
		want := tc.want
		if want == "" {
			want = "fallback"
		}
		if got.status != http.StatusOK || got.body != want {
			t.Errorf("with a default pool, %s%s went to %q (status %d), want %s", tc.host, tc.path, got.body, got.status, want)
		}

		got = send(t, http.MethodGet, noDefault+tc.path, tc.host, nil)
		if tc.want != "" {
			if got.status != http.StatusOK || got.body != tc.want {
				t.Errorf("%s%s went to %q (status %d), want %s", tc.host, tc.path, got.body, got.status, tc.want)
			}
			continue
		}
		if got.status != http.StatusNotFound {
			t.Errorf("%s%s with no matching route and no default: status %d (%q), want 404", tc.host, tc.path, got.status, got.body)
			continue
		}
		if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s%s: the 404 has Content-Type %q, want JSON", tc.host, tc.path, ct)
		}
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(got.body), &e); err != nil || e.Error == "" || !strings.Contains(e.Message, tc.path) {
			t.Errorf("%s%s: the 404 body %q is not a JSON error naming the path (%v)", tc.host, tc.path, got.body, err)
		}
	}
}

func TestSetRoutesTakesEffectOnTheNextRequest(t *testing.T) {
	pools := routingPools(t)
	byName := map[string]*Pool{}
	for _, p := range pools {
		byName[p.Name()] = p
	}
	h := New(Config{Name: "web", Routes: routingTable, Pools: func(n string) *Pool { return byName[n] }})
	req, _ := http.NewRequest(http.MethodGet, "http://other.org/static/x", nil)
	if got := h.route(req); got != "static" {
		t.Fatalf("before SetRoutes: routed to %q", got)
	}
	h.SetRoutes([]lbconfig.Route{{PathPrefix: "/", Pool: "api"}}, "fallback")
	if got := h.route(req); got != "api" {
		t.Fatalf("after SetRoutes: routed to %q, want api", got)
	}
	h.SetRoutes(nil, "fallback")
	if got := h.route(req); got != "fallback" {
		t.Fatalf("after SetRoutes(nil, fallback): routed to %q", got)
	}
}

func TestStickyCookiePinsTheClientUntilItsBackendDrains(t *testing.T) {
	bs := []*testBackend{startBackend(t, "s1"), startBackend(t, "s2"), startBackend(t, "s3")}
	p := newPool(t, "app", 1, func(s *lbconfig.Pool) { s.StickyCookie = "lb" }, bs...)
	url := serveFrontend(t, nil, "app", p) + "/"

	// Without the cookie, round robin moves a client around.
	seen := map[string]bool{}
	for range 6 {
		seen[send(t, http.MethodGet, url, "", nil).backend] = true
	}
	if len(seen) != 3 {
		t.Fatalf("requests without a cookie reached %v, want all three backends", seen)
	}

	first := send(t, http.MethodGet, url, "", nil)
	c := first.cookie("lb")
	if first.status != http.StatusOK || c == nil || c.Value != first.backend {
		t.Fatalf("the first answer (from %q, status %d) set cookie %v, want lb=<its backend>", first.backend, first.status, c)
	}
	home := c.Value
	for i := range 12 {
		a := send(t, http.MethodGet, url, "", nil, c)
		if a.backend != home {
			t.Fatalf("request %d with cookie lb=%s went to %s", i, home, a.backend)
		}
		if nc := a.cookie("lb"); nc != nil && nc.Value != home {
			t.Fatalf("a request that stuck to %s was given cookie lb=%s", home, nc.Value)
		}
	}

	// Its backend drains: the client moves and its cookie follows.
	if !p.SetAdmin(home, pool.AdminSetting{State: pool.AdminDraining}) {
		t.Fatalf("SetAdmin(%s): no such member", home)
	}
	moved := send(t, http.MethodGet, url, "", nil, c)
	nc := moved.cookie("lb")
	if moved.status != http.StatusOK || moved.backend == home || moved.backend == "" {
		t.Fatalf("with %s draining, a request with its cookie went to %q (status %d)", home, moved.backend, moved.status)
	}
	if nc == nil || nc.Value != moved.backend {
		t.Fatalf("the request moved to %s but the cookie set is %v", moved.backend, nc)
	}
	for i := range 12 {
		if a := send(t, http.MethodGet, url, "", nil, nc); a.backend != nc.Value {
			t.Fatalf("request %d with the new cookie lb=%s went to %s", i, nc.Value, a.backend)
		}
	}

	// A cookie naming no member is replaced by one that does.
	a := send(t, http.MethodGet, url, "", nil, &http.Cookie{Name: "lb", Value: "gone"})
	if gc := a.cookie("lb"); a.status != http.StatusOK || gc == nil || gc.Value != a.backend {
		t.Fatalf("a cookie naming no member: answered by %q (status %d), cookie set %v", a.backend, a.status, gc)
	}
}

func TestHashOnHeaderKeepsAUserOnOneBackendAndSpreadsUsers(t *testing.T) {
	for _, alg := range []string{"ring_hash", "maglev"} {
		t.Run(alg, func(t *testing.T) {
			seed := nodetest.Seed(t)
			rng := rand.New(rand.NewPCG(seed, seed>>1|1))
			var bs []*testBackend
			for i := 1; i <= 4; i++ {
				bs = append(bs, startBackend(t, fmt.Sprintf("h%d", i)))
			}
			p := newPool(t, "app", seed, func(s *lbconfig.Pool) {
				s.Algorithm = alg
				s.HashOn = "header:X-User"
			}, bs...)
			url := serveFrontend(t, nil, "app", p) + "/"

			// Every request comes from 127.0.0.1: only the header can
			// spread them.
			users := map[string]int{}
			for range 200 {
				users[fmt.Sprintf("user-%d", rng.Uint64())]++
			}
			perBackend := map[string]int{}
			for user := range users {
				home := ""
				for i := range 4 {
					a := send(t, http.MethodGet, url, "", map[string]string{"X-User": user})
					if a.status != http.StatusOK {
						t.Fatalf("%s: status %d: %s", user, a.status, a.body)
					}
					if i == 0 {
						home = a.backend
						perBackend[home]++
					} else if a.backend != home {
						t.Fatalf("X-User %s went to %s, then to %s", user, home, a.backend)
					}
				}
			}
			if len(perBackend) != len(bs) {
				t.Fatalf("200 users landed on %v, want all %d backends", perBackend, len(bs))
			}
			for name, n := range perBackend {
				if n < 200/len(bs)/4 {
					t.Fatalf("users per backend %v: %s has %d, far below a fair share", perBackend, name, n)
				}
			}
		})
	}
}

func TestIdempotentRequestsAreRetriedOnAnotherBackendPostsAreNot(t *testing.T) {
	live := []*testBackend{startBackend(t, "r1"), startBackend(t, "r2")}
	dead := deadBackend(t, "dead")
	noEject := func(s *lbconfig.Pool) { s.Outlier.ConsecutiveFailures = -1 }

	t.Run("get", func(t *testing.T) {
		p := newPool(t, "app", 1, noEject, live[0], live[1], dead)
		url := serveFrontend(t, nil, "app", p) + "/"
		for i := range 12 {
			if a := send(t, http.MethodGet, url, "", nil); a.status != http.StatusOK || (a.backend != "r1" && a.backend != "r2") {
				t.Fatalf("GET %d with a dead backend in the pool: status %d from %q: %s", i, a.status, a.backend, a.body)
			}
		}
		if st := memberStatus(p, "dead"); st.Total < 2 || st.Failures != st.Total {
			t.Fatalf("the dead backend was tried %d times (%d failures); round robin over 12 requests must try it more than once", st.Total, st.Failures)
		}
	})

	t.Run("post", func(t *testing.T) {
		p := newPool(t, "app", 1, noEject, live[0], live[1], dead)
		url := serveFrontend(t, nil, "app", p) + "/"
		before := live[0].posts.Load() + live[1].posts.Load()
		var ok, bad int
		for range 6 {
			a := send(t, http.MethodPost, url, "", nil)
			switch a.status {
			case http.StatusOK:
				ok++
			case http.StatusBadGateway:
				bad++
			default:
				t.Fatalf("POST answered %d: %s", a.status, a.body)
			}
		}
		if bad != 2 || ok != 4 {
			t.Fatalf("6 POSTs round robin over 2 live and 1 dead backend: %d ok, %d 502; want 4 and 2 (a POST is not retried)", ok, bad)
		}
		if got := live[0].posts.Load() + live[1].posts.Load() - before; got != int64(ok) {
			t.Fatalf("the live backends got %d POSTs for %d successful ones: a failed POST was retried", got, ok)
		}
	})

	t.Run("retries off", func(t *testing.T) {
		p := newPool(t, "app", 1, func(s *lbconfig.Pool) {
			noEject(s)
			s.Retries = -1
		}, live[0], live[1], dead)
		url := serveFrontend(t, nil, "app", p) + "/"
		bad := 0
		for range 6 {
			if a := send(t, http.MethodGet, url, "", nil); a.status == http.StatusBadGateway {
				bad++
			}
		}
		if bad != 2 {
			t.Fatalf("with retries -1, %d of 6 GETs failed, want 2 (those sent to the dead backend)", bad)
		}
	})
}

func TestA503IsRetriedOnAnotherBackend(t *testing.T) {
	bs := []*testBackend{startBackend(t, "u1"), startBackend(t, "u2"), startBackend(t, "busy")}
	bs[2].status.Store(http.StatusServiceUnavailable)
	p := newPool(t, "app", 1, func(s *lbconfig.Pool) { s.Outlier.ConsecutiveFailures = -1 }, bs...)
	url := serveFrontend(t, nil, "app", p) + "/"
	for i := range 12 {
		if a := send(t, http.MethodGet, url, "", nil); a.status != http.StatusOK || a.backend == "busy" {
			t.Fatalf("GET %d: status %d from %q", i, a.status, a.backend)
		}
	}
	if n := bs[2].hits.Load(); n < 2 {
		t.Fatalf("the 503 backend saw %d of 12 round-robin requests; the test did not exercise a retry", n)
	}
	if st := memberStatus(p, "busy"); st.Failures != st.Total {
		t.Fatalf("the 503 backend's %d requests counted %d failures", st.Total, st.Failures)
	}

	// A POST that meets the 503 gets it: only idempotent requests retry.
	got503 := false
	for range 3 {
		if a := send(t, http.MethodPost, url, "", nil); a.status == http.StatusServiceUnavailable && a.backend == "busy" {
			got503 = true
		}
	}
	if !got503 {
		t.Fatal("3 POSTs round robin over 3 backends never saw the busy backend's 503")
	}
}

func memberStatus(p *Pool, name string) pool.MemberStatus {
	for _, m := range p.Status() {
		if m.Name == name {
			return m
		}
	}
	return pool.MemberStatus{}
}

// TestNoEligibleBackendAnswers503 checks that a pool with no member able to
// take traffic answers 503 no_backend (a 502 would blame a backend).
func TestNoEligibleBackendAnswers503(t *testing.T) {
	b := startBackend(t, "only")
	p := newPool(t, "app", 1, func(s *lbconfig.Pool) { s.QueueTimeout = 50 * time.Millisecond }, b)
	p.SetAdmin("only", pool.AdminSetting{State: pool.AdminDisabled})
	url := serveFrontend(t, nil, "app", p)
	a := send(t, http.MethodGet, url+"/", "", nil)
	if a.status != http.StatusServiceUnavailable || !strings.Contains(a.body, "no_backend") || b.hits.Load() != 0 {
		t.Fatalf("answer %d %q (backend hits %d), want 503 no_backend", a.status, a.body, b.hits.Load())
	}
}

// TestRequestWaitsForAMemberToAppear sends a request while the pool's only
// member is disabled and enables it while the request waits (queue_timeout):
// the request is answered by it instead of refused.
func TestRequestWaitsForAMemberToAppear(t *testing.T) {
	b := startBackend(t, "late")
	p := newPool(t, "app", 1, func(s *lbconfig.Pool) { s.QueueTimeout = 30 * time.Second }, b)
	p.SetAdmin("late", pool.AdminSetting{State: pool.AdminDisabled})
	url := serveFrontend(t, nil, "app", p)
	got := make(chan answer, 1)
	go func() { got <- send(t, http.MethodGet, url+"/", "", nil) }()
	select {
	case a := <-got:
		t.Fatalf("answered %d before a member was eligible", a.status)
	case <-time.After(100 * time.Millisecond): // the request is waiting (a deliberate pause, not a synchronisation)
	}
	p.SetAdmin("late", pool.AdminSetting{State: pool.AdminEnabled})
	select {
	case a := <-got:
		if a.status != http.StatusOK || a.backend != "late" {
			t.Fatalf("answer %d from %q", a.status, a.backend)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the waiting request was not answered once the member was enabled")
	}
}

func TestARequestInFlightIsCutAtItsBackendsDrainDeadline(t *testing.T) {
	started := make(chan struct{}, 1)
	released := make(chan struct{})
	slow := &testBackend{name: "slow"}
	slow.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		select { // answers only when lbd gives up on the request
		case <-r.Context().Done():
		case <-released:
		}
	}))
	slow.addr = slow.srv.Listener.Addr().String()
	t.Cleanup(slow.srv.Close)
	t.Cleanup(func() { close(released) })
	p := newPool(t, "app", 1, func(s *lbconfig.Pool) { s.DrainTimeout = time.Second; s.Retries = -1 }, slow)
	url := serveFrontend(t, nil, "app", p) + "/"

	errc := make(chan error, 1)
	go func() {
		resp, err := client.Get(url)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		errc <- err
	}()
	<-started
	// Draining since long ago: the deadline has passed, the next maintenance cuts.
	if !p.SetAdmin("slow", pool.AdminSetting{State: pool.AdminDraining, Since: time.Now().Add(-time.Minute)}) {
		t.Fatal("SetAdmin(slow): no such member")
	}
	p.Maintain()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "502") && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
			t.Fatalf("the request on the cut backend ended with %v, want it cut (502 or a broken response)", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request on a backend past its drain deadline was not cut")
	}
}
