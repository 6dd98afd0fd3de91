package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"cairn.dev/cairn/cluster/faultproxy"
)

// proxydName keys the fault proxy process among the processes a Cluster reaps and
// names its log file (logs/proxyd.log).
const proxydName = "proxyd"

// proxydReadyTimeout bounds how long the harness waits for a started proxy
// process to answer on its control API.
const proxydReadyTimeout = 15 * time.Second

// controlTimeout bounds one control API request.
const controlTimeout = 10 * time.Second

// LinkStatus is one link as the fault proxy's control API reports it.
type LinkStatus struct {
	Link
	Faults faultproxy.Faults `json:"faults"`
}

// ProxyStatus is what Cluster.ProxyStatus observed about the fault proxy process.
type ProxyStatus struct {
	PID         int    `json:"pid"` // 0 when stopped
	Alive       bool   `json:"alive"`
	ControlAddr string `json:"control_addr"`
	Links       int    `json:"links"`
	LogFile     string `json:"log_file"`
}

// RunProxyd is the fault proxy process (`cairn cluster proxyd`): it reads the
// state file in dir, listens on every link of State.Proxy.Links, injects the
// faults the state file records, and serves the control API on
// State.Proxy.ControlAddr until ctx ends; then it closes every link and returns.
// It never writes the state file: the harness does, and tells it what changed.
//
// Control API (JSON): GET /healthz; GET /v1/links lists every link with its
// faults; PUT /v1/faults takes {"<from>><to>": Faults, …} and sets every link to
// what it names (links it omits get no fault).
func RunProxyd(ctx context.Context, dir string, logger *slog.Logger) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s, err := LoadState(dir)
	if err != nil {
		return err
	}
	if s.Proxy == nil {
		return fmt.Errorf("%w: %s", ErrNoFaultProxy, dir)
	}
	d := &proxyd{links: s.Proxy.Links, proxies: map[string]*faultproxy.Proxy{}}
	defer d.close()
	for i, l := range s.Proxy.Links {
		p, err := faultproxy.Listen(l.Listen, l.Target, faultproxy.Options{
			Seed:   s.Proxy.Seed + uint64(i),
			Logger: logger.With("link", l.Key()),
			// Connections that lost bytes to a partition are reset when it heals,
			// so nodes reconnect at once rather than at a handshake timeout.
			ResetOnHeal: true,
		})
		if err != nil {
			return fmt.Errorf("cluster: proxyd: link %s: %w", l.Key(), err)
		}
		d.proxies[l.Key()] = p
	}
	if err := d.set(linkFaults(s)); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", s.Proxy.ControlAddr)
	if err != nil {
		return fmt.Errorf("cluster: proxyd: control API: %w", err)
	}
	srv := &http.Server{Handler: d.handler(logger), ReadHeaderTimeout: 5 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("proxyd: serving", "links", len(s.Proxy.Links), "control", s.Proxy.ControlAddr, "seed", s.Proxy.Seed, "faults", len(s.Faults))

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("cluster: proxyd: control API: %w", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	<-serveErr
	logger.Info("proxyd: stopped")
	return nil
}

// proxyd holds the links of a running proxy process. links and proxies are
// fixed after RunProxyd set them up; each Proxy is safe for concurrent use.
type proxyd struct {
	links   []Link
	proxies map[string]*faultproxy.Proxy
}

func (d *proxyd) close() {
	for _, p := range d.proxies {
		p.Close()
	}
}

// set applies faults by link key; links not named get none. It rejects unknown
// keys before changing anything.
func (d *proxyd) set(faults map[string]faultproxy.Faults) error {
	for key := range faults {
		if _, ok := d.proxies[key]; !ok {
			return fmt.Errorf("cluster: proxyd: unknown link %q", key)
		}
	}
	for _, l := range d.links {
		d.proxies[l.Key()].Set(faults[l.Key()])
	}
	return nil
}

func (d *proxyd) status() []LinkStatus {
	out := make([]LinkStatus, len(d.links))
	for i, l := range d.links {
		out[i] = LinkStatus{Link: l, Faults: d.proxies[l.Key()].Faults()}
	}
	return out
}

func (d *proxyd) handler(logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /v1/links", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, d.status())
	})
	mux.HandleFunc("PUT /v1/faults", func(w http.ResponseWriter, r *http.Request) {
		var faults map[string]faultproxy.Faults
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&faults); err != nil {
			http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := d.set(faults); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		active := 0
		for _, f := range faults {
			if !f.IsZero() {
				active++
			}
		}
		logger.Info("proxyd: faults set", "links_with_faults", active)
		writeJSON(w, d.status())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// controlRequest calls the control API at addr and decodes a JSON answer into out
// (if not nil).
func controlRequest(ctx context.Context, method, addr, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, controlTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, rd)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("cluster: fault proxy control API: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("cluster: fault proxy control API: %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(msg))
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

// newProxyState returns the proxy record Up writes for a cluster in dir.
func newProxyState(dir, binary string, basePort int, seed uint64, links []Link) *ProxyState {
	return &ProxyState{
		ControlAddr: net.JoinHostPort("127.0.0.1", fmt.Sprint(ControlPort(basePort))),
		LogFile:     filepath.Join(dir, "logs", proxydName+".log"),
		Binary:      binary,
		Args:        []string{"cluster", "proxyd", "--cluster-dir", dir},
		Seed:        seed,
		Links:       links,
	}
}

// proxyNode views the proxy process as a NodeState, for halt.
func proxyNode(p *ProxyState) NodeState {
	return NodeState{Name: proxydName, PID: p.PID, StartTicks: p.StartTicks, LogFile: p.LogFile}
}

// ensureProxy starts the proxy process of s if it does not run and waits until
// its control API answers. It reads the state file, so the caller saves s first.
// The caller holds the directory lock.
func (c *Cluster) ensureProxy(s *State) error {
	p := s.Proxy
	if p == nil || processAlive(p.PID, p.StartTicks) {
		return nil
	}
	pid, ticks, err := c.startProcess(proxydName, p.Binary, p.Args, p.LogFile)
	if err != nil {
		return err
	}
	p.PID, p.StartTicks = pid, ticks
	c.logger.Info("started fault proxy", "pid", pid, "control", p.ControlAddr, "links", len(p.Links), "seed", p.Seed, "log", p.LogFile)
	var lastErr error
	ok := pollUntil(proxydReadyTimeout, func() bool {
		if !processAlive(pid, ticks) {
			return true
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		lastErr = controlRequest(ctx, http.MethodGet, p.ControlAddr, "/healthz", nil, nil)
		return lastErr == nil
	})
	if !processAlive(pid, ticks) {
		p.PID, p.StartTicks = 0, 0
		tail := tailFile(p.LogFile, 5)
		if tail != "" {
			tail = ":\n" + tail
		}
		return fmt.Errorf("%w: fault proxy (pid %d); log %s%s", ErrNodeExited, pid, p.LogFile, tail)
	}
	if !ok {
		return fmt.Errorf("cluster: fault proxy (pid %d) not answering on %s after %v: %v", pid, p.ControlAddr, proxydReadyTimeout, lastErr)
	}
	return nil
}

// haltProxy stops the proxy process of s (SIGTERM, SIGKILL after grace) and
// records it as stopped. A proxy that does not run is not an error.
func (c *Cluster) haltProxy(s *State, grace time.Duration) error {
	if s.Proxy == nil {
		return nil
	}
	n := proxyNode(s.Proxy)
	err := c.halt(&n, grace)
	s.Proxy.PID, s.Proxy.StartTicks = n.PID, n.StartTicks
	if errors.Is(err, ErrNotRunning) {
		return nil
	}
	return err
}

// applyProxyFaults makes the proxy process inject what s records, starting it if
// needed. The caller holds the directory lock and has saved s.
func (c *Cluster) applyProxyFaults(s *State) error {
	if s.Proxy == nil {
		return nil
	}
	if err := c.ensureProxy(s); err != nil {
		return err
	}
	return controlRequest(context.Background(), http.MethodPut, s.Proxy.ControlAddr, "/v1/faults", linkFaults(s), nil)
}

// ProxyStatus reports the fault proxy process, nil when the cluster runs without
// fault proxies.
func (c *Cluster) ProxyStatus() *ProxyStatus {
	s := c.refresh()
	if s.Proxy == nil {
		return nil
	}
	return &ProxyStatus{
		PID:         s.Proxy.PID,
		Alive:       processAlive(s.Proxy.PID, s.Proxy.StartTicks),
		ControlAddr: s.Proxy.ControlAddr,
		Links:       len(s.Proxy.Links),
		LogFile:     s.Proxy.LogFile,
	}
}

// ProxyLinks asks the running fault proxy for every link and the faults it
// injects now.
func (c *Cluster) ProxyLinks(ctx context.Context) ([]LinkStatus, error) {
	s := c.refresh()
	if s.Proxy == nil {
		return nil, ErrNoFaultProxy
	}
	var out []LinkStatus
	err := controlRequest(ctx, http.MethodGet, s.Proxy.ControlAddr, "/v1/links", nil, &out)
	return out, err
}
