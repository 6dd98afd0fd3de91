package client

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"time"

	"cairn.dev/cairn/node/clusterconn"
)

// Defaults for Config fields left zero.
const (
	DefaultDialTimeout     = clusterconn.DefaultDialTimeout
	DefaultRequestTimeout  = 2 * time.Second
	DefaultRefreshInterval = 2 * time.Second
)

// Config configures a Client.
type Config struct {
	// Endpoints are host:port gRPC addresses of any cached nodes; at least one.
	// They are only used to fetch the ring: calls go to the members it lists.
	Endpoints []string
	// DialTimeout bounds each connection attempt to a node, and the wait for the
	// first ring in New. Default 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds each attempt of a call whose context has no deadline.
	// Default 2s: a cache that answers slower than that is better treated as
	// missing.
	RequestTimeout time.Duration
	// TLS configures transport security; nil means plaintext.
	TLS *tls.Config
	// RefreshInterval is how often the ring is fetched again. Default 2s. A call
	// that finds its owner unreachable also asks for a refresh at once.
	RefreshInterval time.Duration
	// Logger receives refresh failures and ring changes; nil discards them.
	Logger *slog.Logger
}

// withDefaults returns a copy of c with defaults applied, or the first invalid
// field.
func (c Config) withDefaults() (Config, error) {
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	cc, err := clusterconn.Config{
		Endpoints: c.Endpoints, DialTimeout: c.DialTimeout, RequestTimeout: c.RequestTimeout, TLS: c.TLS,
	}.WithDefaults("cached")
	if err == clusterconn.ErrNoEndpoints {
		return c, ErrNoEndpoints
	}
	if err != nil {
		return c, err
	}
	c.Endpoints, c.DialTimeout = cc.Endpoints, cc.DialTimeout
	if c.RefreshInterval == 0 {
		c.RefreshInterval = DefaultRefreshInterval
	}
	if c.RefreshInterval < 0 {
		return c, fmt.Errorf("cached client: Config.RefreshInterval must not be negative, got %v", c.RefreshInterval)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}
