package balance

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Errors returned by ParseAlgorithm, Options.Validate and New; the messages
// wrapping them name the field or value at fault.
var (
	// ErrUnknownAlgorithm is returned for an algorithm name that is not one of
	// the Algorithm constants (or "ip_hash" for ParseAlgorithm).
	ErrUnknownAlgorithm = errors.New("balance: unknown algorithm")
	// ErrInvalidOptions is returned for Options out of their limits.
	ErrInvalidOptions = errors.New("balance: invalid options")
	// ErrInvalidBackend is returned for a nil backend or a name used twice.
	ErrInvalidBackend = errors.New("balance: invalid backend")
)

// Algorithm names a load-balancing algorithm; the values are the names
// configuration files use.
type Algorithm string

// The algorithms New knows.
const (
	RoundRobin         Algorithm = "round_robin"          // in turn, ignoring weights
	WeightedRoundRobin Algorithm = "weighted_round_robin" // smooth (nginx style): in turn by weight, without bursts
	LeastConn          Algorithm = "least_conn"           // min inflight/weight; ties rotate
	LeastTime          Algorithm = "least_time"           // min (EWMA latency+ε) × (inflight+1) / weight; unmeasured backends tried first
	PowerOfTwo         Algorithm = "p2c"                  // two weighted-random choices, lower inflight/weight wins
	Random             Algorithm = "random"               // weighted random
	RingHash           Algorithm = "ring_hash"            // consistent hash ring, weighted virtual nodes, bounded loads
	Maglev             Algorithm = "maglev"               // Maglev lookup table (prime size, weighted)
)

// ipHash is accepted by ParseAlgorithm as a name for Maglev: the pool hashes
// the client's source address.
const ipHash = "ip_hash"

// algorithms lists the valid names in the order error messages give them.
var algorithms = []Algorithm{RoundRobin, WeightedRoundRobin, LeastConn, LeastTime, PowerOfTwo, Random, RingHash, Maglev}

// ParseAlgorithm returns the Algorithm named s. It also accepts "ip_hash",
// which is Maglev over the client's source address (the pool supplies the
// key). The error for any other string wraps ErrUnknownAlgorithm and lists
// the valid names.
func ParseAlgorithm(s string) (Algorithm, error) {
	if s == ipHash {
		return Maglev, nil
	}
	if slices.Contains(algorithms, Algorithm(s)) {
		return Algorithm(s), nil
	}
	names := make([]string, 0, len(algorithms)+1)
	for _, a := range algorithms {
		names = append(names, string(a))
	}
	names = append(names, ipHash)
	return "", fmt.Errorf("%w %q; valid: %s", ErrUnknownAlgorithm, s, strings.Join(names, ", "))
}

// Hashing reports whether the algorithm places a request by its key (ring_hash
// and maglev), so the pool must compute one.
func (a Algorithm) Hashing() bool { return a == RingHash || a == Maglev }

// Defaults and limits of Options.
const (
	DefaultLoadFactor = 1.25
	DefaultTableSize  = 65537     // prime
	DefaultRingSize   = 256       // points per unit of weight: 1024 for 4 backends of weight 1
	MaxTableSize      = 1<<24 - 3 // the largest prime below 2^24: 64 MiB of table
	MaxRingSize       = 4096
	// maxRingPoints caps a ring's points (12 bytes each); past it every
	// backend's count is scaled down alike.
	maxRingPoints = 1 << 18
)

// Options tunes the algorithms; the zero value is the defaults. Fields an
// algorithm does not use are still validated.
type Options struct {
	// Seed seeds the random choices of p2c and random. 0 is a seed like any
	// other; tests log the one they use.
	Seed uint64
	// LoadFactor is ring_hash's bound c: a backend of weight w takes a request
	// only while its in-flight count is below ceil(c·(T+1)·w/W), T the total
	// in flight over the picker's backends and W their total weight; past the
	// bound the request walks on along the ring. 0 means DefaultLoadFactor;
	// otherwise it must be at least 1 (math.Inf(1) turns the bound off).
	LoadFactor float64
	// TableSize is maglev's lookup table size, a prime; 0 means
	// DefaultTableSize. Keep it above 100× the number of backends for an
	// even spread.
	TableSize int
	// RingSize is ring_hash's virtual nodes per unit of weight; 0 means
	// DefaultRingSize. A backend's points depend only on its name and weight,
	// so adding or removing one moves only its own keys (unless the ring
	// would pass 2^18 points, when every backend's count is scaled down).
	RingSize int
	// Previous is the Picker the new one replaces (a pool rebuilds its
	// Picker when a backend comes or goes, or a weight changes), or nil.
	// Built over it, round robin goes on with its rotation, smooth
	// weighted round robin keeps the running values of the backends the
	// two share, and p2c and random go on with the same random stream,
	// instead of all starting over: a pool that rebuilds often (slow start
	// rebuilds several times a second) would otherwise favour the backends
	// the sequences start with.
	Previous Picker
}

// Validate reports the first field out of its limits, naming it.
func (o Options) Validate() error {
	if o.LoadFactor != 0 && (math.IsNaN(o.LoadFactor) || o.LoadFactor < 1) {
		return fmt.Errorf("%w: LoadFactor is %v, it must be at least 1 (or 0 for the default %v)", ErrInvalidOptions, o.LoadFactor, DefaultLoadFactor)
	}
	if o.TableSize != 0 {
		if o.TableSize < 2 || o.TableSize > MaxTableSize {
			return fmt.Errorf("%w: TableSize is %d, it must be a prime from 2 to %d (or 0 for the default %d)", ErrInvalidOptions, o.TableSize, MaxTableSize, DefaultTableSize)
		}
		if !isPrime(o.TableSize) {
			return fmt.Errorf("%w: TableSize %d is not prime", ErrInvalidOptions, o.TableSize)
		}
	}
	if o.RingSize < 0 || o.RingSize > MaxRingSize {
		return fmt.Errorf("%w: RingSize is %d, the limits are 1 to %d (or 0 for the default %d)", ErrInvalidOptions, o.RingSize, MaxRingSize, DefaultRingSize)
	}
	return nil
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.LoadFactor == 0 {
		o.LoadFactor = DefaultLoadFactor
	}
	if o.TableSize == 0 {
		o.TableSize = DefaultTableSize
	}
	if o.RingSize == 0 {
		o.RingSize = DefaultRingSize
	}
	return o
}

func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// Picker chooses a backend for one connection or request from a fixed set of
// backends; it is safe for concurrent use. Pools build a new Picker whenever
// the set of eligible backends or their weights change.
type Picker interface {
	// Pick returns a backend not rejected by skip (nil skip = none rejected),
	// or nil if every backend is rejected or the set is empty. key is the
	// client's hash key (see HashKey) for hashing algorithms; others ignore
	// it. Hashing algorithms walk on to the next backend of the ring/table
	// when one is skipped. skip is called synchronously, possibly under the
	// picker's lock: it must be quick and must not call the Picker.
	Pick(key uint64, skip func(*Backend) bool) *Backend
}

// New builds a Picker of algorithm alg over backends, which it copies (the
// Backends themselves are shared, not copied). An empty set is valid: its
// Picker returns nil. Errors wrap ErrUnknownAlgorithm, ErrInvalidOptions or
// ErrInvalidBackend (a nil backend or a repeated name).
func New(alg Algorithm, backends []*Backend, opts Options) (Picker, error) {
	if !slices.Contains(algorithms, alg) {
		return nil, fmt.Errorf("%w %q", ErrUnknownAlgorithm, string(alg))
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	opts = opts.withDefaults()
	bs := slices.Clone(backends)
	for i, b := range bs {
		if b == nil {
			return nil, fmt.Errorf("%w: backends[%d] is nil", ErrInvalidBackend, i)
		}
	}
	// Sorting by name finds repeats, and makes the hashing algorithms'
	// placement independent of the order the pool lists its backends in.
	sorted := slices.SortedFunc(slices.Values(bs), func(a, b *Backend) int { return cmp.Compare(a.Name, b.Name) })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Name == sorted[i-1].Name {
			return nil, fmt.Errorf("%w: name %q is used by two backends", ErrInvalidBackend, sorted[i].Name)
		}
	}
	if len(bs) == 0 {
		return emptyPicker{}, nil
	}
	switch alg {
	case RoundRobin:
		p := &roundRobin{backends: bs}
		if prev, ok := opts.Previous.(*roundRobin); ok {
			p.next.Store(prev.next.Load())
		}
		return p, nil
	case WeightedRoundRobin:
		p := newSmoothWRR(bs)
		if prev, ok := opts.Previous.(*smoothWRR); ok {
			p.carryOver(prev)
		}
		return p, nil
	case LeastConn:
		return &leastConn{backends: bs}, nil
	case LeastTime:
		return &leastTime{backends: bs}, nil
	case PowerOfTwo:
		r := newRNG(opts.Seed)
		if prev, ok := opts.Previous.(*powerOfTwo); ok {
			r = prev.rng
		}
		return &powerOfTwo{table: newWeightedTable(bs), rng: r}, nil
	case Random:
		r := newRNG(opts.Seed)
		if prev, ok := opts.Previous.(*random); ok {
			r = prev.rng
		}
		return &random{table: newWeightedTable(bs), rng: r}, nil
	case RingHash:
		return newRingHash(sorted, opts.RingSize, opts.LoadFactor), nil
	default: // Maglev
		return newMaglev(sorted, opts.TableSize), nil
	}
}

// emptyPicker is the Picker of an empty set.
type emptyPicker struct{}

func (emptyPicker) Pick(uint64, func(*Backend) bool) *Backend { return nil }
