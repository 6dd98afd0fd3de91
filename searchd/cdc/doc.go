// Package cdc keeps a searchd index following a raftkv key prefix: change
// data capture for the "primary database + search engine" pattern. Every
// key under the prefix whose value is a JSON object is a document of the
// index (its id is the key without the prefix, made URL-safe by DocID); a
// put indexes it, a delete deletes it.
//
// A Syncer runs in the foreground (`cairn search sync`) until its context
// ends:
//
//	s, err := cdc.New(cdc.Config{Prefix: "/shop/products/", Index: "products"}, kv, conn)
//	err = s.Run(ctx)
//
// # Progress and restarts
//
// The last raftkv revision applied to the index is stored in raftkv itself,
// under Config.ProgressKey (default /cairn/searchd/sync/<index>), as JSON
// {"revision","prefix","index"}. raftkv rather than a local file: the sync
// is a stateless process that may be restarted on any machine, the progress
// is then as durable and as replicated as the data it describes, and the
// compaction that can invalidate it happens in the same store. Progress is
// saved only after searchd acknowledged every write up to that revision
// (at most once a second, and when Run ends), so a restart resumes from the
// saved revision + 1 and replays at most what followed: replay is
// idempotent (a put is an upsert by id, a delete of a missing document is
// a no-op).
//
// # Full resync
//
// With no saved progress (or progress for another prefix), and whenever the
// watch reports that the revision to resume from has been compacted away
// (ErrCompacted: the deletes in the gap are lost from raftkv's history), the
// Syncer resynchronises: it reads the whole prefix at one revision R (pages
// of PageSize keys, all at R), indexes every document, refreshes the index,
// then lists the index's ids (a match_all search sorted by _id, paged with
// search_after) and deletes every document whose key is not under the
// prefix at R, saves R and watches from R+1. The index is therefore owned
// by the sync: documents written to it by others are deleted by a resync.
//
// # Failures
//
// A value that is not a JSON object, a key equal to the prefix, and a
// document searchd refuses (a mapping conflict) are skipped, logged and
// counted (Stats.Skipped); they do not stop the sync. A Bulk call that fails
// as a whole (searchd unavailable) is retried with backoff until it
// succeeds or the context ends; the progress does not move past it.
package cdc
