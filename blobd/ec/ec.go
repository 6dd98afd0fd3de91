package ec

import (
	"fmt"
	"hash/crc32"
)

// Encode splits data into s.Shards() shards: shards[0:s.Data] hold the data,
// shards[s.Data:] the parity, each a complete stored shard (header and
// payload, HeaderSize+s.ShardSize(len(data)) bytes) ready to be written as one
// needle. data is not retained; the shards share one fresh allocation but do
// not overlap (each is capped at its own end). Empty data gives header-only
// shards. Errors: ErrInvalidScheme, ErrTooLarge.
func Encode(s Scheme, data []byte) ([][]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if len(data) > MaxDataBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxDataBytes)
	}
	size := s.ShardSize(len(data))
	stride := HeaderSize + size
	n := s.Shards()
	buf := make([]byte, n*stride)
	shards := make([][]byte, n)
	payloads := make([][]byte, n)
	for i := range shards {
		shards[i] = buf[i*stride : (i+1)*stride : (i+1)*stride]
		payloads[i] = shards[i][HeaderSize:]
	}
	for i := 0; i < s.Data; i++ {
		lo := min(i*size, len(data))
		copy(payloads[i], data[lo:min(lo+size, len(data))]) // the tail stays zero
	}
	if size > 0 && s.Parity > 0 {
		enc, err := encoder(s)
		if err != nil {
			return nil, err
		}
		if err := enc.Encode(payloads); err != nil {
			return nil, fmt.Errorf("ec: encode %v: %w", s, err)
		}
	}
	h := Header{Scheme: s, Length: len(data), Size: size, DataCRC: crc32c(data)}
	for i := range shards {
		h.Index = i
		h.PayloadCRC = crc32c(payloads[i])
		putHeader(shards[i], h)
	}
	return shards, nil
}

// Decode returns the chunk that shards encode. shards must have s.Shards()
// entries, shards[i] being the stored shard of index i or nil (or empty) if
// it is missing. Each shard is verified (ParseShard, plus its scheme and
// index against s and its position); one that fails counts as missing. Shards
// that disagree on the chunk (length and checksum) are grouped and the group
// of at least s.Data shards is decoded, the others counting as missing. If all
// data shards are intact Decode just concatenates them, otherwise it
// reconstructs the missing ones from parity; either way the result is checked
// against the chunk's CRC32C. shards and their bytes are not modified or
// retained; the result is fresh memory, empty but non-nil for an empty chunk.
// Errors: ErrInvalidScheme, ErrShardCount, ErrTooFewShards, ErrCorrupt.
func Decode(s Scheme, shards [][]byte) ([]byte, error) {
	sv, err := survey(s, shards)
	if err != nil {
		return nil, err
	}
	h := sv.header
	out := make([]byte, h.Length, s.Data*h.Size)
	if h.Size == 0 {
		return out, nil
	}
	full := out[:cap(out)]
	missing := false
	work := make([][]byte, s.Shards())
	for i := range work {
		switch {
		case sv.payloads[i] != nil:
			work[i] = sv.payloads[i]
			if i < s.Data {
				copy(full[i*h.Size:], sv.payloads[i])
			}
		case i < s.Data:
			// Zero length, capacity in place: the decoder writes there.
			work[i] = full[i*h.Size : i*h.Size : (i+1)*h.Size]
			missing = true
		}
	}
	if missing {
		enc, err := encoder(s)
		if err != nil {
			return nil, err
		}
		if err := enc.ReconstructData(work); err != nil {
			return nil, fmt.Errorf("ec: reconstruct %v: %w", s, err)
		}
	}
	if got := crc32c(out); got != h.DataCRC {
		return nil, fmt.Errorf("%w: decoded %d bytes with crc32c %08x, shards record %08x", ErrCorrupt, h.Length, got, h.DataCRC)
	}
	return out, nil
}

// Reconstruct rebuilds, in place, every shard of shards that is missing or
// fails verification (as in Decode), from any s.Data intact ones, and returns
// the indexes it replaced in increasing order (none if all were intact), so
// the repair loop writes out only those. A replaced entry is fresh memory;
// intact entries are left as they were. The rebuilt chunk is checked against
// its CRC32C before any entry is replaced, so on error shards is unchanged.
// Errors: ErrInvalidScheme, ErrShardCount, ErrTooFewShards, ErrCorrupt.
func Reconstruct(s Scheme, shards [][]byte) ([]int, error) {
	sv, err := survey(s, shards)
	if err != nil {
		return nil, err
	}
	h := sv.header
	var rebuilt []int
	fresh := make([][]byte, s.Shards())
	work := make([][]byte, s.Shards())
	for i := range work {
		if sv.payloads[i] != nil {
			work[i] = sv.payloads[i]
			continue
		}
		rebuilt = append(rebuilt, i)
		fresh[i] = make([]byte, HeaderSize+h.Size)
		work[i] = fresh[i][HeaderSize:HeaderSize]
	}
	if len(rebuilt) == 0 {
		return nil, nil
	}
	if h.Size > 0 {
		enc, err := encoder(s)
		if err != nil {
			return nil, err
		}
		if err := enc.Reconstruct(work); err != nil {
			return nil, fmt.Errorf("ec: reconstruct %v: %w", s, err)
		}
		// Check the chunk the data shards now spell out.
		var crc uint32
		left := h.Length
		for i := 0; i < s.Data && left > 0; i++ {
			n := min(left, h.Size)
			crc = crc32.Update(crc, castagnoli, work[i][:n])
			left -= n
		}
		if crc != h.DataCRC {
			return nil, fmt.Errorf("%w: rebuilt %d bytes with crc32c %08x, shards record %08x", ErrCorrupt, h.Length, crc, h.DataCRC)
		}
	}
	for _, i := range rebuilt {
		hi := h
		hi.Index = i
		hi.PayloadCRC = crc32c(fresh[i][HeaderSize:])
		putHeader(fresh[i], hi)
		shards[i] = fresh[i]
	}
	return rebuilt, nil
}

// surveyed is what survey found in a set of shards.
type surveyed struct {
	header   Header   // common header of the chosen group (Index and PayloadCRC meaningless)
	payloads [][]byte // payload of each intact shard of the group, nil otherwise
}

// survey verifies every shard and picks the chunk that at least s.Data of
// them agree on.
func survey(s Scheme, shards [][]byte) (surveyed, error) {
	var sv surveyed
	if err := s.Validate(); err != nil {
		return sv, err
	}
	if len(shards) != s.Shards() {
		return sv, fmt.Errorf("%w: %d, scheme %v needs %d", ErrShardCount, len(shards), s, s.Shards())
	}
	type chunkKey struct {
		length int
		crc    uint32
	}
	headers := make([]Header, len(shards))
	payloads := make([][]byte, len(shards))
	votes := make(map[chunkKey]int, 1)
	for i, b := range shards {
		if len(b) == 0 {
			continue
		}
		h, p, err := ParseShard(b)
		if err != nil || h.Scheme != s || h.Index != i {
			continue
		}
		headers[i], payloads[i] = h, p
		votes[chunkKey{h.Length, h.DataCRC}]++
	}
	var best chunkKey
	bestVotes, ties := 0, 0
	for k, v := range votes {
		switch {
		case v > bestVotes:
			best, bestVotes, ties = k, v, 0
		case v == bestVotes:
			ties++
		}
	}
	if bestVotes < s.Data {
		return sv, fmt.Errorf("%w: %d of %d intact for scheme %v (need %d)", ErrTooFewShards, bestVotes, len(shards), s, s.Data)
	}
	if ties > 0 {
		return sv, fmt.Errorf("%w: shards of %d different chunks, %d each", ErrCorrupt, ties+1, bestVotes)
	}
	for i, p := range payloads {
		if p == nil {
			continue
		}
		if (chunkKey{headers[i].Length, headers[i].DataCRC}) != best {
			continue
		}
		if sv.payloads == nil {
			sv.header = headers[i]
			sv.payloads = make([][]byte, len(shards))
		}
		sv.payloads[i] = p
	}
	return sv, nil
}
