package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"cairn.dev/cairn/node/nodetest"
)

// testSeed returns a seed from the clock and logs it, so a failure can be replayed by
// pinning the value.
func testSeed(t *testing.T) uint64 {
	t.Helper()
	seed := nodetest.Seed(t)
	return seed
}

// testLogger routes proxy logs to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(b, "\n")))
	return len(b), nil
}

// echoServer accepts connections and echoes every byte back until the peer closes.
// It is closed by t.Cleanup, which waits for its goroutines.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]struct{}{}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = struct{}{}
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _ = io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

func startProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := Listen("127.0.0.1:0", target, Options{Seed: testSeed(t), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	if p.Target() != target {
		t.Fatalf("Target() = %q, want %q", p.Target(), target)
	}
	return p
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return c
}

// roundTrip writes msg and reads len(msg) bytes back.
func roundTrip(t *testing.T, c net.Conn, msg []byte) []byte {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestPassThrough(t *testing.T) {
	p := startProxy(t, echoServer(t))
	r := rand.New(rand.NewPCG(testSeed(t), 1))
	c := dial(t, p.Addr())
	msg := make([]byte, 1<<20)
	for i := range msg {
		msg[i] = byte(r.Uint32())
	}
	var got []byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		got, _ = io.ReadAll(io.LimitReader(c, int64(len(msg))))
	}()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	<-done
	if !bytes.Equal(got, msg) {
		t.Fatalf("echoed %d bytes, want %d identical bytes", len(got), len(msg))
	}
	// Half-close travels through: the echo server sees EOF and closes, we see EOF.
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after CloseWrite: read %d, %v; want 0, EOF", n, err)
	}
}

func TestBlackholeAndHeal(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults Faults
	}{
		{"up", Faults{BlackholeUp: true}},
		{"down", Faults{BlackholeDown: true}},
		{"both", Faults{BlackholeUp: true, BlackholeDown: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProxy(t, echoServer(t))
			c := dial(t, p.Addr())
			if got := roundTrip(t, c, []byte("before")); string(got) != "before" {
				t.Fatalf("got %q", got)
			}
			p.Set(tc.faults)
			if p.Faults() != tc.faults {
				t.Fatalf("Faults() = %+v, want %+v", p.Faults(), tc.faults)
			}
			if _, err := c.Write([]byte("lost")); err != nil {
				t.Fatal(err)
			}
			nodetest.WaitFor(t, 10*time.Second, "the blackholed bytes to be discarded", func() bool {
				return p.dropped.Load() == int64(len("lost"))
			})
			// A new connection is accepted and blackholed too.
			c2 := dial(t, p.Addr())
			if _, err := c2.Write([]byte("new")); err != nil {
				t.Fatal(err)
			}
			nodetest.WaitFor(t, 10*time.Second, "the new connection's bytes to be discarded", func() bool {
				return p.dropped.Load() == int64(len("lostnew"))
			})
			p.Set(Faults{})
			if got := roundTrip(t, c, []byte("after")); string(got) != "after" {
				t.Fatalf("after heal got %q, want %q (blackholed bytes must be lost)", got, "after")
			}
			if got := roundTrip(t, c2, []byte("again")); string(got) != "again" {
				t.Fatalf("new connection after heal got %q, want %q", got, "again")
			}
		})
	}
}

func TestDelay(t *testing.T) {
	p := startProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	const delay = 100 * time.Millisecond
	p.Set(Faults{Delay: delay})
	start := time.Now()
	if got := roundTrip(t, c, []byte("x")); string(got) != "x" {
		t.Fatalf("got %q", got)
	}
	// The chunk is delayed once on the way up and once on the way down.
	if rtt := time.Since(start); rtt < 2*delay {
		t.Fatalf("round trip %v, want at least %v", rtt, 2*delay)
	}
	p.Set(Faults{})
	start = time.Now()
	roundTrip(t, c, []byte("y"))
	if rtt := time.Since(start); rtt > 5*time.Second {
		t.Fatalf("round trip after heal %v", rtt)
	}
}

func TestJitterPreservesOrder(t *testing.T) {
	p := startProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	p.Set(Faults{Delay: 20 * time.Millisecond, Jitter: 20 * time.Millisecond})
	var want []byte
	done := make(chan []byte)
	go func() {
		got, _ := io.ReadAll(io.LimitReader(c, 200*4))
		done <- got
	}()
	for i := range 200 {
		msg := []byte{'<', byte(i), byte(i >> 8), '>'}
		want = append(want, msg...)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
	}
	if got := <-done; !bytes.Equal(got, want) {
		t.Fatalf("jittered stream reordered or damaged:\n got %x\nwant %x", got, want)
	}
}

func TestSetAppliesToQueuedData(t *testing.T) {
	p := startProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	p.Set(Faults{Delay: time.Hour})
	start := time.Now()
	if _, err := c.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	p.Set(Faults{}) // the queued chunk is re-timed at once
	got := make([]byte, 1)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("queued chunk took %v after the delay was removed", el)
	}
}

func TestBandwidth(t *testing.T) {
	p := startProxy(t, echoServer(t))
	c := dial(t, p.Addr())
	const rate = 100_000
	p.Set(Faults{BandwidthBytesPerSec: rate})
	msg := bytes.Repeat([]byte("b"), 50_000)
	start := time.Now()
	roundTrip(t, c, msg)
	// Each direction may burst a tenth of a second; the rest is paced at rate.
	if el, min := time.Since(start), 300*time.Millisecond; el < min {
		t.Fatalf("50kB at %d B/s took %v, want at least %v", rate, el, min)
	}
}

func TestDropAllResets(t *testing.T) {
	p := startProxy(t, echoServer(t))
	p.Set(Faults{DropPercent: 100})
	for range 3 {
		// The reset may already hit the dial, or else the first read.
		c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
		if err != nil {
			if !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("dial: %v, want a reset", err)
			}
			continue
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		n, err := c.Read(make([]byte, 1))
		if n != 0 || err == nil {
			t.Fatalf("read on a dropped connection: %d, %v; want an error", n, err)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("dropped connection was not reset: %v", err)
		}
	}
	p.Set(Faults{})
	c := dial(t, p.Addr())
	if got := roundTrip(t, c, []byte("ok")); string(got) != "ok" {
		t.Fatalf("got %q", got)
	}
}

func TestDropPercentUsesSeed(t *testing.T) {
	draws := func(seed uint64) []bool {
		p, err := Listen("127.0.0.1:0", "127.0.0.1:1", Options{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		p.Set(Faults{DropPercent: 50})
		var out []bool
		for range 64 {
			out = append(out, p.dropNew())
		}
		return out
	}
	seed := testSeed(t)
	a, b := draws(seed), draws(seed)
	drops := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("draw %d differs for the same seed", i)
		}
		if a[i] {
			drops++
		}
	}
	if drops == 0 || drops == len(a) {
		t.Fatalf("%d of %d dropped at 50%%", drops, len(a))
	}
}

func TestFaultsNormalize(t *testing.T) {
	p := startProxy(t, "127.0.0.1:1")
	p.Set(Faults{Delay: -time.Second, Jitter: -1, DropPercent: 250, BandwidthBytesPerSec: -5})
	if got, want := p.Faults(), (Faults{DropPercent: 100}); got != want {
		t.Fatalf("Faults() = %+v, want %+v", got, want)
	}
	if !(Faults{}).IsZero() || (Faults{BlackholeDown: true}).IsZero() {
		t.Fatal("IsZero is wrong")
	}
}

func TestCloseStopsEverything(t *testing.T) {
	target := echoServer(t)
	nodetest.WaitFor(t, 10*time.Second, "goroutines to settle", func() bool { return true })
	before := runtime.NumGoroutine()

	p, err := Listen("127.0.0.1:0", target, Options{Seed: testSeed(t)})
	if err != nil {
		t.Fatal(err)
	}
	var clients []net.Conn
	for i := range 5 {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
		roundTrip(t, c, []byte{byte(i)})
	}
	// Park data in the queues and writers in timers.
	p.Set(Faults{Delay: time.Hour, BandwidthBytesPerSec: 1})
	for _, c := range clients {
		_, _ = c.Write([]byte("parked"))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for _, c := range clients {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("client connection left open after Close")
			}
		}
		c.Close()
	}
	if _, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		t.Fatal("listener still accepts after Close")
	}
	nodetest.WaitFor(t, 10*time.Second, "goroutines to return to the baseline", func() bool {
		return runtime.NumGoroutine() <= before
	})
}

func TestGRPCHealthThroughProxy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)

	p := startProxy(t, ln.Addr().String())
	cc, err := grpc.NewClient("passthrough:///"+p.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	client := healthpb.NewHealthClient(cc)
	check := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("status %v", resp.GetStatus())
		}
		return err
	}
	if err := check(10 * time.Second); err != nil {
		t.Fatalf("through a healthy proxy: %v", err)
	}

	p.Set(Faults{BlackholeUp: true, BlackholeDown: true})
	if err := check(300 * time.Millisecond); status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("through a blackhole: %v, want DeadlineExceeded", err)
	}
	p.Set(Faults{})
	nodetest.WaitFor(t, 30*time.Second, "gRPC to recover after heal", func() bool { return check(time.Second) == nil })

	p.Set(Faults{Delay: 50 * time.Millisecond})
	start := time.Now()
	if err := check(10 * time.Second); err != nil {
		t.Fatalf("through a delay: %v", err)
	}
	if rtt := time.Since(start); rtt < 100*time.Millisecond {
		t.Fatalf("health check took %v through 50ms each way", rtt)
	}

	// Dropping every new connection: once the current one is gone, RPCs fail
	// with Unavailable instead of hanging.
	p.Set(Faults{DropPercent: 100})
	p.mu.Lock()
	links := make([]*link, 0, len(p.conns))
	for l := range p.conns {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.teardown()
	}
	nodetest.WaitFor(t, 30*time.Second, "RPCs to fail with Unavailable", func() bool {
		return status.Code(check(time.Second)) == codes.Unavailable
	})
	p.Set(Faults{})
	nodetest.WaitFor(t, 30*time.Second, "gRPC to recover after drops stop", func() bool { return check(time.Second) == nil })
}

func TestResetOnHeal(t *testing.T) {
	target := echoServer(t)
	p, err := Listen("127.0.0.1:0", target, Options{Seed: testSeed(t), Logger: testLogger(t), ResetOnHeal: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	damaged := dial(t, p.Addr())
	intact := dial(t, p.Addr())
	roundTrip(t, damaged, []byte("1"))
	roundTrip(t, intact, []byte("2"))

	p.Set(Faults{BlackholeUp: true})
	if _, err := damaged.Write([]byte("lost")); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(t, 10*time.Second, "the blackholed bytes to be discarded", func() bool {
		return p.dropped.Load() == int64(len("lost"))
	})
	p.Set(Faults{})

	// The connection that lost bytes is reset; the other one still works.
	if n, err := damaged.Read(make([]byte, 1)); n != 0 || err == nil {
		t.Fatalf("read on a damaged connection after heal: %d, %v; want a reset", n, err)
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("damaged connection not reset: %v", err)
	}
	if got := roundTrip(t, intact, []byte("ok")); string(got) != "ok" {
		t.Fatalf("intact connection got %q", got)
	}
}
