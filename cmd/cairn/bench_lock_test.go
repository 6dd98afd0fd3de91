package main

import (
	"strings"
	"testing"
)

func TestBenchLockCmdRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"lock", "fast", "--endpoints", "x:1"},
		{"lock", "contended", "--target", "zookeeper", "--endpoints", "x:1"},
		{"lock", "many", "--target", "etcd"},
		{"lock", "uncontended", "--endpoints", "x:1", "--output", "yaml"},
		{"lock", "uncontended", "--endpoints", "x:1", "--clients", "0"},
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
