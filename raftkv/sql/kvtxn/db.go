package kvtxn

import (
	"context"
	"sync"
	"time"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	"cairn.dev/cairn/raftkv/client"
)

// Defaults for Options fields left zero.
const (
	// DefaultMaxWrites is the default Options.MaxWrites.
	DefaultMaxWrites = 10000
	// DefaultMaxWriteBytes is the default Options.MaxWriteBytes: 1 MiB of
	// keys and values leaves, of raftkv's default max_request_bytes (1.5
	// MiB), room for the op framing (a few bytes per op) and the read-set
	// compares (at most readSpanBytes).
	DefaultMaxWriteBytes = 1 << 20
	// DefaultMaxReadSpans is the default Options.MaxReadSpans.
	DefaultMaxReadSpans = 1000
	// DefaultPageSize is the default Options.PageSize.
	DefaultPageSize = 512
)

// readSpanBytes bounds the key bytes of a transaction's read spans (they are
// collapsed past it), so the compares fit in a raftkv request beside
// DefaultMaxWriteBytes of writes.
const readSpanBytes = 256 << 10

// Marker lease timing: see the package documentation.
const (
	markerLeaseTTL    = 5 * time.Minute
	markerLeaseRotate = time.Minute
)

// markerPrefix is where commit markers live.
const markerPrefix = "/cairn/sql/txn/"

// Options bounds transactions. Zero fields take the defaults.
type Options struct {
	// MaxWrites caps the writes a transaction buffers, counted as the raftkv
	// ops its commit sends (a put or delete of a key, a deleted range, and a
	// put inside a deleted range counts twice). Default DefaultMaxWrites
	// (10000); raftkv's max_txn_ops must exceed it.
	MaxWrites int
	// MaxWriteBytes caps the key and value bytes of the buffered writes.
	// Default DefaultMaxWriteBytes (1 MiB); it must stay below raftkv's
	// max_request_bytes with room for the compares.
	MaxWriteBytes int
	// MaxReadSpans caps the read spans a serializable transaction validates
	// at commit; past it, neighbouring spans are collapsed into coarser ones
	// (never an error). Default DefaultMaxReadSpans (1000); raftkv's
	// max_txn_ops must exceed it.
	MaxReadSpans int
	// PageSize is how many keys a Scan asks raftkv for at a time. Default
	// DefaultPageSize (512).
	PageSize int
}

func (o Options) withDefaults() Options {
	if o.MaxWrites <= 0 {
		o.MaxWrites = DefaultMaxWrites
	}
	if o.MaxWriteBytes <= 0 {
		o.MaxWriteBytes = DefaultMaxWriteBytes
	}
	if o.MaxReadSpans <= 0 {
		o.MaxReadSpans = DefaultMaxReadSpans
	}
	if o.PageSize <= 0 {
		o.PageSize = DefaultPageSize
	}
	return o
}

// DB runs transactions over one raftkv client. It is safe for concurrent use.
// The client stays the caller's: the DB never closes it.
type DB struct {
	kv   *client.Client
	opts Options

	// send sends a commit or resolution txn; tests replace it to lose
	// requests or answers.
	send func(ctx context.Context, cmps []client.Cmp, then, els []client.Op) (*raftkvv1.TxnResponse, error)
	// leaseTTL and leaseRotate are markerLeaseTTL and markerLeaseRotate,
	// shorter in tests.
	leaseTTL, leaseRotate time.Duration

	mu           sync.Mutex // protects the fields below; held while granting a lease
	lease        int64      // the lease new markers are attached to, 0 for none yet
	leaseGranted time.Time  // when lease was asked for (it expires no earlier than leaseTTL later)
}

// New returns a DB using kv with opts (zero fields take the defaults).
func New(kv *client.Client, opts Options) *DB {
	db := &DB{kv: kv, opts: opts.withDefaults(), leaseTTL: markerLeaseTTL, leaseRotate: markerLeaseRotate}
	db.send = func(ctx context.Context, cmps []client.Cmp, then, els []client.Op) (*raftkvv1.TxnResponse, error) {
		return kv.Txn(ctx).If(cmps...).Then(then...).Else(els...).Commit()
	}
	return db
}

// Isolation is a transaction's isolation level.
type Isolation uint8

const (
	// Serializable validates every read at commit (the default).
	Serializable Isolation = iota
	// ReadCommitted reads each statement at a fresh revision and validates
	// only the keys passed to LockForUpdate.
	ReadCommitted
)

// String returns the level as PostgreSQL spells it.
func (i Isolation) String() string {
	if i == ReadCommitted {
		return "read committed"
	}
	return "serializable"
}

// Begin starts a transaction. It makes no RPC: the first read takes the
// snapshot.
func (db *DB) Begin(iso Isolation) *Txn {
	t := &Txn{db: db, iso: iso}
	t.spans.maxSpans, t.spans.maxBytes = db.opts.MaxReadSpans, readSpanBytes
	return t
}

// markerLease returns the lease to attach a new marker to, granting one when
// there is none or the current one is older than leaseRotate.
func (db *DB) markerLease(ctx context.Context) (int64, error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.lease != 0 && time.Since(db.leaseGranted) < db.leaseRotate {
		return db.lease, nil
	}
	asked := time.Now()
	resp, err := db.kv.Grant(ctx, int64(db.leaseTTL/time.Second))
	if err != nil {
		return 0, kvError(ctx, "grant marker lease", err)
	}
	db.lease, db.leaseGranted = resp.GetId(), asked
	return db.lease, nil
}

// dropLease forgets lease id (raftkv no longer knows it), so the next commit
// grants a new one.
func (db *DB) dropLease(id int64) {
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.lease == id {
		db.lease = 0
	}
}
