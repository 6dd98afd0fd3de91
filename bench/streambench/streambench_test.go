package streambench

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cairn.dev/cairn/streamd/streamdtest"
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
		{"Topic", func(c *Config) { c.Topic = "" }},
		{"Partitions", func(c *Config) { c.Partitions = 0 }},
		{"Replication", func(c *Config) { c.Replication = 0 }},
		{"Acks", func(c *Config) { c.Acks = "some" }},
		{"RecordBytes", func(c *Config) { c.RecordBytes = headerBytes - 1 }},
		{"Total", func(c *Config) { c.Total = 0 }},
		{"Producers", func(c *Config) { c.Producers = 0 }},
		{"BatchBytes", func(c *Config) { c.BatchBytes = c.RecordBytes - 1 }},
		{"Linger", func(c *Config) { c.Linger = -1 }},
		{"Rate", func(c *Config) { c.Rate = -1 }},
		{"Consumers", func(c *Config) { c.Consumers = c.Partitions + 1 }},
		{"FetchBytes", func(c *Config) { c.FetchBytes = 1 }},
		{"Interval", func(c *Config) { c.Scenario = ScenarioGrowth; c.Interval = 1 }},
		{"RequestTimeout", func(c *Config) { c.RequestTimeout = 0 }},
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
	require.Equal(t, want, got)
	require.Equal(t, 100*time.Millisecond, ds[0], "summarize sorted its input in place")
	require.Equal(t, Latency{}, summarize(nil))
}

func TestPartitionsOf(t *testing.T) {
	require.Equal(t, []int32{0, 3}, partitionsOf(0, 3, 6))
	require.Equal(t, []int32{2, 5}, partitionsOf(2, 3, 6))
	require.Equal(t, []int32{0, 1, 2, 3, 4, 5}, partitionsOf(0, 1, 6))
}

// TestRunAgainstStreamd runs every scenario against an in-process streamd
// cluster and checks the counts the result reports.
func TestRunAgainstStreamd(t *testing.T) {
	c := streamdtest.New(t, 3, nil)
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"produce-leader", func(c *Config) { c.Acks = AcksLeader }},
		{"produce-all", func(c *Config) {}},
		{"consume-group", func(c *Config) { c.Scenario = ScenarioConsume; c.Consumers = 2 }},
		{"consume-direct", func(c *Config) { c.Scenario = ScenarioConsume; c.Consumers = 3; c.Group = false }},
		{"e2e-paced", func(c *Config) {
			c.Scenario = ScenarioE2E
			c.Group = false
			c.Rate = 2000
			c.Linger = 20 * time.Millisecond
		}},
		{"growth", func(c *Config) { c.Scenario = ScenarioGrowth; c.Interval = 20_000 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Endpoints = c.Endpoints()
			cfg.Topic = "bench-" + tc.name
			cfg.Total = 1000
			cfg.BatchBytes = 50 * cfg.RecordBytes
			cfg.Producers = 2
			cfg.RequestTimeout = 20 * time.Second
			tc.edit(&cfg)
			res, err := Run(t.Context(), cfg)
			require.NoError(t, err)
			require.Zero(t, res.Errors, res.FirstError)
			if cfg.Scenario != ScenarioConsume {
				require.EqualValues(t, 1000, res.Produced)
				require.Positive(t, res.ProduceRate)
				require.Positive(t, res.ProduceLatency.N)
			}
			if cfg.Scenario == ScenarioConsume || cfg.Scenario == ScenarioE2E {
				require.EqualValues(t, 1000, res.Consumed)
				require.Positive(t, res.ConsumeMiBps)
			}
			if cfg.Scenario == ScenarioE2E {
				require.Equal(t, 1000, res.E2ELatency.N)
			}
			if cfg.Scenario == ScenarioGrowth {
				require.NotEmpty(t, res.Samples)
				last := res.Samples[len(res.Samples)-1]
				require.EqualValues(t, 1000*cfg.RecordBytes, last.StoredBytes)
			}
			var sb strings.Builder
			require.NoError(t, WriteTable(&sb, res))
			require.Contains(t, sb.String(), string(cfg.Scenario))
		})
	}
}
