package httpproxy

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// retryFront serves ForwardRetrying over targets (one per attempt, in
// order) and returns its address and outcomes.
func retryFront(t *testing.T, p *Proxy, targets []string, pol RetryPolicy, budget *RetryBudget) (string, <-chan Outcome) {
	t.Helper()
	outcomes := make(chan Outcome, 64)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o := p.ForwardRetrying(w, r, func(attempt int) (Upstream, bool) {
			if attempt >= len(targets) {
				return Upstream{}, false
			}
			return Upstream{Name: "pool", Route: "r", Target: targets[attempt], Timeout: time.Second}, true
		}, pol, budget)
		outcomes <- o
	})
	return serve(t, ServerConfig{}, h).Addr(), outcomes
}

// countingUpstream answers status with body "from <name>" and counts hits
// and the bodies it got.
func countingUpstream(t *testing.T, name string, status int, hits *atomic.Int32, bodies chan<- string) string {
	return upstream(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		b, _ := io.ReadAll(r.Body)
		if bodies != nil {
			bodies <- string(b)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, "from "+name)
	})
}

func TestForwardRetrying(t *testing.T) {
	var okHits, badHits atomic.Int32
	good := countingUpstream(t, "good", 200, &okHits, nil)
	unavailable := countingUpstream(t, "bad", 503, &badHits, nil)
	dead := freeAddr(t)
	stuck := make(chan struct{})
	t.Cleanup(func() { close(stuck) })
	slow := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-stuck:
		case <-r.Context().Done():
		}
	})
	onConnect := RetryPolicy{Attempts: 2, On: []FailureKind{Connect}}
	on503 := RetryPolicy{Attempts: 2, On: []FailureKind{Connect}, Statuses: []int{503}}
	cases := []struct {
		name     string
		method   string
		body     string
		targets  []string
		pol      RetryPolicy
		status   int
		from     string
		attempts int
	}{
		{"connect failure retried", "GET", "", []string{dead, good}, onConnect, 200, "from good", 2},
		{"two failures then success", "GET", "", []string{dead, dead, good}, onConnect, 200, "from good", 3},
		{"attempts exhausted", "GET", "", []string{dead, dead, dead, good}, onConnect, 502, "", 3},
		{"no more upstreams", "GET", "", []string{dead}, onConnect, 502, "", 1},
		{"503 not listed", "GET", "", []string{unavailable, good}, onConnect, 503, "from bad", 1},
		{"503 listed", "GET", "", []string{unavailable, good}, on503, 200, "from good", 2},
		{"503 listed, none left relays it", "GET", "", []string{unavailable}, on503, 503, "from bad", 1},
		{"POST never retried", "POST", "x", []string{dead, good}, onConnect, 502, "", 1},
		{"PUT body replayed", "PUT", "replay me", []string{dead, good}, onConnect, 200, "from good", 2},
		{"timeout retried", "GET", "", []string{slow, good}, RetryPolicy{Attempts: 1, On: []FailureKind{Timeout}}, 200, "from good", 2},
		{"timeout not listed", "GET", "", []string{slow, good}, onConnect, 504, "", 1},
		{"zero attempts", "GET", "", []string{dead, good}, RetryPolicy{On: []FailureKind{Connect}}, 502, "", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := newProxy(t, Config{})
			addr, outcomes := retryFront(t, p, tc.targets, tc.pol, nil)
			req, _ := http.NewRequest(tc.method, "http://"+addr+"/", strings.NewReader(tc.body))
			if tc.body == "" {
				req.Body = nil
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || (tc.from != "" && body != tc.from) {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.from)
			}
			if o := nextOutcome(t, outcomes); o.Attempts != tc.attempts {
				t.Errorf("attempts %d, want %d (%+v)", o.Attempts, tc.attempts, o)
			}
		})
	}
}

func TestForwardRetryingReplaysBodyExactly(t *testing.T) {
	var hits atomic.Int32
	bodies := make(chan string, 4)
	good := countingUpstream(t, "good", 200, &hits, bodies)
	p := newProxy(t, Config{})
	addr, _ := retryFront(t, p, []string{freeAddr(t), good}, RetryPolicy{Attempts: 1, On: []FailureKind{Connect}}, nil)
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/", strings.NewReader("the body"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := <-bodies; got != "the body" {
		t.Errorf("upstream body %q", got)
	}
}

func TestForwardRetryingNeverRetriesAfterBytesWritten(t *testing.T) {
	var hits atomic.Int32
	broken := upstream(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		_, _ = brw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
		_ = brw.Flush()
		_ = c.Close()
	})
	good := countingUpstream(t, "good", 200, &hits, nil)
	p := newProxy(t, Config{})
	addr, outcomes := retryFront(t, p, []string{broken, good}, RetryPolicy{Attempts: 2, On: []FailureKind{Connect, Reset}}, nil)
	resp, err := http.Get("http://" + addr + "/")
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	o := nextOutcome(t, outcomes)
	if o.Attempts != 1 || !o.Truncated() || hits.Load() != 1 {
		t.Errorf("outcome %+v after %d upstream hits; a started response was retried", o, hits.Load())
	}
}

func TestForwardRetryingBudgetAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	good := countingUpstream(t, "good", 200, &hits, nil)
	now := time.Unix(1000, 0)
	budget := newRetryBudget(0, 1, func() time.Time { return now }) // 10 retries per 10 s window
	p := newProxy(t, Config{Metrics: m})
	var attempts []FailureKind
	pol := RetryPolicy{Attempts: 1, On: []FailureKind{Connect}, OnAttempt: func(_ int, _ Upstream, o Outcome) {
		attempts = append(attempts, o.Kind)
	}}
	addr, outcomes := retryFront(t, p, []string{freeAddr(t), good}, pol, budget)
	var retried, refused int
	for range 15 {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch o := nextOutcome(t, outcomes); {
		case o.Attempts == 2 && resp.StatusCode == 200:
			retried++
		case o.Attempts == 1 && resp.StatusCode == 502:
			refused++
		default:
			t.Fatalf("outcome %+v status %d", o, resp.StatusCode)
		}
	}
	if retried != 10 || refused != 5 {
		t.Errorf("retried %d refused %d, want 10 and 5 from the budget", retried, refused)
	}
	if len(attempts) != 25 || attempts[0] != Connect || attempts[1] != None {
		t.Errorf("OnAttempt saw %v", attempts)
	}
	if got := metricValue(t, reg, "cairn_proxy_retries_total", "route", "r", "upstream", "pool"); got != 10 {
		t.Errorf("retries metric %v", got)
	}
	if got := metricValue(t, reg, "cairn_proxy_upstream_errors_total", "route", "r", "upstream", "pool", "kind", "connect"); got != 15 {
		t.Errorf("connect errors metric %v", got)
	}
}

func TestRetryBudget(t *testing.T) {
	now := time.Unix(5000, 0)
	b := newRetryBudget(0.2, 1, func() time.Time { return now })
	take := func(n int) (got int) {
		for range n {
			if b.Allow() {
				got++
			}
		}
		return got
	}
	if got := take(20); got != 10 { // the floor: 1/s over 10 s
		t.Fatalf("floor allowed %d, want 10", got)
	}
	for range 100 {
		b.Request()
	}
	if got := take(50); got != 20 { // 0.2 × 100
		t.Fatalf("ratio allowed %d, want 20", got)
	}
	now = now.Add(11 * time.Second) // the window slid past everything
	if got := take(20); got != 10 {
		t.Fatalf("after the window allowed %d, want 10", got)
	}
	var nilBudget *RetryBudget
	if !nilBudget.Allow() {
		t.Error("a nil budget refused")
	}
}

func TestParseRetryOn(t *testing.T) {
	kinds, statuses, err := ParseRetryOn([]string{"connect_failure", "reset", "timeout", "502", "503"})
	if err != nil || len(kinds) != 3 || len(statuses) != 2 || statuses[1] != 503 {
		t.Fatalf("%v %v %v", kinds, statuses, err)
	}
	for _, bad := range []string{"404", "5xx", "", "600"} {
		if _, _, err := ParseRetryOn([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
