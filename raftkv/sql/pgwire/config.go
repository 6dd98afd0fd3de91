package pgwire

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"time"
)

// Config configures a Server. The zero value of every field means its
// default (DefaultConfig).
type Config struct {
	// TLS, when set, lets clients upgrade with SSLRequest. Its ClientAuth
	// decides whether client certificates are asked for and verified; a
	// verified certificate authenticates the user its CommonName names.
	// nil: plaintext only (SSLRequest is answered 'N').
	TLS *tls.Config
	// RequireTLS refuses (FATAL 28000) clients that did not upgrade to TLS.
	RequireTLS bool
	// CertUser, when set, decides whether a verified client certificate may
	// log in as user (instead of its CommonName having to equal user): a
	// deployment whose CA issues only trusted clients may map them.
	CertUser func(cert *x509.Certificate, user string) bool
	// ServerVersion is reported as server_version (default "15.0 (cairn)").
	ServerVersion string
	// Logger receives connection-level events (default: discard).
	Logger *slog.Logger
	// MaxConns bounds the sessions open at once (default 1000); a client
	// past it fails with FATAL 53300.
	MaxConns int
	// MaxMessageBytes bounds one frontend message (default 64 MiB); a larger
	// one is a protocol violation (FATAL 08P01).
	MaxMessageBytes int
	// MaxPortalBytes bounds the result rows a portal executed with a row
	// limit buffers between Execute messages (default 256 MiB; 54000 past it).
	MaxPortalBytes int
	// StartupTimeout bounds the startup and authentication of a connection
	// (default 60s, like PostgreSQL's authentication_timeout).
	StartupTimeout time.Duration
}

// DefaultConfig returns the defaults of every field.
func DefaultConfig() Config {
	return Config{
		ServerVersion:   "15.0 (cairn)",
		Logger:          slog.New(slog.DiscardHandler),
		MaxConns:        1000,
		MaxMessageBytes: 64 << 20,
		MaxPortalBytes:  256 << 20,
		StartupTimeout:  60 * time.Second,
	}
}

// withDefaults returns c with its zero fields set to the defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.ServerVersion == "" {
		c.ServerVersion = d.ServerVersion
	}
	if c.Logger == nil {
		c.Logger = d.Logger
	}
	if c.MaxConns == 0 {
		c.MaxConns = d.MaxConns
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = d.MaxMessageBytes
	}
	if c.MaxPortalBytes == 0 {
		c.MaxPortalBytes = d.MaxPortalBytes
	}
	if c.StartupTimeout == 0 {
		c.StartupTimeout = d.StartupTimeout
	}
	return c
}

// Validate reports the first field with a bad value.
func (c Config) Validate() error {
	switch {
	case c.MaxConns < 0:
		return fmt.Errorf("pgwire: max_conns is %d, want >= 0 (0 = default)", c.MaxConns)
	case c.MaxMessageBytes < 0:
		return fmt.Errorf("pgwire: max_message_bytes is %d, want >= 0 (0 = default)", c.MaxMessageBytes)
	case c.MaxPortalBytes < 0:
		return fmt.Errorf("pgwire: max_portal_bytes is %d, want >= 0 (0 = default)", c.MaxPortalBytes)
	case c.StartupTimeout < 0:
		return fmt.Errorf("pgwire: startup_timeout is %v, want >= 0 (0 = default)", c.StartupTimeout)
	case c.RequireTLS && c.TLS == nil:
		return fmt.Errorf("pgwire: require_tls is set but no TLS config is given")
	}
	return nil
}
