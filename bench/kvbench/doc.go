// Package kvbench is the engine of `cairn bench kv`: a closed-loop load generator
// for key-value stores that speak gRPC.
//
// Run opens Config.Conns gRPC connections, spread round-robin over
// Config.Endpoints, and starts Config.Clients goroutines spread round-robin over
// the connections. Each client sends requests back to back, one at a time, until
// Config.Total requests have been sent in all. Every request's latency goes into a
// slice owned by its client; at the end the slices are merged and sorted to compute
// exact percentiles. Before a get or mixed run the key space is preloaded.
//
// The store is reached through a Driver, built per connection by the Target:
// TargetCairn speaks raftkv's KVService, TargetEtcd speaks etcd's
// etcdserverpb.KV API with hand-encoded protobuf, so no etcd module is needed.
//
//	cfg := kvbench.DefaultConfig()
//	cfg.Endpoints = []string{"127.0.0.1:18000"}
//	cfg.Scenario = kvbench.ScenarioGet
//	res, err := kvbench.Run(ctx, cfg)
//	res.WriteTable(os.Stdout)
package kvbench
