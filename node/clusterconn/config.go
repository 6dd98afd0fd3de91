package clusterconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultDialTimeout    = 5 * time.Second
	DefaultRequestTimeout = 10 * time.Second
)

// ErrNoEndpoints is returned by Config.WithDefaults and Dial when no endpoint is
// configured. Clients with a sentinel of their own translate it with errors.Is.
var ErrNoEndpoints = errors.New("clusterconn: no endpoints")

// Config configures a Conn. Its fields match those of the service clients'
// Config types, which convert to it.
type Config struct {
	// Endpoints are the host:port gRPC addresses of members of the service; at
	// least one. Blank entries are ignored.
	Endpoints []string
	// DialTimeout bounds each connection attempt to a member. Default 5s.
	DialTimeout time.Duration
	// RequestTimeout bounds a call whose context has no deadline (see
	// Conn.WithTimeout). Default 10s.
	RequestTimeout time.Duration
	// TLS configures transport security; nil means plaintext. The server name
	// verified for each endpoint is its host.
	TLS *tls.Config
}

// WithDefaults returns a copy of c with zero timeouts set to their defaults and
// Endpoints trimmed of spaces and blank entries, or an error if a timeout is
// negative, an endpoint is not host:port, or no endpoint remains
// (ErrNoEndpoints). service names the client in error messages: "raftkv" gives
// "raftkv client: Config.DialTimeout must not be negative, got -1s". c is not
// modified.
func (c Config) WithDefaults(service string) (Config, error) {
	out := c
	if out.DialTimeout == 0 {
		out.DialTimeout = DefaultDialTimeout
	}
	if out.RequestTimeout == 0 {
		out.RequestTimeout = DefaultRequestTimeout
	}
	if out.DialTimeout < 0 {
		return out, fmt.Errorf("%s client: Config.DialTimeout must not be negative, got %v", service, out.DialTimeout)
	}
	if out.RequestTimeout < 0 {
		return out, fmt.Errorf("%s client: Config.RequestTimeout must not be negative, got %v", service, out.RequestTimeout)
	}
	out.Endpoints = nil
	for _, ep := range c.Endpoints {
		ep = strings.TrimSpace(ep)
		if ep == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(ep); err != nil {
			return out, fmt.Errorf("%s client: Config.Endpoints: %q is not host:port: %w", service, ep, err)
		}
		out.Endpoints = append(out.Endpoints, ep)
	}
	if len(out.Endpoints) == 0 {
		return out, ErrNoEndpoints
	}
	return out, nil
}
