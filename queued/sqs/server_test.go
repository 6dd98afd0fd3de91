package sqs

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"cairn.dev/cairn/node/pki"
	"cairn.dev/cairn/node/raftnode/rafttest"
	"cairn.dev/cairn/queued"
	"cairn.dev/cairn/queued/queuedtest"
)

// TestAttach runs a queued member as `cairn queued` does, with --sqs-addr,
// a credentials file and the node's TLS certificate: the SQS API answers
// over HTTPS to a client that trusts only the CA and has no certificate,
// and stops with the member.
func TestAttach(t *testing.T) {
	dir := t.TempDir()
	tdir := filepath.Join(dir, "tls")
	if err := pki.Ensure(tdir, []string{"queued-1"}); err != nil {
		t.Fatal(err)
	}
	creds := filepath.Join(dir, "sqs-credentials")
	if err := os.WriteFile(creds, []byte("# test keys\n"+testKey+" "+testSecret+" tester\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	apis := map[*queued.Server]*Server{}
	spec := queuedtest.Spec
	spec.New = func(cfg queued.Config, logger *slog.Logger) (*queued.Server, error) {
		srv, err := queued.New(cfg, logger)
		if err != nil {
			return nil, err
		}
		api, err := Attach(srv)
		if err != nil {
			srv.Close()
			return nil, err
		}
		mu.Lock()
		apis[srv] = api
		mu.Unlock()
		return srv, nil
	}
	c := rafttest.New(t, 1, spec, func(cfg *queued.Config) {
		cert, key := pki.NodeFiles(tdir, cfg.ID)
		cfg.Server.TLS.CertFile, cfg.Server.TLS.KeyFile = cert, key
		cfg.SQSAddr = "127.0.0.1:0"
		cfg.SQSCredentialsFile = creds
		cfg.SQSRegion = testRegion
		cfg.SQSAccountID = testAccount
	})
	m := c.Leader()
	mu.Lock()
	api := apis[m.Server]
	mu.Unlock()

	pem, err := os.ReadFile(pki.CAFile(tdir))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	e := &env{t: t, url: "https://" + api.Addr(), client: client}

	url := e.call("CreateQueue", "QueueName", "tls").ok(t).text("CreateQueueResult/QueueUrl")
	if url != "https://"+api.Addr()+"/"+testAccount+"/tls" {
		t.Fatalf("QueueUrl %q", url)
	}
	e.call("SendMessage", "QueueUrl", url, "MessageBody", "over tls").ok(t)
	if b := e.call("ReceiveMessage", "QueueUrl", url).ok(t).text("ReceiveMessageResult/Message/Body"); b != "over tls" {
		t.Fatalf("body %q", b)
	}
	// Plain HTTP is refused on the TLS port.
	if resp, err := http.Get("http://" + api.Addr() + "/"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}

	// Stopping the member stops the API.
	addr := api.Addr()
	c.Stop(m.ID)
	if _, err := client.Get("https://" + addr + "/"); err == nil {
		t.Fatal("SQS API still answers after the member stopped")
	}
}

func TestAttachErrors(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds")
	if err := os.WriteFile(creds, []byte(testKey+" "+testSecret+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := queuedtest.FastConfig("queued-1", dir)
	cfg.SQSAddr = "127.0.0.1:0"
	cfg.SQSCredentialsFile = creds
	srv, err := queued.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if _, err := Attach(srv); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable credentials: %v", err)
	}

	cfg.SQSCredentialsFile = ""
	if _, err := queued.New(cfg, nil); err == nil || !strings.Contains(err.Error(), "sqs_credentials_file") {
		t.Fatalf("no credentials file: %v", err)
	}
	cfg.SQSCredentialsFile, cfg.SQSAccountID = creds, "12"
	if _, err := queued.New(cfg, nil); err == nil || !strings.Contains(err.Error(), "sqs_account_id") {
		t.Fatalf("bad account: %v", err)
	}

	off := queuedtest.FastConfig("queued-2", dir)
	srv2, err := queued.New(off, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	if api, err := Attach(srv2); api != nil || err != nil {
		t.Fatalf("no sqs_addr: %v, %v", api, err)
	}
}
