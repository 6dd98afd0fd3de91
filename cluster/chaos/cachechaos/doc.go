// Package cachechaos holds cached's chaos scenarios, run by its tests through
// the chaos framework (cluster/chaos): Set/Get clients with a ring monitor
// (CacheKV) and a near cache under overwrites (NearStale); ring convergence,
// reads and writes around node kills (CacheChecker) and near-cache staleness
// (NearChecker); and the scenarios (CacheKill, CacheReplicas,
// NearCacheStaleness; CachedScenarios lists them).
package cachechaos
