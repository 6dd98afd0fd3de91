package gwconfig

import (
	"os"
	"reflect"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestFullExample parses testdata/full.yaml, which sets every field, and
// checks one value of each part, defaults included.
func TestFullExample(t *testing.T) {
	src, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Parse(src)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	kv, users, canary := d.Upstreams[0], d.Upstreams[1], d.Upstreams[2]
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", d.Version, 1},
		{"kv service", kv.Service, "raftkv"},
		{"kv tls cluster", kv.TLS.Cluster, true},
		{"kv idle", kv.Timeouts.Idle, 2 * time.Minute},
		{"kv retries", kv.Retries.Attempts, 2},
		{"kv retry on", len(kv.Retries.On), 4},
		{"kv breaker consecutive 0 kept", kv.CircuitBreaker.ConsecutiveFailures, 0},
		{"kv breaker rate", kv.CircuitBreaker.ErrorRate, 0.25},
		{"kv outlier pct", kv.Outlier.MaxEjectedPercent, 34},
		{"users weight", users.Targets[0].Weight, 3},
		{"users default weight", users.Targets[1].Weight, 1},
		{"users key file", users.TLS.KeyFile, "/etc/cairn/client-key.pem"},
		{"users default retries", users.Retries.Attempts, DefaultRetryAttempts},
		{"users default retry on", users.Retries.On, []string{"connect_failure"}},
		{"users default connect", users.Timeouts.Connect, DefaultConnectTimeout},
		{"canary explicit 0 attempts", canary.Retries.Attempts, 0},
		{"canary default balance", canary.Balance, "round_robin"},
		{"corp kid", d.JWTProviders[0].Keys[1].ID, "k2"},
		{"corp leeway", d.JWTProviders[0].Leeway, time.Minute},
		{"corp claim", d.JWTProviders[0].ConsumerClaim, "client_id"},
		{"cluster leeway 0 kept", d.JWTProviders[1].Leeway, time.Duration(0)},
		{"cluster default refresh", d.JWTProviders[1].JWKSRefresh, DefaultJWKSRefresh},
		{"shared default leeway", d.JWTProviders[2].Leeway, DefaultLeeway},
		{"shared default claim", d.JWTProviders[2].ConsumerClaim, "sub"},
		{"consumer scopes", d.Consumers[0].Scopes, []string{"kv.read", "kv.write"}},
		{"kv route header", d.Routes[0].Match.Headers[2].Value, "application/json"},
		{"kv route transcode", d.Routes[0].Transcode.Service, "cairn.raftkv.v1.KVService"},
		{"kv route burst", d.Routes[0].RateLimits[0].Burst, int64(20)},
		{"kv route default burst", d.Routes[0].RateLimits[1].Burst, int64(10)},
		{"kv route max body", d.Routes[0].MaxBody, MiB},
		{"users split", d.Routes[1].Split[1].Weight, 5},
		{"users rewrite", d.Routes[1].Rewrite.Path, "/v2/users/{id}/{path}"},
		{"users json add", d.Routes[1].Request.JSON.Add["meta.tags"], []any{"a", "b"}},
		{"users query rename", d.Routes[1].Request.Query.Rename["q"], "query"},
		{"users cache max", d.Routes[1].Cache.MaxBody, 512 * KiB},
		{"users max body", d.Routes[1].MaxBody, 2 * MiB},
		{"users cors", d.Routes[1].Headers["Access-Control-Allow-Origin"], "*"},
		{"maintenance default status", d.Routes[2].Fallback.Status, 503},
		{"maintenance default max body", d.Routes[2].MaxBody, DefaultRouteMaxBody},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
}

// TestFullExampleSetsEveryField walks testdata/full.yaml beside the
// document types and fails for any field of any type that the file never
// sets, so the example keeps up when fields are added.
func TestFullExampleSetsEveryField(t *testing.T) {
	src, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{} // "Type.yaml_name"
	var walk func(n *yaml.Node, typ reflect.Type)
	walk = func(n *yaml.Node, typ reflect.Type) {
		for n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			if typ == reflect.TypeOf(map[string]any{}) {
				return
			}
			switch n.Kind {
			case yaml.SequenceNode:
				for _, c := range n.Content {
					walk(c, typ.Elem())
				}
			case yaml.MappingNode:
				if typ.Kind() == reflect.Map {
					for i := 1; i < len(n.Content); i += 2 {
						walk(n.Content[i], typ.Elem())
					}
					return
				}
				walk(n, typ.Elem())
			}
		case reflect.Struct:
			if typ == durationType {
				return
			}
			fs := structFields(typ)
			for i := 0; i+1 < len(n.Content); i += 2 {
				name := n.Content[i].Value
				seen[typ.Name()+"."+name] = true
				walk(n.Content[i+1], typ.Field(fs.index[name]).Type)
			}
		}
	}
	walk(root.Content[0], reflect.TypeOf(Document{}))

	visited := map[reflect.Type]bool{}
	var check func(typ reflect.Type)
	check = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || visited[typ] {
			return
		}
		visited[typ] = true
		fs := structFields(typ)
		for _, name := range fs.names {
			if !seen[typ.Name()+"."+name] {
				t.Errorf("testdata/full.yaml never sets %s.%s", typ.Name(), name)
			}
			check(typ.Field(fs.index[name]).Type)
		}
	}
	check(reflect.TypeOf(Document{}))
}
