package cluster

import (
	"net/url"
	"strings"
)

// SQLUser is the SQL role the cluster's client certificate logs in as: a
// certificate issued by the cluster CA is the cluster's root credential (it
// reaches raftkv's gRPC API, under the SQL layer, anyway).
const SQLUser = "root"

// SQLDatabase is the database name the SQL URL names (raftkv holds one).
const SQLDatabase = "cairn"

// SQLURL returns a libpq connection URL for the PostgreSQL endpoints of the
// cluster's raftkv nodes: every node's "sql" port as a host list (libpq, pgx
// and psql try them in order, so the URL outlives any one node), user
// SQLUser, and on a TLS cluster sslmode=verify-full with the cluster CA and
// client certificate. "" when the cluster runs no raftkv node with a SQL port.
func (s State) SQLURL() string {
	var hosts []string
	for _, n := range s.Nodes {
		if n.Service == "raftkv" && n.Ports["sql"] != "" {
			hosts = append(hosts, n.Ports["sql"])
		}
	}
	return s.sqlURL(hosts)
}

// NodeSQLURL is SQLURL for the one raftkv node called name ("" when it has
// no SQL port).
func (s State) NodeSQLURL(name string) string {
	n, ok := s.Node(name)
	if !ok || n.Service != "raftkv" || n.Ports["sql"] == "" {
		return ""
	}
	return s.sqlURL([]string{n.Ports["sql"]})
}

func (s State) sqlURL(hosts []string) string {
	if len(hosts) == 0 {
		return ""
	}
	q := url.Values{}
	if s.TLS != nil {
		q.Set("sslmode", "verify-full")
		q.Set("sslrootcert", s.TLS.CAFile)
		q.Set("sslcert", s.TLS.CertFile)
		q.Set("sslkey", s.TLS.KeyFile)
	} else {
		q.Set("sslmode", "disable")
	}
	q.Set("application_name", "cairn")
	u := url.URL{Scheme: "postgresql", User: url.User(SQLUser), Host: strings.Join(hosts, ","), Path: "/" + SQLDatabase, RawQuery: q.Encode()}
	return u.String()
}
