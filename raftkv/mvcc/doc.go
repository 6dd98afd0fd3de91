// Package mvcc is raftkv's replicated state machine storage: a multi-version
// key-value store on bbolt with etcd's data model (a global revision, per-key
// create/mod revisions and versions, leases, an event history for watchers and
// compaction).
//
// The Raft layer feeds committed log entries to [Store.ApplyBatch], always from
// one goroutine. Applying is deterministic: replicas that apply the same entries
// end with byte-identical state and produce identical results and events. The
// last applied Raft index is stored in the same bbolt transaction as the effects
// of the entries, so entries replayed after a crash are skipped.
//
// Storage is split the way etcd splits it. On disk, every change is a record
// keyed by its revision, so the write path only appends: a batch of puts
// dirties a few sequential leaf pages instead of random ones in per-key trees.
// In memory, a key index (an ordered B-tree over user keys) lists, for every
// key, the revisions of its changes still on disk; reads walk the index, pick
// for each key the newest change at or below the read revision, and fetch
// those records. The index is built by one scan of the records at Open and
// after Restore. Compaction drops the records, and index entries, that no read
// at or after the compact revision needs.
//
// Reads ([Store.Range], [Store.Events], [Store.Lease], ...) hold the index
// lock for reading while they look up the index and open a bbolt read
// transaction, and may be called concurrently with each other and with
// ApplyBatch, which publishes a batch's changes to the index only after its
// commit. [Store.Snapshot] and [Store.Restore] copy and replace the whole
// database.
//
// On-disk layout (bbolt buckets):
//
//	meta    "applied" → uint64 BE raft index, "rev" → int64 BE store revision,
//	        "compact" → int64 BE compacted revision
//	revs    rev BE ‖ sub uint32 BE → prev rev BE ‖ prev sub uint32 BE ‖ KeyValue
//	leases  id BE → LeaseRecord
//
// A revs record holds the key after the change (for a delete, a tombstone:
// only key and mod_revision, so version 0) and locates the record of the key's
// previous value (0 if none), which is the event's prev_kv. The keys attached
// to each lease are kept in memory only, derived from the keys' current values.
package mvcc
