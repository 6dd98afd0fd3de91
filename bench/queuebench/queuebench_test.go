package queuebench

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/queued/queuedtest"
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

// TestRunAgainstQueued runs every scenario against an in-process queued
// cluster and checks the counts the result reports.
func TestRunAgainstQueued(t *testing.T) {
	c := queuedtest.New(t, 3, nil)
	for _, sc := range []Scenario{ScenarioPublish, ScenarioConsume, ScenarioE2E} {
		t.Run(string(sc), func(t *testing.T) {
			cfg := smallRun(c.Endpoints(), sc, 300)
			res, err := Run(t.Context(), cfg)
			require.NoError(t, err)
			require.Zero(t, res.Errors, res.FirstError)
			if sc != ScenarioConsume {
				require.Equal(t, 300, res.Sent)
				require.Equal(t, 300, res.SendLatency.N)
			}
			if sc != ScenarioPublish {
				require.Equal(t, 300, res.Received)
				require.Positive(t, res.ReceiveRate)
			}
			if sc == ScenarioE2E {
				require.Equal(t, 300, res.E2ELatency.N)
			}
		})
	}
}

// BenchmarkQueuedConsume drains a backlog of b.N messages from an in-process
// cluster (no fsync) with 4 consumers acking message by message; the fill is
// not timed. It reports deliveries per second.
func BenchmarkQueuedConsume(b *testing.B) {
	c := queuedtest.New(b, 3, nil)
	cfg := smallRun(c.Endpoints(), ScenarioConsume, max(b.N, 100))
	cfg.Prefetch = 100
	b.ResetTimer()
	res, err := Run(b.Context(), cfg)
	require.NoError(b, err)
	b.ReportMetric(res.ReceiveRate, "msgs/s")
}

func smallRun(endpoints []string, sc Scenario, total int) Config {
	cfg := DefaultConfig()
	cfg.Endpoints = endpoints
	cfg.Scenario = sc
	cfg.Total = total
	cfg.Producers = 4
	cfg.Consumers = 2
	cfg.Prefetch = 20
	cfg.RequestTimeout = 20 * time.Second
	return cfg
}
