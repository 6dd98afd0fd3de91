package queuebench

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Endpoints = []string{"127.0.0.1:1"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults with an endpoint: %v", err)
	}
	for _, tc := range []struct {
		field string
		edit  func(*Config)
	}{
		{"Scenario", func(c *Config) { c.Scenario = "drain" }},
		{"Target", func(c *Config) { c.Target = "kafka" }},
		{"Endpoints", func(c *Config) { c.Endpoints = nil }},
		{"Producers", func(c *Config) { c.Producers = 0 }},
		{"Consumers", func(c *Config) { c.Consumers = 0 }},
		{"Prefetch", func(c *Config) { c.Prefetch = 1001 }},
		{"MessageBytes", func(c *Config) { c.MessageBytes = headerBytes - 1 }},
		{"Total", func(c *Config) { c.Total = 0 }},
		{"RequestTimeout", func(c *Config) { c.RequestTimeout = 0 }},
		{"Queue", func(c *Config) { c.Queue = "" }},
	} {
		c := ok
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: got %v, want an error naming the field", tc.field, err)
		}
	}
}

func TestSummarizeNearestRank(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	got := summarize(ds)
	want := Latency{N: 100, Mean: 50500 * time.Microsecond, P50: 50 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if got != want {
		t.Fatalf("summarize = %+v, want %+v", got, want)
	}
	if ds[0] != 100*time.Millisecond {
		t.Fatal("summarize sorted its input in place")
	}
	if (summarize(nil) != Latency{}) {
		t.Fatal("summarize(nil) is not zero")
	}
}
