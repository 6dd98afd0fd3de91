package edge_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"cairn.dev/cairn/blobd/blobdtest"
	blobdclient "cairn.dev/cairn/blobd/client"
	"cairn.dev/cairn/gatewayd/edge"
	"cairn.dev/cairn/node"
	"cairn.dev/cairn/node/nodetest"
	blobdv1 "cairn.dev/cairn/proto/cairn/blobd/v1"
	edgev1 "cairn.dev/cairn/proto/cairn/edge/v1"
	"cairn.dev/cairn/raftkv/raftkvtest"
)

// freeAddr returns host:port free on host now.
func freeAddr(t *testing.T, host string) string {
	t.Helper()
	ln, err := net.Listen("tcp", host+":0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// testEdges starts n edges on 127.0.<i>.1 with blobd as their origin, raftkv
// for purges, each other as shields, and a DNS server on the first.
func testEdges(t *testing.T, n int, registry string, blobd []string) []*edge.Server {
	t.Helper()
	return startEdges(t, n, registry, func(st *edge.Settings) {
		st.Origin, st.BlobdEndpoints = edge.OriginBlobd, strings.Join(blobd, ",")
	})
}

// testEdgesWithOrigin is testEdges with an HTTP origin.
func testEdgesWithOrigin(t *testing.T, n int, registry, origin string) []*edge.Server {
	t.Helper()
	return startEdges(t, n, registry, func(st *edge.Settings) { st.Origin = origin })
}

func startEdges(t *testing.T, n int, registry string, setOrigin func(*edge.Settings)) []*edge.Server {
	t.Helper()
	addrs := make([]string, n)
	var shields, regions []string
	for i := range addrs {
		addrs[i] = freeAddr(t, "127.0."+strconv.Itoa(i+1)+".1")
		shields = append(shields, "edge-"+strconv.Itoa(i+1)+"="+addrs[i])
		host, _, _ := net.SplitHostPort(addrs[i])
		regions = append(regions, []string{"tokyo", "frankfurt", "virginia"}[i]+"=127.0."+strconv.Itoa(i+1)+".0/24@"+host)
	}
	var out []*edge.Server
	for i := range addrs {
		srv := node.DefaultServerConfig()
		srv.GRPCAddr, srv.AdminAddr, srv.Insecure, srv.ShutdownTimeout = "127.0.0.1:0", "", true, 2*time.Second
		st := edge.DefaultSettings()
		setOrigin(&st)
		st.Region = []string{"tokyo", "frankfurt", "virginia"}[i]
		st.Shields = strings.Join(shields, ",")
		st.CacheMemory = 16 << 20
		st.CacheDir, st.CacheDisk = t.TempDir(), 64<<20
		if i == 0 {
			st.DNSAddr, st.DNSRegions = "127.0.0.1:0", strings.Join(regions, ";")
		}
		cfg := edge.Config{
			ID: "edge-" + strconv.Itoa(i+1), Server: srv, HTTPAddr: addrs[i], Registry: registry,
			ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 32 << 10,
			Settings: st,
		}
		e, err := edge.New(cfg, nodetest.Logger(t).With("test_node", cfg.ID))
		require.NoError(t, err)
		nodetest.Serve(t, cfg.ID, e)
		out = append(out, e)
	}
	return out
}

func get(t *testing.T, addr, path string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func adminClient(t *testing.T, e *edge.Server) edgev1.EdgeServiceClient {
	t.Helper()
	conn, err := grpc.NewClient("passthrough:///"+e.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return edgev1.NewEdgeServiceClient(conn)
}

// The walk-through in-process: an object put into blobd with
// Cache-Control and Surrogate-Key is a MISS then a HIT through any edge,
// the origin sees one request for it whichever edges are asked (the shield
// tier), a purge by tag through one edge reaches every edge before it is
// acknowledged, and the DNS server answers each region with its edge.
func TestEdgeEndToEnd(t *testing.T) {
	kv := raftkvtest.Start(t)
	bc := blobdtest.New(t, 3, nil)
	bc.WaitLeader()
	edges := testEdges(t, 3, kv, bc.Endpoints())

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := blobdclient.New(blobdclient.Config{Endpoints: bc.Endpoints()})
	require.NoError(t, err)
	defer c.Close()
	_, err = c.CreateBucket(ctx, "assets")
	require.NoError(t, err)
	body := []byte("the logo's bytes")
	_, err = c.Put(ctx, "assets", "logo.png", bytes.NewReader(body), int64(len(body)), blobdclient.WithHeaders(&blobdv1.ObjectHeaders{
		ContentType: "image/png", CacheControl: "public, max-age=60, s-maxage=600",
		UserMetadata: map[string]string{"surrogate-key": "logo brand"},
	}))
	require.NoError(t, err)

	resp, got := get(t, edges[1].HTTPAddr(), "/assets/logo.png")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, string(body), got)
	require.Equal(t, "image/png", resp.Header.Get("Content-Type"))
	require.Contains(t, resp.Header.Get("X-Cache"), "MISS")
	require.Empty(t, resp.Header.Get("Surrogate-Key"), "tags are edge-only")

	resp, got = get(t, edges[1].HTTPAddr(), "/assets/logo.png")
	require.Equal(t, string(body), got)
	require.Contains(t, resp.Header.Get("X-Cache"), "HIT")
	require.NotEmpty(t, resp.Header.Get("Age"))

	for _, e := range edges {
		resp, got = get(t, e.HTTPAddr(), "/assets/logo.png")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, string(body), got)
	}
	var origin int64
	for _, e := range edges {
		origin += e.Stats().GetOriginFetches()
	}
	require.Equal(t, int64(1), origin, "the shield tier asks the origin once per object")

	// Purge by tag through one edge: every edge applied it when it returns.
	pr, err := adminClient(t, edges[2]).PurgeAll(ctx, &edgev1.PurgeAllRequest{Spec: &edgev1.PurgeSpec{Tag: "logo"}})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"edge-1", "edge-2", "edge-3"}, pr.GetApplied())
	require.Empty(t, pr.GetPending())
	for _, e := range edges {
		resp, _ = get(t, e.HTTPAddr(), "/assets/logo.png")
		require.NotContains(t, resp.Header.Get("X-Cache"), "HIT", "%s served a purged object from cache", e.ID())
	}

	// Inspect shows the variant again after the refetch.
	ir, err := adminClient(t, edges[1]).Inspect(ctx, &edgev1.InspectRequest{Url: "/assets/logo.png"})
	require.NoError(t, err)
	require.NotEmpty(t, ir.GetVariants())
	require.ElementsMatch(t, []string{"logo", "brand"}, ir.GetVariants()[0].GetTags())

	// A missing object is a 404 (and the origin's answer, not a crash).
	resp, _ = get(t, edges[0].HTTPAddr(), "/assets/nope.png")
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	// Nearest edge: a client in 127.0.2.0/24 is sent to frankfurt's edge.
	dc := &dns.Client{Net: "udp", Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.2.1")}}}
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(edge.DefaultZone), dns.TypeA)
	in, _, err := dc.Exchange(m, edges[0].DNSAddr())
	require.NoError(t, err)
	require.Len(t, in.Answer, 1)
	host, _, _ := net.SplitHostPort(edges[1].HTTPAddr())
	require.Equal(t, host, in.Answer[0].(*dns.A).A.String())
}

// Regression (edge chaos): between two edges applying the same purge, the
// shield owner could hand the edge that already applied it the purged
// version, which that edge then kept after the purge was acknowledged. A
// hop now says which purge the asking edge applied last; an owner behind it
// revalidates with the origin instead of answering from its cache.
func TestShieldOwnerBehindOnPurgesRevalidates(t *testing.T) {
	kv := raftkvtest.Start(t)
	var version atomic.Int64
	version.Store(1)
	org := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := strconv.FormatInt(version.Load(), 10)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("ETag", `"v`+v+`"`)
		if r.Header.Get("If-None-Match") == `"v`+v+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "version "+v)
	}))
	defer org.Close()
	edges := testEdgesWithOrigin(t, 2, kv, org.URL)
	owner := edges[1]
	hop := func(seq string) (string, string) {
		req, err := http.NewRequest("GET", "http://"+owner.HTTPAddr()+"/obj", nil)
		require.NoError(t, err)
		req.Header.Set("Cairn-Shield", edges[0].ID())
		if seq != "" {
			req.Header.Set("Cairn-Purge-Seq", seq)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body), resp.Header.Get("X-Cache")
	}
	body, _ := hop("")
	require.Equal(t, "version 1", body)
	version.Store(2) // the origin changed; a purge is on its way
	body, xc := hop("0")
	require.Equal(t, "version 1", body, "an asker that applied no newer purge gets the cached copy")
	require.Contains(t, xc, "HIT")
	body, _ = hop("7") // the asker applied purge 7; the owner has applied none
	require.Equal(t, "version 2", body, "an owner behind on purges must not hand out what may be purged")
}
