package cached

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"
)

// cmdInfo answers INFO [section ...] with Redis-style "name:value" lines in
// the server, clients, memory, stats, replication and keyspace sections.
// Values describe this node only.
func cmdInfo(x *execCtx, a [][]byte) {
	want := func(section string) bool {
		if len(a) == 1 {
			return true
		}
		for _, s := range a[1:] {
			if equalFold(s, section) || equalFold(s, "all") || equalFold(s, "everything") || equalFold(s, "default") {
				return true
			}
		}
		return false
	}
	x.w.BulkString(x.s.infoText(want))
}

func (s *Server) infoText(want func(string) bool) string {
	var b strings.Builder
	section := func(name string, lines ...string) {
		if !want(strings.ToLower(name)) {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + name + "\r\n")
		for _, l := range lines {
			b.WriteString(l + "\r\n")
		}
	}
	st := s.store.Stats()
	var ms runtime.MemStats
	if want("memory") {
		runtime.ReadMemStats(&ms)
	}
	var uptime time.Duration
	clients := 0
	port := ""
	if s.resp != nil {
		uptime = time.Since(s.resp.start)
		clients = s.resp.clients()
		if i := strings.LastIndexByte(s.RESPAddr(), ':'); i >= 0 {
			port = s.RESPAddr()[i+1:]
		}
	}
	policy := s.policy()
	members, epoch := 0, uint64(0)
	if v := s.currentView(); v != nil {
		members, epoch = v.ring.Len(), v.epoch
	}
	section("Server",
		"redis_version:"+redisVersion,
		"cairn_version:"+Version,
		"redis_mode:standalone",
		"os:"+runtime.GOOS+" "+runtime.GOARCH,
		"arch_bits:64",
		"go_version:"+runtime.Version(),
		fmt.Sprintf("process_id:%d", os.Getpid()),
		"run_id:"+s.cfg.ID,
		"tcp_port:"+port,
		fmt.Sprintf("uptime_in_seconds:%d", int64(uptime.Seconds())),
		fmt.Sprintf("uptime_in_days:%d", int64(uptime.Hours()/24)),
		"cached_node_id:"+s.cfg.ID,
		fmt.Sprintf("cached_ring_members:%d", members),
		fmt.Sprintf("cached_ring_epoch:%d", epoch),
		fmt.Sprintf("cached_replicas:%d", s.cfg.Replicas),
	)
	section("Clients",
		fmt.Sprintf("connected_clients:%d", clients),
		fmt.Sprintf("maxclients:%d", s.cfg.RESPMaxClients),
		"blocked_clients:0",
	)
	section("Memory",
		fmt.Sprintf("used_memory:%d", st.Bytes),
		"used_memory_human:"+humanBytes(st.Bytes),
		fmt.Sprintf("used_memory_rss:%d", ms.Sys),
		fmt.Sprintf("used_memory_peak:%d", ms.HeapSys),
		fmt.Sprintf("maxmemory:%d", s.cfg.MaxMemory),
		"maxmemory_human:"+humanBytes(s.cfg.MaxMemory),
		"maxmemory_policy:"+policy.String(),
		"mem_allocator:go",
	)
	m := s.metrics
	section("Stats",
		fmt.Sprintf("total_connections_received:%d", m.respTotal.Load()),
		fmt.Sprintf("total_commands_processed:%d", m.commands.Load()),
		fmt.Sprintf("rejected_connections:%d", m.respRefused.Load()),
		fmt.Sprintf("expired_keys:%d", st.Expirations),
		fmt.Sprintf("evicted_keys:%d", st.Evictions),
		fmt.Sprintf("keyspace_hits:%d", st.Hits),
		fmt.Sprintf("keyspace_misses:%d", st.Misses+m.unreachable.Load()),
		fmt.Sprintf("cached_forwarded:%d", m.forwarded.Load()),
		fmt.Sprintf("cached_owner_unreachable_misses:%d", m.unreachable.Load()),
		fmt.Sprintf("cached_replicated:%d", m.replicated.Load()),
		fmt.Sprintf("cached_replication_errors:%d", m.replicaErrs.Load()),
	)
	section("Replication", "role:master", "connected_slaves:0")
	section("Cluster", "cluster_enabled:1") // every node answers CLUSTER (resp_cluster.go)
	keyspace := []string{}
	if st.Items > 0 {
		keyspace = append(keyspace, fmt.Sprintf("db0:keys=%d,expires=0,avg_ttl=0", st.Items))
	}
	section("Keyspace", keyspace...)
	return b.String()
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	f, suffix := float64(n), "KMGTP"
	i := -1
	for f >= unit && i < len(suffix)-1 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.2f%c", f, suffix[i])
}
