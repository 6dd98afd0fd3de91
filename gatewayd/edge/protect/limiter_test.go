package protect

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestLimiterBurstAndRefill(t *testing.T) {
	clk := newFakeClock()
	l, err := NewLimiter(LimiterConfig{Rate: 2, Burst: 3, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr("192.0.2.1")
	for i := range 3 {
		if ok, _ := l.Allow(a); !ok {
			t.Fatalf("request %d of the burst refused", i)
		}
	}
	ok, retry := l.Allow(a)
	if ok || retry != 500*time.Millisecond {
		t.Fatalf("over the burst: ok=%v retry=%v, want false 500ms", ok, retry)
	}
	// Another client has its own bucket.
	if ok, _ := l.Allow(netip.MustParseAddr("192.0.2.2")); !ok {
		t.Error("another client refused")
	}
	clk.Advance(250 * time.Millisecond)
	if ok, retry := l.Allow(a); ok || retry != 250*time.Millisecond {
		t.Errorf("half a token: ok=%v retry=%v, want false 250ms", ok, retry)
	}
	clk.Advance(250 * time.Millisecond)
	if ok, _ := l.Allow(a); !ok {
		t.Error("refill after 500ms refused")
	}
	// A long idle refills only up to the burst.
	clk.Advance(time.Hour)
	n := 0
	for {
		if ok, _ := l.Allow(a); !ok {
			break
		}
		n++
	}
	if n != 3 {
		t.Errorf("after an hour idle %d requests passed, want the burst 3", n)
	}
	// A clock going back does not add tokens.
	clk.Advance(-time.Minute)
	if ok, _ := l.Allow(a); ok {
		t.Error("a clock going back refilled the bucket")
	}
}

func TestLimiterClientKeys(t *testing.T) {
	clk := newFakeClock()
	l, err := NewLimiter(LimiterConfig{Rate: 1, Burst: 1, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	same := [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff::9"}, // one /64
		{"192.0.2.7", "::ffff:192.0.2.7"},           // IPv4-mapped
		{"fe80::1%eth0", "fe80::2"},                 // zones dropped, one /64
	}
	for _, p := range same {
		if ok, _ := l.Allow(netip.MustParseAddr(p[0])); !ok {
			t.Fatalf("%s refused", p[0])
		}
		if ok, _ := l.Allow(netip.MustParseAddr(p[1])); ok {
			t.Errorf("%s and %s count as different clients", p[0], p[1])
		}
	}
	if ok, _ := l.Allow(netip.MustParseAddr("2001:db8:1:3::1")); !ok {
		t.Error("another /64 shares a bucket")
	}
	l128, err := NewLimiter(LimiterConfig{Rate: 1, Burst: 1, IPv6PrefixBits: 128, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	l128.Allow(netip.MustParseAddr("2001:db8::1"))
	if ok, _ := l128.Allow(netip.MustParseAddr("2001:db8::2")); !ok {
		t.Error("IPv6PrefixBits 128 grouped two addresses")
	}
}

func TestLimiterBoundedMemory(t *testing.T) {
	clk := newFakeClock()
	l, err := NewLimiter(LimiterConfig{Rate: 1, Burst: 1, MaxClients: 64, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10000 {
		l.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
	}
	if n := l.Len(); n > 64 {
		t.Fatalf("%d clients remembered, the bound is 64", n)
	}
	// A client seen constantly stays remembered (and limited) while a scan
	// of new clients passes: LRU, not FIFO.
	hot := netip.MustParseAddr("198.51.100.1")
	l.Allow(hot)
	for i := range 1000 {
		if ok, _ := l.Allow(hot); ok {
			t.Fatalf("hot client allowed again after %d scans: its bucket was evicted", i)
		}
		l.Allow(netip.AddrFrom4([4]byte{10, 9, byte(i >> 8), byte(i)}))
	}
}

func TestLimiterConcurrent(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	clk := newFakeClock()
	l, err := NewLimiter(LimiterConfig{Rate: 1, Burst: 100, MaxClients: 1000, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := map[netip.Addr]int{}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			local := map[netip.Addr]int{}
			for range 5000 {
				a := netip.AddrFrom4([4]byte{10, 0, 0, byte(rng.IntN(16))})
				if ok, _ := l.Allow(a); ok {
					local[a]++
				}
			}
			mu.Lock()
			for a, n := range local {
				allowed[a] += n
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	for a, n := range allowed {
		if n != 100 {
			t.Errorf("%s: %d allowed with a frozen clock, want exactly the burst 100", a, n)
		}
	}
}

func TestLimiterConfigErrors(t *testing.T) {
	for _, tt := range []struct {
		cfg  LimiterConfig
		want string
	}{
		{LimiterConfig{Rate: 0, Burst: 1}, "Rate is 0"},
		{LimiterConfig{Rate: -1, Burst: 1}, "Rate is -1"},
		{LimiterConfig{Rate: 1, Burst: 0}, "Burst is 0, it must be at least 1"},
		{LimiterConfig{Rate: 1, Burst: 1, MaxClients: -5}, "MaxClients is -5"},
		{LimiterConfig{Rate: 1, Burst: 1, IPv6PrefixBits: 129}, "IPv6PrefixBits is 129, it must be within 1..128"},
	} {
		_, err := NewLimiter(tt.cfg)
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewLimiter(%+v) = %v, want %q", tt.cfg, err, tt.want)
		}
	}
}

func TestLimiterHandler(t *testing.T) {
	clk := newFakeClock()
	l, err := NewLimiter(LimiterConfig{Rate: 0.4, Burst: 2, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	h := l.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	codes := []int{}
	for range 3 {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = "203.0.113.5:4444"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		codes = append(codes, w.Code)
		if w.Code == http.StatusTooManyRequests && w.Header().Get("Retry-After") != "3" {
			t.Errorf("Retry-After %q, want 3 (2.5s rounded up)", w.Header().Get("Retry-After"))
		}
	}
	if fmt.Sprint(codes) != "[200 200 429]" || calls != 2 {
		t.Errorf("codes %v calls %d", codes, calls)
	}
	// No parsable RemoteAddr: not limited.
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "@"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Errorf("unparsable RemoteAddr: %d", w.Code)
	}
}

func TestWriteTooManyRequests(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "1", time.Nanosecond: "1", time.Second: "1", 1500 * time.Millisecond: "2", time.Minute: "60"} {
		w := httptest.NewRecorder()
		WriteTooManyRequests(w, d)
		if w.Code != 429 || w.Header().Get("Retry-After") != want || w.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("%v: %d Retry-After %q", d, w.Code, w.Header().Get("Retry-After"))
		}
	}
}
