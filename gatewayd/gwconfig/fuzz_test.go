package gwconfig

import (
	"errors"
	"os"
	"reflect"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must
// return exactly one of a document or an error matching ErrInvalid whose
// every entry has a message, and a document it accepts must round-trip
// through Marshal.
func FuzzParse(f *testing.F) {
	full, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		f.Fatal(err)
	}
	invalid, err := os.ReadFile("testdata/invalid.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(full), string(invalid), baseYAML, "", "version: 1", "routes: [{name: a}]", "a: &a [*a]",
		"routes:\n  - {name: r, upstream: u, match: {paths: [{pattern: /a/{b...}}]}}\nupstreams: [{name: u, service: s}]",
		"upstreams: [{name: u, service: s, retries: {attempts: 0}}]",
		"routes: [{fallback: {}, match: {hosts: ['*.a.b']}}]",
		"jwt_providers: [{name: p, issuer: i, algorithms: [HS256], keys: [{secret: MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=}]}]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		d, err := Parse(src)
		if (d == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v: want exactly one", d, err)
		}
		if err != nil {
			var es Errors
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty Errors", err, err)
			}
			for _, e := range es {
				if e.Message == "" {
					t.Fatalf("empty message in %v", err)
				}
			}
			return
		}
		out, err := d.Marshal()
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		d2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(d)): %v\n%s", err, out)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("round trip changed the document:\n%s", out)
		}
	})
}
