package cluster

import (
	"net/url"
	"strings"
	"testing"
)

func TestSQLURLListsEveryRaftKVNode(t *testing.T) {
	st := State{
		Nodes: []NodeState{
			{Name: "raftkv-1", Service: "raftkv", Ports: map[string]string{"sql": "127.0.0.1:18220"}},
			{Name: "raftkv-2", Service: "raftkv", Ports: map[string]string{"sql": "127.0.0.1:18221"}},
			{Name: "lockd-1", Service: "lockd"},
		},
		TLS: &TLSState{CAFile: "/c/tls/ca.pem", CertFile: "/c/tls/client.pem", KeyFile: "/c/tls/client-key.pem"},
	}
	u := st.SQLURL()
	if !strings.HasPrefix(u, "postgresql://root@127.0.0.1:18220,127.0.0.1:18221/cairn?") {
		t.Fatalf("SQLURL = %s, want both nodes as a host list, user root, database cairn", u)
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	if q.Get("sslmode") != "verify-full" || q.Get("sslrootcert") != "/c/tls/ca.pem" || q.Get("sslcert") != "/c/tls/client.pem" || q.Get("sslkey") != "/c/tls/client-key.pem" {
		t.Fatalf("SQLURL query %v, want verify-full with the cluster's CA, certificate and key", q)
	}
	if n := st.NodeSQLURL("raftkv-2"); !strings.HasPrefix(n, "postgresql://root@127.0.0.1:18221/cairn?") {
		t.Fatalf("NodeSQLURL(raftkv-2) = %s, want raftkv-2's port only", n)
	}
	if st.NodeSQLURL("lockd-1") != "" || st.NodeSQLURL("raftkv-9") != "" {
		t.Fatal("NodeSQLURL of a node without a SQL port is not empty")
	}
	st.TLS = nil
	if q := mustQuery(t, st.SQLURL()); q.Get("sslmode") != "disable" {
		t.Fatalf("an insecure cluster's SQLURL has sslmode %q, want disable", q.Get("sslmode"))
	}
	if (State{Nodes: st.Nodes[2:]}).SQLURL() != "" {
		t.Fatal("a cluster without raftkv has a SQL URL")
	}
}

func mustQuery(t *testing.T, u string) url.Values {
	t.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return pu.Query()
}
