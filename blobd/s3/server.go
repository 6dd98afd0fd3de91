package s3

import (
	"fmt"
	"net"

	"cairn.dev/cairn/blobd"
	"cairn.dev/cairn/node/httpapi"
	"cairn.dev/cairn/node/sigv4"
)

// Server is the S3 API's HTTP server (node/httpapi's): Addr, URL, Serve,
// Close.
type Server = httpapi.Server

// Attach serves the S3 API beside srv on srv.Config().S3Addr: it loads the
// bootstrap keys of S3CredentialsFile (when set; keys in blobd's metadata
// work beside them), serves HTTPS with the node's own certificate when the
// node runs TLS (asking no client certificate) and plain HTTP otherwise,
// and binds the address at once. The API then serves while srv serves:
// srv's Serve starts it and stops it before Raft stops, and srv's Close
// releases its listener. Call it after blobd.New and before Serve. With an
// empty S3Addr it does nothing and returns nil, nil.
func Attach(srv *blobd.Server) (*Server, error) {
	bc := srv.Config()
	if bc.S3Addr == "" {
		return nil, nil
	}
	cfg := Config{Region: bc.S3Region, Domains: DefaultDomains(bc.S3Addr)}
	if bc.S3CredentialsFile != "" {
		creds, err := sigv4.LoadCredentialsFile(bc.S3CredentialsFile)
		if err != nil {
			return nil, fmt.Errorf("s3: %w", err)
		}
		cfg.Credentials = creds
	}
	logger := srv.Logger().With("api", "s3")
	h, err := NewHandler(cfg, srv, logger)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := httpapi.NodeTLS(bc.Server.TLS)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	// No read timeout: an object body may take as long as it takes.
	return httpapi.Attach(srv, "s3", httpapi.Config{Addr: bc.S3Addr, TLS: tlsCfg, ShutdownTimeout: bc.Server.ShutdownTimeout}, h, logger,
		"region", cfg.Region, "bootstrap_keys", len(cfg.Credentials))
}

// DefaultDomains are the virtual-hosting domains of a server listening on
// addr: "localhost" (bucket.localhost resolves to the loopback address
// without any DNS set-up) and addr's host when it is a name, not an IP.
func DefaultDomains(addr string) []string {
	out := []string{"localhost"}
	host, _, err := net.SplitHostPort(addr)
	if err == nil && host != "" && host != "localhost" && net.ParseIP(host) == nil {
		out = append(out, host)
	}
	return out
}
