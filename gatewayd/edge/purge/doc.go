// Package purge fans cache purges out to every edge node through raftkv.
//
// A publisher (the admin API's PurgeAll, `cairn cdn purge`) calls Publish to
// append one purge record to a log kept in raftkv, then Wait to see every
// live edge apply it. Every edge node runs a Subscriber: it registers itself
// under a lease, reads the records it has not applied yet, watches for new
// ones, applies each in order through its Apply callback and acknowledges it.
// Compact, called by publishers now and then, deletes old records.
//
// # Key layout
//
// Every key lives under a prefix (DefaultPrefix, "/cairn/edge/", when empty;
// a missing trailing "/" is added). Sequence numbers are written with 20
// decimal digits, zero-padded, so that the byte order of keys is the
// numeric order.
//
//	<prefix>purges/head              the Seq of the newest record ("17"); never deleted
//	<prefix>purges/log/<seq>         one record (JSON: spec, at, by, id)
//	<prefix>nodes/<node>             a live edge (JSON), attached to its lease
//	<prefix>applied/<node>           the highest Seq that edge applied (<seq>)
//	<prefix>acks/<seq>/<node>        entries that edge removed for that record
//
// Seq is a dense log index: the records are numbered 1, 2, 3, ... with no
// holes. Publish allocates it in one transaction that also writes the record:
// if the mod revision of purges/head is still the one it read, put head=N+1
// and purges/log/<N+1>. Transactions are serialised by raftkv, so the order
// of Seq is the order of the records' raftkv revisions (Seq is monotonic in
// commit order) and a record is visible exactly when its Seq is. The spec
// asked for the record's raftkv revision as Seq; a revision cannot name the
// record's key (it is known only once the write is done), so listing
// "everything after N" would mean reading the whole log or replaying raftkv
// history; a dense index makes it one key range read, [log/<N+1>, log/<head>],
// and makes a missing record plain to see (the first one retained is not
// N+1). Seq is opaque to callers either way: compare, store and wait on it.
//
// The create revision of purges/head identifies the log: a subscriber keeps
// it beside its last applied Seq, so that a log started afresh (raftkv
// wiped, purges/ deleted) is noticed rather than mistaken for the old one;
// a watching subscriber notices it when a record arrives that is not the
// next one. Delete the whole prefix, not purges/ alone, to start afresh:
// applied/<node> values left from the old log would make Wait count the
// nodes as having applied the new log's first records.
//
// # Subscribers
//
// Run registers the node (nodes/<node> under a lease of LeaseTTL, kept alive
// and registered again if lost, in a goroutine of its own) and catches up:
// at one raftkv revision it reads head and the records after its last
// applied Seq, writes applied/<node> = that Seq (which may lower it: a
// restarted edge without a state file starts from 0), applies the records in
// order, and then watches purges/log/ from the next revision. When the
// records it needs are no longer all there (Compact deleted some it had not
// applied, the log is not the one it knew, or a record cannot be decoded),
// it calls ApplyAll instead, which drops the whole cache, and carries on
// after what that covered. Any raftkv failure makes it back off and catch up
// again.
//
// After applying a record the subscriber persists its Seq to StateFile
// (written to a temporary file, fsynced, renamed; the directory fsynced) and
// then acknowledges it in one transaction: applied/<node> = Seq unless it
// already holds a larger one, and acks/<Seq>/<node> = removed. A record is
// acknowledged only after Apply returned. A crash before the state file was
// written makes the restarted edge apply the record again (purges are
// idempotent); a crash after it leaves the record acknowledged by the next
// catch-up's applied/<node>, without a removed count. An ApplyAll
// acknowledges the newest Seq it covers, with its count under that Seq.
//
// # Waiting
//
// Wait reads nodes/, applied/ and acks/<seq>/ at one revision, then follows
// the changes with a watch of the range acks/ .. nodes/. A node is live while
// its nodes/ key exists; it has applied seq when applied/<node> >= seq. Wait
// returns when every live node has applied seq: a node that dies stops being
// waited for when its lease expires (about LeaseTTL after its last renewal), and a node that
// (re)joins is waited for until it applies seq.
//
// # Compaction
//
// Compact deletes the records older than a retention (default 24 h) except
// the newest MinKeep (default 1000), with their acks, in two range
// deletions. Seq values are never reused: head stays. applied/<node> keys
// stay too (one small key per node name).
package purge
