package lbbench

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, addr, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s%s: %d", addr, path, resp.StatusCode)
	}
	return string(b)
}

func TestBackendsServeAndCount(t *testing.T) {
	b, err := StartBackends(BackendsConfig{HTTP: 2, TCP: 2, SlowDelay: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	addrs := b.HTTPAddrs()
	if len(addrs) != 2 || b.SlowAddr() == "" || len(b.TCPAddrs()) != 2 {
		t.Fatalf("addresses: http %v slow %q tcp %v", addrs, b.SlowAddr(), b.TCPAddrs())
	}
	for range 3 {
		if got := get(t, addrs[1], "/x"); got != Body {
			t.Fatalf("body %q, want %q", got, Body)
		}
	}
	start := time.Now()
	if got := get(t, b.SlowAddr(), "/"); got != Body {
		t.Fatalf("slow body %q", got)
	}
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Fatalf("slow backend answered after %v, want >= 50ms", d)
	}
	if got := get(t, addrs[1], StatsPath); got != "3" {
		t.Fatalf("stats path says %q, want 3", got)
	}
	if got, want := b.HTTPRequests(), []int64{0, 3, 1}; !equal(got, want) {
		t.Fatalf("requests %v, want %v", got, want)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRunTCPAgainstSink(t *testing.T) {
	b, err := StartBackends(BackendsConfig{TCP: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cfg := DefaultTCPConfig()
	cfg.Addr = b.TCPAddrs()[0]
	cfg.Conns = 3
	cfg.Duration = 200 * time.Millisecond
	res, err := RunTCP(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 0 || res.Sent == 0 || res.Acked != res.Sent || res.Gbps <= 0 {
		t.Fatalf("result %+v: want every byte acknowledged", res)
	}
	if got := b.TCPBytes()[0]; got != res.Sent {
		t.Fatalf("sink counted %d bytes, client sent %d", got, res.Sent)
	}
}

func TestRunTCPNoServer(t *testing.T) {
	b, err := StartBackends(BackendsConfig{TCP: 1})
	if err != nil {
		t.Fatal(err)
	}
	addr := b.TCPAddrs()[0]
	b.Close() // nothing listens there now
	cfg := DefaultTCPConfig()
	cfg.Addr = addr
	cfg.Conns = 2
	cfg.Duration = 100 * time.Millisecond
	res, err := RunTCP(context.Background(), cfg)
	if err == nil || res.Failed != 2 || res.Acked != 0 {
		t.Fatalf("RunTCP to a closed port: %+v, %v; want every connection failed", res, err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  BackendsConfig
		want string
	}{
		{BackendsConfig{}, "no backend"},
		{BackendsConfig{HTTP: MaxBackends + 1}, "http is"},
		{BackendsConfig{TCP: -1}, "tcp is"},
		{BackendsConfig{HTTP: 1, SlowDelay: MaxSlowDelay + 1}, "slow_delay"},
		{BackendsConfig{HTTP: 1, HTTPPort: 70000}, "http_port"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error with %q", tc.cfg, err, tc.want)
		}
	}
	for _, tc := range []struct {
		mod  func(*TCPConfig)
		want string
	}{
		{func(c *TCPConfig) { c.Addr = "nope" }, "addr"},
		{func(c *TCPConfig) { c.Conns = 0 }, "conns"},
		{func(c *TCPConfig) { c.Duration = 0 }, "duration"},
		{func(c *TCPConfig) { c.Chunk = MaxChunk + 1 }, "chunk"},
	} {
		cfg := DefaultTCPConfig()
		cfg.Addr = "127.0.0.1:1"
		tc.mod(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error with %q", cfg, err, tc.want)
		}
	}
}
