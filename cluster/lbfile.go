package cluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ensureLBFile writes the lbd nodes' frontends-and-pools document
// (dir/LBFileName) when the cluster has lbd nodes and the file does not
// exist yet, so a user's edits survive restarts. Two frontends on the
// virtual address, HTTP (TLS with the cluster CA unless insecure) and TCP,
// send traffic to the pool of the registry service "demo" ('cairn lb
// demo-backends').
func ensureLBFile(dir string, nodes []NodeState, insecure bool) error {
	var lb *NodeState
	for i := range nodes {
		if nodes[i].Service == "lbd" {
			lb = &nodes[i]
			break
		}
	}
	if lb == nil {
		return nil
	}
	path := filepath.Join(dir, LBFileName)
	if _, err := os.Stat(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return err
	}
	tls := "cluster"
	if insecure {
		tls = "none"
	}
	doc := fmt.Sprintf(`# The local cluster's load balancer (docs/lbd.md). The lbd nodes reload this
# file when it changes; the active node listens on the virtual address.
frontends:
  - name: web
    mode: http
    listen: %s
    tls: %s
    pool: demo
  - name: tcp
    mode: tcp
    listen: %s
    pool: demo
pools:
  - name: demo
    algorithm: round_robin
    # members: the instances of registry service "demo" ('cairn lb demo-backends 3')
    service: demo
    health: {type: http, path: /healthz, interval: 1s, timeout: 500ms, rise: 2, fall: 2}
    outlier: {consecutive_failures: 3, base_ejection: 5s}
    slow_start: 5s
    drain_timeout: 30s
`, lb.Ports["http"], tls, lb.Ports["tcp"])
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	return nil
}
