package engine

import "hash/fnv"

// ShardOf returns the shard (0..shards-1) a document id belongs to: the
// FNV-1a 32-bit hash of the id's bytes modulo shards. It is stable across
// processes, versions and machines, so an index's routing never changes;
// shards < 1 counts as 1.
func ShardOf(id string, shards int) int {
	if shards <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(shards))
}
