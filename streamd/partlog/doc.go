// Package partlog is one partition replica's log on disk: the leader and the
// followers of a streamd partition each keep one.
//
// A Log lives in one directory. Records are stored as the batches producers
// sent (see streamd/record), in segment files <base offset %020d>.log, each
// with a sparse offset index (.index: relative offset uint32 and position
// uint32, one entry per IndexIntervalBytes of log) and a time index
// (.timeindex: max timestamp int64 and relative offset uint32, one entry when
// the segment's largest timestamp grew and IndexIntervalBytes passed, and a
// closing one when the segment is sealed). The last segment is the active
// one; it is rolled by size or age. Beside them: leader-epoch-checkpoint (the
// epoch cache, "epoch start" lines, replaced atomically), producer-state
// snapshots <offset>.snapshot taken at each roll and at Close,
// recovery-point (the base of a segment every earlier one of which is
// durable) and log-start-offset (written by TruncateFullyAndStartAt). The
// high watermark is left to the server.
//
// Appends write the caller's batch bytes as they are, after setting the base
// offset and leader epoch in place; nothing is fsynced until Sync, which the
// server calls in a group-commit loop. Reads are preads of the files into a
// buffer the caller owns. Indexes are kept in memory (about 0.5% of the log's
// size) and appended to their files; Open recovers from a crash at any
// instant (see Open).
//
// Concurrency: one writer at a time (Append, AppendExpect, AppendReplica,
// TruncateTo, TruncateFullyAndStartAt, EnforceRetention, Compact are
// serialised inside); Read, OffsetForTime and the accessors run concurrently
// with it; Sync runs concurrently with appends.
package partlog
