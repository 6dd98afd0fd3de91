package sqlchaos

import (
	"fmt"
	"net"
	"net/url"
	"strconv"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/cluster/chaos"
	"cairn.dev/cairn/node/pki"
)

// The PostgreSQL endpoint of a raftkv node, as the harness is expected to
// expose it. Everything that depends on how the harness wires the SQL port
// lives in this file: SQLPortName, SQLPortOffset, SQLDatabase and sqlURL.

// SQLPortName is the name of the extra port (cluster.Service.ExtraPorts,
// NodeState.Ports) under which the harness records a raftkv node's SQL
// address. When a node has it, sqlURL uses it.
const SQLPortName = "sql"

// SQLPortOffset is the fallback: a raftkv node without a "sql" extra port is
// assumed to serve PostgreSQL on its gRPC port plus SQLPortOffset.
const SQLPortOffset = 5

// SQLDatabase is the database the workloads connect to.
const SQLDatabase = "cairn"

// sqlURL returns the PostgreSQL URL of node (a node of the service under test):
// its SQL address, the user named by the cluster's client certificate
// (pgwire logs a verified certificate in as its CommonName) and, on a TLS
// cluster, sslmode=verify-full with the cluster's CA and client certificate
// files, so that the URL works as it is with pgx and psql.
func sqlURL(env *chaos.Env, node string) (string, error) {
	n, ok := env.Node(node)
	if !ok {
		return "", fmt.Errorf("sqlchaos: no node %q in the cluster", node)
	}
	return nodeURL(n, env.Cluster.State().TLS)
}

// nodeURL is sqlURL of node n of a cluster whose client TLS files are ts (nil:
// plaintext).
func nodeURL(n cluster.NodeState, ts *cluster.TLSState) (string, error) {
	node := n.Name
	addr, ok := n.Ports[SQLPortName]
	if !ok {
		host, port, err := net.SplitHostPort(n.GRPCAddr)
		if err != nil {
			return "", fmt.Errorf("sqlchaos: gRPC address %q of %s: %w", n.GRPCAddr, node, err)
		}
		p, err := strconv.Atoi(port)
		if err != nil {
			return "", fmt.Errorf("sqlchaos: gRPC port %q of %s: %w", port, node, err)
		}
		addr = net.JoinHostPort(host, strconv.Itoa(p+SQLPortOffset))
	}
	q := url.Values{}
	if ts != nil {
		q.Set("sslmode", "verify-full")
		q.Set("sslrootcert", ts.CAFile)
		q.Set("sslcert", ts.CertFile)
		q.Set("sslkey", ts.KeyFile)
	} else {
		q.Set("sslmode", "disable")
	}
	u := url.URL{Scheme: "postgres", User: url.User(pki.ClientName), Host: addr, Path: "/" + SQLDatabase, RawQuery: q.Encode()}
	return u.String(), nil
}
