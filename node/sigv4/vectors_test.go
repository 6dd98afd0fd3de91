package sigv4

import (
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
)

// TestPublishedVectors verifies every request of testdata/vectors.txt, and
// checks that each fails once its signature is changed.
func TestPublishedVectors(t *testing.T) {
	vs := readVectors(t)
	if len(vs) < 30 {
		t.Fatalf("read %d vectors, want at least 30", len(vs))
	}
	for _, vec := range vs {
		t.Run(vec.name, func(t *testing.T) {
			cfg := Config{
				Credentials:          StaticCredentials{vec.accessKeyID: {SecretAccessKey: vec.secret}},
				Service:              vec.service,
				Region:               "us-east-1",
				Now:                  fixedClock(vec.now),
				AllowUnsignedPayload: vec.service == "s3",
			}
			v, err := NewVerifier(cfg)
			if err != nil {
				t.Fatal(err)
			}
			r := vec.request()
			p, err := v.Verify(r)
			if err != nil {
				var m *MismatchError
				if errors.As(err, &m) {
					t.Fatalf("Verify: %v\ncanonical request:\n%s\nstring to sign:\n%s", err, m.CanonicalRequest, m.StringToSign)
				}
				t.Fatalf("Verify: %v", err)
			}
			if p.AccessKeyID != vec.accessKeyID || p.Name != vec.accessKeyID || !p.SigningTime.Equal(vec.now) {
				t.Errorf("principal = %+v", p)
			}
			if got, _ := io.ReadAll(r.Body); string(got) != vec.body {
				t.Errorf("body after Verify = %q, want %q", got, vec.body)
			}

			// The same request with one bit of the signature flipped.
			bad := vec
			bad.headers = nil
			for _, h := range vec.headers {
				if strings.EqualFold(h[0], "Authorization") {
					h[1] = flipSignature(h[1])
				}
				bad.headers = append(bad.headers, h)
			}
			bad.target = flipSignature(vec.target)
			if _, err := v.Verify(bad.request()); !errors.Is(err, ErrSignatureMismatch) {
				t.Errorf("Verify with a flipped signature: %v, want ErrSignatureMismatch", err)
			}
		})
	}
}

// flipSignature flips the low bit of the first byte of the signature in s
// (after "Signature="), if any.
func flipSignature(s string) string {
	i := strings.Index(s, "Signature=")
	if i < 0 {
		return s
	}
	i += len("Signature=")
	b, err := hex.DecodeString(s[i : i+2])
	if err != nil {
		return s
	}
	b[0] ^= 1
	return s[:i] + hex.EncodeToString(b) + s[i+2:]
}

// TestDeriveKey checks the signing key of AWS's documented derivation
// example (secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215,
// us-east-1, iam) and that the cache returns it once derived.
func TestDeriveKey(t *testing.T) {
	const want = "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
	k := deriveKey("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
	if got := hex.EncodeToString(k); got != want {
		t.Fatalf("deriveKey = %s, want %s", got, want)
	}
	var c keyCache
	k1 := c.get("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
	k2 := c.get("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
	if hex.EncodeToString(k1) != want || &k1[0] != &k2[0] || c.len() != 1 {
		t.Fatalf("cache: %x %x, %d keys", k1, k2, c.len())
	}
	if k3 := c.get("other", "20120215", "us-east-1", "iam"); hex.EncodeToString(k3) == want || c.len() != 2 {
		t.Fatalf("cache keyed wrongly: %x, %d keys", k3, c.len())
	}
	for i := 0; i < keyCacheSize+10; i++ {
		c.get("s", "20120215", "r"+string(rune('a'+i%26))+string(rune(i)), "iam")
	}
	if n := c.len(); n > keyCacheSize {
		t.Fatalf("cache holds %d keys, bound %d", n, keyCacheSize)
	}
}
