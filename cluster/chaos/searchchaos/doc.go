// Package searchchaos holds the chaos scenarios of searchd: the Docs
// workload indexes and deletes documents with known contents through every
// node while the nemesis kills, partitions and pauses searchd nodes; after
// the faults, DocsChecker refreshes the index, waits for every shard copy to
// be started and caught up, and checks that every acknowledged document is
// found with its exact content and every acknowledged delete is gone —
// through every node as the coordinator — and that every copy of a shard
// holds the same number of documents.
//
// searchd's durability comes from streamd (each index's writes are a topic
// with a partition per shard), so the harness runs streamd beside searchd;
// the faults target the searchd nodes.
package searchchaos
