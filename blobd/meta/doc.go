// Package meta is blobd's metadata state machine: the volume servers, the
// volumes and their servers, the needle-id counter, buckets with their
// lifecycle rules, objects with their chunk manifests, the reference count
// of every needle, multipart uploads and their parts, and access keys, in
// one bbolt file. [Store] implements raftnode.StateMachine; the package also
// holds the rules the S3 layer checks before proposing ([ValidateBucketName],
// [ValidateKey], [ValidateHeaders], [ValidateLifecycle], [ValidateAccessKey],
// [MultipartETag]) and constructors of the commands.
//
// The Raft layer feeds committed entries to [Store.ApplyBatch] from one
// goroutine. Each entry is a proto-encoded blobdraftv1.Command and each
// result a proto-encoded blobdraftv1.CommandResult. Applying is
// deterministic: times come only from the command's unix_nanos, volume and
// needle ids from counters, upload ids from the entry's index and a hash of
// the command. Each batch is one bbolt transaction that also records the
// last applied index, so entries at or below it (Raft replays its log after
// a restart) are skipped.
//
// A command that fails carries a node/rpcerr reason, a message and metadata
// (field, limit, part) in its result and changes nothing but the clock
// (see Rules); [ResultError]
// turns them back into this package's sentinels, and [Propose] does the
// whole round trip for a proposer.
//
// # Needles and references
//
// A chunk of an object or part names its needles: one (vid, nid, cookie)
// in a REPLICATED volume, or Data+Parity shards each in a SINGLE volume.
// The store keeps one reference record per (needle, owner chunk, shard), so
// a needle's count is the number of its records, never negative. A command
// that drops a needle's last reference (a replaced or deleted object, a
// replaced, unused or aborted part, a tier move) lists it once in the
// result's freed needles; the proposer deletes those from their volumes
// after the commit. Needles written but never committed (a failed PUT) are
// found by garbage collection: an id below [Store.NextNeedle] allocated
// more than a grace period ago ([Store.NeedleAllocatedAt]) that
// [Store.NeedleRefs] does not list.
//
// # Rules
//
//   - RegisterServer adds a server (UP) or updates a known one's addresses
//     and capacity; a DOWN server becomes UP, a DRAINING one stays so.
//     SetServerState sets UP, DOWN or DRAINING.
//   - CreateVolume takes the next volume id (1, 2, ...) on distinct,
//     registered, UP servers: one for SINGLE, at least one for REPLICATED.
//     SetVolumeReplicas replaces the servers only if they are expect_old
//     (PRECONDITION_FAILED otherwise); a server it adds must be UP.
//     DropVolume refuses a volume any reference names.
//   - AllocateNeedles hands out [first, first+count) of a counter starting
//     at 1 (count ≤ MaxNeedleBlock) and records the block's time.
//   - CreateBucket checks ValidateBucketName; an existing name is
//     BUCKET_EXISTS with the owner in metadata. DeleteBucket refuses a
//     bucket with objects or uploads (BUCKET_NOT_EMPTY).
//   - PutObject (bucket must exist, key valid) checks the manifest: chunks
//     contiguous from offset 0, 1..MaxChunkBytes each, summing to the size;
//     every needle allocated and in a volume of the right kind. If-None-Match
//     "*" fails when an object exists; If-Match fails with OBJECT_NOT_FOUND
//     without one and PRECONDITION_FAILED on another etag. The object's tier
//     defaults to the bucket's; its version and manifest index are the
//     entry's index.
//   - DeleteObject is idempotent (deleted tells whether there was one).
//   - SetObjectTier swaps the manifest only if the etag, the manifest index
//     ([ManifestIndex]: manifest_index, or the version in a record written
//     before it existed) and the version (unless 0) are the expected ones
//     (PRECONDITION_FAILED otherwise); the version is kept and the manifest
//     index becomes the entry's index, so of two movers (a tier move, a
//     shard rebuild) that read the same manifest only the first swaps it.
//     SetRestore keeps both and applies only to ARCHIVE objects
//     (INVALID_OBJECT_STATE).
//   - Needle ages: every entry advances the clock (the largest unix_nanos
//     applied; [Store.Clock]); Tick does only that. A PutObject, PutPart or
//     SetObjectTier whose needle_max_age_nanos is set fails with
//     REQUEST_TIMEOUT ([ErrNeedleTooOld]) if it names a needle no reference
//     holds yet that was allocated more than that before the clock.
//     Garbage collection deletes only unreferenced needles older than its
//     grace by the clock read before the references, so no later command
//     can make a needle it deleted referenced.
//   - CreateMultipartUpload returns an id of UploadIDLen hex digits. PutPart
//     (1..MaxParts, etag a lowercase hex MD5) replaces a part of the same
//     number. CompleteMultipartUpload checks, as S3, in order: parts
//     strictly ascending (INVALID_PART_ORDER), each uploaded with that etag
//     (INVALID_PART), each but the last ≥ MinPartSize (ENTITY_TOO_SMALL),
//     then the conditions; the object's chunks are the parts' in order with
//     offsets shifted, its etag MultipartETag of the parts', its version and
//     manifest index the entry's index. An upload id of
//     another bucket or key is UPLOAD_NOT_FOUND.
//   - PutAccessKey creates or replaces a key (created time kept);
//     DeleteAccessKey of an unknown key is ACCESS_KEY_NOT_FOUND.
//
// Reads ([Store.Object], [Store.ListObjects], [Store.NeedleRefs], ...) may
// be called concurrently with each other and with ApplyBatch, and see every
// batch ApplyBatch returned. They read the local state: a caller that needs
// a linearizable read does the Raft read barrier first. [Store.Changed]
// wakes whoever reacts to new state.
//
// On-disk layout (bbolt buckets; integers big-endian):
//
//	meta         "applied", "next_volume", "next_needle", "clock" → uint64
//	servers      server id → ServerRecord
//	volumes      vid → VolumeRecord
//	needleblocks first id → NeedleBlockRecord
//	buckets      name → BucketRecord
//	objects      bucket ‖ 0 ‖ key → ObjectRecord
//	uploads      upload id → UploadRecord
//	uploadkeys   bucket ‖ 0 ‖ key ‖ 0 ‖ upload id → ∅
//	parts        upload id ‖ part number → PartRecord
//	refs         vid ‖ nid ‖ owner ‖ chunk ‖ shard+1 → RefRecord (see refKey)
//	accesskeys   id → AccessKeyRecord
package meta
