package lbd

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
	lbdv1 "cairn.dev/cairn/proto/cairn/lbd/v1"
)

// backend is a test HTTP server answering with its name.
type backend struct {
	name string
	srv  *httptest.Server
}

func startBackends(t *testing.T, n int) []*backend {
	t.Helper()
	var out []*backend
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("b%d", i)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, name)
		}))
		t.Cleanup(srv.Close)
		out = append(out, &backend{name: name, srv: srv})
	}
	return out
}

// lbFile writes an lb document with an http and a tcp frontend on ports
// the system picks, over one pool of bs.
func lbFile(t *testing.T, path, algorithm string, bs []*backend) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, `frontends:
  - {name: web, mode: http, listen: "127.0.0.1:0", pool: app}
  - {name: raw, mode: tcp, listen: "127.0.0.1:0", pool: app}
pools:
  - name: app
    algorithm: %s
    health: {type: http, path: /healthz, interval: 50ms, timeout: 40ms, rise: 1, fall: 2}
    drain_timeout: 5s
    backends:
`, algorithm)
	for _, be := range bs {
		fmt.Fprintf(&b, "      - {name: %s, address: %q}\n", be.name, be.srv.Listener.Addr().String())
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func startLB(t *testing.T, file string) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.ID = "lbd-test"
	cfg.LBFile = file
	cfg.ReloadInterval = 100 * time.Millisecond
	cfg.Server.GRPCAddr, cfg.Server.AdminAddr, cfg.Server.Insecure, cfg.Server.ShutdownTimeout = "127.0.0.1:0", "", true, 2*time.Second
	s, err := New(cfg, nodetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	nodetest.Serve(t, cfg.ID, s)
	return s
}

// frontendAddr waits until the frontend listens and returns its address.
func frontendAddr(t *testing.T, s *Server, name string) string {
	t.Helper()
	var addr string
	nodetest.WaitFor(t, 10*time.Second, "frontend "+name+" listening", func() bool {
		for _, f := range s.status().GetFrontends() {
			if f.GetName() == name && f.GetListening() {
				addr = f.GetAddress()
				return true
			}
		}
		return false
	})
	return addr
}

func get(t *testing.T, c *http.Client, url string) (string, error) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return string(b), err
}

func healthyCount(s *Server) int {
	pools, _ := s.listPools("app")
	n := 0
	for _, b := range pools[0].GetBackends() {
		if b.GetHealthy() {
			n++
		}
	}
	return n
}

func TestHTTPFrontendBalancesDrainsAndSurvivesADeadBackend(t *testing.T) {
	bs := startBackends(t, 3)
	file := filepath.Join(t.TempDir(), "lb.yaml")
	lbFile(t, file, "round_robin", bs)
	s := startLB(t, file)
	url := "http://" + frontendAddr(t, s, "web") + "/"
	nodetest.WaitFor(t, 10*time.Second, "three healthy backends", func() bool { return healthyCount(s) == 3 })
	c := &http.Client{Timeout: 5 * time.Second}

	counts := map[string]int{}
	for range 9 {
		name, err := get(t, c, url)
		if err != nil {
			t.Fatal(err)
		}
		counts[name]++
	}
	if counts["b1"] != 3 || counts["b2"] != 3 || counts["b3"] != 3 {
		t.Fatalf("round robin over 9 requests: %v", counts)
	}

	a := &adminService{s: s}
	resp, err := a.SetBackendState(context.Background(), &lbdv1.SetBackendStateRequest{Backend: "b2", State: lbdv1.AdminState_ADMIN_STATE_DRAINING})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetPool() != "app" || resp.GetBackend().GetAdminState() != lbdv1.AdminState_ADMIN_STATE_DRAINING {
		t.Fatalf("SetBackendState answered %v", resp)
	}
	for range 30 {
		if name, err := get(t, c, url); err != nil || name == "b2" {
			t.Fatalf("request while b2 drains went to %q (err %v)", name, err)
		}
	}

	// b1 dies: requests keep succeeding (retried on the others), and once
	// the checks saw it down no request reaches it.
	bs[0].srv.Close()
	for range 30 {
		if _, err := get(t, c, url); err != nil {
			t.Fatalf("request failed after b1 died: %v", err)
		}
	}
	nodetest.WaitFor(t, 10*time.Second, "b1 marked down", func() bool { return healthyCount(s) == 2 })
	for range 10 {
		if name, err := get(t, c, url); err != nil || name != "b3" {
			t.Fatalf("with b1 down and b2 draining, a request went to %q (err %v)", name, err)
		}
	}
}

func TestTCPFrontendProxiesAndTheLBFileReloads(t *testing.T) {
	bs := startBackends(t, 3)
	file := filepath.Join(t.TempDir(), "lb.yaml")
	lbFile(t, file, "round_robin", bs)
	s := startLB(t, file)
	raw := frontendAddr(t, s, "raw")
	nodetest.WaitFor(t, 10*time.Second, "three healthy backends", func() bool { return healthyCount(s) == 3 })

	tcpGet := func() string {
		conn, err := net.DialTimeout("tcp", raw, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	seen := map[string]bool{}
	for range 6 {
		seen[tcpGet()] = true
	}
	if len(seen) != 3 {
		t.Fatalf("tcp connections reached %v, want all three backends", seen)
	}

	// The file now lists b1 only: the pool follows without a restart.
	lbFile(t, file, "least_conn", bs[:1])
	nodetest.WaitFor(t, 10*time.Second, "the reloaded pool", func() bool {
		pools, _ := s.listPools("app")
		return pools[0].GetAlgorithm() == "least_conn" && len(pools[0].GetBackends()) == 1
	})
	nodetest.WaitFor(t, 10*time.Second, "b1 healthy in the new pool", func() bool { return healthyCount(s) == 1 })
	for range 5 {
		if got := tcpGet(); got != "b1" {
			t.Fatalf("after the reload a connection reached %q", got)
		}
	}
}

func TestAdminErrors(t *testing.T) {
	bs := startBackends(t, 1)
	file := filepath.Join(t.TempDir(), "lb.yaml")
	lbFile(t, file, "p2c", bs)
	s := startLB(t, file)
	a := &adminService{s: s}
	ctx := context.Background()
	cases := []struct {
		name string
		call func() error
		want string
	}{
		{"no backend", func() error {
			_, err := a.SetBackendState(ctx, &lbdv1.SetBackendStateRequest{State: lbdv1.AdminState_ADMIN_STATE_DRAINING})
			return err
		}, "InvalidArgument"},
		{"no state", func() error {
			_, err := a.SetBackendState(ctx, &lbdv1.SetBackendStateRequest{Backend: "b1"})
			return err
		}, "InvalidArgument"},
		{"unknown backend", func() error {
			_, err := a.SetBackendState(ctx, &lbdv1.SetBackendStateRequest{Backend: "zz", State: lbdv1.AdminState_ADMIN_STATE_DRAINING})
			return err
		}, "NotFound"},
		{"unknown pool", func() error {
			_, err := a.SetBackendWeight(ctx, &lbdv1.SetBackendWeightRequest{Pool: "nope", Backend: "b1", Weight: 3})
			return err
		}, "NotFound"},
		{"weight out of range", func() error {
			_, err := a.SetBackendWeight(ctx, &lbdv1.SetBackendWeightRequest{Backend: "b1", Weight: 1001})
			return err
		}, "InvalidArgument"},
	}
	for _, tc := range cases {
		err := tc.call()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want code %s", tc.name, err, tc.want)
		}
	}
	resp, err := a.SetBackendWeight(ctx, &lbdv1.SetBackendWeightRequest{Backend: "b1", Weight: 7})
	if err != nil || resp.GetBackend().GetWeight() != 7 {
		t.Fatalf("SetBackendWeight = %v, %v", resp, err)
	}
}
