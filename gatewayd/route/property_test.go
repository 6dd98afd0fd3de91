package route

import (
	"math/rand/v2"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"testing"
	"time"

	"cairn.dev/cairn/gatewayd/gwconfig"
)

// TestMatchAgainstReference runs random route tables and requests through
// Match and the brute-force reference of fuzz_test.go. The seed is logged;
// rerun one with ROUTE_SEED=<seed>.
func TestMatchAgainstReference(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("ROUTE_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("seed %d (ROUTE_SEED=%d to replay)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	reqPaths := append([]string{"/a/b/c/d", "/users/7", "/users/7/x/y", "/a/x/c", "//a/./b/", "/a/%62", "/users/", "/zzz", "/a/b/../c"}, fuzzPaths...)
	reqHosts := []string{"", "api.example.com", "x.api.example.com", "www.example.com:8080", "EXAMPLE.com", "other.test.", "nope"}
	methods := append([]string{"HEAD", "PATCH"}, fuzzMeths...)
	for i := 0; i < 2000; i++ {
		spec := make([]byte, 4*(1+rng.IntN(12)))
		for j := range spec {
			spec[j] = byte(rng.IntN(256))
		}
		routes := fuzzRoutes(spec)
		r, err := New(routes)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		for k := 0; k < 20; k++ {
			host := reqHosts[rng.IntN(len(reqHosts))]
			method := methods[rng.IntN(len(methods))]
			path := reqPaths[rng.IntN(len(reqPaths))]
			h := http.Header{}
			if rng.IntN(2) == 0 {
				h.Set("X-A", "1")
			}
			if rng.IntN(3) == 0 {
				h.Set("X-B", "x")
			}
			got, want := r.Match(host, method, path, h), referenceMatch(routes, host, method, path, h)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d, table %d: routes %+v\n%s %s%s %v:\nMatch     %+v\nreference %+v", seed, i, routes, method, host, path, h, got, want)
			}
		}
	}
}

// TestFullExampleRoutes builds a router from gwconfig's full example
// document and routes requests the way the gateway would.
func TestFullExampleRoutes(t *testing.T) {
	src, err := os.ReadFile("../gwconfig/testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := gwconfig.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(doc.Routes)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []req{
		{host: "api.example.com", method: "POST", path: "/v1/kv/range",
			hdr: http.Header{"X-Tenant": {"a"}, "Accept": {"application/json"}}, want: "kv"},
		{host: "eu.api.example.com", method: "HEAD", path: "/v1/kv",
			hdr: http.Header{"X-Tenant": {"a"}, "Accept": {"application/json"}}, want: "kv"},
		{host: "api.example.com", method: "DELETE", path: "/v1/kv/x",
			hdr: http.Header{"X-Tenant": {"a"}, "Accept": {"application/json"}}, allow: []string{"GET", "HEAD", "POST"}},
		{host: "api.example.com", method: "POST", path: "/v1/kv/range",
			hdr: http.Header{"X-Tenant": {"a"}, "X-Debug": {"1"}, "Accept": {"application/json"}}, want: ""},
		{path: "/users/7/files/a/b", want: "users", params: map[string]string{"id": "7", "path": "a/b"}},
		{path: "/people/7/x", want: "users", params: map[string]string{"id": "7", "path": "x"}},
		{path: "/status", want: "maintenance"},
		{path: "/status/", want: ""},
	} {
		checkMatch(t, r, doc.Routes, q)
	}
	res := r.Match("", "GET", "/users/7/files/a/b", nil)
	if got := Rewrite(doc.Routes[res.Route].Rewrite, "/users/7/files/a/b", res.Params); got != "/v2/users/7/a/b" {
		t.Errorf("rewrite = %q", got)
	}
	if got := Rewrite(doc.Routes[0].Rewrite, "/v1/kv/range", nil); got != "/range" {
		t.Errorf("strip = %q", got)
	}
}
