package gatewayd

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	cachedclient "cairn.dev/cairn/cached/client"
	"cairn.dev/cairn/gatewayd/apikey"
	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/gatewayd/jwt"
	"cairn.dev/cairn/gatewayd/ratelimit"
	"cairn.dev/cairn/gatewayd/respcache"
	"cairn.dev/cairn/gatewayd/transcode"
	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/httpproxy"
	"cairn.dev/cairn/node/registry"
	gatewaydv1 "cairn.dev/cairn/proto/cairn/gatewayd/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// Server is one gateway node: the HTTP listener that runs the request
// pipeline, the admin gRPC service, and the watchers that keep its
// configuration, API keys and service registry current.
//
// Create it with New, run it with Serve, stop it by cancelling Serve's
// context or with Close. Its methods are safe for concurrent use.
type Server struct {
	cfg    Config
	logger *slog.Logger
	srv    *node.Server
	http   *httpproxy.Server
	certs  *httpproxy.CertStore // nil on a plaintext listener

	kv       *kvclient.Client // nil without a registry
	docs     *docStore        // nil without a registry
	keys     *apikey.Store    // nil without a registry
	resolver registry.Watcher // nil without a registry

	cache atomic.Pointer[cachedclient.Client] // nil until connected (or without cached)
	// sharedResponses is the response cache's tier in cached, set with cache.
	sharedResponses atomic.Pointer[respcache.CachedStore]
	limiter         *ratelimit.Limiter
	rcache          *respcache.Cache
	transcoder      *transcode.Transcoder
	proxyCore       *httpproxy.Proxy
	metrics         *httpproxy.Metrics
	retryBudget     *httpproxy.RetryBudget
	stats           *stats
	access          *httpproxy.AccessLogger // nil unless AccessLog

	signer     crypto.Signer    // nil without --issuer-key
	clusterKey crypto.PublicKey // signer's public key
	signerKID  string

	live    atomic.Pointer[runtime]
	applyMu sync.Mutex // serializes building and installing runtimes

	ctx    context.Context // cancelled when shutdown begins
	cancel context.CancelFunc

	life node.Lifecycle

	goroutines node.Goroutines
}

// New validates cfg, binds the gRPC, admin and HTTP listeners, connects to
// raftkv (lazily: nothing is read until Serve) and loads the token key, but
// serves nothing until Serve.
func New(cfg Config, logger *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("node", cfg.ID)
	s := &Server{
		cfg:    cfg,
		logger: logger,
		stats:  newStats(),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	ok := false
	defer func() {
		if !ok {
			s.release()
		}
	}()
	if cfg.IssuerKeyFile != "" {
		signer, err := jwt.LoadSigningKey(cfg.IssuerKeyFile)
		if err != nil {
			return nil, fmt.Errorf("gatewayd: issuer_key: %w", err)
		}
		if _, isEd := signer.Public().(ed25519.PublicKey); !isEd {
			return nil, fmt.Errorf("gatewayd: issuer_key %s: want an Ed25519 key", cfg.IssuerKeyFile)
		}
		s.signer, s.clusterKey, s.signerKID = signer, signer.Public(), jwt.PublicKeyID(signer.Public())
	}
	srv, err := node.NewServer(cfg.Server, logger)
	if err != nil {
		return nil, err
	}
	s.srv = srv
	if err := srv.Listen(); err != nil {
		return nil, err
	}
	if s.metrics, err = httpproxy.NewMetrics(srv.Registry()); err != nil {
		return nil, err
	}
	s.proxyCore = httpproxy.New(httpproxy.Config{Metrics: s.metrics, Logger: logger})
	s.retryBudget = httpproxy.NewRetryBudget(cfg.RetryBudget, 10)
	if cfg.AccessLog {
		s.access = httpproxy.AccessLog(logger)
	}
	s.transcoder = transcode.New(transcode.Config{})

	if cfg.Registry != "" {
		eps, _ := parseEndpoints("registry", cfg.Registry) // validated
		kc := kvclient.Config{Endpoints: eps, RequestTimeout: 5 * time.Second}
		if cfg.Server.TLS.Enabled() {
			if kc.TLS, err = node.ClientTLSConfig(cfg.Server.TLS, ""); err != nil {
				return nil, fmt.Errorf("gatewayd: registry tls: %w", err)
			}
		}
		if s.kv, err = kvclient.New(kc); err != nil {
			return nil, fmt.Errorf("gatewayd: registry: %w", err)
		}
		s.docs = &docStore{kv: s.kv, key: cfg.ConfigKey, logger: logger}
		s.keys = apikey.NewStore(s.kv, cfg.KeysPrefix, logger)
		// The resolver also answers for the service "raftkv": the registry
		// cluster itself, at the endpoints above.
		s.resolver = registry.NewResolver(s.kv, cfg.ServicesPrefix, logger)
	}
	s.limiter = ratelimit.New(ratelimit.Config{
		Store: s.rateStore(),
		// A loaded cached answers in well under this; past it a request is
		// decided by the node's share (see the error bound in docs/gatewayd.md).
		LeaseTimeout: 300 * time.Millisecond,
		Nodes:        func() int { return cfg.GatewayNodes },
		Logger:       logger,
	})
	s.rcache = respcache.New(respcache.Config{Store: s.responseStore(), LocalBytes: cfg.ResponseCacheBytes, Logger: logger})
	if err := s.rcache.RegisterMetrics(srv.Registry()); err != nil {
		return nil, err
	}

	if cfg.Server.TLS.Enabled() {
		pairs := []httpproxy.CertPair{{CertFile: cfg.Server.TLS.CertFile, KeyFile: cfg.Server.TLS.KeyFile}}
		extra, _ := httpproxy.ParseCertPairs(cfg.HTTPCerts) // validated
		pairs = append(pairs, extra...)
		if s.certs, err = httpproxy.NewCertStore(pairs); err != nil {
			return nil, fmt.Errorf("gatewayd: https certificates: %w", err)
		}
	}
	s.http, err = httpproxy.Listen("gateway", httpproxy.ServerConfig{
		Addr:              cfg.HTTPAddr,
		TLS:               s.certs,
		H2C:               cfg.H2C,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ShutdownTimeout:   cfg.Server.ShutdownTimeout,
	}, s, logger)
	if err != nil {
		return nil, err
	}
	s.live.Store(emptyRuntime())
	gatewaydv1.RegisterGatewayServiceServer(srv.GRPC(), &adminService{s: s})
	ok = true
	return s, nil
}

// Addr is the bound gRPC (admin API) address.
func (s *Server) Addr() string { return s.srv.GRPCAddr() }

// AdminAddr is the bound admin HTTP address ("" when disabled).
func (s *Server) AdminAddr() string { return s.srv.AdminAddr() }

// HTTPAddr is the bound address of the gateway's traffic.
func (s *Server) HTTPAddr() string { return s.http.Addr() }

// ID is the node's id.
func (s *Server) ID() string { return s.cfg.ID }

// ReadyNotify is closed once the node serves its first configuration (an
// empty one when there is no document anywhere).
func (s *Server) ReadyNotify() <-chan struct{} { return s.life.Ready() }

// ConfigVersion is the version of the configuration the node serves (0
// before the first document).
func (s *Server) ConfigVersion() int64 { return s.live.Load().version }

// Serve serves until ctx is cancelled or Close is called, then stops:
// in-flight requests finish within the shutdown timeout. It may be called
// once; it returns nil after a requested stop.
func (s *Server) Serve(ctx context.Context) error {
	return s.life.Serve(func() error { return s.serve(ctx) }, s.release)
}

func (s *Server) serve(ctx context.Context) error {
	errc := make(chan error, 2)
	grpcCtx, stopGRPC := context.WithCancel(context.Background())
	defer stopGRPC()
	go func() { errc <- s.srv.Serve(grpcCtx) }()
	httpCtx, stopHTTP := context.WithCancel(context.Background())
	defer stopHTTP()
	go func() { errc <- s.http.Serve(httpCtx) }()

	if s.certs != nil {
		s.goFunc(func() { s.certs.Watch(s.ctx, 5*time.Second) })
	}
	cacheUp := make(chan struct{})
	if s.cfg.CacheEndpoints != "" {
		s.goFunc(func() { s.connectCache(cacheUp) })
	} else {
		close(cacheUp)
	}
	firstConfig := make(chan struct{})
	var firstOnce sync.Once
	applied := func() { firstOnce.Do(func() { close(firstConfig) }) }
	if s.keys != nil {
		s.goFunc(func() { s.keys.Start(s.ctx) })
	}
	switch {
	case s.docs != nil:
		s.goFunc(func() { s.watchRegistry(applied) })
	case s.cfg.ConfigFile != "":
		s.goFunc(func() { s.watchFile(applied) })
	default:
		applied()
	}

	// Ready once the first configuration is applied and, with cached, once
	// it is connected (for at most cacheWait): a node that served before
	// reaching cached would decide global limits by its local share.
	ready := make(chan struct{})
	s.goFunc(func() {
		select {
		case <-firstConfig:
		case <-s.ctx.Done():
			return
		}
		t := time.NewTimer(cacheWait)
		defer t.Stop()
		select {
		case <-cacheUp:
		case <-t.C:
			s.logger.Warn("cached not reachable yet; serving, with global limits at this node's share until it is")
		case <-s.ctx.Done():
			return
		}
		close(ready)
	})
	var serveErr error
	select {
	case <-ready:
		s.srv.SetServingStatus(gatewaydv1.GatewayService_ServiceDesc.ServiceName, true)
		s.srv.SetReady(true)
		s.life.SetReady()
		s.logger.Info("gatewayd serving", "http", s.HTTPAddr(), "grpc", s.Addr(), "admin", s.AdminAddr(), "config_version", s.ConfigVersion())
		select {
		case <-ctx.Done():
		case <-s.life.Stopping():
		case serveErr = <-errc:
		}
	case <-ctx.Done():
	case <-s.life.Stopping():
	case serveErr = <-errc:
	}
	s.logger.Info("gatewayd stopping")
	s.srv.SetReady(false)
	s.shutdown()
	stopHTTP() // graceful: in-flight requests finish within the shutdown timeout
	stopGRPC()
	s.goroutines.Wait()
	for i := 0; i < 2; i++ {
		if err := <-errc; serveErr == nil && err != nil && !errors.Is(err, context.Canceled) {
			serveErr = err
		}
	}
	s.release()
	return serveErr
}

// watchRegistry applies every version of the document stored in raftkv,
// seeding it from ConfigFile first when raftkv holds none.
func (s *Server) watchRegistry(applied func()) {
	if s.cfg.ConfigFile != "" {
		s.seedFromFile()
	}
	s.docs.watch(s.ctx, func(d storedDoc) {
		defer applied()
		if d.version == 0 {
			s.logger.Warn("config: no document in raftkv; serving no routes", "key", s.cfg.ConfigKey)
			s.applyDoc(nil, nil, 0, "none")
			return
		}
		doc, err := gwconfig.Parse(d.yaml)
		if err != nil {
			// Only a document that validated was stored; one written around
			// the admin API is refused and the previous version stays.
			s.logger.Error("config: stored document is invalid; keeping the previous version", "version", d.version, "err", err)
			return
		}
		if err := s.applyDoc(doc, d.yaml, d.version, "raftkv"); err != nil {
			s.logger.Error("config: cannot apply; keeping the previous version", "version", d.version, "err", err)
		}
	})
}

// seedFromFile stores ConfigFile in raftkv unless a document is there.
func (s *Server) seedFromFile() {
	raw, err := os.ReadFile(s.cfg.ConfigFile)
	if err != nil {
		s.logger.Error("config: read config_file", "err", err)
		return
	}
	if _, err := gwconfig.Parse(raw); err != nil {
		s.logger.Error("config: config_file is invalid; not stored", "file", s.cfg.ConfigFile, "err", err)
		return
	}
	for wait := 100 * time.Millisecond; s.ctx.Err() == nil; {
		ctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
		v, err := s.docs.store(ctx, raw, -1)
		cancel()
		if err == nil {
			s.logger.Info("config: stored config_file in raftkv", "version", v)
			return
		}
		if errors.Is(err, ErrConfigConflict) {
			return // a document is there already
		}
		if !sleepCtx(s.ctx, &wait) {
			return
		}
	}
}

// watchFile applies ConfigFile now and whenever its contents change.
func (s *Server) watchFile(applied func()) {
	var last []byte
	var version int64
	check := func() {
		raw, err := os.ReadFile(s.cfg.ConfigFile)
		if err != nil {
			s.logger.Error("config: read config_file", "err", err)
			return
		}
		if last != nil && string(raw) == string(last) {
			return
		}
		last = raw
		doc, err := gwconfig.Parse(raw)
		if err != nil {
			s.logger.Error("config: config_file is invalid; keeping the previous version", "err", err)
			return
		}
		version++
		if err := s.applyDoc(doc, raw, version, "file"); err != nil {
			s.logger.Error("config: cannot apply config_file; keeping the previous version", "err", err)
		}
	}
	check()
	applied()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}

// applyDoc compiles doc and makes it live; on error the previous runtime
// stays. A nil doc installs the empty configuration.
func (s *Server) applyDoc(doc *gwconfig.Document, raw []byte, version int64, source string) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	if doc == nil {
		doc = &gwconfig.Document{Version: 1}
	}
	prev := s.live.Load()
	rt, err := s.build(doc, raw, version, source, prev)
	if err != nil {
		return err
	}
	s.install(rt)
	s.logger.Info("config applied", "version", version, "source", source, "routes", len(doc.Routes), "upstreams", len(doc.Upstreams))
	return nil
}

// cacheWait bounds how long a starting node waits for cached before it
// serves.
const cacheWait = 10 * time.Second

// connectCache connects the cached client, retrying until it succeeds or
// the node stops; until then global limits act per node and the response
// cache is node-local.
func (s *Server) connectCache(connected chan<- struct{}) {
	eps, _ := parseEndpoints("cache_endpoints", s.cfg.CacheEndpoints) // validated
	cc := cachedclient.Config{Endpoints: eps, RequestTimeout: 500 * time.Millisecond, Logger: s.logger}
	if s.cfg.Server.TLS.Enabled() {
		tc, err := node.ClientTLSConfig(s.cfg.Server.TLS, "")
		if err != nil {
			s.logger.Error("cached: tls", "err", err)
			return
		}
		cc.TLS = tc
	}
	for wait := 100 * time.Millisecond; s.ctx.Err() == nil; {
		c, err := cachedclient.New(cc)
		if err == nil {
			if s.ctx.Err() != nil {
				_ = c.Close()
				return
			}
			s.sharedResponses.Store(respcache.NewCachedStore(c, respcache.DefaultPrefix))
			s.cache.Store(c)
			close(connected)
			s.logger.Info("cached connected", "endpoints", eps)
			return
		}
		s.logger.Warn("cached: connect", "err", err)
		if !sleepCtx(s.ctx, &wait) {
			return
		}
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
	if rt := s.live.Load(); rt != nil {
		for _, p := range rt.pools {
			p.close()
		}
		if rt.verifier != nil {
			rt.verifier.Close()
		}
	}
	if s.limiter != nil {
		_ = s.limiter.Close() // gives leased tokens back while cached is still connected
	}
	if s.rcache != nil {
		_ = s.rcache.Close()
	}
	if s.proxyCore != nil {
		_ = s.proxyCore.Close() // ends spliced upgrade connections
	}
	if c := s.cache.Swap(nil); c != nil {
		_ = c.Close()
	}
	if s.keys != nil {
		s.keys.Close()
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

// goFunc runs f in a goroutine owned by the server, unless shutdown has
// begun. Serve waits for all of them.
func (s *Server) goFunc(f func()) bool { return s.goroutines.Go(f) }
