package main

import (
	"fmt"
	"strings"

	"cairn.dev/cairn/cluster"
)

// serviceEndpoints returns the non-empty entries of flagValue, or else the gRPC
// endpoints of service's nodes in the cluster state file found through
// clusterDir (cluster.ResolveDir). Every client command (kv, bench, lock, sem,
// election) discovers its service through it.
func serviceEndpoints(flagValue []string, clusterDir, service string) ([]string, error) {
	if eps := nonEmpty(flagValue); len(eps) > 0 {
		return eps, nil
	}
	dir, err := cluster.ResolveDir(clusterDir)
	if err != nil {
		return nil, fmt.Errorf("--cluster-dir: %w", err)
	}
	st, err := cluster.LoadState(dir)
	if err != nil {
		return nil, fmt.Errorf("no --endpoints given and discovery failed: %w", err)
	}
	eps := st.Endpoints(service)
	if len(eps) == 0 {
		return nil, fmt.Errorf("no --endpoints given and the cluster in %s has no %s nodes (start it with 'cairn cluster up --services %s,…')", dir, service, service)
	}
	return eps, nil
}

// nonEmpty trims the values and drops empty ones.
func nonEmpty(values []string) []string {
	var out []string
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
