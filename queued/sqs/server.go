package sqs

import (
	"fmt"
	"time"

	"cairn.dev/cairn/node/httpapi"
	"cairn.dev/cairn/node/sigv4"
	"cairn.dev/cairn/queued"
)

// Server is the SQS API's HTTP server (node/httpapi's): Addr, URL, Serve,
// Close.
type Server = httpapi.Server

// Attach adds the SQS API to a queued member from its Config: it loads the
// access keys of SQSCredentialsFile, serves with TLS from the node's own
// certificate and key when the node runs TLS (with no client certificate
// asked for) and in plain HTTP otherwise, and binds SQSAddr at once. The
// API then serves while srv serves: srv's Serve starts it and stops it
// before Raft stops, and srv's Close releases its listener. Call it after
// queued.New and before Serve. With an empty SQSAddr it does nothing and
// returns nil, nil.
func Attach(srv *queued.Server) (*Server, error) {
	qc := srv.Config()
	if qc.SQSAddr == "" {
		return nil, nil
	}
	creds, err := sigv4.LoadCredentialsFile(qc.SQSCredentialsFile)
	if err != nil {
		return nil, fmt.Errorf("sqs: %w", err)
	}
	cfg := DefaultConfig()
	cfg.Region, cfg.AccountID, cfg.Credentials = qc.SQSRegion, qc.SQSAccountID, creds
	logger := srv.Logger().With("api", "sqs")
	h, err := NewHandler(cfg, srv.QueueService(), logger)
	if err != nil {
		return nil, err
	}
	tlsCfg, err := httpapi.NodeTLS(qc.Server.TLS)
	if err != nil {
		return nil, fmt.Errorf("sqs: %w", err)
	}
	// A minute for a whole request: a long poll's wait is in the response.
	return httpapi.Attach(srv, "sqs", httpapi.Config{Addr: qc.SQSAddr, TLS: tlsCfg, ShutdownTimeout: qc.Server.ShutdownTimeout, ReadTimeout: time.Minute}, h, logger,
		"region", cfg.Region, "account", cfg.AccountID, "keys", len(creds))
}
