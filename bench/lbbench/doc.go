// Package lbbench is the engine of `cairn bench lb` and of
// bench/lb-compare.sh, which compares lbd with HAProxy: the backends a load
// balancer spreads traffic over, and a TCP throughput client.
//
// StartBackends starts, on loopback ports, HTTP backends that answer every
// GET or HEAD with the same small body (Body) at once, optionally one slow
// HTTP backend that waits SlowDelay before answering the same way, and TCP
// sinks. A sink reads and discards everything a connection sends; when the
// client half-closes it answers the number of bytes it received, as a
// decimal line, and closes. Every backend counts what it served, so a run
// can tell how a balancer spread the load.
//
// RunTCP is the throughput client: Conns connections through the proxy to
// the sinks, each writing Chunk-byte buffers back to back for Duration, then
// half-closing and reading the sink's count. The throughput counts only the
// bytes the sinks acknowledged, so bytes a proxy buffered and lost do not
// count.
//
//	b, err := lbbench.StartBackends(lbbench.BackendsConfig{HTTP: 3, TCP: 3, SlowDelay: 20 * time.Millisecond})
//	defer b.Close()
//	res, err := lbbench.RunTCP(ctx, lbbench.TCPConfig{Addr: "127.0.0.1:9000", Conns: 4, Duration: 10 * time.Second, Chunk: 64 << 10})
//	fmt.Println(res.Gbps)
package lbbench
