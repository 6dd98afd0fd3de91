package ec

import (
	"fmt"
	"sync"

	"github.com/klauspost/reedsolomon"
)

// MaxShards is the most shards (Data+Parity) a Scheme may have. blobd places
// every shard of a chunk on a distinct volume server, so this is far above any
// useful scheme; it keeps headers and encoder tables small.
const MaxShards = 32

// Scheme is an erasure-coding scheme: a chunk becomes Data data shards and
// Parity parity shards, and any Data of the Data+Parity shards recover it, so
// up to Parity shards (servers) may be lost. The zero Scheme is invalid.
type Scheme struct {
	Data   int // data shards, ≥ 1
	Parity int // parity shards, ≥ 0
}

// String returns the scheme as "Data+Parity", e.g. "4+2".
func (s Scheme) String() string { return fmt.Sprintf("%d+%d", s.Data, s.Parity) }

// Shards returns Data+Parity, the number of shards (and distinct servers) a
// chunk needs.
func (s Scheme) Shards() int { return s.Data + s.Parity }

// Validate returns nil if 1 ≤ Data, 0 ≤ Parity and Data+Parity ≤ MaxShards,
// else an error wrapping ErrInvalidScheme.
func (s Scheme) Validate() error {
	if s.Data < 1 || s.Parity < 0 || s.Data+s.Parity > MaxShards {
		return fmt.Errorf("%w: %d+%d (need data ≥ 1, parity ≥ 0, data+parity ≤ %d)",
			ErrInvalidScheme, s.Data, s.Parity, MaxShards)
	}
	return nil
}

// Overhead returns the storage cost per byte of chunk, (Data+Parity)/Data,
// ignoring the per-shard header and the padding of the last data shard:
// 1.5 for 4+2 (against 3.0 for three replicas). It returns 0 for an invalid
// scheme.
func (s Scheme) Overhead() float64 {
	if s.Validate() != nil {
		return 0
	}
	return float64(s.Data+s.Parity) / float64(s.Data)
}

// ShardSize returns the payload size of every shard of a chunk of n bytes,
// ceil(n/Data); a stored shard is HeaderSize bytes longer.
func (s Scheme) ShardSize(n int) int {
	if s.Data < 1 || n <= 0 {
		return 0
	}
	return (n + s.Data - 1) / s.Data
}

// ForServers returns the default scheme for a cluster of n volume servers,
// every shard on a distinct server:
//
//	servers  scheme  survives  overhead
//	≥ 6      4+2     2 lost    1.50×
//	5        3+2     2 lost    1.67×
//	4        2+2     2 lost    2.00×
//	3        2+1     1 lost    1.50×
//
// With six or more servers the scheme stays 4+2 (wider stripes would lower the
// overhead but make every read and repair touch more servers). Below three
// servers it returns ErrTooFewServers: keep such data replicated.
func ForServers(n int) (Scheme, error) {
	switch {
	case n >= 6:
		return Scheme{Data: 4, Parity: 2}, nil
	case n >= 4:
		return Scheme{Data: n - 2, Parity: 2}, nil
	case n == 3:
		return Scheme{Data: 2, Parity: 1}, nil
	default:
		return Scheme{}, fmt.Errorf("%w: %d (erasure coding needs at least 3)", ErrTooFewServers, n)
	}
}

// encoders caches one reedsolomon.Encoder per scheme: building one inverts a
// matrix, and an Encoder (safe for concurrent use) also caches the inverted
// matrices of the loss patterns it has seen. Entries are never removed; there
// are at most MaxShards*MaxShards of them.
var encoders sync.Map // Scheme → reedsolomon.Encoder

// encoder returns the cached encoder for a valid scheme s.
func encoder(s Scheme) (reedsolomon.Encoder, error) {
	if e, ok := encoders.Load(s); ok {
		return e.(reedsolomon.Encoder), nil
	}
	e, err := reedsolomon.New(s.Data, s.Parity)
	if err != nil {
		return nil, fmt.Errorf("ec: scheme %v: %w", s, err)
	}
	actual, _ := encoders.LoadOrStore(s, e)
	return actual.(reedsolomon.Encoder), nil
}
