package jwt

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

func jsonValid(b []byte) bool { return json.Valid(b) }

// FuzzVerify feeds arbitrary strings to Verify: it must not panic, must
// refuse with one of the sentinels, and may accept only tokens whose
// signature a configured key made (the seeds' valid tokens and nothing the
// fuzzer can forge).
func FuzzVerify(f *testing.F) {
	k := fixtures(f)
	hs := providerFor(f, "HS256")
	ed := providerFor(f, "EdDSA")
	ed.Name = "ed"
	es := providerFor(f, "ES256")
	es.Name = "es"
	es.Audiences = []string{"api"}
	v := newTestVerifier(f, hs, ed, es)
	names := []string{"p", "ed", "es"}

	valid := map[string]bool{}
	for _, alg := range []string{"HS256", "EdDSA", "ES256"} {
		priv, _ := k.signerFor(alg)
		c := baseClaims()
		c["aud"] = []string{"api"}
		c["scope"] = "a b"
		tok := sign(f, alg, priv, "kid", c)
		valid[tok] = true
		f.Add(tok)
	}
	for _, s := range []string{
		"", ".", "..", "...", "a.b.c", "e30.e30.", "e30.e30.e30",
		"eyJhbGciOiJub25lIn0.e30.",
		"eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJodHRwczovL2lzc3VlciIsImV4cCI6MX0.AAAA",
		`eyJhbGciOiJIUzI1NiIsImNyaXQiOlsiYiJdfQ.e30.AAAA`,
		"eyJhbGciOiJIUzI1NiJ9.W3siYSI6WzEse31dfV0.AAAA",
		"eyJhbGciOiJIUzI1NiJ9.eyJhIjoiXHVkODAwIn0.AAAA",
	} {
		f.Add(s)
	}
	sentinels := []error{ErrMalformed, ErrAlgorithm, ErrUnknownKey, ErrSignature, ErrExpired, ErrNotYetValid, ErrIssuer, ErrAudience, ErrMissingClaim, ErrLifetime}
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(context.Background(), tok, names)
		if err == nil {
			if !valid[tok] {
				t.Fatalf("accepted a token no test key signed: %q", tok)
			}
			if c.Consumer == "" || c.Provider == "" {
				t.Fatalf("accepted without consumer or provider: %+v", c)
			}
			return
		}
		n := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("error %v matches %d sentinels", err, n)
		}
	})
}

// FuzzMembers checks the JSON member scanner against encoding/json: every
// object it accepts without duplicates decodes, and it never panics.
func FuzzMembers(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":{"b":[1,"}"]},"c":"\"x"}`, `{"a":1,"a":2}`, `[]`, `{"a":"\ud800"}`, ` { "a" : [ ] , "b" : null } `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		seen := map[string]bool{}
		err := eachMember(b, func(n, v []byte) error {
			name := string(n)
			if seen[name] {
				t.Fatalf("duplicate %q passed", name)
			}
			seen[name] = true
			if !jsonValid(v) {
				t.Fatalf("member %q has invalid value %q", name, v)
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrMalformed) {
			t.Fatalf("unexpected error %v", err)
		}
	})
}

// FuzzParseJWKS feeds arbitrary bytes to the key file and key set parsers:
// no panic, and every key returned is usable by some algorithm.
func FuzzParseJWKS(f *testing.F) {
	k := fixtures(f)
	for _, pub := range []any{&k.rsa.PublicKey, &k.ec256.PublicKey, k.ed.Public()} {
		j, err := PublicJWK(pub, "kid", "")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(j)
		f.Add([]byte(`{"keys":[` + string(j) + `]}`))
	}
	f.Add([]byte(`{"kty":"oct","k":"` + b64.EncodeToString(k.secret) + `"}`))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}`))
	f.Add([]byte(`{"kty":"RSA","n":"AQAB","e":"AAAAAQ"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, allowOct := range []bool{false, true} {
			var keys []*key
			var err error
			if allowOct {
				keys, err = parseJWKJSON(b)
			} else {
				keys, err = parseJWKS(b, false)
			}
			if err != nil {
				continue
			}
			for _, kk := range keys {
				usable := false
				for _, a := range algorithms {
					usable = usable || kk.allows(a)
				}
				if !usable {
					t.Fatalf("key of type %v usable by no algorithm", kk.kty)
				}
				if kk.kty == ktyOct && !allowOct {
					t.Fatal("secret key from a fetched set")
				}
			}
		}
	})
}
