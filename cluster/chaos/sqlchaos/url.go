package sqlchaos

import (
	"fmt"

	"cairn.dev/cairn/cluster"
	"cairn.dev/cairn/cluster/chaos"
)

// SQLDatabase is the database the workloads connect to.
const SQLDatabase = cluster.SQLDatabase

// sqlURL returns the PostgreSQL URL of node (a raftkv node of the cluster
// under test), as cluster.State.NodeSQLURL builds it: the node's "sql"
// port, user cluster.SQLUser (the cluster's client certificate logs in as
// it) and, on a TLS cluster, sslmode=verify-full with the cluster's CA and
// client certificate files, so that the URL works as it is with pgx and psql.
func sqlURL(env *chaos.Env, node string) (string, error) {
	u := env.Cluster.State().NodeSQLURL(node)
	if u == "" {
		return "", fmt.Errorf("sqlchaos: node %q has no SQL port", node)
	}
	return u, nil
}
