// Package blobd is cairn's replicated blob store: buckets of objects cut
// into chunks, kept on volume servers as replicas or erasure-coded shards,
// with their metadata in a Raft group, served over gRPC (cairn.blobd.v1)
// and, through package blobd/s3, the Amazon S3 API.
//
// Every node is three things at once: a voter of the metadata Raft group
// (blobd/meta on node/raftnode's daemon skeleton: buckets, object
// manifests, multipart uploads, volumes and their servers, needle reference
// counts, access keys, lifecycle rules), a volume server (a blobd/volume
// store of Haystack-style needle files), and a front end that takes any
// object read or write.
//
// # Writes
//
// PutObject streams the body into chunks of Config.ChunkBytes (8 MiB). A
// hot chunk is one needle written to the Config.Replicas (3) servers of a
// writable replicated volume in parallel and fsynced on each; a cool chunk
// is Reed-Solomon coded (blobd/ec, e.g. 3+2 on five servers) into shards,
// each a needle in a single-copy volume on a distinct server; an archive
// chunk is compressed first, then coded. Only when every copy or shard of
// every chunk is fsynced does the node commit the manifest through Raft (a
// majority of voters fsync it); then it answers. A write that fails before
// the commit leaves needles nothing references, which garbage collection
// removes after Config.GCGrace; nothing partial is ever visible, and an
// upload that outlasts 3/4 of the grace is refused (REQUEST_TIMEOUT) rather
// than committed over needles the collector may have taken. The metadata
// backs this up: a commit (of an object, a part, a tier move or a shard
// rebuild) naming an unreferenced needle older than the grace by the
// metadata's own clock, which is what the collector measures by, fails
// with REQUEST_TIMEOUT however late it arrives (gc.go).
//
// # Reads
//
// Manifest reads are linearizable (the Raft read barrier), so a listing or
// a read right after an acknowledged write sees it. Chunks are fetched
// lazily, local copy first, and every byte is checked against its needle's
// CRC32C before it is returned: a failed copy or server is skipped, shards
// are decoded from any Data of them, and a chunk nothing can serve fails
// the read (DATA_UNAVAILABLE) rather than return wrong bytes.
//
// # Redundancy over time
//
// Servers heartbeat the metadata leader, which marks a silent one DOWN
// after Config.ServerTimeout and keeps writable volumes placed on live
// servers (placement.go). The leader's repair loop (repair.go) restores
// every volume with a copy on a DOWN server, a damaged copy or corrupt
// needles: a replicated volume is made read-only, copied from a healthy
// replica to another server and its replica list swapped; lost shards are
// rebuilt from the others and the manifest swapped. Every node scrubs its
// volumes (scrub.go), garbage-collects unreferenced needles and compacts
// (gc.go); the leader applies lifecycle rules and restores (lifecycle.go,
// restore.go). Manifest swaps (tier moves, shard rebuilds) expect the
// manifest index they read, so two of them never both commit over one
// manifest. Server.Repair reports the redundancy, and never says healthy
// while a copy is known bad or missing or its server has not reported.
//
// # Errors
//
// Errors are this package's and blobd/meta's sentinels, each with a
// node/rpcerr reason (ReasonOf); the gRPC services map them with one
// function (toStatus), the S3 front end by reason to S3's error codes.
package blobd
