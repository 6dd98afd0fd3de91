package node

import (
	"fmt"
	"net"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"

	"cairn.dev/cairn/node/clusterconn"
)

// DialConfig configures a client connection made by Dial.
type DialConfig struct {
	// TLS holds the trust roots (CAFile) and, for mutual TLS, the client
	// certificate. The zero value dials in plaintext.
	TLS TLSFiles `yaml:"tls" flag:",inline"`
	// ServerName overrides the name verified against the server certificate.
	ServerName string `yaml:"server_name" flag:"tls-server-name" usage:"name to verify in the server certificate (default: host of the target)"`
	// MaxMsgBytes limits messages sent and received per call; 0 means
	// DefaultMaxMsgBytes.
	MaxMsgBytes int `yaml:"max_msg_bytes" flag:"max-msg-bytes" usage:"largest gRPC message a client sends or receives, in bytes"`
}

// Dial returns a client connection to target (any grpc.NewClient target,
// e.g. "127.0.0.1:7000" or "dns:///kv.example:7000"). Like grpc.NewClient it
// does not connect until the first RPC. The connection sends keepalive pings
// every 10s (also when idle) and drops a peer silent for 5s more. The caller
// closes the returned connection.
func Dial(target string, cfg DialConfig, opts ...grpc.DialOption) (*grpc.ClientConn, error) {
	maxMsg := cfg.MaxMsgBytes
	switch {
	case maxMsg == 0:
		maxMsg = DefaultMaxMsgBytes
	case maxMsg < 0:
		return nil, fmt.Errorf("node: max_msg_bytes must be >= 0, got %d", maxMsg)
	}
	creds := insecure.NewCredentials()
	if cfg.TLS.Enabled() {
		tc, err := ClientTLSConfig(cfg.TLS, cfg.ServerName)
		if err != nil {
			return nil, err
		}
		creds = credentials.NewTLS(tc)
	}
	all := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                clientKeepaliveTime,
			Timeout:             clientKeepaliveTimeout,
			PermitWithoutStream: true,
		}),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallRecvMsgSize(maxMsg),
			grpc.MaxCallSendMsgSize(maxMsg),
		),
		grpc.WithInitialWindowSize(clusterconn.StreamWindow),
		grpc.WithInitialConnWindowSize(clusterconn.ConnWindow),
	}
	conn, err := grpc.NewClient(target, append(all, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("node: dial %s: %w", target, err)
	}
	return conn, nil
}

// DialOverrides rewrites the addresses a node dials: a peer listed as addr is
// reached through via instead (the harness routes peer links through fault
// proxies this way). TLS still verifies the original host name.
type DialOverrides map[string]string

// ParseDialOverrides parses "addr=via,addr=via"; empty entries are ignored.
func ParseDialOverrides(s string) (DialOverrides, error) {
	out := DialOverrides{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		from, to, ok := strings.Cut(part, "=")
		if !ok || from == "" || to == "" {
			return nil, fmt.Errorf("%q is not addr=via", part)
		}
		out[from] = to
	}
	return out, nil
}

// Dial dials target, or its override, with cfg.
func (o DialOverrides) Dial(target string, cfg DialConfig) (*grpc.ClientConn, error) {
	if via, ok := o[target]; ok {
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(target)
		}
		return Dial(via, cfg)
	}
	return Dial(target, cfg)
}

// ParseEndpoints parses a comma-separated list of host:port endpoints (a
// config field such as "registry"); empty entries are ignored, so "" gives
// none. An entry that is not host:port is an error naming field.
func ParseEndpoints(field, s string) ([]string, error) {
	var out []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(part); err != nil {
			return nil, fmt.Errorf("%s endpoint %q: %v", field, part, err)
		}
		out = append(out, part)
	}
	return out, nil
}
