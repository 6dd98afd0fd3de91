package gwconfig

import (
	"bytes"
	"os"
	"reflect"
	"testing"
	"time"
)

// TestMarshalRoundTrip checks Parse(Marshal(d)) == d for the full example
// and that a second Marshal is byte-identical.
func TestMarshalRoundTrip(t *testing.T) {
	src, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range [][]byte{src, []byte(baseYAML), nil} {
		d1, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := d1.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		d2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal): %v\n%s", err, out)
		}
		if !reflect.DeepEqual(d1, d2) {
			t.Errorf("round trip changed the document:\n%+v\n%+v\n%s", d1, d2, out)
		}
		again, err := d2.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, again) {
			t.Errorf("Marshal is not stable:\n%s\n---\n%s", out, again)
		}
	}
}

// TestMarshalKeepsMeaningfulZeros checks that zeros that differ from their
// defaults survive, and that strings that look like numbers stay strings.
func TestMarshalKeepsMeaningfulZeros(t *testing.T) {
	d, err := Parse([]byte(`
upstreams:
  - name: u
    targets: [{address: "127.0.0.1:1"}]
    retries: {attempts: 0, on: ["503"]}
    circuit_breaker: {consecutive_failures: 0}
jwt_providers:
  - {name: p, issuer: "123", algorithms: [EdDSA], cluster_issuer: true, leeway: 0s}
`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	d2, err := Parse(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	u, p := d2.Upstreams[0], d2.JWTProviders[0]
	if u.Retries.Attempts != 0 || u.CircuitBreaker.ConsecutiveFailures != 0 || p.Leeway != 0 || p.Issuer != "123" || u.Retries.On[0] != "503" {
		t.Errorf("zeros or strings lost:\n%s", out)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", time.Second: "1s", 2 * time.Minute: "2m", 24 * time.Hour: "24h", 90 * time.Second: "1m30s",
		time.Hour + time.Second: "1h0m1s", time.Hour + time.Minute: "1h1m", 500 * time.Millisecond: "500ms", -time.Minute: "-1m",
	} {
		got := formatDuration(d)
		if got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := time.ParseDuration(got); err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, %v", got, back, err)
		}
	}
}
