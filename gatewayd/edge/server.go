package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"time"

	blobdclient "cairn.dev/cairn/blobd/client"
	"cairn.dev/cairn/gatewayd/edge/geodns"
	"cairn.dev/cairn/gatewayd/edge/origin"
	"cairn.dev/cairn/gatewayd/edge/purge"
	"cairn.dev/cairn/gatewayd/httpcache"
	"cairn.dev/cairn/gatewayd/httpcache/cachestore"
	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/httpproxy"
	edgev1 "cairn.dev/cairn/proto/cairn/edge/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// Server is one edge node: the HTTP(S) listener answering from the cache,
// the admin gRPC service (cairn.edge.v1.EdgeService), the purge subscriber
// and, when configured, the nearest-edge DNS server.
//
// Create it with New, run it with Serve, stop it by cancelling Serve's
// context or with Close. Its methods are safe for concurrent use.
type Server struct {
	cfg     Config
	logger  *slog.Logger
	started time.Time

	srv   *node.Server
	http  *httpproxy.Server
	certs *httpproxy.CertStore // nil on a plaintext listener

	store  *cachestore.Store
	cache  *httpcache.Cache
	origin origin.Origin
	shield *origin.Shield // nil without a shield tier
	blob   *blobdclient.Client
	kv     *kvclient.Client // nil without a registry
	purges *purge.Subscriber
	dns    *geodns.Server // nil without DNSAddr
	policy *policy        // rules, protection, transforms
	stats  *counters

	// purgeSeqApplying is the last purge (raftkv sequence number) this edge
	// began to apply, purgeSeqDone the last one its cache finished: shield
	// hops compare them (handler.go, behindOnPurges).
	purgeSeqApplying atomic.Int64
	purgeSeqDone     atomic.Int64

	ctx    context.Context // cancelled when shutdown begins
	cancel context.CancelFunc

	life       node.Lifecycle
	goroutines node.Goroutines
}

// New validates cfg, binds the listeners and opens the cache, but serves
// nothing until Serve.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("node", cfg.ID)
	s := &Server{
		cfg:     cfg,
		logger:  logger,
		started: time.Now(),
		stats:   &counters{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			s.release()
		}
	}()
	srv, err := node.NewServer(cfg.Server, logger)
	if err != nil {
		return nil, err
	}
	s.srv = srv
	if err := srv.Listen(); err != nil {
		return nil, err
	}
	var clientTLS *tls.Config
	if cfg.Server.TLS.Enabled() {
		if clientTLS, err = node.ClientTLSConfig(cfg.Server.TLS, ""); err != nil {
			return nil, fmt.Errorf("edge: client tls: %w", err)
		}
	}
	if err := s.openCache(); err != nil {
		return nil, err
	}
	if err := s.openOrigin(clientTLS); err != nil {
		return nil, err
	}
	if s.policy, err = newPolicy(cfg.Settings, s.cache, logger); err != nil {
		return nil, err
	}
	if cfg.Registry != "" {
		eps, _ := node.ParseEndpoints("registry", cfg.Registry) // validated
		kc := kvclient.Config{Endpoints: eps, RequestTimeout: 5 * time.Second}
		if clientTLS != nil {
			kc.TLS = clientTLS.Clone()
		}
		if s.kv, err = kvclient.New(kc); err != nil {
			return nil, fmt.Errorf("edge: registry: %w", err)
		}
		stateFile := ""
		if cfg.CacheDir != "" {
			stateFile = filepath.Join(cfg.CacheDir, "purge-state")
		}
		s.purges, err = purge.NewSubscriber(purge.SubscriberOptions{
			KV: s.kv, Prefix: cfg.PurgePrefix, Node: cfg.ID, StateFile: stateFile,
			Apply:    s.applyPurge,
			ApplyAll: func() int64 { return int64(s.cache.PurgeAll()) },
			Logger:   logger,
		})
		if err != nil {
			return nil, err
		}
	}
	if cfg.DNSAddr != "" {
		regions, _ := geodns.ParseRegions(cfg.DNSRegions) // validated
		if s.dns, err = geodns.New(geodns.Config{Zone: cfg.DNSZone, Regions: regions, Default: regions[0].Name}, logger); err != nil {
			return nil, err
		}
		if err := s.dns.Listen(cfg.DNSAddr); err != nil {
			return nil, fmt.Errorf("edge: dns: %w", err)
		}
	}
	if cfg.Server.TLS.Enabled() {
		pairs := []httpproxy.CertPair{{CertFile: cfg.Server.TLS.CertFile, KeyFile: cfg.Server.TLS.KeyFile}}
		extra, err := httpproxy.ParseCertPairs(cfg.HTTPCerts)
		if err != nil {
			return nil, fmt.Errorf("edge: http_certs: %w", err)
		}
		pairs = append(pairs, extra...)
		if s.certs, err = httpproxy.NewCertStore(pairs); err != nil {
			return nil, fmt.Errorf("edge: https certificates: %w", err)
		}
	}
	s.http, err = httpproxy.Listen("edge", httpproxy.ServerConfig{
		Addr:              cfg.HTTPAddr,
		TLS:               s.certs,
		H2C:               cfg.H2C,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ShutdownTimeout:   cfg.Server.ShutdownTimeout,
		WrapListener:      s.policy.wrapListener,
	}, s, logger)
	if err != nil {
		return nil, err
	}
	edgev1.RegisterEdgeServiceServer(srv.GRPC(), &adminService{s: s})
	ok = true
	return s, nil
}

// openCache opens the storage tiers and the cache engine.
func (s *Server) openCache() error {
	st, err := cachestore.Open(cachestore.Options{
		MemoryBytes: s.cfg.CacheMemory,
		DiskBytes:   s.cfg.CacheDisk,
		Dir:         s.cfg.CacheDir,
		Logger:      s.logger,
	})
	if err != nil {
		return fmt.Errorf("edge: cache: %w", err)
	}
	s.store = st
	s.cache, err = httpcache.New(httpcache.Options{
		Storage: st,
		Name:    s.cfg.ID,
		Logger:  s.logger,
		Grace:   s.cfg.Grace,
		// A shield hop's client is another edge: it stores the response
		// with the origin's tags and edge-only freshness.
		Downstream: origin.IsShieldHop,
	})
	if err != nil {
		return fmt.Errorf("edge: cache: %w", err)
	}
	return nil
}

// openOrigin connects the origin and the shield tier.
func (s *Server) openOrigin(clientTLS *tls.Config) error {
	if s.cfg.Origin == OriginBlobd {
		eps, _ := node.ParseEndpoints("blobd_endpoints", s.cfg.BlobdEndpoints) // validated
		bc := blobdclient.Config{Endpoints: eps}
		if clientTLS != nil {
			bc.TLS = clientTLS.Clone()
		}
		c, err := blobdclient.New(bc)
		if err != nil {
			return fmt.Errorf("edge: blobd: %w", err)
		}
		s.blob = c
		s.origin = origin.NewBlob(c, origin.BlobOptions{})
	} else {
		u, _ := originURL(s.cfg.Origin) // validated
		var tc *tls.Config
		if u.Scheme == "https" && clientTLS != nil {
			tc = clientTLS.Clone()
		}
		o, err := origin.NewHTTP(u, tc, origin.HTTPOptions{})
		if err != nil {
			return fmt.Errorf("edge: origin: %w", err)
		}
		s.origin = o
	}
	shields, _ := parseShields(s.cfg.Shields) // validated
	if len(shields) > 0 {
		nodes := make([]origin.ShieldNode, len(shields))
		for i, n := range shields {
			nodes[i] = origin.ShieldNode{Name: n.name, Addr: n.addr}
		}
		var tc *tls.Config
		if clientTLS != nil {
			tc = clientTLS.Clone()
		}
		sh, err := origin.NewShield(s.cfg.ID, nodes, s.origin, tc, origin.ShieldOptions{
			// The edges serve one site whatever Host a client names: the
			// owner of a URL is decided by its path and query alone.
			Key:    func(r *http.Request) string { return cacheKey(r, "") },
			Logger: s.logger,
		})
		if err != nil {
			return fmt.Errorf("edge: shields: %w", err)
		}
		s.shield = sh
	}
	return nil
}

// Addr is the bound gRPC (admin API) address.
func (s *Server) Addr() string { return s.srv.GRPCAddr() }

// AdminAddr is the bound admin HTTP address ("" when disabled).
func (s *Server) AdminAddr() string { return s.srv.AdminAddr() }

// HTTPAddr is the bound address of the edge's traffic.
func (s *Server) HTTPAddr() string { return s.http.Addr() }

// DNSAddr is the bound address of the DNS server ("" without one).
func (s *Server) DNSAddr() string {
	if s.dns == nil {
		return ""
	}
	return s.dns.Addr()
}

// ID is the node's id.
func (s *Server) ID() string { return s.cfg.ID }

// Cache is the node's cache engine.
func (s *Server) Cache() *httpcache.Cache { return s.cache }

// ReadyNotify is closed once the node serves.
func (s *Server) ReadyNotify() <-chan struct{} { return s.life.Ready() }

// Serve serves until ctx is cancelled or Close is called, then stops:
// in-flight requests finish within the shutdown timeout. It may be called
// once; it returns nil after a requested stop.
func (s *Server) Serve(ctx context.Context) error {
	return s.life.Serve(func() error { return s.serve(ctx) }, s.release)
}

func (s *Server) serve(ctx context.Context) error {
	errc := make(chan error, 3)
	grpcCtx, stopGRPC := context.WithCancel(context.Background())
	defer stopGRPC()
	go func() { errc <- s.srv.Serve(grpcCtx) }()
	if s.purges != nil {
		s.goFunc(func() {
			if err := s.purges.Run(s.ctx); err != nil && s.ctx.Err() == nil {
				s.logger.Error("purge subscriber stopped", "err", err)
			}
		})
		s.awaitPurges(ctx)
	}
	httpCtx, stopHTTP := context.WithCancel(context.Background())
	defer stopHTTP()
	go func() { errc <- s.http.Serve(httpCtx) }()
	servers := 2
	if s.dns != nil {
		servers++
		go func() { errc <- s.dns.Serve(s.ctx) }()
	}
	if s.certs != nil {
		s.goFunc(func() { s.certs.Watch(s.ctx, 5*time.Second) })
	}
	s.srv.SetServingStatus(edgev1.EdgeService_ServiceDesc.ServiceName, true)
	s.srv.SetReady(true)
	s.life.SetReady()
	s.logger.Info("edge serving", "http", s.HTTPAddr(), "grpc", s.Addr(), "dns", s.DNSAddr(), "region", s.cfg.Region, "origin", s.cfg.Origin)
	var serveErr error
	select {
	case <-ctx.Done():
	case <-s.life.Stopping():
	case serveErr = <-errc:
		servers--
	}
	s.logger.Info("edge stopping")
	s.srv.SetReady(false)
	s.shutdown()
	stopHTTP()
	stopGRPC()
	s.goroutines.Wait()
	for ; servers > 0; servers-- {
		if err := <-errc; serveErr == nil && err != nil && !errors.Is(err, context.Canceled) {
			serveErr = err
		}
	}
	s.release()
	return serveErr
}

// purgeCatchUpWait bounds how long a starting edge waits to apply the
// purges published while it was away before it serves anyway (raftkv
// unreachable): its disk tier may then hold purged objects until it
// catches up.
const purgeCatchUpWait = 15 * time.Second

// awaitPurges waits until the purge subscriber caught up (or
// purgeCatchUpWait, or a stop): an edge that served from a disk tier kept
// across a restart before applying the purges it missed could serve
// purged content.
func (s *Server) awaitPurges(ctx context.Context) {
	t := time.NewTimer(purgeCatchUpWait)
	defer t.Stop()
	select {
	case <-s.purges.CaughtUp():
	case <-t.C:
		s.logger.Warn("purges not caught up yet (raftkv unreachable?); serving, the cache may hold purged objects until they are", "waited", purgeCatchUpWait)
	case <-ctx.Done():
	case <-s.life.Stopping():
	}
}

// shutdown begins the stop: watchers end and goFunc refuses work.
func (s *Server) shutdown() {
	s.life.Stop()
	s.cancel()
	s.goroutines.Close()
}

// release closes what New opened. Idempotent.
func (s *Server) release() {
	s.cancel()
	if s.http != nil {
		s.http.Close()
	}
	if s.cache != nil {
		s.cache.Close()
	}
	if s.store != nil {
		_ = s.store.Close()
	}
	if s.blob != nil {
		_ = s.blob.Close()
	}
	if s.kv != nil {
		_ = s.kv.Close()
	}
	if s.dns != nil {
		s.dns.Close()
	}
	if s.srv != nil {
		s.srv.Close()
	}
}

// Close stops the node (see Serve) and waits for it; without Serve it
// releases the listeners. Idempotent.
func (s *Server) Close() { s.life.Close(s.shutdown, s.release) }

// goFunc runs f in a goroutine owned by the server, unless shutdown has
// begun. Serve waits for all of them.
func (s *Server) goFunc(f func()) bool { return s.goroutines.Go(f) }
