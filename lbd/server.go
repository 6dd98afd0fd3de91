package lbd

import (
	"context"
	"crypto/tls"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/lbd/ha"
	"cairn.dev/cairn/lbd/l7"
	"cairn.dev/cairn/lbd/lbconfig"
	"cairn.dev/cairn/lbd/pool"
	lockdclient "cairn.dev/cairn/lockd/client"
	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/httpproxy"
	"cairn.dev/cairn/node/registry"
	lbdv1 "cairn.dev/cairn/proto/cairn/lbd/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// Server is one lbd node: its frontends, pools, admin gRPC service, and
// when configured its HA election and registry watches.
//
// Create it with New, run it with Serve, stop it by cancelling Serve's
// context or with Close. Its methods are safe for concurrent use.
type Server struct {
	cfg    Config
	logger *slog.Logger
	seed   uint64

	srv       *node.Server
	clientTLS *tls.Config // nil without TLS
	certs     *httpproxy.CertStore

	kv       *kvclient.Client // nil without a registry
	services *registry.Resolver
	lockd    *lockdclient.Client // nil without HA
	elector  *ha.Elector         // nil without HA
	admin    *adminStore

	proxy   *httpproxy.Proxy
	metrics *httpproxy.Metrics
	access  *httpproxy.AccessLogger

	fronts *frontendSet

	applyMu sync.Mutex // serializes reloads
	live    atomic.Pointer[runtime]
	fileMod time.Time // LBFile's modification time when last read; guarded by applyMu

	ctx    context.Context // cancelled when shutdown begins
	cancel context.CancelFunc

	life       node.Lifecycle
	goroutines node.Goroutines
}

// runtime is the configuration in force: the document and its pools.
type runtime struct {
	doc   *lbconfig.Document
	pools map[string]*livePool
}

// livePool is a pool with what serves it.
type livePool struct {
	l7      *l7.Pool
	unwatch func() // ends its registry watch; nil without one
}

// New validates cfg, reads the lb file, builds the pools and binds the
// gRPC and admin listeners (frontends bind in Serve).
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("node", cfg.ID)
	doc, mod, err := readLBFile(cfg.LBFile)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:     cfg,
		logger:  logger,
		seed:    cfg.Seed,
		fileMod: mod,
	}
	if s.seed == 0 {
		h := fnv.New64a()
		h.Write([]byte(cfg.ID))
		s.seed = h.Sum64()
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			s.release()
		}
	}()
	if s.srv, err = node.NewServer(cfg.Server, logger); err != nil {
		return nil, err
	}
	if err := s.srv.Listen(); err != nil {
		return nil, err
	}
	if cfg.Server.TLS.Enabled() {
		if s.clientTLS, err = node.ClientTLSConfig(cfg.Server.TLS, ""); err != nil {
			return nil, fmt.Errorf("lbd: client tls: %w", err)
		}
		if s.certs, err = httpproxy.NewCertStore([]httpproxy.CertPair{{CertFile: cfg.Server.TLS.CertFile, KeyFile: cfg.Server.TLS.KeyFile}}); err != nil {
			return nil, fmt.Errorf("lbd: https certificate: %w", err)
		}
	}
	if s.metrics, err = httpproxy.NewMetrics(s.srv.Registry()); err != nil {
		return nil, err
	}
	s.proxy = httpproxy.New(httpproxy.Config{Metrics: s.metrics, Logger: logger})
	if cfg.AccessLog {
		s.access = httpproxy.AccessLog(logger)
	}
	if cfg.Registry != "" {
		eps, _ := node.ParseEndpoints("registry", cfg.Registry) // validated
		kc := kvclient.Config{Endpoints: eps, RequestTimeout: 5 * time.Second}
		if s.clientTLS != nil {
			kc.TLS = s.clientTLS.Clone()
		}
		if s.kv, err = kvclient.New(kc); err != nil {
			return nil, fmt.Errorf("lbd: registry: %w", err)
		}
		s.services = registry.NewResolver(s.kv, cfg.ServicesPrefix, logger)
	}
	s.admin = newAdminStore(s.kv, cfg.AdminPrefix, cfg.ID, s.applyAdmin, logger)
	if cfg.Lockd != "" && cfg.VIP != "" {
		eps, _ := node.ParseEndpoints("lockd", cfg.Lockd) // validated
		lc := lockdclient.Config{Endpoints: eps}
		if s.clientTLS != nil {
			lc.TLS = s.clientTLS.Clone()
		}
		if s.lockd, err = lockdclient.New(lc); err != nil {
			return nil, fmt.Errorf("lbd: lockd: %w", err)
		}
		s.elector = ha.New(ha.Config{Client: s.lockd, Election: cfg.Election, Node: cfg.ID, Addr: s.srv.GRPCAddr(), TTL: cfg.HATTL, Active: s.runActive, Logger: logger})
	}
	rt, err := s.build(doc, nil)
	if err != nil {
		return nil, err
	}
	s.live.Store(rt)
	s.fronts = newFrontendSet(s)
	if err := s.fronts.apply(doc.Frontends, false); err != nil {
		return nil, err
	}
	lbdv1.RegisterLBServiceServer(s.srv.GRPC(), &adminService{s: s})
	s.srv.HandleAdmin("/lb/stats", http.HandlerFunc(s.serveStats))
	if err := s.srv.Registry().Register(&collector{s: s}); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// readLBFile parses the lb file and returns its modification time.
func readLBFile(path string) (*lbconfig.Document, time.Time, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("lbd: lb_file: %w", err)
	}
	doc, err := lbconfig.Load(path)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("lbd: lb_file: %w", err)
	}
	return doc, st.ModTime(), nil
}

// build makes the runtime of doc, reusing the pools of old whose spec did
// not change (their members, counters and connections carry on).
func (s *Server) build(doc *lbconfig.Document, old *runtime) (*runtime, error) {
	rt := &runtime{doc: doc, pools: map[string]*livePool{}}
	settings := s.admin.all()
	for i, spec := range doc.Pools {
		if old != nil {
			if lp := old.pools[spec.Name]; lp != nil && samePool(lp.l7.Spec(), spec) {
				rt.pools[spec.Name] = lp
				continue
			}
		}
		p, err := pool.New(spec, pool.Options{Logger: s.logger, Seed: s.seed + uint64(i), TLS: s.clientTLS})
		if err != nil {
			for _, lp := range rt.pools {
				if old == nil || old.pools[lp.l7.Name()] != lp {
					lp.close()
				}
			}
			return nil, err
		}
		for k, a := range settings {
			if k.pool == spec.Name {
				p.SetAdmin(k.backend, a)
			}
		}
		lp := &livePool{l7: &l7.Pool{Pool: p, Transport: s.transportFor(spec), Scheme: "http"}}
		if spec.Protocol == "h2" || spec.Protocol == "auto" {
			lp.l7.Scheme = "https"
		}
		if spec.Service != "" {
			if s.services == nil {
				s.logger.Warn("pool names a service but the node has no registry", "pool", spec.Name, "service", spec.Service)
			} else {
				lp.unwatch = s.services.Watch(s.ctx, spec.Service, func(list []registry.Instance) {
					ds := make([]pool.Discovered, len(list))
					for i, in := range list {
						ds[i] = pool.Discovered{Name: in.ID, Address: in.Address, Weight: in.Weight}
					}
					p.SetDiscovered(ds)
				})
			}
		}
		rt.pools[spec.Name] = lp
	}
	return rt, nil
}

// transportFor builds the transport of a pool's HTTP traffic.
func (s *Server) transportFor(spec lbconfig.Pool) *httpproxy.Transport {
	tc := httpproxy.TransportConfig{Protocol: spec.Protocol, DialTimeout: spec.ConnectTimeout}
	if spec.BackendTLS && s.clientTLS != nil {
		tc.TLS = s.clientTLS.Clone()
	}
	return httpproxy.NewTransport(tc)
}

func (lp *livePool) close() {
	if lp.unwatch != nil {
		lp.unwatch()
	}
	lp.l7.Close()
	if t, ok := lp.l7.Transport.(*httpproxy.Transport); ok {
		t.CloseIdleConnections()
	}
}

// pool returns the live pool called name, nil if there is none.
func (s *Server) pool(name string) *l7.Pool {
	if lp := s.live.Load().pools[name]; lp != nil {
		return lp.l7
	}
	return nil
}

// applyAdmin hands an admin setting to its pool (when it exists now; pools
// built later take it from the store).
func (s *Server) applyAdmin(k adminKey, a pool.AdminSetting) {
	rt := s.live.Load()
	if rt == nil {
		return
	}
	if lp := rt.pools[k.pool]; lp != nil {
		lp.l7.SetAdmin(k.backend, a)
	}
}

// reload reads the lb file if it changed and installs the new runtime:
// pools, their members, routes and frontends all change live (see
// frontendSet for what happens to a changed frontend's connections).
func (s *Server) reload() {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	st, err := os.Stat(s.cfg.LBFile)
	if err != nil || st.ModTime().Equal(s.fileMod) {
		return
	}
	doc, mod, err := readLBFile(s.cfg.LBFile)
	if err != nil {
		s.logger.Error("lb file not reloaded", "err", err)
		s.fileMod = st.ModTime() // do not repeat the error until it changes again
		return
	}
	s.fileMod = mod
	old := s.live.Load()
	rt, err := s.build(doc, old)
	if err != nil {
		s.logger.Error("lb file not reloaded", "err", err)
		return
	}
	s.live.Store(rt)
	for name, lp := range old.pools {
		if rt.pools[name] != lp {
			lp.close()
		}
	}
	if err := s.fronts.apply(doc.Frontends, true); err != nil {
		s.logger.Error("lb file frontends not all applied", "err", err)
	}
	s.logger.Info("lb file reloaded", "pools", len(rt.pools), "frontends", len(doc.Frontends))
}

// Addr is the bound gRPC (admin API) address.
func (s *Server) Addr() string { return s.srv.GRPCAddr() }

// AdminAddr is the bound admin HTTP address ("" when disabled).
func (s *Server) AdminAddr() string { return s.srv.AdminAddr() }

// ID is the node's id.
func (s *Server) ID() string { return s.cfg.ID }

// ReadyNotify is closed once the node serves.
func (s *Server) ReadyNotify() <-chan struct{} { return s.life.Ready() }

// Role is "active", "standby", or "single" without an HA group.
func (s *Server) Role() string {
	if s.elector == nil {
		return "single"
	}
	return s.elector.Role()
}

// Serve serves until ctx is cancelled or Close is called, then stops:
// frontends stop accepting and their connections get the shutdown
// timeout to finish. It may be called once; it returns nil after a
// requested stop.
func (s *Server) Serve(ctx context.Context) error {
	return s.life.Serve(func() error { return s.serve(ctx) }, s.release)
}

func (s *Server) serve(ctx context.Context) error {
	errc := make(chan error, 1)
	grpcCtx, stopGRPC := context.WithCancel(context.Background())
	defer stopGRPC()
	go func() { errc <- s.srv.Serve(grpcCtx) }()
	s.fronts.startAll() // before watchFile: a reload then starts only what it adds
	s.goFunc(func() { s.admin.run(s.ctx) })
	s.goFunc(s.watchFile)
	if s.certs != nil {
		s.goFunc(func() { s.certs.Watch(s.ctx, 5*time.Second) })
	}
	if s.elector != nil {
		s.goFunc(func() { _ = s.elector.Run(s.ctx) })
	}
	s.srv.SetServingStatus(lbdv1.LBService_ServiceDesc.ServiceName, true)
	s.srv.SetReady(true)
	s.life.SetReady()
	s.logger.Info("lbd serving", "grpc", s.Addr(), "frontends", len(s.fronts.list()), "vip", s.cfg.VIP)
	var serveErr error
	select {
	case <-ctx.Done():
	case <-s.life.Stopping():
	case serveErr = <-errc:
		errc = nil
	}
	s.logger.Info("lbd stopping")
	s.srv.SetReady(false)
	s.shutdown()
	s.goroutines.Wait()
	stopGRPC()
	if errc != nil {
		if err := <-errc; serveErr == nil && err != nil {
			serveErr = err
		}
	}
	s.release()
	return serveErr
}

// runActive is the HA group's active work: the frontends on the virtual
// address, served until ctx ends (leadership lost or shutdown).
func (s *Server) runActive(ctx context.Context) { s.fronts.runActive(ctx) }

// watchFile reloads the lb file when it changes.
func (s *Server) watchFile() {
	t := time.NewTicker(s.cfg.ReloadInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.reload()
		}
	}
}

func (s *Server) goFunc(f func()) { s.goroutines.Go(f) }

// shutdown begins the stop: frontends stop (gracefully, within the
// shutdown timeout), watchers end and goFunc refuses work.
func (s *Server) shutdown() {
	s.life.Stop()
	s.cancel()
	s.goroutines.Close()
}

// release closes what New opened. Idempotent.
func (s *Server) release() {
	s.cancel()
	if rt := s.live.Load(); rt != nil {
		for _, lp := range rt.pools {
			lp.close()
		}
	}
	if s.proxy != nil {
		_ = s.proxy.Close()
	}
	if s.lockd != nil {
		_ = s.lockd.Close()
	}
	if s.kv != nil {
		_ = s.kv.Close()
	}
	if s.srv != nil {
		s.srv.Close()
	}
}

// Close stops the node (see Serve) and waits for it; without Serve it
// releases the listeners. Idempotent.
func (s *Server) Close() { s.life.Close(s.shutdown, s.release) }
