package origin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func shieldOver(t *testing.T, names ...string) *Shield {
	t.Helper()
	var nodes []ShieldNode
	for i, n := range names {
		nodes = append(nodes, ShieldNode{Name: n, Addr: fmt.Sprintf("127.0.0.1:%d", 9000+i)})
	}
	s, err := NewShield("self", nodes, newCountingOrigin(), nil, ShieldOptions{})
	require.NoError(t, err)
	return s
}

// TestRendezvousDistribution: keys spread evenly over the nodes.
func TestRendezvousDistribution(t *testing.T) {
	const keys = 20000
	names := []string{"edge-1", "edge-2", "edge-3", "edge-4", "edge-5"}
	s := shieldOver(t, names...)
	count := map[string]int{}
	for k := range keys {
		count[s.Owner(fmt.Sprintf("cdn.test/assets/%d.js", k))]++
	}
	t.Logf("keys per node: %v", count)
	for _, n := range names {
		share := float64(count[n]) / keys
		require.InDelta(t, 0.2, share, 0.02, "share of %s", n)
	}
	require.Empty(t, shieldOver(t).Owner("k"), "no nodes, no owner")
}

// TestRendezvousMinimalMovement: when a node leaves only its keys move,
// spread over the others; when one joins only the keys it wins move, all
// to it. The owner does not depend on the order nodes are listed in.
func TestRendezvousMinimalMovement(t *testing.T) {
	const keys = 20000
	all := shieldOver(t, "edge-1", "edge-2", "edge-3", "edge-4")
	reordered := shieldOver(t, "edge-3", "edge-1", "edge-4", "edge-2")
	without := shieldOver(t, "edge-1", "edge-2", "edge-4")
	joined := shieldOver(t, "edge-1", "edge-2", "edge-3", "edge-4", "edge-5")
	moved := map[string]int{}
	var toNew int
	for k := range keys {
		key := fmt.Sprintf("cdn.test/img/%d.png", k)
		before := all.Owner(key)
		require.Equal(t, before, reordered.Owner(key))
		after := without.Owner(key)
		if before != "edge-3" {
			require.Equal(t, before, after, "key %s of a staying node moved", key)
		} else {
			moved[after]++
		}
		if j := joined.Owner(key); j != before {
			require.Equal(t, "edge-5", j, "a join moves keys only to the new node")
			toNew++
		}
	}
	t.Logf("edge-3's keys went to %v; %d keys moved to the new edge-5", moved, toNew)
	for _, n := range []string{"edge-1", "edge-2", "edge-4"} {
		require.InDelta(t, keys/4/3, moved[n], keys/4/3*0.15, "edge-3's keys spread evenly: %s", n)
	}
	require.InDelta(t, keys/5, toNew, keys/5*0.1)
}

// TestShieldNodeLeaves: with three in-process nodes, after one leaves
// (removed from every node's list) only the keys it owned are fetched from
// the origin again; every other key is still a hit at its owner.
func TestShieldNodeLeaves(t *testing.T) {
	origin := newCountingOrigin()
	nodes := startNodes(t, 3, origin, ShieldOptions{})
	a, b, c := nodes[0], nodes[1], nodes[2]
	const keys = 90
	ofC := 0
	for k := range keys {
		p := fmt.Sprintf("/o/%d", k)
		code, _ := get(t, a, p)
		require.Equal(t, http.StatusOK, code)
		if ownerName(a, p) == c.name {
			ofC++
		}
	}
	require.Equal(t, keys, origin.total())
	require.Greater(t, ofC, 0)

	c.srv.Close()
	stay := []ShieldNode{}
	for _, n := range a.shield.Nodes() {
		if n.Name != c.name {
			stay = append(stay, n)
		}
	}
	require.NoError(t, a.shield.SetNodes(stay))
	require.NoError(t, b.shield.SetNodes(stay))
	for k := range keys {
		p := fmt.Sprintf("/o/%d", k)
		code, body := get(t, b, p)
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, "object "+p, body)
	}
	require.Equal(t, keys+ofC, origin.total(), "only the %d keys of the node that left were fetched again", ofC)
	require.Zero(t, b.shield.Stats().Failovers, "no request went to the node that left")
}

// TestShieldHops: a hop is fetched from the origin, never forwarded, and
// without its hop header; a hop header naming no other node is ignored;
// requests that are no bodiless GET or HEAD go to the origin.
func TestShieldHops(t *testing.T) {
	origin := newCountingOrigin()
	nodes := []ShieldNode{{Name: "edge-1", Addr: "127.0.0.1:1"}, {Name: "edge-2", Addr: "127.0.0.1:2"}}
	var forwards int
	s, err := NewShield("edge-1", nodes, origin, nil, ShieldOptions{
		Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			forwards++
			require.Equal(t, "edge-1", r.Header.Get(HeaderShield))
			require.Equal(t, "cdn.test", r.Host)
			require.Equal(t, "127.0.0.1:2", r.URL.Host)
			return newResponse(r, http.StatusOK, http.Header{}, 0), nil
		}),
	})
	require.NoError(t, err)
	var ofOther string
	for k := 0; ofOther == ""; k++ {
		if p := fmt.Sprintf("/h/%d", k); s.Owner("cdn.test"+p) == "edge-2" {
			ofOther = p
		}
	}
	req := func(method, from string) *http.Request {
		r := httptest.NewRequest(method, "http://cdn.test"+ofOther, nil)
		if from != "" {
			r.Header.Set(HeaderShield, from)
		}
		return r
	}

	resp, err := s.Fetch(testCtx(t), req(http.MethodGet, "edge-2"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Zero(t, forwards, "a hop is never forwarded, even for a key this node does not own")
	require.Equal(t, 1, origin.count(ofOther), "the origin saw no hop header (it fails the fetch otherwise)")

	_, err = s.Fetch(testCtx(t), req(http.MethodGet, "intruder"))
	require.NoError(t, err)
	require.Equal(t, 1, forwards, "a hop header naming no node is dropped: forwarded as a client's request")
	_, err = s.Fetch(testCtx(t), req(http.MethodGet, "edge-1"))
	require.NoError(t, err)
	require.Equal(t, 2, forwards, "nor is a hop from this node itself honoured")

	for _, m := range []string{http.MethodPost, http.MethodDelete} {
		_, err = s.Fetch(testCtx(t), req(m, ""))
		require.NoError(t, err)
	}
	require.Equal(t, 2, forwards, "unsafe methods go to the origin")
	require.EqualValues(t, ShieldStats{Forwarded: 2, Direct: 2, HopsServed: 1}, s.Stats())
}

// TestShieldHopOriginUnreachable: an owner whose origin fails answers a
// marked 502 for a hop, so the sender does not eject it.
func TestShieldHopOriginUnreachable(t *testing.T) {
	failing := Func(func(ctxArg context.Context, r *http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	})
	s, err := NewShield("edge-1", []ShieldNode{{Name: "edge-1", Addr: "127.0.0.1:1"}, {Name: "edge-2", Addr: "127.0.0.1:2"}}, failing, nil, ShieldOptions{})
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodGet, "http://cdn.test/x", nil)
	r.Header.Set(HeaderShield, "edge-2")
	resp, err := s.Fetch(testCtx(t), r)
	require.NoError(t, err)
	require.Equal(t, http.StatusBadGateway, resp.StatusCode)
	require.Equal(t, "edge-1", resp.Header.Get(HeaderShieldOwner))
	resp.Body.Close()

	// Without a hop header the error is the caller's to handle.
	_, err = s.Fetch(testCtx(t), httptest.NewRequest(http.MethodGet, "http://cdn.test/x", nil))
	if s.Owner("cdn.test/x") == "edge-1" {
		require.ErrorContains(t, err, "connection refused")
	}
}

func TestNewShieldValidates(t *testing.T) {
	o := newCountingOrigin()
	ok := []ShieldNode{{Name: "a", Addr: "127.0.0.1:1"}}
	for _, tc := range []struct {
		self  string
		nodes []ShieldNode
		org   Origin
		opts  ShieldOptions
		want  string
	}{
		{"", ok, o, ShieldOptions{}, "shield self: empty"},
		{"a", ok, nil, ShieldOptions{}, "shield origin: missing"},
		{"a", []ShieldNode{{Name: "", Addr: "h:1"}}, o, ShieldOptions{}, "nodes[0].name: empty"},
		{"a", []ShieldNode{{Name: "a", Addr: "h:1"}, {Name: "a", Addr: "h:2"}}, o, ShieldOptions{}, `nodes[1].name: "a" named twice`},
		{"a", []ShieldNode{{Name: "a", Addr: "nohost"}}, o, ShieldOptions{}, `nodes[0].addr: want host:port, got "nohost"`},
		{"a", ok, o, ShieldOptions{EjectBase: -1}, "must not be negative"},
		{"a", ok, o, ShieldOptions{EjectBase: time.Minute, EjectMax: time.Second}, "EjectMax 1s is less than EjectBase 1m0s"},
	} {
		_, err := NewShield(tc.self, tc.nodes, tc.org, nil, tc.opts)
		require.ErrorIs(t, err, ErrBadConfig, tc.want)
		require.ErrorContains(t, err, tc.want)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
