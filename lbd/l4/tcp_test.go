package l4

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
)

func TestTCPEchoAndStats(t *testing.T) {
	be := backendServer(t, echo)
	bal := &testBalancer{backends: []testBackend{{"a", be}}}
	p, addr := startTCP(t, TCPConfig{Name: "echo", Balancer: bal})

	c := dial(t, addr)
	if got := roundTrip(t, c, "hello"); got != "hello" {
		t.Fatalf("echo = %q", got)
	}
	if got := roundTrip(t, c, "again, longer"); got != "again, longer" {
		t.Fatalf("echo = %q", got)
	}
	c.Close()
	nodetest.WaitFor(t, 10*time.Second, "the connection to end", func() bool { return p.Stats().Active == 0 })
	st := p.Stats()
	want := Stats{Active: 0, Accepted: 1, BytesIn: 18, BytesOut: 18}
	if st != want {
		t.Fatalf("Stats = %+v, want %+v", st, want)
	}
	if got := bal.doneCalls(); len(got) != 1 || got[0] != (doneCall{"a", false}) {
		t.Fatalf("Done calls = %v", got)
	}
}

func TestTCPBigTransferChecksum(t *testing.T) {
	seed := nodetest.Seed(t)
	const size = 32 << 20
	// The backend hashes what it gets and answers with random bytes of the
	// same size, so both directions carry a big stream at once.
	type result struct{ got, sent [32]byte }
	results := make(chan result, 1)
	be := backendServer(t, func(c net.Conn) {
		h := sha256.New()
		out := sha256.New()
		var wg sync.WaitGroup
		wg.Go(func() {
			r := rand.New(rand.NewPCG(seed, 2))
			src := io.LimitReader(&randReader{r}, size)
			io.Copy(io.MultiWriter(c, out), src)
			c.(*net.TCPConn).CloseWrite()
		})
		io.Copy(h, c)
		wg.Wait()
		var res result
		copy(res.got[:], h.Sum(nil))
		copy(res.sent[:], out.Sum(nil))
		results <- res
	})
	bal := &testBalancer{backends: []testBackend{{"a", be}}}
	p, addr := startTCP(t, TCPConfig{Balancer: bal})
	c := dial(t, addr)
	c.SetDeadline(time.Now().Add(60 * time.Second))

	sent := sha256.New()
	var wg sync.WaitGroup
	wg.Go(func() {
		r := rand.New(rand.NewPCG(seed, 1))
		io.Copy(io.MultiWriter(c, sent), io.LimitReader(&randReader{r}, size))
		c.CloseWrite()
	})
	got := sha256.New()
	n, err := io.Copy(got, c)
	wg.Wait()
	if err != nil || n != size {
		t.Fatalf("read %d bytes, err %v; want %d", n, err, size)
	}
	res := <-results
	if [32]byte(sent.Sum(nil)) != res.got {
		t.Fatal("the backend got different bytes than the client sent")
	}
	if [32]byte(got.Sum(nil)) != res.sent {
		t.Fatal("the client got different bytes than the backend sent")
	}
	nodetest.WaitFor(t, 10*time.Second, "the connection to end", func() bool { return p.Stats().Active == 0 })
	if st := p.Stats(); st.BytesIn != size || st.BytesOut != size {
		t.Fatalf("Stats = %+v, want %d bytes each way", st, size)
	}
}

type randReader struct{ r *rand.Rand }

func (r *randReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.r.Uint32())
	}
	return len(p), nil
}

func TestTCPHalfClose(t *testing.T) {
	// The backend reads the whole request, then answers: it can only answer
	// once the client's end (FIN) came through the proxy.
	be := backendServer(t, func(c net.Conn) {
		req, err := io.ReadAll(c)
		if err != nil {
			return
		}
		io.WriteString(c, "got "+strings.ToUpper(string(req)))
	})
	bal := &testBalancer{backends: []testBackend{{"a", be}}}
	_, addr := startTCP(t, TCPConfig{Balancer: bal})
	c := dial(t, addr)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "question")
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	resp, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(resp) != "got QUESTION" {
		t.Fatalf("response = %q", resp)
	}
}

func TestTCPFailover(t *testing.T) {
	be := backendServer(t, echo)
	bal := &testBalancer{backends: []testBackend{{"dead1", refusedAddr(t)}, {"dead2", refusedAddr(t)}, {"live", be}}}
	p, addr := startTCP(t, TCPConfig{Balancer: bal, ConnectTimeout: 5 * time.Second})
	c := dial(t, addr)
	if got := roundTrip(t, c, "ping"); got != "ping" {
		t.Fatalf("echo = %q", got)
	}
	c.Close()
	nodetest.WaitFor(t, 10*time.Second, "the connection to end", func() bool { return p.Stats().Active == 0 })
	want := []doneCall{{"dead1", true}, {"dead2", true}, {"live", false}}
	got := bal.doneCalls()
	if len(got) != len(want) {
		t.Fatalf("Done calls = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Done calls = %v, want %v", got, want)
		}
	}
	if st := p.Stats(); st.Failed != 0 {
		t.Fatalf("Failed = %d, want 0", st.Failed)
	}
}

func TestTCPAllBackendsFail(t *testing.T) {
	bal := &testBalancer{backends: []testBackend{{"d1", refusedAddr(t)}, {"d2", refusedAddr(t)}, {"d3", refusedAddr(t)}, {"d4", refusedAddr(t)}}}
	p, addr := startTCP(t, TCPConfig{Balancer: bal, ConnectAttempts: 2})
	c := dial(t, addr)
	expectClosed(t, c)
	nodetest.WaitFor(t, 10*time.Second, "the failure to count", func() bool { return p.Stats().Failed == 1 })
	if got := bal.doneCalls(); len(got) != 2 {
		t.Fatalf("Done calls = %v, want 2 attempts", got)
	}

	// No backend at all.
	empty := &testBalancer{}
	p2, addr2 := startTCP(t, TCPConfig{Balancer: empty})
	expectClosed(t, dial(t, addr2))
	nodetest.WaitFor(t, 10*time.Second, "the failure to count", func() bool { return p2.Stats().Failed == 1 })
}

func TestTCPMaxConns(t *testing.T) {
	be := backendServer(t, echo)
	bal := &testBalancer{backends: []testBackend{{"a", be}}}
	p, addr := startTCP(t, TCPConfig{Balancer: bal, MaxConns: 1})
	c1 := dial(t, addr)
	if got := roundTrip(t, c1, "one"); got != "one" {
		t.Fatalf("echo = %q", got)
	}
	// The second client is connected by the kernel but not accepted: nothing
	// comes back while the first is open.
	c2 := dial(t, addr)
	io.WriteString(c2, "two")
	c2.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 3)
	if n, err := c2.Read(buf); err == nil {
		t.Fatalf("second connection served at the limit: read %q", buf[:n])
	}
	if st := p.Stats(); st.Accepted != 1 || st.Active != 1 {
		t.Fatalf("Stats at the limit = %+v, want 1 accepted and active", st)
	}
	c1.Close()
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c2, buf); err != nil || string(buf) != "two" {
		t.Fatalf("second connection after the first ended: %q, %v", buf, err)
	}
}

func TestTCPExpiredCuts(t *testing.T) {
	be := backendServer(t, echo)
	expired := make(chan struct{})
	bal := &testBalancer{backends: []testBackend{{"a", be}}, expired: expired}
	p, addr := startTCP(t, TCPConfig{Balancer: bal})
	c := dial(t, addr)
	if got := roundTrip(t, c, "hi"); got != "hi" {
		t.Fatalf("echo = %q", got)
	}
	close(expired)
	expectClosed(t, c)
	nodetest.WaitFor(t, 10*time.Second, "the connection to end", func() bool { return p.Stats().Active == 0 })
	if got := bal.doneCalls(); len(got) != 1 || got[0].failed {
		t.Fatalf("Done calls = %v, want one success", got)
	}
}

func TestTCPIdleTimeout(t *testing.T) {
	be := backendServer(t, echo)
	bal := &testBalancer{backends: []testBackend{{"a", be}}}
	const idle = 300 * time.Millisecond
	p, addr := startTCP(t, TCPConfig{Balancer: bal, IdleTimeout: idle})
	c := dial(t, addr)
	// Traffic for longer than the idle timeout keeps the connection open.
	start := time.Now()
	var quiet time.Time
	for time.Since(start) < 3*idle {
		// No byte moves before this exchange starts, nor after it ends
		// (the pacing below is silence): the idle clock starts at or after
		// quiet.
		quiet = time.Now()
		if got := roundTrip(t, c, "tick"); got != "tick" {
			t.Fatalf("echo = %q", got)
		}
		time.Sleep(idle / 10) // pacing the traffic, not waiting for a result
	}
	expectClosed(t, c)
	if d := time.Since(quiet); d < idle {
		t.Fatalf("cut after %v of silence, before the idle timeout %v", d, idle)
	}
	nodetest.WaitFor(t, 10*time.Second, "the connection to end", func() bool { return p.Stats().Active == 0 })
}

func TestTCPShutdownWaits(t *testing.T) {
	be := backendServer(t, echo)
	bal := &testBalancer{backends: []testBackend{{"a", be}}}
	p, addr := startTCP(t, TCPConfig{Balancer: bal})
	c := dial(t, addr)
	roundTrip(t, c, "x")

	shut := make(chan error, 1)
	go func() { shut <- p.Shutdown(context.Background()) }()
	// New connections are refused once the listener is closed.
	nodetest.WaitFor(t, 10*time.Second, "the listener to close", func() bool {
		c2, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return true
		}
		c2.Close()
		return false
	})
	// The open connection still works while Shutdown waits.
	if got := roundTrip(t, c, "still here"); got != "still here" {
		t.Fatalf("echo during shutdown = %q", got)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a connection open", err)
	default:
	}
	c.CloseWrite()
	expectClosed(t, c)
	select {
	case err := <-shut:
		if err != nil {
			t.Fatalf("Shutdown = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not return after the last connection ended")
	}
}

func TestTCPShutdownDeadlineCuts(t *testing.T) {
	be := backendServer(t, echo)
	bal := &testBalancer{backends: []testBackend{{"a", be}}}
	p, addr := startTCP(t, TCPConfig{Balancer: bal})
	c := dial(t, addr)
	roundTrip(t, c, "x")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want deadline exceeded", err)
	}
	if st := p.Stats(); st.Active != 0 {
		t.Fatalf("Active = %d after Shutdown returned", st.Active)
	}
	expectClosed(t, c)
	if err := p.Serve(listen(t)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Serve after Shutdown = %v, want ErrClosed", err)
	}
}

func TestTCPCloseCutsAndServeReturns(t *testing.T) {
	be := backendServer(t, echo)
	bal := &testBalancer{backends: []testBackend{{"a", be}}}
	p, err := NewTCP(TCPConfig{Balancer: bal, Logger: nodetest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	// Two listeners served at once.
	lns := []net.Listener{listen(t), listen(t)}
	served := make(chan error, len(lns))
	for _, ln := range lns {
		go func() { served <- p.Serve(ln) }()
	}
	var conns []net.Conn
	for _, ln := range lns {
		c := dial(t, ln.Addr().String())
		roundTrip(t, c, "x")
		conns = append(conns, c)
	}
	p.Close()
	for range lns {
		if err := <-served; err != nil {
			t.Fatalf("Serve = %v", err)
		}
	}
	for _, c := range conns {
		expectClosed(t, c)
	}
	if st := p.Stats(); st.Active != 0 || st.Accepted != 2 {
		t.Fatalf("Stats = %+v", st)
	}
}

func TestTCPProxyProtocol(t *testing.T) {
	for _, version := range []int{1, 2} {
		got := make(chan string, 1)
		be := backendServer(t, func(c net.Conn) {
			br := bufio.NewReader(c)
			src, dst, err := ReadProxyHeader(br)
			if err != nil {
				got <- "error: " + err.Error()
				return
			}
			got <- src.String() + " -> " + dst.String()
			io.Copy(c, br)
		})
		bal := &testBalancer{backends: []testBackend{{"a", be}}}
		_, addr := startTCP(t, TCPConfig{Balancer: bal, ProxyProtocol: version})
		c := dial(t, addr)
		if echoed := roundTrip(t, c, "payload"); echoed != "payload" {
			t.Fatalf("v%d: echo = %q", version, echoed)
		}
		want := c.LocalAddr().String() + " -> " + c.RemoteAddr().String()
		if g := <-got; g != want {
			t.Fatalf("v%d: backend saw %q, want %q", version, g, want)
		}
	}
}

func TestTCPBackendResetCountsAsFailure(t *testing.T) {
	be := backendServer(t, func(c net.Conn) {
		c.(*net.TCPConn).SetLinger(0) // close with RST
	})
	bal := &testBalancer{backends: []testBackend{{"a", be}}}
	p, addr := startTCP(t, TCPConfig{Balancer: bal})
	c := dial(t, addr)
	expectClosed(t, c)
	nodetest.WaitFor(t, 10*time.Second, "the connection to end", func() bool { return p.Stats().Active == 0 })
	if got := bal.doneCalls(); len(got) != 1 || !got[0].failed {
		t.Fatalf("Done calls = %v, want one failure", got)
	}
}

func TestTCPConfigErrors(t *testing.T) {
	bal := &testBalancer{}
	for _, tc := range []struct {
		cfg  TCPConfig
		want string
	}{
		{TCPConfig{}, "Balancer"},
		{TCPConfig{Balancer: bal, ProxyProtocol: 3}, "ProxyProtocol is 3"},
		{TCPConfig{Balancer: bal, MaxConns: -1}, "MaxConns"},
		{TCPConfig{Balancer: bal, ConnectTimeout: -1}, "ConnectTimeout"},
		{TCPConfig{Balancer: bal, ConnectAttempts: -2}, "ConnectAttempts"},
		{TCPConfig{Balancer: bal, IdleTimeout: -time.Second}, "IdleTimeout"},
	} {
		_, err := NewTCP(tc.cfg)
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewTCP(%+v) = %v, want ErrConfig naming %s", tc.cfg, err, tc.want)
		}
	}
}
