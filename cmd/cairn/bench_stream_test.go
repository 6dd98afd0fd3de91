package main

import (
	"strings"
	"testing"
)

func TestBenchStreamCmdRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"stream", "replay", "--endpoints", "x:1"},
		{"stream", "produce", "--endpoints", "x:1", "--output", "yaml"},
		{"stream", "produce", "--endpoints", "x:1", "--acks", "some"},
		{"stream", "consume", "--endpoints", "x:1", "--consumers", "7"},
		{"stream", "produce", "--target", "nats"},
		{"stream", "growth", "--endpoints", "x:1", "--interval-bytes", "10"},
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
