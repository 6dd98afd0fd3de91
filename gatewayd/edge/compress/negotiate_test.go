package compress

import (
	"strings"
	"testing"
)

func TestNegotiate(t *testing.T) {
	cases := []struct {
		ae, want string
	}{
		{"", ""},
		{"   ", ""},
		{"identity", ""},
		{"gzip", "gzip"},
		{"GZIP", "gzip"},
		{"x-gzip", "gzip"},
		{"deflate", ""},
		{"gzip, deflate, br", "br"},
		{"gzip, deflate, br, zstd", "br"},
		{"zstd, gzip", "zstd"},
		{"br;q=0.5, gzip", "gzip"},
		{"br;q=0.5, gzip;q=0.5", "br"},
		{"br;q=0.5, zstd;q=0.5, gzip;q=0.5", "br"},
		{"br;q=0.4, zstd;q=0.5, gzip;q=0.5", "zstd"},
		{"br;q=0, gzip", "gzip"},
		{"br;q=0.000, gzip;q=0.001", "gzip"},
		{"gzip;q=0", ""},
		{"*", "br"},
		{"*;q=0", ""},
		{"*;q=0, gzip", "gzip"},
		{"br;q=0, *", "zstd"},
		{"br;q=0, zstd;q=0, *;q=0.1", "gzip"},
		{"gzip;q=1.0", "gzip"},
		{"gzip;q=1.5", ""},     // malformed: ignored
		{"gzip;q=-1", ""},      // malformed
		{"gzip;q=abc", ""},     // malformed
		{"gzip;q=0.12345", ""}, // more than three decimals
		{"gzip;q=1e-1", ""},
		{"gzip ; q=0.8 , br ; q=0.9", "br"},
		{"gzip;Q=0.8, br;q=0.7", "gzip"},
		{"gzip;level=1", "gzip"}, // unknown parameter ignored
		{"br;q=0.9, br;q=0", "br"},
		{",,,gzip,,", "gzip"},
		{"gzip;", "gzip"},
		{";q=1", ""},
		{"identity;q=0", ""},
	}
	for _, c := range cases {
		if got := Negotiate(c.ae); got != c.want {
			t.Errorf("Negotiate(%q) = %q, want %q", c.ae, got, c.want)
		}
	}
}

func TestNegotiateRestrictedPreference(t *testing.T) {
	prefs := []string{Gzip, Brotli} // gzip first, no zstd
	for _, c := range []struct{ ae, want string }{
		{"br, gzip", "gzip"},
		{"br, gzip;q=0.5", "br"},
		{"zstd", ""},
		{"*", "gzip"},
	} {
		if got := negotiate(c.ae, prefs); got != c.want {
			t.Errorf("negotiate(%q, %v) = %q, want %q", c.ae, prefs, got, c.want)
		}
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "gzip", "br;q=0.5, gzip;q=0.6", "*;q=0", "a;b;c=d;q=", ";;;,,,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ae string) {
		got := Negotiate(ae)
		switch got {
		case "", Brotli, Zstd, Gzip:
		default:
			t.Fatalf("Negotiate(%q) = %q", ae, got)
		}
		if got != "" && !strings.Contains(strings.ToLower(ae), got[:1]) && !strings.Contains(ae, "*") {
			t.Fatalf("Negotiate(%q) = %q, which the header does not name", ae, got)
		}
	})
}

func TestCompressible(t *testing.T) {
	cases := []struct {
		ct   string
		size int64
		want bool
	}{
		{"text/html; charset=utf-8", 5000, true},
		{"text/plain", -1, true},
		{"text/css", DefaultMinSize, true},
		{"text/css", DefaultMinSize - 1, false},
		{"application/json", 2048, true},
		{"application/problem+json", 2048, true},
		{"application/atom+xml", 2048, true},
		{"application/javascript", 2048, true},
		{"image/svg+xml", 2048, true},
		{"application/wasm", 2048, true},
		{"font/ttf", 2048, true},
		{"TEXT/HTML", 2048, true},
		{"image/png", 2048, false},
		{"image/jpeg", 2048, false},
		{"image/webp", 2048, false},
		{"video/mp4", 2048, false},
		{"application/zip", 2048, false},
		{"application/gzip", 2048, false},
		{"font/woff2", 2048, false},
		{"application/octet-stream", 2048, false},
		{"", 2048, false},
		{"not a type;;", 2048, false},
	}
	for _, c := range cases {
		if got := Compressible(c.ct, c.size); got != c.want {
			t.Errorf("Compressible(%q, %d) = %v, want %v", c.ct, c.size, got, c.want)
		}
	}
}
