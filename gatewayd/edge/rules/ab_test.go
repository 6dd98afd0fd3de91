package rules

import (
	"errors"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// seededConfig is doc parsed, with a ChaCha8 random source seeded by seed.
func seededConfig(t *testing.T, doc string, seed uint64) *Engine {
	t.Helper()
	t.Logf("seed %d", seed)
	cfg, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	var key [32]byte
	for i := range 4 {
		key[i] = byte(seed >> (8 * i))
	}
	cfg.Random = rand.NewChaCha8(key)
	e, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const abDoc = `
ab:
  - name: checkout
    cookie: ab_checkout
    header: X-AB-Checkout
    max_age: 1h
    buckets: [{name: a, weight: 70}, {name: off, weight: 0}, {name: b, weight: 30}]
  - name: hero
    cookie: ab_hero
    buckets: [{name: old, weight: 1}, {name: new, weight: 1}]
`

func TestABNewVisitorAndSticky(t *testing.T) {
	e := seededConfig(t, abDoc, uint64(time.Now().UnixNano()))
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	r.Header.Set("X-AB-Checkout", "spoofed")
	w := httptest.NewRecorder()
	extra, done := e.Apply(w, r)
	if done {
		t.Fatal("answered")
	}
	cookies := (&http.Response{Header: w.Header()}).Cookies()
	if len(cookies) != 2 {
		t.Fatalf("Set-Cookie %q", w.Header().Values("Set-Cookie"))
	}
	c := cookies[0]
	if c.Name != "ab_checkout" || !validID(c.Value) || c.Path != "/" || c.MaxAge != 3600 || !c.Secure || c.SameSite != http.SameSiteLaxMode {
		t.Errorf("cookie %+v", c)
	}
	if cookies[1].Name != "ab_hero" || cookies[1].MaxAge != int(DefaultABMaxAge/time.Second) {
		t.Errorf("cookie %+v", cookies[1])
	}
	checkout, hero := r.Header.Get("X-AB-Checkout"), r.Header.Get("Cairn-AB-hero")
	if (checkout != "a" && checkout != "b") || (hero != "old" && hero != "new") {
		t.Fatalf("buckets %q %q", checkout, hero)
	}
	if want := "checkout=" + checkout + ";hero=" + hero; extra != want {
		t.Errorf("keyExtra %q, want %q", extra, want)
	}

	// The same cookies give the same buckets, with no new Set-Cookie, on
	// this engine and on another one (another edge node).
	other := seededConfig(t, abDoc, 99)
	for _, eng := range []*Engine{e, other} {
		for range 3 {
			r2 := httptest.NewRequest("GET", "/", nil)
			r2.AddCookie(cookies[0])
			r2.AddCookie(cookies[1])
			w2 := httptest.NewRecorder()
			extra2, _ := eng.Apply(w2, r2)
			if extra2 != extra || w2.Header().Get("Set-Cookie") != "" {
				t.Errorf("sticky: %q (Set-Cookie %q), want %q", extra2, w2.Header().Get("Set-Cookie"), extra)
			}
		}
	}

	// A malformed cookie is replaced.
	r3 := httptest.NewRequest("GET", "http://example.com/", nil)
	r3.AddCookie(&http.Cookie{Name: "ab_checkout", Value: "b"})
	w3 := httptest.NewRecorder()
	e.Apply(w3, r3)
	got := (&http.Response{Header: w3.Header()}).Cookies()
	if len(got) != 2 || got[0].Name != "ab_checkout" || !validID(got[0].Value) || got[0].Secure {
		t.Errorf("malformed cookie not replaced: %q", w3.Header().Values("Set-Cookie"))
	}
}

func TestABDistribution(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	e := seededConfig(t, abDoc, seed)
	const n = 20000
	counts := map[string]int{}
	for range n {
		r := httptest.NewRequest("GET", "/", nil)
		e.Apply(httptest.NewRecorder(), r)
		counts[r.Header.Get("X-AB-Checkout")]++
	}
	if counts["off"] != 0 {
		t.Errorf("weight-0 bucket chosen %d times", counts["off"])
	}
	// 70/30 split: the share of a is within 2 points (about 10 standard deviations).
	if share := float64(counts["a"]) / n; share < 0.68 || share > 0.72 {
		t.Errorf("share of a = %.3f, want about 0.70 (%v)", share, counts)
	}
}

func TestABBucketStableWhenWeightsChange(t *testing.T) {
	cfg := func(wa, wb int) *abTest {
		e, err := (&Config{AB: []ABTest{{Name: "t", Cookie: "c", Buckets: []Bucket{{"a", wa}, {"b", wb}}}}}).Compile()
		if err != nil {
			t.Fatal(err)
		}
		return &e.ab[0]
	}
	before, after := cfg(50, 50), cfg(60, 40)
	rng := rand.New(rand.NewPCG(1, 2))
	moved := 0
	for range 10000 {
		id := uint64hex(rng.Uint64()) + uint64hex(rng.Uint64())
		a, b := before.bucket(id), after.bucket(id)
		if a != b {
			if a != "b" || b != "a" {
				t.Fatalf("id %s moved %s → %s", id, a, b)
			}
			moved++
		}
	}
	// Only the 10% slice that changed owner moves.
	if moved < 800 || moved > 1200 {
		t.Errorf("%d of 10000 moved, want about 1000", moved)
	}
}

func uint64hex(x uint64) string {
	const hex = "0123456789abcdef"
	var b [16]byte
	for i := 15; i >= 0; i-- {
		b[i] = hex[x&15]
		x >>= 4
	}
	return string(b[:])
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("no entropy") }

func TestABRandomFails(t *testing.T) {
	cfg, err := Parse([]byte(abDoc))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Random = failingReader{}
	e, err := cfg.Compile()
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	extra, done := e.Apply(w, r)
	if done || extra != "checkout=a;hero=old" || w.Header().Get("Set-Cookie") != "" {
		t.Errorf("extra %q done %v Set-Cookie %q", extra, done, w.Header().Values("Set-Cookie"))
	}
}
