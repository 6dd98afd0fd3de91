package httpproxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// CertPair names a certificate chain file and its private key file (PEM).
type CertPair struct {
	CertFile string
	KeyFile  string
}

// CertStore holds the server certificates of a listener, loaded from files
// and chosen by SNI. Reload and Watch replace them atomically while
// handshakes go on; GetCertificate is safe for concurrent use.
type CertStore struct {
	pairs []CertPair
	cur   atomic.Pointer[certSet]

	mu     sync.Mutex // serializes reloads; protects stamps and logger
	stamps []fileStamp
	logger *slog.Logger
}

// certSet is one loaded generation of certificates.
type certSet struct {
	first    *tls.Certificate
	exact    map[string]*tls.Certificate // lower-case DNS SAN
	wildcard map[string]*tls.Certificate // "example.com" for "*.example.com"
}

// fileStamp is what Watch compares to notice a changed file.
type fileStamp struct {
	mod  time.Time
	size int64
}

// NewCertStore loads pairs (at least one). The first pair answers clients
// whose SNI matches no certificate.
func NewCertStore(pairs []CertPair) (*CertStore, error) {
	if len(pairs) == 0 {
		return nil, ErrNoCertificates
	}
	s := &CertStore{pairs: append([]CertPair(nil), pairs...), logger: slog.New(slog.DiscardHandler)}
	if err := s.Reload(); err != nil {
		return nil, err
	}
	return s, nil
}

// SetLogger sets where Watch reports reloads and reload failures.
func (s *CertStore) SetLogger(l *slog.Logger) {
	if l == nil {
		return
	}
	s.mu.Lock()
	s.logger = l
	s.mu.Unlock()
}

// Reload reads every pair again. On any error the certificates in use are
// kept and the error is returned.
func (s *CertStore) Reload() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	stamps, err := s.stat()
	if err != nil {
		return err
	}
	set := &certSet{exact: map[string]*tls.Certificate{}, wildcard: map[string]*tls.Certificate{}}
	for _, p := range s.pairs {
		c, err := tls.LoadX509KeyPair(p.CertFile, p.KeyFile)
		if err != nil {
			return fmt.Errorf("httpproxy: load certificate %s: %w", p.CertFile, err)
		}
		cert := &c
		if set.first == nil {
			set.first = cert
		}
		for _, name := range cert.Leaf.DNSNames {
			name = strings.ToLower(name)
			if rest, ok := strings.CutPrefix(name, "*."); ok {
				if _, dup := set.wildcard[rest]; !dup {
					set.wildcard[rest] = cert
				}
				continue
			}
			if _, dup := set.exact[name]; !dup {
				set.exact[name] = cert
			}
		}
	}
	s.cur.Store(set)
	s.stamps = stamps
	return nil
}

// stat returns the current stamps of every file. s.mu held.
func (s *CertStore) stat() ([]fileStamp, error) {
	out := make([]fileStamp, 0, 2*len(s.pairs))
	for _, p := range s.pairs {
		for _, f := range []string{p.CertFile, p.KeyFile} {
			fi, err := os.Stat(f)
			if err != nil {
				return nil, fmt.Errorf("httpproxy: certificate file: %w", err)
			}
			out = append(out, fileStamp{mod: fi.ModTime(), size: fi.Size()})
		}
	}
	return out, nil
}

// changed reports whether any file differs from the loaded generation.
func (s *CertStore) changed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, err := s.stat()
	if err != nil {
		return true // let Reload report it
	}
	for i := range now {
		if i >= len(s.stamps) || !now[i].mod.Equal(s.stamps[i].mod) || now[i].size != s.stamps[i].size {
			return true
		}
	}
	return false
}

// Watch checks the files every interval (default 10s) and reloads when one
// changed (modification time or size), until ctx ends; it then returns
// ctx's error. Failures are logged and retried at the next check. The
// owner runs it in a goroutine it stops through ctx.
func (s *CertStore) Watch(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = 10 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		if !s.changed() {
			continue
		}
		err := s.Reload()
		s.mu.Lock()
		l := s.logger
		s.mu.Unlock()
		if err != nil {
			l.Warn("certificate reload failed; keeping the loaded certificates", "err", err)
		} else {
			l.Info("certificates reloaded")
		}
	}
}

// GetCertificate picks the certificate for a TLS handshake: an exact DNS
// name match of the SNI, then a wildcard match of its first label, then the
// first pair. Use it as tls.Config.GetCertificate.
func (s *CertStore) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	set := s.cur.Load()
	name := strings.ToLower(strings.TrimSuffix(hello.ServerName, "."))
	if name != "" {
		if c, ok := set.exact[name]; ok {
			return c, nil
		}
		if _, rest, ok := strings.Cut(name, "."); ok {
			if c, ok := set.wildcard[rest]; ok {
				return c, nil
			}
		}
	}
	return set.first, nil
}

// ParseCertPairs reads a list of certificate pairs, "cert.pem:key.pem,…"
// (the --http-certs flag of the daemons that terminate TLS); empty gives
// none.
func ParseCertPairs(s string) ([]CertPair, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []CertPair
	for _, p := range strings.Split(s, ",") {
		cert, key, ok := strings.Cut(strings.TrimSpace(p), ":")
		if !ok || cert == "" || key == "" {
			return nil, fmt.Errorf("%q is not cert.pem:key.pem", p)
		}
		out = append(out, CertPair{CertFile: cert, KeyFile: key})
	}
	return out, nil
}
