// Package volume is one blobd volume server's needle store: many volumes in
// one directory, each a pair of files holding small and large blobs
// ("needles") back to back, in the manner of Facebook's Haystack.
//
// A Store owns a directory. Volume vid is the files <vid>.dat and <vid>.idx:
//
//	<vid>.dat  superblock (40 bytes: magic, format version, volume id,
//	           generation, created time, crc32c), then needles, each
//	           8-byte aligned:
//	             header 32 bytes: magic u32 | needle id u64 | cookie u32 |
//	                     flags u8 (bit0 tombstone) | 3 zero bytes |
//	                     data size u32 | crc32c(data) u32 | crc32c(header)
//	             data   (size bytes), then zero padding to a multiple of 8
//	<vid>.idx  a header like the superblock (same volume id and generation),
//	           then 32-byte entries, one per needle in .dat order (id,
//	           offset/8, size, cookie, data crc, flags, entry crc), and sync
//	           marks: after each Sync, an entry saying how much of .dat that
//	           fsync covered.
//
// Memory: the in-memory map holds, per needle, its id and 20 bytes (offset,
// size, cookie, crc, flags): measured at about 85 bytes per needle with the
// map's slack (1M needles), so a 4 KiB blob costs no file and ~2% of its
// size in RAM.
//
// Durability: Write streams the data into .dat (through one small copy
// buffer; the whole needle is never held in memory), then appends the index
// entry; the needle is readable at once and durable once Sync returns. Sync
// is a group commit: concurrent callers on one volume share one fdatasync of
// .dat and .idx. Open recovers from a crash at any instant: index entries
// covered by the last sync mark are trusted, later ones are checked against
// the needle they name (header and data CRC), and .dat past the last indexed
// needle is scanned for needles whose index entry was lost; the first torn or
// corrupt needle truncates both files there, so a torn tail is never
// exposed. Every Read checks the needle's header and the CRC32C of its whole
// data before returning a byte (ErrCorrupt otherwise), and the cookie
// (ErrCookieMismatch), so a guessed id reads nothing.
//
// Deletes append a tombstone; tombstones are kept by compaction, so a deleted
// id stays deleted (a Write of it fails with ErrDeleted) and replicas agree.
// Compact rewrites the live needles into a new generation of the files and
// swaps them in (a crash leaves the old or the new volume); CopyTo and
// ReceiveCopy move a whole volume between servers for repair, the receiver
// checking every needle before the copy becomes visible; Scrub re-reads
// every live needle to find bitrot.
//
// Concurrency: every Store method may be called from any goroutine. Writes
// and deletes to one volume are serialised; different volumes proceed in
// parallel; reads run alongside writes, Sync, scrubs, copies and compaction.
package volume
