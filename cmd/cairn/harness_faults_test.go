package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"cairn.dev/cairn/cluster"
)

func TestParsePartitionArgs(t *testing.T) {
	for _, tc := range []struct {
		args         []string
		nodes, from  []string
		oneway, fail bool
	}{
		{args: []string{"raftkv-1"}, nodes: []string{"raftkv-1"}},
		{args: []string{"raftkv-1", "--from", "raftkv-2", "raftkv-3"}, nodes: []string{"raftkv-1"}, from: []string{"raftkv-2", "raftkv-3"}},
		{args: []string{"a", "b", "--from=c,d", "--oneway"}, nodes: []string{"a", "b"}, from: []string{"c", "d"}, oneway: true},
		{args: []string{"a,b", "--oneway", "--from", "c"}, nodes: []string{"a", "b"}, from: []string{"c"}, oneway: true},
		{args: []string{"--from", "c"}, fail: true},
		{args: []string{"a", "--from"}, fail: true},
		{args: []string{"a", "--jitter", "1s"}, fail: true},
	} {
		nodes, from, oneway, err := parsePartitionArgs(tc.args)
		if tc.fail {
			if err == nil {
				t.Errorf("%q: no error", tc.args)
			}
			continue
		}
		if err != nil || !slices.Equal(nodes, tc.nodes) || !slices.Equal(from, tc.from) || oneway != tc.oneway {
			t.Errorf("%q: got %q %q %v %v; want %q %q %v", tc.args, nodes, from, oneway, err, tc.nodes, tc.from, tc.oneway)
		}
	}
}

func TestPrintStatusFaults(t *testing.T) {
	now := time.Now()
	var b bytes.Buffer
	err := printStatus(&b, clusterReport{
		Nodes: []cluster.NodeStatus{
			{Name: "raftkv-1", PID: 10, Alive: true, Role: "leader", Health: cluster.HealthServing},
			{Name: "raftkv-2", PID: 11, Alive: true, Paused: true, Role: cluster.HealthPaused, Health: cluster.HealthPaused},
		},
		Proxy: &cluster.ProxyStatus{PID: 9, Alive: true, Links: 6, ControlAddr: "127.0.0.1:7099"},
		Faults: []cluster.Fault{
			{Kind: cluster.FaultPartition, Nodes: []string{"raftkv-1"}, From: []string{"raftkv-2", "raftkv-3"}, Since: now.Add(-12 * time.Second)},
			{Kind: cluster.FaultPause, Nodes: []string{"raftkv-2"}, Since: now.Add(-3 * time.Second)},
		},
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"raftkv-2  11            paused  paused ",
		"FAULT PROXY: pid 9, 6 links, control http://127.0.0.1:7099",
		"  partition raftkv-1 <-> raftkv-2,raftkv-3 since 12s\n",
		"  pause raftkv-2 since 3s\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
}
