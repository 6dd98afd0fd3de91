package gatewayd

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/gatewayd/upstream"
	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/httpproxy"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// pool is an upstream with what the gateway needs to reach it: the target
// pool (balancing, breaker, outlier ejection), an HTTP transport and, for
// gRPC upstreams, a gRPC connection over the same targets.
type pool struct {
	spec        gwconfig.Upstream
	fingerprint string
	targets     *upstream.Pool
	transport   *httpproxy.Transport
	scheme      string
	retry       httpproxy.RetryPolicy
	grpcTLS     *tls.Config // protocol grpc: nil means plaintext
	isGRPC      bool

	mu    sync.Mutex // protects conns
	conns map[string]*grpc.ClientConn

	closeOnce sync.Once
	stopWatch func()
}

// newPool builds the pool of one upstream.
func (s *Server) newPool(spec gwconfig.Upstream, fp string) (*pool, error) {
	p := &pool{spec: spec, fingerprint: fp, scheme: "http"}
	kinds, statuses, err := httpproxy.ParseRetryOn(spec.Retries.On)
	if err != nil {
		return nil, err
	}
	p.retry = httpproxy.RetryPolicy{Attempts: spec.Retries.Attempts, On: kinds, Statuses: statuses}
	var tlsConf *tls.Config
	switch spec.Protocol {
	case "https", "h2", "grpc":
		p.scheme = "https"
		if tlsConf, err = s.upstreamTLS(spec.TLS, spec.Protocol == "grpc"); err != nil {
			return nil, err
		}
	}
	proto := map[string]string{"": "http1", "http": "http1", "https": "auto", "h2c": "h2c", "h2": "h2", "grpc": "h2"}[spec.Protocol]
	if spec.Protocol == "grpc" && tlsConf == nil {
		proto, p.scheme = "h2c", "http"
	}
	p.transport = httpproxy.NewTransport(httpproxy.TransportConfig{
		DialTimeout:           spec.Timeouts.Connect,
		ResponseHeaderTimeout: spec.Timeouts.ResponseHeader,
		IdleConnTimeout:       spec.Timeouts.Idle,
		TLS:                   tlsConf,
		Protocol:              proto,
	})
	if spec.Protocol == "grpc" {
		p.isGRPC, p.grpcTLS, p.conns = true, tlsConf, map[string]*grpc.ClientConn{}
	}
	if spec.Service != "" && s.resolver == nil {
		p.close()
		return nil, fmt.Errorf("service %q needs a registry (--registry)", spec.Service)
	}
	p.targets, err = upstream.New(spec, upstream.Options{Resolver: s.resolver, Logger: s.logger})
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// conn returns the gRPC connection to one target of a grpc upstream,
// dialing it on first use (connections are per target so that the pool's
// balancing, breaker and outlier ejection decide where each call goes).
func (p *pool) conn(addr string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[addr]; ok {
		return c, nil
	}
	if p.conns == nil {
		return nil, errPoolClosed
	}
	creds := insecure.NewCredentials()
	if p.grpcTLS != nil {
		creds = credentials.NewTLS(p.grpcTLS)
	}
	c, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		return nil, err
	}
	p.conns[addr] = c
	return c, nil
}

// errPoolClosed: a request raced with a configuration change that closed
// the pool (it cannot happen while the request holds its runtime).
var errPoolClosed = errors.New("gatewayd: upstream pool closed")

// upstreamTLS is the client TLS configuration for an upstream: the cluster's
// (CA and node certificate) when asked or by default for grpc upstreams, or
// the files the document names.
func (s *Server) upstreamTLS(t *gwconfig.TLS, grpcDefault bool) (*tls.Config, error) {
	if t == nil || t.Cluster {
		if !s.cfg.Server.TLS.Enabled() {
			if t != nil && t.Cluster {
				return nil, fmt.Errorf("tls.cluster needs a node with TLS (not --insecure)")
			}
			if grpcDefault {
				return nil, nil // an insecure cluster: plaintext gRPC
			}
			return &tls.Config{MinVersion: tls.VersionTLS12}, nil
		}
		if t == nil && !grpcDefault {
			return &tls.Config{MinVersion: tls.VersionTLS12}, nil
		}
		return node.ClientTLSConfig(s.cfg.Server.TLS, "")
	}
	files := node.TLSFiles{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile}
	var conf *tls.Config
	var err error
	if files.CAFile != "" || files.CertFile != "" {
		if conf, err = node.ClientTLSConfig(files, t.ServerName); err != nil {
			return nil, err
		}
	} else {
		conf = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	}
	conf.InsecureSkipVerify = t.InsecureSkipVerify //nolint:gosec // the document asked for it
	return conf, nil
}

// close releases the pool. Idempotent.
func (p *pool) close() {
	p.closeOnce.Do(func() {
		if p.targets != nil {
			p.targets.Close()
		}
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.Close()
		}
		p.conns = nil
		p.mu.Unlock()
		p.transport.CloseIdleConnections()
	})
}
