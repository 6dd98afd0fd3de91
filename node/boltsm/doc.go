// Package boltsm hosts a Raft state machine (raftnode.StateMachine) whose
// state is one bbolt file and whose every applied batch is one committed
// bbolt transaction. A daemon supplies the buckets and an ApplyFunc that
// applies one entry inside the batch's write transaction; the host does the
// rest: opening and initializing the file, skipping entries at or below the
// applied index, recording the applied index, waking Changed's waiters,
// snapshots, restores through node/boltfile, failure and Close.
//
//	st, err := boltsm.Open(path, buckets, apply, boltsm.Options{
//		Name: "streamd meta", ErrClosed: ErrClosed, ErrCorrupt: ErrCorrupt})
//	// st.ApplyBatch, st.Snapshot and st.Restore from the Raft apply loop;
//	// st.View from readers; st.Close once.
//
// # On disk
//
// The applied index is an 8-byte big-endian integer under key "applied" in
// bucket "meta", which Open creates with the daemon's buckets. The daemon
// may keep keys of its own in "meta" but never writes "applied". A snapshot
// is the whole bbolt file; Restore accepts one only when it holds every
// bucket and a readable applied index.
//
// # Transactions
//
// The host holds every transaction: ApplyBatch runs the ApplyFunc of each
// entry inside one write transaction it begins and commits, View runs its
// function inside one read transaction, and a Snapshot holds one read
// transaction until it is released. An ApplyFunc or a View function must not
// keep the transaction, or anything read from it, after it returns.
//
// # Concurrency and lock order
//
// ApplyBatch, Snapshot and Restore are called from one goroutine at a time
// (the Raft apply loop); AppliedIndex, LastApplied, Changed, View and Close
// are safe for concurrent use, concurrently with them too.
//
// Lock order: applyMu, mu, changedMu. applyMu serializes ApplyBatch,
// Snapshot, Restore and Close; mu guards the database handle (held for
// reading while it is used, for writing while Restore or Close replaces or
// closes it). bbolt adds one wait of its own: a commit that grows the file
// waits for open read transactions. So no goroutine that holds a read
// transaction of the store (a View function, a snapshot not yet released)
// may wait for the apply loop: a View function must not propose, and a
// snapshot is written from another goroutine than the apply loop.
//
// # Changed
//
// Changed returns a channel that is closed after the next batch in which an
// ApplyFunc reported a change, or after a Restore; a batch that changed
// nothing (every entry skipped or failed) closes nothing. A waiter calls
// Changed again for the next change; it may miss none, since the channel it
// holds is closed by the first change after it got it.
//
// # Errors
//
// Options.ErrClosed and Options.ErrCorrupt are the daemon's sentinels: the
// host returns them (ErrCorrupt wrapped) so that the daemon's callers match
// its errors only. An error from an ApplyFunc is a storage failure: the
// batch is rolled back, and the store refuses every later batch, snapshot
// and restore (View still reads the last committed state).
//
// streamd/meta and blobd/meta use it.
package boltsm
