// Package searchd is cairn's sharded, replicated full-text search daemon.
//
// Every node is a member of the metadata Raft group (searchd/meta on
// node/raftnode: indexes, mappings, shard placement and copy states), holds
// shard copies (searchd/engine shards fed from streamd) and answers every
// service of cairn.searchd.v1, forwarding what it does not hold.
//
// Writes: an index has a streamd topic with one partition per shard
// (engine.ShardOf routes an id); a put or delete is acknowledged once
// produced with acks=all, its offset is its seq_no. The record's key is the
// id, its value the source (nil: a delete), its header "mv" the mapping
// version it was parsed with. New fields found by dynamic mapping are
// committed through Raft before the record is produced.
//
// Copies: each copy on a node runs a consumer that applies its partition in
// order, refreshes every refresh_interval, and commits its segments with
// the next offset to apply every CommitInterval or CommitOps writes and on
// close; on restart it resumes from its commit. The metadata leader checks
// on every node each HeartbeatInterval; the copies of a node silent for
// NodeTimeout become LOST and are replaced on other nodes, rebuilt from a
// STARTED copy (CopyShard: a commit point and its offset) and marked
// STARTED once caught up.
//
// Reads: searches pick one STARTED copy per shard, run the DFS phase
// (ShardTermStats), then ShardSearch with the summed statistics, and merge
// (query.Merge). Gets wait for a copy to reach the partition's high
// watermark (read-your-writes).
//
// The Elasticsearch HTTP API (package searchd/es) attaches to a Server
// through IndexService, DocumentService, SearchService, RunWhileServing and
// OnRelease (node/httpapi.Host); searchd does not import it.
package searchd
