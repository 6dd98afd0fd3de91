package protect

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// testLogger routes logs to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, nil))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// dialFrom connects to addr from the loopback address local.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestConnLimiterSockets drives a ConnLimiter over real TCP sockets: an echo
// server behind a cap of 2 per client.
func TestConnLimiterSockets(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := NewConnLimiter(ln, ConnLimiterConfig{MaxPerClient: 2, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := cl.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	t.Cleanup(func() {
		cl.Close()
		for c := range accepted {
			c.Close()
		}
	})
	addr := ln.Addr().String()
	echo := func(c net.Conn) error {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte("ping\n")); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		if line != "ping\n" {
			return errors.New("bad echo " + line)
		}
		return nil
	}
	a1, a2 := dialFrom(t, "127.0.0.1", addr), dialFrom(t, "127.0.0.1", addr)
	for _, c := range []net.Conn{a1, a2} {
		if err := echo(c); err != nil {
			t.Fatal(err)
		}
	}
	// The third connection from the same client is closed at accept (on
	// loopback the reset can arrive before the dial returns).
	if a3, err := (&net.Dialer{Timeout: 5 * time.Second}).Dial("tcp", addr); err == nil {
		defer a3.Close()
		if err := echo(a3); err == nil {
			t.Fatal("a third connection from one client was served")
		}
	}
	waitFor(t, "the refusal to be counted", func() bool { return cl.Refused() == 1 })
	if n := cl.Active(netip.MustParseAddr("127.0.0.1")); n != 2 {
		t.Errorf("Active = %d, want 2", n)
	}
	// Another client (another loopback address) has its own cap.
	b1 := dialFrom(t, "127.0.0.2", addr)
	if err := echo(b1); err != nil {
		t.Fatalf("another client refused: %v", err)
	}
	if cl.Clients() != 2 {
		t.Errorf("Clients = %d, want 2", cl.Clients())
	}
	// Closing a connection frees its slot (the server closes its end when
	// the echo copy ends).
	a1.Close()
	waitFor(t, "the slot to be released", func() bool { return cl.Active(netip.MustParseAddr("127.0.0.1")) == 1 })
	a4 := dialFrom(t, "127.0.0.1", addr)
	if err := echo(a4); err != nil {
		t.Fatalf("a connection after a close was refused: %v", err)
	}
	if cl.Refused() != 1 {
		t.Errorf("Refused = %d, want 1", cl.Refused())
	}
}

// TestConnLimiterHTTP serves HTTP through a ConnLimiter, keeps client
// connections open with keep-alive, and checks that the cap holds and that
// the wrapped connections serve responses (ReadFrom passes through).
func TestConnLimiterHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := NewConnLimiter(ln, ConnLimiterConfig{MaxPerClient: 1, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("x", 1<<20)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, strings.NewReader(body))
	})}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(cl) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	url := "http://" + ln.Addr().String() + "/"
	c1 := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}}
	defer c1.CloseIdleConnections()
	for range 3 { // keep-alive: one connection for all three
		resp, err := c1.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != int64(len(body)) {
			t.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
	}
	// A second client transport (a second connection from 127.0.0.1) is refused
	// while the first holds its idle connection.
	c2 := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	if _, err := c2.Get(url); err == nil {
		t.Fatal("a second connection was served")
	}
	waitFor(t, "the refusal", func() bool { return cl.Refused() >= 1 })
	c1.CloseIdleConnections()
	waitFor(t, "the first connection's release", func() bool { return cl.Clients() == 0 })
	resp, err := c2.Get(url)
	if err != nil {
		t.Fatalf("after the first client closed: %v", err)
	}
	resp.Body.Close()
}

func TestConnLimiterConfigErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := NewConnLimiter(ln, ConnLimiterConfig{}); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "MaxPerClient is 0") {
		t.Errorf("MaxPerClient 0: %v", err)
	}
	if _, err := NewConnLimiter(nil, ConnLimiterConfig{MaxPerClient: 1}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil listener: %v", err)
	}
	if _, err := NewConnLimiter(ln, ConnLimiterConfig{MaxPerClient: 1, IPv6PrefixBits: -1}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("IPv6PrefixBits -1: %v", err)
	}
}

// TestConnLimiterUnix checks that connections without an IP peer pass.
func TestConnLimiterUnix(t *testing.T) {
	path := t.TempDir() + "/s"
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := NewConnLimiter(ln, ConnLimiterConfig{MaxPerClient: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for range 2 {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, err := cl.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
	}
	if cl.Clients() != 0 {
		t.Errorf("Clients = %d for Unix peers", cl.Clients())
	}
}
