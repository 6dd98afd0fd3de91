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
// Reads ([Store.Range], [Store.Events], [Store.Lease], ...) run in bbolt read
// transactions and may be called concurrently with each other and with
// ApplyBatch. [Store.Snapshot] and [Store.Restore] copy and replace the whole
// database.
//
// On-disk layout (bbolt buckets):
//
//	meta        "applied" → uint64 BE raft index, "rev" → int64 BE store revision,
//	            "compact" → int64 BE compacted revision
//	kv          raw key → KeyValue (the state at the current revision)
//	history     escape(key) ‖ 0x00 0x01 ‖ rev BE → 'p' ‖ KeyValue, or 'd' (tombstone)
//	events      rev BE ‖ sub uint32 BE → Event (with prev_kv)
//	leases      id BE → LeaseRecord
//	lease_keys  id BE ‖ raw key → empty
//
// escape maps 0x00 to 0x00 0xFF and terminates the key with 0x00 0x01, so that
// history keys sort by user key first (in the user keys' byte order) and then by
// revision.
package mvcc
