package searchbench

import (
	"context"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
	"cairn.dev/cairn/searchd/searchdtest"
)

// TestRunAgainstCluster runs the workload through searchd/client against an
// in-process 3-node searchd cluster: every document lands, every kind of
// query answers and finds documents, the index is deleted at the end.
func TestRunAgainstCluster(t *testing.T) {
	c := searchdtest.New(t, 3, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var target *Cluster
	nodetest.WaitFor(t, 30*time.Second, "searchd to create the benchmark's index", func() bool {
		var err error
		target, err = NewCluster(ctx, ClusterConfig{Endpoints: c.Endpoints(), Index: "bench", Shards: 2, Replicas: 1})
		if err != nil {
			t.Log(err)
		}
		return err == nil
	})
	cfg := DefaultConfig()
	cfg.Docs, cfg.Batch, cfg.Writers, cfg.Clients = 120, 25, 2, 2
	cfg.Warmup, cfg.Queries, cfg.QueriesPerKind, cfg.Seed = 0, 10, 10, nodetest.Seed(t)
	res, err := Run(ctx, cfg, corpus50(), target)
	if err != nil {
		t.Fatal(err)
	}
	if res.Target != "cairn-cluster" || res.Docs != 120 || res.Errors != 0 || res.SizeBytes <= 0 || len(res.Kinds) != 5 {
		t.Fatalf("result %+v", res)
	}
	for _, k := range res.Kinds {
		if k.Latency.N != 4 || (k.Kind != KindFuzzy && k.MeanTotal == 0) {
			t.Errorf("%s: %+v", k.Kind, k)
		}
	}
}
