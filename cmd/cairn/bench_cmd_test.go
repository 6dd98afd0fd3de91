package main

import (
	"errors"
	"strings"
	"testing"

	"cairn.dev/cairn/bench/kvbench"
	"cairn.dev/cairn/cluster"
)

func TestBenchEndpoints(t *testing.T) {
	dir := t.TempDir()
	st := &cluster.State{Dir: dir, Nodes: []cluster.NodeState{
		{Name: "raftkv-1", Service: "raftkv", GRPCAddr: "127.0.0.1:18000"},
		{Name: "lockd-1", Service: "lockd", GRPCAddr: "127.0.0.1:18100"},
		{Name: "raftkv-2", Service: "raftkv", GRPCAddr: "127.0.0.1:18001"},
	}}
	if err := st.Save(); err != nil {
		t.Fatal(err)
	}
	eps, err := benchEndpoints(nil, dir, kvbench.TargetCairn)
	if err != nil || strings.Join(eps, ",") != "127.0.0.1:18000,127.0.0.1:18001" {
		t.Fatalf("from state file: %v, %v", eps, err)
	}
	eps, err = benchEndpoints([]string{" a:1", "", "b:2"}, dir, kvbench.TargetEtcd)
	if err != nil || strings.Join(eps, ",") != "a:1,b:2" {
		t.Fatalf("explicit: %v, %v", eps, err)
	}
	if _, err := benchEndpoints(nil, dir, kvbench.TargetEtcd); err == nil {
		t.Fatal("etcd without --endpoints accepted")
	}
	if _, err := benchEndpoints(nil, t.TempDir(), kvbench.TargetCairn); !errors.Is(err, cluster.ErrNoCluster) {
		t.Fatalf("no cluster: %v", err)
	}
}

func TestBenchKVCmdRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"kv", "scan", "--endpoints", "x:1"},
		{"kv", "put", "--endpoints", "x:1", "--output", "yaml"},
		{"kv", "get", "--endpoints", "x:1", "--consistency", "eventual"},
		{"kv", "put", "--endpoints", "x:1", "--clients", "0"},
	} {
		cmd := newBenchCmd()
		cmd.SetArgs(args)
		cmd.SetOut(new(strings.Builder))
		cmd.SetErr(new(strings.Builder))
		cmd.SilenceUsage = true
		if err := cmd.Execute(); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
