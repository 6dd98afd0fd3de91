// Package ec erasure-codes and compresses blobd chunks for the cool and
// archive tiers.
//
// A chunk (at most MaxDataBytes; blobd's chunks are 8 MiB) is split by
// Reed-Solomon (github.com/klauspost/reedsolomon) into Scheme.Data data shards
// and Scheme.Parity parity shards. Each shard is self-describing: a fixed
// HeaderSize-byte header records the scheme, the shard's index, the chunk's
// length and CRC32C, the payload's size and CRC32C, and a CRC32C of the header
// itself; the payload follows. Any Data intact shards give the chunk back:
// Decode verifies every shard it is handed and treats a damaged, truncated or
// misplaced one exactly as a missing one, so bitrot in a shard costs
// redundancy, never correctness. Reconstruct rebuilds missing or damaged
// shards in place for the repair loop and says which it rebuilt, so only those
// need writing out. Each shard is stored as one needle in a single-copy volume
// on a distinct volume server; ForServers picks the default scheme for a
// cluster of a given size and Scheme.Overhead states its storage cost.
//
// The archive tier compresses a chunk before encoding it: Compress wraps zstd
// (github.com/klauspost/compress/zstd) in a small header that also records the
// original length and CRC32C, and stores data that does not compress
// (already-compressed media, encrypted data) raw, so it costs neither space
// nor decompression time. Decompress verifies length and CRC.
//
// Every function here is pure and safe for concurrent use; none keeps a
// reference to its input after returning (Encode and Reconstruct return fresh
// memory; Decode's result is fresh memory too).
//
// Shard wire format (little endian, HeaderSize = 32 bytes):
//
//	magic u32 ("BEC1") | version u8 (1) | data u8 | parity u8 | index u8 |
//	chunk length u32 | payload size u32 | crc32c(chunk) u32 |
//	crc32c(payload) u32 | reserved u32 (0) | crc32c(header bytes 0..28) u32
//	payload (payload size bytes) = ceil(chunk length / data) bytes
//
// Data shard i holds chunk bytes [i*size, (i+1)*size), zero-padded at the end;
// parity shards hold the Reed-Solomon parity of the data shards' payloads.
//
// Compressed frame format (little endian, CompressHeaderSize = 12 bytes):
//
//	method u8 (0 raw, 1 zstd) | reserved 3 bytes (0) | original length u32 |
//	crc32c(original) u32
//	body: the original bytes (raw) or one zstd frame
package ec
