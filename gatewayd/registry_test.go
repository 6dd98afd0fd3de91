package gatewayd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"cairn.dev/cairn/cached/cachedtest"
	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/node/pki"
	"cairn.dev/cairn/node/registry"
	"cairn.dev/cairn/node/rpcerr"
	gatewaydv1 "cairn.dev/cairn/proto/cairn/gatewayd/v1"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
	"cairn.dev/cairn/raftkv/raftkvtest"
)

// registryDoc routes /v1/kv/ onto raftkv's KVService (transcoding) behind
// the cluster issuer's tokens and API keys, with a global limit per
// consumer.
const registryDoc = `version: 1
upstreams:
  - name: raftkv
    service: raftkv
    protocol: grpc
jwt_providers:
  - name: cairn
    issuer: cairn-gateway
    audiences: [cairn-api]
    algorithms: [EdDSA]
    cluster_issuer: true
consumers:
  - name: demo
    scopes: [kv.read]
routes:
  - name: kv
    match:
      paths: [{prefix: /v1/kv}]
      methods: [POST]
    upstream: raftkv
    transcode: {service: cairn.raftkv.v1.KVService}
    auth: {jwt: [cairn], api_key: true}
    authorize: {scopes: [kv.read]}
    rate_limits:
      - {by: consumer, limit: 5, per: 1m, scope: global}
`

// startRegistryGateways runs n gateway nodes sharing one raftkv and one
// cached, with a token key.
func startRegistryGateways(t *testing.T, n int) []*testGateway {
	t.Helper()
	kv := raftkvtest.Start(t)
	cache := cachedtest.Start(t, 1)
	keyFile, err := pki.EnsureTokenKey(filepath.Join(t.TempDir(), "tls"))
	require.NoError(t, err)
	var gs []*testGateway
	for i := 1; i <= n; i++ {
		gs = append(gs, startGateway(t, func(c *Config) {
			c.ID = fmt.Sprintf("gw-%d", i)
			c.Registry = kv
			c.CacheEndpoints = strings.Join(cache, ",")
			c.IssuerKeyFile = keyFile
			c.GatewayNodes = n
		}))
	}
	for _, g := range gs {
		nodetest.WaitFor(t, 10*time.Second, "cached connected", func() bool { return g.srv.cache.Load() != nil })
	}
	return gs
}

func TestRegistryConfigKeysTokensTranscoding(t *testing.T) {
	gs := startRegistryGateways(t, 2)
	ctx := context.Background()
	a, b := gs[0], gs[1]

	// An invalid document is refused whole, naming the path.
	_, err := a.srv.ApplyConfig(ctx, []byte(strings.Replace(registryDoc, "per: 1m", "per: 1x", 1)), 0, false)
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.Contains(t, err.Error(), "rate_limits[0].per")
	st := rpcerr.ToStatus(err, rules)
	info, ok := rpcerr.FromError(st)
	require.True(t, ok)
	require.Equal(t, rpcerr.InvalidConfig, info.Reason)

	resp, err := a.srv.ApplyConfig(ctx, []byte(registryDoc), 0, false)
	require.NoError(t, err)
	v := resp.GetVersion()
	for _, g := range gs {
		nodetest.WaitFor(t, 10*time.Second, "config applied", func() bool { return g.srv.ConfigVersion() == v })
	}
	_, err = a.srv.ApplyConfig(ctx, []byte(registryDoc), v-1, false)
	require.ErrorIs(t, err, ErrConfigConflict)

	// No credentials: 401 on every node.
	r, body := b.do(t, "POST", "/v1/kv/range", `{"key":"Zw=="}`, nil)
	require.Equal(t, 401, r.StatusCode, body)

	tok, _, err := a.srv.IssueToken("demo", "", nil, nil, nil)
	require.NoError(t, err)
	_, _, err = a.srv.IssueToken("nobody", "", nil, nil, nil)
	require.ErrorIs(t, err, ErrConsumerNotFound)
	auth := map[string]string{"Authorization": "Bearer " + tok}

	// Put then range through the gateway, with a token verified on the other node.
	r, body = b.do(t, "POST", "/v1/kv/put", `{"key":"Zw==","value":"aGVsbG8="}`, auth)
	require.Equal(t, 200, r.StatusCode, body)
	r, body = a.do(t, "POST", "/v1/kv/range", `{"key":"Zw=="}`, auth)
	require.Equal(t, 200, r.StatusCode, body)
	var rng struct {
		Kvs []struct{ Key, Value string }
	}
	require.NoError(t, json.Unmarshal([]byte(body), &rng), body)
	require.Len(t, rng.Kvs, 1)
	require.Equal(t, "aGVsbG8=", rng.Kvs[0].Value)

	// An API key made through one node authenticates on the other; deleted, it stops.
	k, secret, err := a.srv.keys.Create(ctx, "demo", 0)
	require.NoError(t, err)
	keyHdr := map[string]string{"X-Api-Key": secret}
	nodetest.WaitFor(t, 10*time.Second, "key visible", func() bool {
		r, _ := b.do(t, "POST", "/v1/kv/range", `{"key":"Zw=="}`, keyHdr)
		return r.StatusCode == 200
	})
	require.NoError(t, b.srv.keys.Delete(ctx, k.ID))
	nodetest.WaitFor(t, 10*time.Second, "key revoked", func() bool {
		r, _ := a.do(t, "POST", "/v1/kv/range", `{"key":"Zw=="}`, keyHdr)
		return r.StatusCode == 401
	})

	// The global limit (5 a minute for demo) is shared by both nodes: some
	// requests above were admitted already; from here at most what is left
	// passes, whichever node answers.
	admitted := 0
	for i := 0; i < 10; i++ {
		g := gs[i%2]
		r, _ := g.do(t, "POST", "/v1/kv/range", `{"key":"Zw=="}`, auth)
		if r.StatusCode != 429 {
			admitted++
		} else {
			require.NotEmpty(t, r.Header.Get("Retry-After"))
		}
	}
	require.LessOrEqual(t, admitted, 5, "a global limit of 5 shared by two nodes")

	// The admin service reads what the node serves.
	svc := &adminService{s: b.srv}
	cfg, err := svc.GetConfig(ctx, &gatewaydv1.GetConfigRequest{})
	require.NoError(t, err)
	require.Equal(t, v, cfg.GetVersion())
	require.Equal(t, "raftkv", cfg.GetSource())
	routes, err := svc.ListRoutes(ctx, &gatewaydv1.ListRoutesRequest{})
	require.NoError(t, err)
	require.Equal(t, []string{"auth", "authorize", "rate_limit", "transcode"}, routes.GetRoutes()[0].GetPlugins())
	stats, err := svc.GetStats(ctx, &gatewaydv1.GetStatsRequest{})
	require.NoError(t, err)
	require.NotEmpty(t, stats.GetRoutes())
}

func TestIssueTokenNeedsKey(t *testing.T) {
	up := startUpstream(t, nil)
	g := startFileGateway(t, authDoc(up.addr()), nil)
	_, _, err := g.srv.IssueToken("alice", "", nil, nil, nil)
	require.True(t, errors.Is(err, ErrNoIssuerKey), "%v", err)
}

// An upstream named by service follows the raftkv registry: an instance
// that registers receives traffic with no configuration change, one that
// deregisters stops receiving it, and with none the route answers 503.
func TestServiceDiscovery(t *testing.T) {
	kvAddr := raftkvtest.Start(t)
	g := startGateway(t, func(c *Config) { c.Registry = kvAddr })
	a := startUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "a") })
	b := startUpstream(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "b") })
	doc := `version: 1
upstreams:
  - name: orders
    service: orders
routes:
  - name: orders
    match: {paths: [{prefix: /orders}]}
    upstream: orders
`
	ctx := context.Background()
	_, err := g.srv.ApplyConfig(ctx, []byte(doc), 0, false)
	require.NoError(t, err)
	nodetest.WaitFor(t, 10*time.Second, "config applied", func() bool { return g.srv.ConfigVersion() > 0 })
	resp, _ := g.do(t, "GET", "/orders", "", nil)
	require.Equal(t, 503, resp.StatusCode, "no instance registered yet")

	kv, err := kvclient.New(kvclient.Config{Endpoints: []string{kvAddr}})
	require.NoError(t, err)
	defer kv.Close()
	deregA, err := registry.Register(ctx, kv, DefaultServicesPrefix, "orders", "a", a.addr(), 1, 5*time.Second)
	require.NoError(t, err)
	nodetest.WaitFor(t, 10*time.Second, "instance a serves", func() bool {
		_, body := g.do(t, "GET", "/orders", "", nil)
		return body == "a"
	})
	deregB, err := registry.Register(ctx, kv, DefaultServicesPrefix, "orders", "b", b.addr(), 1, 5*time.Second)
	require.NoError(t, err)
	defer deregB()
	nodetest.WaitFor(t, 10*time.Second, "instance b serves too", func() bool {
		_, body := g.do(t, "GET", "/orders", "", nil)
		return body == "b"
	})
	deregA()
	nodetest.WaitFor(t, 10*time.Second, "instance a gone", func() bool {
		for i := 0; i < 6; i++ {
			if _, body := g.do(t, "GET", "/orders", "", nil); body != "b" {
				return false
			}
		}
		return true
	})
}

// gRPC passes through the gateway untouched (HTTP/2 with trailers): a
// grpc-go client calls raftkv through an h2c gateway route.
func TestGRPCPassThrough(t *testing.T) {
	kvAddr := raftkvtest.Start(t)
	doc := fmt.Sprintf(`version: 1
upstreams:
  - name: raftkv
    targets: [{address: %q}]
    protocol: h2c
routes:
  - name: grpc
    match: {paths: [{prefix: /cairn.raftkv.v1.KVService}]}
    upstream: raftkv
`, kvAddr)
	g := startFileGateway(t, doc, func(c *Config) { c.H2C = true })
	conn, err := grpc.NewClient(strings.TrimPrefix(g.base, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	kv := raftkvv1.NewKVServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = kv.Put(ctx, &raftkvv1.PutRequest{Key: []byte("k"), Value: []byte("v")})
	require.NoError(t, err)
	got, err := kv.Range(ctx, &raftkvv1.RangeRequest{Key: []byte("k")})
	require.NoError(t, err)
	require.Len(t, got.GetKvs(), 1)
	require.Equal(t, "v", string(got.GetKvs()[0].GetValue()))
	// A gRPC error status (in the trailers) reaches the client intact.
	_, err = kv.Range(ctx, &raftkvv1.RangeRequest{})
	info, ok := rpcerr.FromError(err)
	require.True(t, ok, "%v", err)
	require.Equal(t, rpcerr.InvalidArgument, info.Reason)
}
