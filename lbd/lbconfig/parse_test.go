package lbconfig

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const valid = `
frontends:
  - name: web
    mode: http
    listen: 127.0.0.100:8080
    routes:
      - {host: api.example.com, path_prefix: /api, pool: api}
    default_pool: web
  - name: raw
    mode: tcp
    listen: 127.0.0.100:9000
    pool: web
    proxy_protocol: 2
pools:
  - name: web
    algorithm: least_time
    backends:
      - {name: web-1, address: 127.0.0.1:9001, weight: 2}
      - {name: web-2, address: 127.0.0.1:9002}
    health: {type: http, path: /healthz}
    slow_start: 10s
  - name: api
    algorithm: ring_hash
    hash_on: "header:X-User"
    service: api
`

func TestParseAppliesDefaults(t *testing.T) {
	d, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	web := d.Pools[0]
	if web.Backends[1].Weight != 1 || web.DrainTimeout != DefaultDrainTimeout || web.Retries != DefaultRetries {
		t.Errorf("pool defaults not applied: %+v", web)
	}
	if h := web.Health; h.Expect != "200-399" || h.Method != "GET" || h.Interval != 2*time.Second || h.Timeout != time.Second || h.Rise != 2 || h.Fall != 3 {
		t.Errorf("health defaults: %+v", h)
	}
	if d.Frontends[0].Pool != "web" || d.Frontends[0].TLS != "none" || d.Frontends[0].MaxConns != DefaultMaxConns {
		t.Errorf("frontend defaults: %+v", d.Frontends[0])
	}
	if d.Pools[1].Health.Type != CheckTCP || d.Pools[1].Outlier.ConsecutiveFailures != 5 {
		t.Errorf("api pool defaults: %+v", d.Pools[1])
	}
}

func TestParseNamesEveryProblem(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []string // substrings of the error, each on the path it names
	}{
		{"unknown key", "pools:\n  - name: a\n    backends: [{name: b, address: '1.2.3.4:5'}]\n    algoritm: p2c\n", []string{"pools[0]", "algoritm"}},
		{"bad algorithm", "pools:\n  - {name: a, algorithm: fastest, backends: [{name: b, address: '1.2.3.4:5'}]}\n", []string{"pools[0].algorithm"}},
		{"no members", "pools:\n  - {name: a}\n", []string{"pools[0].backends: a pool needs backends or a service"}},
		{"bad weight", "pools:\n  - {name: a, backends: [{name: b, address: '1.2.3.4:5', weight: 5000}]}\n", []string{"pools[0].backends[0].weight: 5000 is outside 1..1000"}},
		{"bad address", "pools:\n  - {name: a, backends: [{name: b, address: nowhere}]}\n", []string{"pools[0].backends[0].address"}},
		{"duplicate backend", "pools:\n  - {name: a, backends: [{name: b, address: '1.2.3.4:5'}, {name: b, address: '1.2.3.4:6'}]}\n", []string{"listed twice"}},
		{"rise out of range", "pools:\n  - {name: a, service: s, health: {rise: 0, fall: 500}}\n", []string{"pools[0].health.fall: 500 is outside 1..100"}},
		{"timeout over interval", "pools:\n  - {name: a, service: s, health: {interval: 1s, timeout: 2s}}\n", []string{"pools[0].health.timeout"}},
		{"http fields on tcp check", "pools:\n  - {name: a, service: s, health: {type: tcp, path: /x}}\n", []string{"pools[0].health.path: only http checks"}},
		{"hash_on without hashing", "pools:\n  - {name: a, service: s, hash_on: 'cookie:sid'}\n", []string{"pools[0].hash_on"}},
		{"frontend unknown pool", "frontends:\n  - {name: f, mode: tcp, listen: '127.0.0.1:1', pool: nope}\npools:\n  - {name: a, service: s}\n", []string{"frontends[0].pool: no pool is named \"nope\""}},
		{"frontend bad mode", "frontends:\n  - {name: f, mode: quic, listen: '127.0.0.1:1', pool: a}\npools:\n  - {name: a, service: s}\n", []string{"frontends[0].mode"}},
		{"routes on tcp", "frontends:\n  - {name: f, mode: tcp, listen: '127.0.0.1:1', pool: a, routes: [{pool: a}]}\npools:\n  - {name: a, service: s}\n", []string{"frontends[0].routes: only http"}},
		{"proxy protocol on http", "frontends:\n  - {name: f, mode: http, listen: '127.0.0.1:1', pool: a, proxy_protocol: 1}\npools:\n  - {name: a, service: s}\n", []string{"frontends[0].proxy_protocol"}},
		{"same address twice", "frontends:\n  - {name: f, mode: tcp, listen: '127.0.0.1:1', pool: a}\n  - {name: g, mode: http, listen: '127.0.0.1:1', pool: a}\npools:\n  - {name: a, service: s}\n", []string{"frontends[1].listen"}},
		{"route prefix", "frontends:\n  - {name: f, mode: http, listen: '127.0.0.1:1', routes: [{path_prefix: api, pool: a}]}\npools:\n  - {name: a, service: s}\n", []string{"frontends[0].routes[0].path_prefix"}},
		{"two documents", "pools: []\n---\npools: []\n", []string{"more than one YAML document"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not match ErrInvalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseReportsLines(t *testing.T) {
	_, err := Parse([]byte("pools:\n  - name: a\n    service: s\n    retries: 50\n"))
	if err == nil || !strings.Contains(err.Error(), "(line 4)") {
		t.Fatalf("error %v does not name line 4", err)
	}
}

func TestParseRefusesOversizeDocument(t *testing.T) {
	_, err := Parse(make([]byte, MaxDocumentBytes+1))
	if err == nil || !strings.Contains(err.Error(), "the limit is") {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("pools: [{name: a, service: s}]"))
	f.Fuzz(func(t *testing.T, doc []byte) {
		d, err := Parse(doc)
		if err == nil {
			if verr := d.Validate(); verr != nil {
				t.Fatalf("Parse accepted a document Validate refuses: %v", verr)
			}
		}
	})
}
