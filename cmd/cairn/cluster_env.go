package main

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"cairn.dev/cairn/cluster"
)

// newClusterEnvCmd is `cairn cluster env`: shell exports that point outside
// tools (and cairn commands run elsewhere) at the local cluster.
func newClusterEnvCmd(dir func() (string, error)) *cobra.Command {
	return &cobra.Command{
		Use:   "env",
		Short: "Print shell exports for the cluster: its directory, TLS files and endpoints",
		Long: `Print shell exports for the local cluster, for 'eval "$(cairn cluster env)"'
or a file that scripts source:

  ` + cluster.EnvDir + `           the cluster directory
  ` + envTLSCA + `, ` + envTLSCert + `, ` + envTLSKey + `
                              the CA and the client certificate and key (PEM), which
                              cairn clients read; pass them to outside tools, e.g.
                              grpcurl -cacert "$` + envTLSCA + `" -cert "$` + envTLSCert + `" -key "$` + envTLSKey + `" \
                                127.0.0.1:7000 list
                              (unset for a cluster started with --insecure)
  CAIRN_ENDPOINTS_<SERVICE>   the gRPC host:port of each node, comma-separated
  CAIRN_<PORT>_<SERVICE>      the extra ports, e.g. CAIRN_RESP_CACHED, CAIRN_SQS_QUEUED
  CAIRN_S3_ENDPOINT           the S3 endpoint of a blobd node (https://host:port, http://
                              for a cluster started with --insecure), for
                              aws --endpoint-url "$CAIRN_S3_ENDPOINT" s3 ls
  CAIRN_SEARCH_ENDPOINT       the Elasticsearch-compatible HTTP API of a searchd node
                              (https://host:port; http:// with --insecure), for
                              curl "$CAIRN_SEARCH_ENDPOINT/_cat/indices?v"
  CAIRN_GATEWAY_ENDPOINT      the traffic endpoint of a gatewayd node (https://host:port;
                              http:// with --insecure); all of them are in
                              CAIRN_HTTP_GATEWAYD, for
                              curl -H "Authorization: Bearer $(cairn gateway token --consumer demo)" \
                                "$CAIRN_GATEWAY_ENDPOINT/v1/kv/range" -d '{"key":"Zw=="}'
  CAIRN_EDGE_ENDPOINT         the traffic endpoint of the first CDN edge (https://127.0.1.1:port,
                              the tokyo edge; http:// with --insecure); all of them are in
                              CAIRN_HTTP_EDGE and their DNS servers in CAIRN_DNS_EDGE, for
                              curl -sI "$CAIRN_EDGE_ENDPOINT/<bucket>/<key>"
  CAIRN_LB_ENDPOINT           the HTTP frontend of the load balancer on its virtual address
                              (https://127.0.0.100:port, held by the active lbd node;
                              http:// with --insecure); its TCP frontend is CAIRN_TCP_LBD, for
                              curl "$CAIRN_LB_ENDPOINT/whoami"
  CAIRN_SQL_URL               the libpq URL of raftkv's PostgreSQL endpoints (every node, with the
                              cluster CA and client certificate), for
                              psql "$CAIRN_SQL_URL" -c 'SELECT 1'
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION
                              the cluster access key of the SQS API (queued) and the S3
                              API (blobd), for awscli and the AWS SDKs, e.g.
                              aws --endpoint-url https://<CAIRN_SQS_QUEUED address> sqs ...
  AWS_CA_BUNDLE, CURL_CA_BUNDLE
                              the CA for awscli and the AWS SDKs, and for curl (a
                              presigned URL of 'cairn blob presign', searchd, the
                              gateway), on TLS clusters`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := dir()
			if err != nil {
				return err
			}
			st, err := cluster.LoadState(d)
			if err != nil {
				return err
			}
			return writeClusterEnv(cmd.OutOrStdout(), st)
		},
	}
}

// writeClusterEnv writes the exports of `cairn cluster env` for st.
func writeClusterEnv(w io.Writer, st *cluster.State) error {
	mode := "mutual TLS"
	if st.TLS == nil {
		mode = "plaintext (--insecure)"
	}
	fmt.Fprintf(w, "# cairn cluster in %s, %s; load with: eval \"$(cairn cluster env)\"\n", st.Dir, mode)
	export := func(name, value string) { fmt.Fprintf(w, "export %s=%s\n", name, shellQuote(value)) }
	export(cluster.EnvDir, st.Dir)
	if st.TLS != nil {
		export(envTLSCA, st.TLS.CAFile)
		export(envTLSCert, st.TLS.CertFile)
		export(envTLSKey, st.TLS.KeyFile)
	} else {
		fmt.Fprintf(w, "unset %s %s %s\n", envTLSCA, envTLSCert, envTLSKey)
	}
	var services []string
	ports := map[string][]string{} // variable name -> addresses
	for _, n := range st.Nodes {
		name := "CAIRN_ENDPOINTS_" + strings.ToUpper(n.Service)
		if _, ok := ports[name]; !ok {
			services = append(services, name)
		}
		ports[name] = append(ports[name], n.GRPCAddr)
		extra := make([]string, 0, len(n.Ports))
		for p := range n.Ports {
			extra = append(extra, p)
		}
		sort.Strings(extra)
		for _, p := range extra {
			name := "CAIRN_" + strings.ToUpper(p) + "_" + strings.ToUpper(n.Service)
			if _, ok := ports[name]; !ok {
				services = append(services, name)
			}
			if !slices.Contains(ports[name], n.Ports[p]) { // lbd's are shared
				ports[name] = append(ports[name], n.Ports[p])
			}
		}
	}
	for _, name := range services {
		export(name, strings.Join(ports[name], ","))
	}
	if u := st.SQLURL(); u != "" {
		export("CAIRN_SQL_URL", u)
	}
	if ep := s3Endpoint(st); ep != "" {
		export("CAIRN_S3_ENDPOINT", ep)
	}
	curlCA := false
	if ep := httpEndpoint(st, "searchd", "http"); ep != "" {
		export("CAIRN_SEARCH_ENDPOINT", ep)
		curlCA = true
	}
	if ep := httpEndpoint(st, "gatewayd", "http"); ep != "" {
		export("CAIRN_GATEWAY_ENDPOINT", ep)
		curlCA = true
	}
	if ep := httpEndpoint(st, "edge", "http"); ep != "" {
		export("CAIRN_EDGE_ENDPOINT", ep)
		curlCA = true
	}
	if ep := httpEndpoint(st, "lbd", "http"); ep != "" {
		export("CAIRN_LB_ENDPOINT", ep)
		curlCA = true
	}
	if curlCA && st.TLS != nil && st.AccessKey == nil {
		export("CURL_CA_BUNDLE", st.TLS.CAFile)
	}
	key := st.AccessKey
	if key == nil {
		key = st.SQS
	}
	if key != nil {
		id, secret, err := key.AccessKey()
		if err != nil {
			return err
		}
		export("AWS_ACCESS_KEY_ID", id)
		export("AWS_SECRET_ACCESS_KEY", secret)
		export("AWS_DEFAULT_REGION", key.Region)
		if st.TLS != nil {
			export("AWS_CA_BUNDLE", st.TLS.CAFile)
			export("CURL_CA_BUNDLE", st.TLS.CAFile)
		} else {
			fmt.Fprintln(w, "unset AWS_CA_BUNDLE CURL_CA_BUNDLE")
		}
	}
	return nil
}

// s3Endpoint returns the URL of the S3 API of the cluster's first blobd
// node that serves one ("" when none): https on a TLS cluster.
func s3Endpoint(st *cluster.State) string { return httpEndpoint(st, "blobd", "s3") }

// httpEndpoint returns the URL of the HTTP API on extra port port of the
// cluster's first node of service that serves one ("" when none): https on
// a TLS cluster.
func httpEndpoint(st *cluster.State, service, port string) string {
	for _, n := range st.Nodes {
		if n.Service == service && n.Ports[port] != "" {
			scheme := "https://"
			if st.TLS == nil {
				scheme = "http://"
			}
			return scheme + n.Ports[port]
		}
	}
	return ""
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printTLSNote tells, after `cluster up`, how the cluster is secured.
func printTLSNote(w io.Writer, st cluster.State) {
	if st.TLS == nil {
		fmt.Fprintln(w, "plaintext gRPC (--insecure): anyone who can reach the ports can use every service")
		return
	}
	fmt.Fprintf(w, "mutual TLS: CA %s, client certificate %s; 'cairn cluster env' prints them for other tools\n", st.TLS.CAFile, st.TLS.CertFile)
}
