package pgwire

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"cairn.dev/cairn/node/pki"
)

func TestSCRAMAuthentication(t *testing.T) {
	ts := startServer(t, Config{})
	cases := []struct {
		user, password string
		code           string
	}{
		{"alice", testPassword, ""},
		{"alice", "wrong", "28P01"},
		{"alice", "", "28P01"},
		{"mallory", testPassword, "28P01"}, // unknown user: the same failure
	}
	for _, tc := range cases {
		t.Run(tc.user+"/"+tc.password, func(t *testing.T) {
			c, err := pgx.Connect(testCtx(t), ts.url(tc.user, tc.password))
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close(testCtx(t))
				if got := c.PgConn().ParameterStatus("server_version"); got != "15.0 (cairn)" {
					t.Fatalf("server_version %q", got)
				}
				if got := c.PgConn().ParameterStatus("is_superuser"); got != "on" {
					t.Fatalf("is_superuser %q: the session's report should override the default", got)
				}
				if got := c.PgConn().ParameterStatus("application_name"); got != "test" {
					t.Fatalf("application_name %q", got)
				}
				return
			}
			if pgCode(err) != tc.code {
				t.Fatalf("got %v, want SQLSTATE %s", err, tc.code)
			}
			want := fmt.Sprintf("password authentication failed for user %q", tc.user)
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not say %q", err, want)
			}
		})
	}
}

func TestNewSessionErrorIsFatal(t *testing.T) {
	ts := startServer(t, Config{})
	_, err := pgx.Connect(testCtx(t), fmt.Sprintf("postgres://alice:%s@%s/nodb?sslmode=disable", testPassword, ts.addr))
	if pgCode(err) != "3D000" {
		t.Fatalf("got %v, want 3D000", err)
	}
}

func TestTLS(t *testing.T) {
	p := newTestPKI(t)
	ts := startServer(t, Config{TLS: p.serverTLS(t), RequireTLS: true})
	connect := func(t *testing.T, user, password string, cert *tls.Certificate, sslmode string) (*pgx.Conn, error) {
		cfg, err := pgx.ParseConfig(fmt.Sprintf("postgres://%s:%s@%s/db?sslmode=%s", user, password, ts.addr, sslmode))
		if err != nil {
			t.Fatal(err)
		}
		if cfg.TLSConfig != nil {
			cfg.TLSConfig = &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1"}
			if cert != nil {
				cfg.TLSConfig.Certificates = []tls.Certificate{*cert}
			}
		}
		c, err := pgx.ConnectConfig(testCtx(t), cfg)
		if err == nil {
			t.Cleanup(func() { _ = c.Close(testCtx(t)) })
		}
		return c, err
	}
	alice := p.cert(t, pki.RoleClient, "alice", nil)
	other := newTestPKI(t).cert(t, pki.RoleClient, "alice", nil)

	t.Run("password over TLS", func(t *testing.T) {
		c, err := connect(t, "alice", testPassword, nil, "verify-full")
		if err != nil {
			t.Fatal(err)
		}
		if !isTLS(c.PgConn()) {
			t.Fatal("not TLS")
		}
		var one int32
		if err := c.QueryRow(testCtx(t), "select 1").Scan(&one); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("certificate, no password", func(t *testing.T) {
		c, err := connect(t, "alice", "", &alice, "verify-full")
		if err != nil {
			t.Fatal(err)
		}
		var one int32
		if err := c.QueryRow(testCtx(t), "select 1").Scan(&one); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("certificate for another user", func(t *testing.T) {
		_, err := connect(t, "bob", "", &alice, "verify-full")
		if pgCode(err) != "28000" || !strings.Contains(err.Error(), `certificate authentication failed for user "bob"`) {
			t.Fatalf("got %v, want 28000", err)
		}
	})
	t.Run("certificate from an unknown CA", func(t *testing.T) {
		if _, err := connect(t, "alice", "", &other, "verify-full"); err == nil {
			t.Fatal("a certificate of another CA was accepted")
		}
	})
	t.Run("cancel with TLS required", func(t *testing.T) {
		c, err := connect(t, "alice", "", &alice, "verify-full")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(testCtx(t))
		errc := make(chan error, 1)
		go func() {
			_, err := c.Exec(ctx, "sleep")
			errc <- err
		}()
		<-ts.eng.started
		cancel()
		if err := <-errc; err == nil {
			t.Fatal("a cancelled statement succeeded")
		}
		waitFor(t, "the statement to be cancelled", func() bool {
			_, _, _, canceled, _ := ts.eng.snapshot()
			return canceled == 1
		})
	})
	t.Run("plaintext refused", func(t *testing.T) {
		_, err := connect(t, "alice", testPassword, nil, "disable")
		if pgCode(err) != "28000" {
			t.Fatalf("got %v, want 28000", err)
		}
	})
}

func isTLS(c *pgconn.PgConn) bool {
	_, ok := c.Conn().(*tls.Conn)
	return ok
}

func TestCertUserMapsCertificatesToUsers(t *testing.T) {
	p := newTestPKI(t)
	cfg := Config{TLS: p.serverTLS(t), RequireTLS: true, CertUser: func(cert *x509.Certificate, user string) bool {
		return cert.Subject.CommonName == "cli" && user == "root"
	}}
	ts := startServer(t, cfg)
	cli := p.cert(t, pki.RoleClient, "cli", nil)
	connect := func(user string) error {
		pc, err := pgx.ParseConfig(fmt.Sprintf("postgres://%s@%s/db?sslmode=verify-full", user, ts.addr))
		if err != nil {
			t.Fatal(err)
		}
		pc.TLSConfig = &tls.Config{RootCAs: p.pool, ServerName: "127.0.0.1", Certificates: []tls.Certificate{cli}}
		c, err := pgx.ConnectConfig(testCtx(t), pc)
		if err == nil {
			_ = c.Close(testCtx(t))
		}
		return err
	}
	if err := connect("root"); err != nil {
		t.Fatalf("the mapped certificate could not log in as root: %v", err)
	}
	if err := connect("cli"); pgCode(err) != "28000" {
		t.Fatalf("CertUser refused cli, but the login got %v, want 28000", err)
	}
}
