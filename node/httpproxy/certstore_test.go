package httpproxy

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"testing"
	"time"
)

// servedName returns the first DNS name of the certificate s picks for sni.
func servedName(t *testing.T, s *CertStore, sni string) string {
	t.Helper()
	c, err := s.GetCertificate(&tls.ClientHelloInfo{ServerName: sni})
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf.DNSNames[0]
}

func TestCertStoreSNI(t *testing.T) {
	pk := newTestPKI(t)
	s := pk.store(t,
		pk.issue(t, "a", "a.test"),
		pk.issue(t, "wild", "*.wild.test"),
		pk.issue(t, "b", "b.test", "x.wild.test"),
	)
	cases := []struct{ sni, want string }{
		{"a.test", "a.test"},
		{"A.Test.", "a.test"},
		{"b.test", "b.test"},
		{"y.wild.test", "*.wild.test"},
		{"x.wild.test", "b.test"},      // exact beats wildcard
		{"deep.y.wild.test", "a.test"}, // a wildcard covers one label only
		{"wild.test", "a.test"},        // nor the bare domain
		{"", "a.test"},                 // no SNI: the first pair
		{"unknown.example", "a.test"},  // no match: the first pair
	}
	for _, c := range cases {
		if got := servedName(t, s, c.sni); got != c.want {
			t.Errorf("SNI %q served %q, want %q", c.sni, got, c.want)
		}
	}
	if _, err := NewCertStore(nil); !errors.Is(err, ErrNoCertificates) {
		t.Errorf("empty store: %v", err)
	}
	if _, err := NewCertStore([]CertPair{{CertFile: "/nonexistent.pem", KeyFile: "/nonexistent-key.pem"}}); err == nil {
		t.Error("missing files accepted")
	}
}

func TestCertStoreReload(t *testing.T) {
	pk := newTestPKI(t)
	pair := pk.issue(t, "site", "old.test")
	s := pk.store(t, pair)
	// Replace the files in place with a certificate for another name.
	fresh := pk.issue(t, "fresh", "new.test")
	copyFile(t, fresh.CertFile, pair.CertFile)
	copyFile(t, fresh.KeyFile, pair.KeyFile)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := servedName(t, s, "new.test"); got != "new.test" {
		t.Fatalf("after reload served %q", got)
	}
	// A broken file keeps the loaded certificates.
	writeFile(t, pair.CertFile, []byte("not a certificate"))
	if err := s.Reload(); err == nil {
		t.Fatal("reload of a broken file succeeded")
	}
	if got := servedName(t, s, "new.test"); got != "new.test" {
		t.Fatalf("after a failed reload served %q", got)
	}
}

func TestCertStoreWatch(t *testing.T) {
	pk := newTestPKI(t)
	pair := pk.issue(t, "site", "old.test")
	s := pk.store(t, pair)
	s.SetLogger(testLogger(t))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Watch(ctx, 10*time.Millisecond) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Watch returned %v", err)
		}
	}()
	// A half-written pair (broken certificate) is not picked up...
	writeFile(t, pair.CertFile, []byte("garbage"))
	fresh := pk.issue(t, "fresh", "new.test")
	// ...and once both files are whole again the new one is.
	copyFile(t, fresh.KeyFile, pair.KeyFile)
	copyFile(t, fresh.CertFile, pair.CertFile)
	waitFor(t, "the watched certificate", func() bool {
		c, _ := s.GetCertificate(&tls.ClientHelloInfo{ServerName: "new.test"})
		return c.Leaf.DNSNames[0] == "new.test"
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, b)
}
