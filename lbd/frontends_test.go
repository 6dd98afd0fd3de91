package lbd

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"cairn.dev/cairn/node/nodetest"
	lbdv1 "cairn.dev/cairn/proto/cairn/lbd/v1"
)

// healthyIn counts the healthy backends of a pool.
func healthyIn(s *Server, poolName string) int {
	pools, err := s.listPools(poolName)
	if err != nil {
		return 0
	}
	n := 0
	for _, b := range pools[0].GetBackends() {
		if b.GetHealthy() {
			n++
		}
	}
	return n
}

func TestGRPCIsBalancedPerRequestOverOneConnection(t *testing.T) {
	names := []string{"g1", "g2", "g3"}
	var addrs []string
	for _, n := range names {
		addrs = append(addrs, startGRPCBackend(t, n))
	}
	file := filepath.Join(t.TempDir(), "lb.yaml")
	writeLB(t, file, `frontends:
  - {name: grpc, mode: http, listen: "127.0.0.1:0", pool: g}
pools:
  - name: g
    protocol: h2c
    health: {type: grpc, interval: 200ms, timeout: 200ms, rise: 1, fall: 50}
    backends:
`+backendList(names, addrs))
	s := startLB(t, file)
	addr := frontendAddr(t, s, "grpc")
	nodetest.WaitFor(t, 10*time.Second, "three healthy gRPC backends", func() bool { return healthyIn(s, "g") == 3 })

	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hc := healthpb.NewHealthClient(conn)
	counts := map[string]int{}
	for i := range 30 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var md metadata.MD
		resp, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Header(&md))
		cancel()
		if err != nil {
			t.Fatalf("call %d through lbd: %v", i, err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("call %d: status %v", i, resp.GetStatus())
		}
		b := md.Get("backend")
		if len(b) != 1 {
			t.Fatalf("call %d: backend header %v", i, b)
		}
		counts[b[0]]++
	}
	for _, n := range names {
		if counts[n] != 10 {
			t.Fatalf("30 calls on one connection, round robin, reached %v; want 10 on each of g1, g2, g3", counts)
		}
	}
}

func TestUDPFrontendKeepsAClientOnOneBackend(t *testing.T) {
	names := []string{"u1", "u2"}
	addrs := []string{startUDPEcho(t, "u1"), startUDPEcho(t, "u2")}
	file := filepath.Join(t.TempDir(), "lb.yaml")
	writeLB(t, file, `frontends:
  - {name: dgram, mode: udp, listen: "127.0.0.1:0", pool: u}
pools:
  - name: u
    health: {type: none}
    backends:
`+backendList(names, addrs))
	s := startLB(t, file)
	addr := frontendAddr(t, s, "dgram")

	// exchange sends msg until its echo comes back (a datagram may be
	// lost) and returns the name of the backend that echoed it.
	exchange := func(c net.Conn, msg string) string {
		t.Helper()
		buf := make([]byte, 2048)
		for try := 0; try < 5; try++ {
			if _, err := c.Write([]byte(msg)); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			for {
				n, err := c.Read(buf)
				if err != nil {
					break // resend
				}
				name, got, _ := strings.Cut(string(buf[:n]), " ")
				if got == msg {
					return name
				}
			}
		}
		t.Fatalf("no echo of %q through the udp frontend", msg)
		return ""
	}
	used := map[string]bool{}
	for client := range 4 {
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		home := ""
		for i := range 10 {
			name := exchange(c, fmt.Sprintf("client %d datagram %d", client, i))
			if home == "" {
				home = name
			} else if name != home {
				t.Fatalf("client %d (%s): datagram %d reached %s, earlier ones %s", client, c.LocalAddr(), i, name, home)
			}
		}
		used[home] = true
		c.Close()
	}
	if len(used) != 2 {
		t.Fatalf("4 clients round robin over 2 backends all reached %v", used)
	}
}

// tcpLB is an lb document with a tcp frontend on pool app (echo backends,
// tcp checks every interval) and a pool other that no frontend uses.
func tcpLB(interval, drain, otherAlgorithm string, names, addrs []string) string {
	return fmt.Sprintf(`frontends:
  - {name: raw, mode: tcp, listen: "127.0.0.1:0", pool: app}
pools:
  - name: app
    health: {type: tcp, interval: %s, timeout: 200ms, rise: 1, fall: 50}
    drain_timeout: %s
    backends:
%s  - name: other
    algorithm: %s
    health: {type: none}
    backends:
      - {name: o1, address: "127.0.0.1:1"}
`, interval, drain, backendList(names, addrs), otherAlgorithm)
}

func TestTCPConnectionSurvivesReloads(t *testing.T) {
	names := []string{"e1"}
	addrs := []string{startTCPEcho(t, "e1")}
	file := filepath.Join(t.TempDir(), "lb.yaml")
	writeLB(t, file, tcpLB("200ms", "5s", "round_robin", names, addrs))
	s := startLB(t, file)
	raw := frontendAddr(t, s, "raw")
	nodetest.WaitFor(t, 10*time.Second, "e1 healthy", func() bool { return healthyIn(s, "app") == 1 })

	conn := dialLines(t, raw)
	if name, err := conn.echo("before"); err != nil || name != "e1" {
		t.Fatalf("echo before the reloads: %q, %v", name, err)
	}
	app := s.live.Load().pools["app"]

	// Another pool changes: app is kept as it is, connection and all.
	writeLB(t, file, tcpLB("200ms", "5s", "least_conn", names, addrs))
	nodetest.WaitFor(t, 10*time.Second, "the reload of pool other", func() bool {
		return s.live.Load().pools["other"].l7.Spec().Algorithm == "least_conn"
	})
	if s.live.Load().pools["app"] != app {
		t.Fatal("a reload that changed only pool other rebuilt pool app")
	}
	if name, err := conn.echo("after other changed"); err != nil || name != "e1" {
		t.Fatalf("echo after pool other changed: %q, %v", name, err)
	}

	// app's own health interval changes: the pool is rebuilt, and the
	// connection it had opened goes on.
	writeLB(t, file, tcpLB("250ms", "5s", "least_conn", names, addrs))
	nodetest.WaitFor(t, 10*time.Second, "the reload of pool app", func() bool {
		return s.live.Load().pools["app"].l7.Spec().Health.Interval == 250*time.Millisecond
	})
	for i := range 5 {
		if name, err := conn.echo(fmt.Sprintf("after app changed %d", i)); err != nil || name != "e1" {
			t.Fatalf("echo %d on the old connection after pool app was rebuilt: %q, %v", i, name, err)
		}
	}
	nodetest.WaitFor(t, 10*time.Second, "e1 healthy in the rebuilt pool", func() bool { return healthyIn(s, "app") == 1 })
	if name, err := dialLines(t, raw).echo("new"); err != nil || name != "e1" {
		t.Fatalf("a new connection after the reloads: %q, %v", name, err)
	}
}

func TestDrainedTCPBackendKeepsItsConnectionUntilTheDrainTimeout(t *testing.T) {
	const drain = 2 * time.Second
	names := []string{"e1", "e2"}
	addrs := []string{startTCPEcho(t, "e1"), startTCPEcho(t, "e2")}
	file := filepath.Join(t.TempDir(), "lb.yaml")
	writeLB(t, file, tcpLB("200ms", drain.String(), "round_robin", names, addrs))
	s := startLB(t, file)
	raw := frontendAddr(t, s, "raw")
	nodetest.WaitFor(t, 10*time.Second, "two healthy backends", func() bool { return healthyIn(s, "app") == 2 })

	conn := dialLines(t, raw)
	home, err := conn.echo("hello")
	if err != nil {
		t.Fatal(err)
	}
	a := &adminService{s: s}
	start := time.Now()
	if _, err := a.SetBackendState(context.Background(), &lbdv1.SetBackendStateRequest{Pool: "app", Backend: home, State: lbdv1.AdminState_ADMIN_STATE_DRAINING}); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if name, err := dialLines(t, raw).echo("new"); err != nil || name == home {
			t.Fatalf("new connection %d while %s drains reached %q (err %v)", i, home, name, err)
		}
	}

	// The open connection flows until the deadline, then is cut.
	flowed := 0
	var cutErr error
	nodetest.WaitFor(t, drain+15*time.Second, "the drained connection cut", func() bool {
		name, err := conn.echo(fmt.Sprintf("ping %d", flowed))
		if err != nil {
			cutErr = err
			return true
		}
		if name != home {
			t.Fatalf("the drained connection's bytes reached %s, not %s", name, home)
		}
		flowed++
		return false
	})
	cut := time.Since(start)
	t.Logf("the connection to %s carried %d echoes while draining, cut after %v: %v", home, flowed, cut, cutErr)
	if cut < drain-100*time.Millisecond {
		t.Fatalf("the connection was cut %v after the drain began, before the %v drain timeout", cut, drain)
	}
	if flowed == 0 {
		t.Fatal("no byte flowed on the connection once its backend was draining")
	}
}

// TestFrontendsAreAddedMovedAndRemovedByReloads changes the frontend list
// of a running node: an added frontend binds, a moved one listens on its
// new address only, and a removed one refuses new connections and ends
// its own within the shutdown timeout.
func TestFrontendsAreAddedMovedAndRemovedByReloads(t *testing.T) {
	echo := startTCPEcho(t, "e1")
	doc := func(frontends string) string {
		return "frontends:\n" + frontends + `pools:
  - name: app
    health: {type: none}
    backends:
      - {name: e1, address: "` + echo + `"}
`
	}
	const raw = `  - {name: raw, mode: tcp, listen: "127.0.0.1:0", pool: app}` + "\n"
	file := filepath.Join(t.TempDir(), "lb.yaml")
	writeLB(t, file, doc(raw))
	s := startLB(t, file)
	rawAddr := frontendAddr(t, s, "raw")
	held := dialLines(t, rawAddr)
	if name, err := held.echo("before"); err != nil || name != "e1" {
		t.Fatalf("echo through raw: %q, %v", name, err)
	}

	writeLB(t, file, doc(raw+`  - {name: extra, mode: tcp, listen: "127.0.0.1:0", pool: app}`+"\n"))
	extra := frontendAddr(t, s, "extra")
	if name, err := dialLines(t, extra).echo("added"); err != nil || name != "e1" {
		t.Fatalf("echo through the added frontend: %q, %v", name, err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	moved := ln.Addr().String()
	ln.Close()
	writeLB(t, file, doc(raw+`  - {name: extra, mode: tcp, listen: "`+moved+`", pool: app}`+"\n"))
	nodetest.WaitFor(t, 10*time.Second, "extra listening on "+moved, func() bool { return frontendAddr(t, s, "extra") == moved })
	if name, err := dialLines(t, moved).echo("moved"); err != nil || name != "e1" {
		t.Fatalf("echo through the moved frontend: %q, %v", name, err)
	}
	nodetest.WaitFor(t, 10*time.Second, "the old address of extra closed", func() bool { return refuses(extra) })

	writeLB(t, file, doc(`  - {name: extra, mode: tcp, listen: "`+moved+`", pool: app}`+"\n"))
	nodetest.WaitFor(t, 10*time.Second, "raw gone from the status", func() bool {
		for _, f := range s.status().GetFrontends() {
			if f.GetName() == "raw" {
				return false
			}
		}
		return true
	})
	nodetest.WaitFor(t, 10*time.Second, "raw's address closed", func() bool { return refuses(rawAddr) })
	nodetest.WaitFor(t, 10*time.Second, "raw's connection ended after the shutdown timeout", func() bool {
		_, err := held.echo("after the removal")
		return err != nil
	})
	if name, err := dialLines(t, moved).echo("still"); err != nil || name != "e1" {
		t.Fatalf("echo through the remaining frontend: %q, %v", name, err)
	}
}

// refuses reports whether nothing accepts tcp connections at addr.
func refuses(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return true
	}
	c.Close()
	return false
}
