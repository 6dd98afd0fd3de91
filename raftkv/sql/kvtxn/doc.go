// Package kvtxn runs optimistic transactions over raftkv for the SQL layer.
//
// A DB wraps a raftkv client; Begin starts a Txn. A Txn buffers its writes in
// memory and sends them, with the conditions that validate its reads, as one
// raftkv Txn at Commit. Nothing is locked on the server.
//
// # Serializable (the default)
//
// The first read takes the snapshot revision R: it is a linearizable read and
// R is the revision in its response header. Every later read happens at R, so
// the transaction sees one consistent state. Reads record the key spans they
// observed: the key of a Get, [start, end) of a Scan that reached its end, and
// [start, last key delivered] of a Scan that stopped early. Commit sends one
// raftkv Txn whose compares say "no key in any read span changed, by a put or
// a delete, after R" (COMPARE_TARGET_CHANGED < R+1) and whose success ops are
// the buffered writes; when a compare fails the Txn writes nothing and Commit
// returns ErrConflict (SQLSTATE 40001). A transaction validated that way
// behaves as if it had run at its commit revision, so the history is
// serializable. A read-only transaction commits without any RPC: its reads are
// one consistent snapshot.
//
// Reads see the transaction's own writes: Get returns a buffered value, Scan
// merges buffered puts into the snapshot in key order and hides keys the
// transaction deleted. A Scan sees the buffer as it was when the Scan began,
// not writes made by fn during the Scan (a statement does not see its own
// changes).
//
// Spans are merged as they are added. Past Options.MaxReadSpans spans (or
// readSpanBytes of span keys) the two neighbouring spans closest in key space
// are collapsed into one covering both: the check gets coarser (more false
// conflicts), never weaker.
//
// # Read committed
//
// StartStatement makes the next read take a fresh revision; the reads of one
// statement share it. Only the keys passed to LockForUpdate are validated at
// Commit: each must not have changed after the revision at which it was read.
//
// # Ambiguous commits
//
// The commit Txn also puts a marker key (under /cairn/sql/txn/, unique per
// transaction) and is guarded by CREATE(marker) = 0. When the commit RPC fails
// in a way that leaves its outcome unknown (client.IsUnknownOutcome: the
// request may have been applied), Commit resolves it: it runs
// "if CREATE(marker) = 0 then put marker 'aborted' else get marker", retried
// until it gets an answer or the resolution deadline passes. Finding the
// marker committed means the transaction committed; finding it absent poisons
// it, so a commit still in flight can never apply, and the transaction did not
// commit (Commit returns ErrConflict: retrying is safe). Only when no answer
// comes does Commit return ErrAmbiguous (SQLSTATE 40003).
//
// Markers must not accumulate: each is attached to a lease the DB grants
// lazily, with a TTL of markerLeaseTTL (5 minutes) and never renewed; a new
// lease replaces it for new commits every markerLeaseRotate (1 minute). A
// marker thus lives 4 to 5 minutes and the raftkv lease expiry deletes a
// minute's markers at once. Resolution stays sound: the poisoning put uses
// the transaction's lease, so it fails with "lease not found" (and Commit
// returns ErrAmbiguous) exactly when the lease, and with it a marker the
// commit may have written, is gone; while the lease exists, an applied
// commit's marker exists too. DeleteRange never deletes markers: buffered
// range deletes are clipped around /cairn/sql/txn/, and Put and Delete refuse
// keys there.
//
// # Limits
//
// A transaction buffers at most Options.MaxWrites writes and MaxWriteBytes
// bytes of keys and values; Put, Delete and DeleteRange past them return an
// error wrapping ErrTooLarge (SQLSTATE 54000) that names the limit. The
// defaults fit raftkv's default request limits (max_request_bytes 1.5 MiB,
// max_txn_ops 16384); a server with lower limits refuses the commit, and
// Commit reports that as ErrTooLarge naming the server's limit.
//
// # Concurrency
//
// A DB is safe for concurrent use; a Txn is used by one goroutine at a time.
package kvtxn
