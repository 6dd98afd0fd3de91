package purge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/node/clusterconn"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// DefaultLeaseTTL is SubscriberOptions.LeaseTTL when zero.
const DefaultLeaseTTL = 10 * time.Second

// SubscriberOptions configures a Subscriber.
type SubscriberOptions struct {
	// KV is the raftkv client (required). The subscriber does not close it.
	KV *kvclient.Client
	// Prefix is the key prefix; "" is DefaultPrefix.
	Prefix string
	// Node is this edge's name (required; 1..MaxNodeBytes bytes, no '/' or
	// spaces), unique among the edges.
	Node string
	// StateFile persists the last applied Seq (fsynced) so a restarted edge
	// catches up from there; "" keeps it in memory (a new process then starts
	// from the beginning of the retained log).
	StateFile string
	// Apply applies one purge and returns the entries removed (required).
	// It is called from Run's goroutine, one record at a time, in Seq order.
	Apply func(Record) int64
	// ApplyAll is called instead of Apply when the records since the last
	// applied one are no longer all retained (the edge was away too long),
	// the log is not the one the state file names, or a record cannot be
	// decoded: it drops everything and returns the entries removed
	// (required). Called from Run's goroutine.
	ApplyAll func() int64
	// LeaseTTL is the liveness registration's lease (default 10 s; rounded
	// up to whole seconds, at least 1 s). An edge that dies stops being
	// waited for about LeaseTTL later.
	LeaseTTL time.Duration
	// Logger receives the subscriber's logs (nil: slog.Default()).
	Logger *slog.Logger
}

// Subscriber applies the purges published under a prefix to one edge node.
// Create it with NewSubscriber, then call Run. LastApplied is safe to call
// from any goroutine.
type Subscriber struct {
	o      SubscriberOptions
	l      layout
	ttl    int64 // lease seconds
	logger *slog.Logger

	running atomic.Bool
	last    atomic.Int64 // last applied Seq

	caughtUp     chan struct{} // closed after the first catch-up
	caughtUpOnce sync.Once

	// st is the persisted progress; owned by Run's goroutine.
	st state
}

// NewSubscriber checks o and loads the state file. A state file that does
// not parse is logged and ignored (the subscriber then starts from the
// beginning: it may apply purges again or drop everything, never less).
// Errors wrap ErrInvalidArgument and name the field.
func NewSubscriber(o SubscriberOptions) (*Subscriber, error) {
	if o.KV == nil {
		return nil, fmt.Errorf("%w: KV is nil", ErrInvalidArgument)
	}
	if err := checkNode("Node", o.Node); err != nil {
		return nil, err
	}
	if o.Apply == nil {
		return nil, fmt.Errorf("%w: Apply is nil", ErrInvalidArgument)
	}
	if o.ApplyAll == nil {
		return nil, fmt.Errorf("%w: ApplyAll is nil", ErrInvalidArgument)
	}
	if o.LeaseTTL < 0 {
		return nil, fmt.Errorf("%w: LeaseTTL %v must be >= 0", ErrInvalidArgument, o.LeaseTTL)
	}
	if o.LeaseTTL == 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	l, err := newLayout(o.Prefix)
	if err != nil {
		return nil, err
	}
	logger := o.Logger
	if logger == nil {
		logger = slog.Default()
	}
	s := &Subscriber{
		o:      o,
		l:      l,
		ttl:    max(int64((o.LeaseTTL+time.Second-1)/time.Second), 1),
		logger: logger.With("node", o.Node),

		caughtUp: make(chan struct{}),
	}
	if o.StateFile != "" {
		st, ok, err := loadState(o.StateFile)
		if err != nil {
			return nil, err
		}
		if !ok {
			s.logger.Warn("purge: state file does not parse; starting from the beginning of the log", "file", o.StateFile)
		}
		s.st = st
	}
	s.last.Store(s.st.Seq)
	return s, nil
}

// CaughtUp is closed once Run has applied every purge published before it
// started (the first catch-up): an edge that answers from a cache kept
// across a restart waits for it, or it could serve what was purged while
// it was away.
func (s *Subscriber) CaughtUp() <-chan struct{} { return s.caughtUp }

// LastApplied returns the Seq of the last purge this subscriber applied (or
// covered with ApplyAll); 0 before any.
func (s *Subscriber) LastApplied() int64 { return s.last.Load() }

// Run registers the node, catches up, watches and acknowledges until ctx
// ends (see the package documentation); raftkv errors are retried with
// backoff. It returns nil when ctx ends, after revoking the node's lease so
// that Wait stops waiting for it at once, and an error when it cannot go
// on: the client was closed, or Run is already running (ErrRunning). A
// Subscriber may Run again after Run returned.
func (s *Subscriber) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	reg := &registration{s: s}
	wg.Go(func() { reg.run(ctx) })
	defer func() {
		cancel()
		wg.Wait()
		reg.revoke()
	}()

	var b clusterconn.Backoff
	for {
		progressed, err := s.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, kvclient.ErrClosed) {
			return fmt.Errorf("purge: subscriber %s: %w", s.o.Node, err)
		}
		if progressed {
			b.Reset()
		}
		if err != nil {
			s.logger.Warn("purge: following the log failed; retrying", "err", err)
		}
		if !b.Wait(ctx) {
			return nil
		}
	}
}
