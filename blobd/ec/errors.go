package ec

import "errors"

// Errors returned by this package. Test with errors.Is; the returned errors
// wrap these with detail (which shard, which field).
var (
	// ErrInvalidScheme: a Scheme outside 1 ≤ Data, 0 ≤ Parity,
	// Data+Parity ≤ MaxShards.
	ErrInvalidScheme = errors.New("ec: invalid scheme")
	// ErrTooFewServers: ForServers was asked for a cluster too small to
	// spread an erasure-coded chunk over distinct servers with redundancy.
	ErrTooFewServers = errors.New("ec: too few volume servers for erasure coding")
	// ErrTooLarge: the data exceeds MaxDataBytes.
	ErrTooLarge = errors.New("ec: data too large")
	// ErrShardCount: the shard slice does not hold Data+Parity entries.
	ErrShardCount = errors.New("ec: wrong number of shards")
	// ErrTooFewShards: fewer than Data shards are intact (present, CRC
	// correct, of this scheme and chunk), so the chunk cannot be decoded.
	ErrTooFewShards = errors.New("ec: too few intact shards")
	// ErrBadShard: one shard failed verification (header, CRC, size or
	// index). Decode and Reconstruct never return it: they count such a
	// shard as missing. ParseShard returns it.
	ErrBadShard = errors.New("ec: bad shard")
	// ErrCorrupt: decoded data did not match the CRC32C recorded in the
	// shards or the compressed frame, or a shard set holds enough intact
	// shards of two different chunks that neither can be preferred (a
	// placement bug, never expected).
	ErrCorrupt = errors.New("ec: data corrupt")
	// ErrBadFrame: Decompress was given bytes that are not a valid
	// compressed frame.
	ErrBadFrame = errors.New("ec: bad compressed frame")
)
