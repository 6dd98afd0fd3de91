package l4

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
)

// udpBackend answers each datagram with "name:" and the datagram.
func udpBackend(t *testing.T, name string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { pc.Close(); <-done })
	go func() {
		defer close(done)
		buf := make([]byte, 65536)
		for {
			n, a, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo(append([]byte(name+":"), buf[:n]...), a)
		}
	}()
	return pc.LocalAddr().String()
}

func startUDP(t *testing.T, cfg UDPConfig) (*UDPProxy, string) {
	t.Helper()
	cfg.Logger = nodetest.Logger(t)
	p, err := NewUDP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- p.Serve(pc) }()
	t.Cleanup(func() {
		p.Close()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return p, pc.LocalAddr().String()
}

func udpClient(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ask sends msg and returns the reply; UDP may drop on a loaded machine, so
// it resends a few times.
func ask(t *testing.T, c net.Conn, msg string) string {
	t.Helper()
	buf := make([]byte, 65536)
	for range 5 {
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		n, err := c.Read(buf)
		if err == nil {
			return string(buf[:n])
		}
	}
	t.Fatalf("no reply to %q", msg)
	return ""
}

func TestUDPAffinityAndExpiry(t *testing.T) {
	bal := &testBalancer{rotate: true, backends: []testBackend{
		{"a", udpBackend(t, "a")}, {"b", udpBackend(t, "b")},
	}}
	const timeout = 300 * time.Millisecond
	p, addr := startUDP(t, UDPConfig{Balancer: bal, SessionTimeout: timeout})

	c1, c2 := udpClient(t, addr), udpClient(t, addr)
	first1 := strings.Split(ask(t, c1, "x"), ":")[0]
	first2 := strings.Split(ask(t, c2, "x"), ":")[0]
	if first1 == first2 {
		t.Fatalf("both clients on backend %s, want the rotation to split them", first1)
	}
	for i := range 5 {
		if got := ask(t, c1, "hello"); got != first1+":hello" {
			t.Fatalf("client 1 datagram %d: %q, want backend %s", i, got, first1)
		}
		if got := ask(t, c2, "hi"); got != first2+":hi" {
			t.Fatalf("client 2 datagram %d: %q, want backend %s", i, got, first2)
		}
	}
	if st := p.Stats(); st.Active != 2 || st.Accepted != 2 {
		t.Fatalf("Stats = %+v, want 2 sessions", st)
	}
	nodetest.WaitFor(t, 10*time.Second, "idle sessions to end", func() bool { return p.Stats().Active == 0 })
	if got := bal.doneCalls(); len(got) != 2 || got[0].failed || got[1].failed {
		t.Fatalf("Done calls = %v, want two successes", got)
	}
	// A new datagram opens a new session.
	ask(t, c1, "back")
	if st := p.Stats(); st.Accepted != 3 || st.Active != 1 {
		t.Fatalf("Stats = %+v, want a third session", st)
	}
	if st := p.Stats(); st.BytesIn == 0 || st.BytesOut <= st.BytesIn {
		t.Fatalf("byte counts %+v", st)
	}
}

func TestUDPExpiredAndMaxSessions(t *testing.T) {
	expired := make(chan struct{})
	bal := &testBalancer{backends: []testBackend{{"a", udpBackend(t, "a")}}, expired: expired}
	p, addr := startUDP(t, UDPConfig{Balancer: bal, MaxSessions: 1})
	c1, c2 := udpClient(t, addr), udpClient(t, addr)
	ask(t, c1, "x")
	c2.Write([]byte("dropped"))
	nodetest.WaitFor(t, 10*time.Second, "the drop to count", func() bool { return p.Stats().Dropped >= 1 })
	close(expired)
	nodetest.WaitFor(t, 10*time.Second, "the expired session to end", func() bool { return p.Stats().Active == 0 })
	if got := bal.doneCalls(); len(got) != 1 {
		t.Fatalf("Done calls = %v", got)
	}
}

func TestUDPRefusedBackend(t *testing.T) {
	dead, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.LocalAddr().String()
	dead.Close()
	bal := &testBalancer{backends: []testBackend{{"dead", deadAddr}}}
	p, addr := startUDP(t, UDPConfig{Balancer: bal})
	c := udpClient(t, addr)
	c.Write([]byte("anyone?"))
	nodetest.WaitFor(t, 10*time.Second, "the refused session to end", func() bool {
		return p.Stats().Accepted == 1 && p.Stats().Active == 0
	})
	if got := bal.doneCalls(); len(got) != 1 || !got[0].failed {
		t.Fatalf("Done calls = %v, want one failure", got)
	}
}

func TestUDPOversizeDropped(t *testing.T) {
	bal := &testBalancer{backends: []testBackend{{"a", udpBackend(t, "a")}}}
	p, addr := startUDP(t, UDPConfig{Balancer: bal, MaxDatagram: 100})
	c := udpClient(t, addr)
	c.Write(make([]byte, 101))
	nodetest.WaitFor(t, 10*time.Second, "the drop to count", func() bool { return p.Stats().Dropped == 1 })
	// The reply to a 98-byte datagram is 100 bytes: it passes; 99 → 101 does not.
	if got := ask(t, c, strings.Repeat("y", 98)); len(got) != 100 {
		t.Fatalf("reply of %d bytes", len(got))
	}
	c.Write(make([]byte, 99))
	nodetest.WaitFor(t, 10*time.Second, "the oversize reply to drop", func() bool { return p.Stats().Dropped == 2 })
}

func TestUDPConfigErrorsAndClose(t *testing.T) {
	bal := &testBalancer{}
	for _, cfg := range []UDPConfig{
		{},
		{Balancer: bal, SessionTimeout: -1},
		{Balancer: bal, MaxSessions: -1},
		{Balancer: bal, MaxDatagram: 65536},
	} {
		if _, err := NewUDP(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("NewUDP(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
	p, err := NewUDP(UDPConfig{Balancer: bal})
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Serve(pc); !errors.Is(err, ErrClosed) {
		t.Fatalf("Serve after Close = %v", err)
	}
}
