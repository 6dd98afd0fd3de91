package cachechaos

import (
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// The cached scenarios run three cached nodes beside three raftkv nodes (the
// membership registry); faults hit the cached nodes only. The nodes register
// with a 2 s TTL (--registry-ttl), so a dead node leaves every ring within
// about 2 s; cachedBound adds a margin for the lease expiry, the ring watch and
// the clients' 500 ms ring refresh.
const (
	cachedRegistryTTL = 2 * time.Second
	cachedBound       = cachedRegistryTTL + 3*time.Second
)

// cachedKill SIGKILLs one cached node (chosen by the seed) for as long as the
// bound, so that the ring converges while it is dead, then restarts it.
var cachedKill = chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetNode, Duration: cachedBound}

func cachedArgs(extra ...string) map[string][]string {
	return map[string][]string{"cached": append([]string{"--registry-ttl", cachedRegistryTTL.String()}, extra...)}
}

// CacheKill (R=1) kills a cached node twice under Set/Get load and restarts
// it: reads never fail and never return a value not written to their key; the
// live nodes agree on a ring without the dead node, and every write succeeds,
// within the bound; the restarted node rejoins every ring and serves within
// the bound.
func CacheKill() chaos.Scenario {
	return chaos.Scenario{
		Name:       "cache-kill",
		Service:    "cached",
		Companions: []string{"raftkv"},
		ExtraArgs:  cachedArgs(),
		Workloads:  []chaos.Workload{&CacheKV{}},
		Schedule:   chaos.ByPhase(chaos.Sequence(3*time.Second, cachedKill, cachedKill), chaos.Every(12*time.Second, 2*time.Second, cachedKill)),
		Phase:      16 * time.Second,
		Checkers:   []chaos.Checker{&CacheChecker{Bound: cachedBound}},
		Tail:       cachedBound + time.Second, // the last restart is judged too
	}
}

// CacheReplicas is CacheKill with --replicas 2, and also requires every key
// whose Set was acknowledged before a kill to be found by every read while
// the node is dead.
func CacheReplicas() chaos.Scenario {
	return chaos.Scenario{
		Name:       "cache-replicas",
		Service:    "cached",
		Companions: []string{"raftkv"},
		ExtraArgs:  cachedArgs("--replicas", "2"),
		Workloads:  []chaos.Workload{&CacheKV{}},
		Schedule:   chaos.ByPhase(chaos.Sequence(3*time.Second, cachedKill, cachedKill), chaos.Every(12*time.Second, 2*time.Second, cachedKill)),
		Phase:      16 * time.Second,
		Checkers:   []chaos.Checker{&CacheChecker{Bound: cachedBound, NoMissWhileDead: true}},
		Tail:       cachedBound + time.Second, // the last restart is judged too
	}
}

// NearCacheStaleness reads 8 keys through a near cache while another client
// overwrites them every 20 ms, and kills a cached node once (its restart makes
// the nodes send RESET): no near-cache read invoked more than 1 s after an
// overwrite was acknowledged returns the older value.
func NearCacheStaleness() chaos.Scenario {
	kill := chaos.Step{Fault: chaos.FaultKill, Target: chaos.TargetNode, Duration: 3 * time.Second}
	return chaos.Scenario{
		Name:       "near-cache-staleness",
		Service:    "cached",
		Companions: []string{"raftkv"},
		ExtraArgs:  cachedArgs(),
		Workloads:  []chaos.Workload{&NearStale{}},
		Schedule:   chaos.ByPhase(chaos.Sequence(3*time.Second, kill), chaos.Every(10*time.Second, 2*time.Second, kill)),
		Phase:      6 * time.Second,
		Checkers:   []chaos.Checker{&NearChecker{Bound: time.Second}},
	}
}

// CachedScenarios returns every cached scenario, in the order `make chaos`
// runs them.
func CachedScenarios() []chaos.Scenario {
	return []chaos.Scenario{CacheKill(), CacheReplicas(), NearCacheStaleness()}
}
