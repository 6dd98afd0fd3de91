package pgwire

import (
	"encoding/base64"
	"strings"
	"testing"
)

// RFC 7677 section 3's example exchange.
const (
	rfcSalt        = "W22ZaJ0SNY7soEsUEjb6gQ=="
	rfcClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
	rfcServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	rfcServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	rfcClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	rfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
)

func rfcSecret(t *testing.T) *scramSecret {
	t.Helper()
	salt, _ := base64.StdEncoding.DecodeString(rfcSalt)
	s, err := makeSCRAMSecret("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := parseSCRAMSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	return sec
}

func TestSCRAMRFC7677(t *testing.T) {
	srv := &scramServer{secret: rfcSecret(t), valid: true, serverNonce: rfcServerNonce}
	first, err := srv.first([]byte(rfcClientFirst))
	if err != nil || string(first) != rfcServerFirst {
		t.Fatalf("server-first %q %v, want %q", first, err, rfcServerFirst)
	}
	final, ok, err := srv.final([]byte(rfcClientFinal))
	if err != nil || !ok || string(final) != rfcServerFinal {
		t.Fatalf("server-final %q ok=%v %v, want %q", final, ok, err, rfcServerFinal)
	}
	// The same proof against a mock secret (unknown user) fails.
	mock := &scramServer{secret: rfcSecret(t), valid: false, serverNonce: rfcServerNonce}
	_, _ = mock.first([]byte(rfcClientFirst))
	if _, ok, err := mock.final([]byte(rfcClientFinal)); ok || err != nil {
		t.Fatalf("mock secret accepted a proof: ok=%v %v", ok, err)
	}
}

func TestSCRAMMessageErrors(t *testing.T) {
	firsts := []struct {
		msg string
		ok  bool
	}{
		{"n,,n=,r=abc", true},
		{"y,,n=,r=abc", true},
		{"p=tls-server-end-point,,n=,r=abc", false},
		{"n,a=bob,n=,r=abc", false},
		{"x,,n=,r=abc", false},
		{"n,,m=ext,n=,r=abc", false},
		{"n,,n=", false},
		{"n,,n=,r=", false},
		{"n,,n=,r=a b", false},
		{"", false},
	}
	for _, tc := range firsts {
		srv := &scramServer{secret: rfcSecret(t), valid: true}
		if _, err := srv.first([]byte(tc.msg)); (err == nil) != tc.ok {
			t.Errorf("first(%q): %v, want ok=%v", tc.msg, err, tc.ok)
		}
	}
	srv := &scramServer{secret: rfcSecret(t), valid: true, serverNonce: rfcServerNonce}
	if _, err := srv.first([]byte(rfcClientFirst)); err != nil {
		t.Fatal(err)
	}
	finals := []string{
		strings.Replace(rfcClientFinal, "c=biws", "c=eSws", 1),       // "y,," but the first said "n,,"
		strings.Replace(rfcClientFinal, "hNlF$k0", "hNlF$k1", 1),     // another nonce
		strings.Replace(rfcClientFinal, ",p=", ",x=", 1),             // no proof
		strings.Replace(rfcClientFinal, "p=dHzb", "p=!!", 1),         // proof not base64
		"r=x,c=biws,p=" + strings.SplitN(rfcClientFinal, "p=", 2)[1], // order
		strings.Replace(rfcClientFinal, "AndVQ=", "AndVA=", 1) + "",  // wrong proof: not an error, just no
	}
	for i, f := range finals {
		_, ok, err := srv.final([]byte(f))
		if ok {
			t.Errorf("final %d (%q) accepted", i, f)
		}
		if i < len(finals)-1 && err == nil {
			t.Errorf("final %d (%q): no error", i, f)
		}
	}
}

func TestSCRAMSecretFormat(t *testing.T) {
	s, err := NewSCRAMSecret("pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "SCRAM-SHA-256$4096:") {
		t.Fatalf("secret %q", s)
	}
	sec, err := parseSCRAMSecret(s)
	if err != nil || len(sec.salt) != 16 || sec.iterations != 4096 {
		t.Fatalf("parsed %+v %v", sec, err)
	}
	s2, _ := NewSCRAMSecret("pw")
	if s2 == s {
		t.Fatal("two secrets of one password share a salt")
	}
	bad := []string{
		"", "md5abc", "SCRAM-SHA-256$", "SCRAM-SHA-256$4096:c2FsdA==",
		"SCRAM-SHA-256$x:c2FsdA==$AAAA:AAAA", "SCRAM-SHA-256$0:c2FsdA==$AAAA:AAAA",
		"SCRAM-SHA-256$4096:!!$AAAA:AAAA", "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA", // keys too short
		"SCRAM-SHA-256$4096:c2FsdA==$" + strings.Repeat("A", 44),
	}
	for _, b := range bad {
		if _, err := parseSCRAMSecret(b); err == nil {
			t.Errorf("parseSCRAMSecret(%q) accepted", b)
		}
	}
}

func FuzzSCRAMServer(f *testing.F) {
	f.Add([]byte(rfcClientFirst), []byte(rfcClientFinal))
	f.Add([]byte("y,,n=,r=x"), []byte("c=eSws,r=x,p=AA=="))
	salt, _ := base64.StdEncoding.DecodeString(rfcSalt)
	s, _ := makeSCRAMSecret("pencil", salt, 16)
	sec, _ := parseSCRAMSecret(s)
	f.Fuzz(func(t *testing.T, first, final []byte) {
		srv := &scramServer{secret: sec, valid: true}
		if _, err := srv.first(first); err != nil {
			return
		}
		_, _, _ = srv.final(final)
	})
}
