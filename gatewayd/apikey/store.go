package apikey

import (
	"context"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// DefaultPrefix is where keys live in raftkv.
const DefaultPrefix = "/cairn/gatewayd/keys/"

// Watch retry bounds after a failed load or a broken watch.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// Store is the cluster's API keys: records in raftkv, a copy in memory kept
// current by a watch. It is safe for concurrent use. Its one goroutine is
// started by Start and stopped by Close.
type Store struct {
	kv     *kvclient.Client
	prefix string
	log    *slog.Logger
	now    func() time.Time // tests replace it before Start

	// keys is the memory copy by id, never modified once stored: writers
	// (the watch, Create, Delete) hold mu, copy, change and store, so
	// Lookup reads without a lock.
	mu   sync.Mutex
	keys atomic.Pointer[map[string]Key]

	ready     chan struct{} // closed after the first load
	readyOnce sync.Once

	life    sync.Mutex // protects cancel, started, closed
	cancel  context.CancelFunc
	started bool
	closed  bool
	wg      sync.WaitGroup
}

// NewStore returns a Store over kv under prefix (DefaultPrefix when empty;
// a trailing "/" is added when missing). It does nothing until Start.
func NewStore(kv *kvclient.Client, prefix string, logger *slog.Logger) *Store {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if logger == nil {
		logger = slog.Default()
	}
	s := &Store{kv: kv, prefix: prefix, log: logger, now: time.Now, ready: make(chan struct{})}
	s.keys.Store(&map[string]Key{})
	return s
}

// Start loads the prefix and follows it until ctx ends or Close is called,
// in a goroutine: it returns at once. A failed load or a broken watch is
// retried with backoff (a compacted watch reloads everything). Ready is
// closed after the first load. Start may be called once; it fails with
// ErrClosed after Close.
func (s *Store) Start(ctx context.Context) error {
	s.life.Lock()
	defer s.life.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.started {
		return fmt.Errorf("%w: already started", ErrInvalid)
	}
	s.started = true
	ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Go(func() { s.follow(ctx) })
	return nil
}

// Ready is closed once the keys have been loaded the first time.
func (s *Store) Ready() <-chan struct{} { return s.ready }

// Close stops the watch and waits for its goroutine. Lookup keeps answering
// from the last state; Create, List and Delete still work (they only need
// the raftkv client, which the caller owns and closes).
func (s *Store) Close() {
	s.life.Lock()
	s.closed = true
	cancel := s.cancel
	s.life.Unlock()
	if cancel != nil {
		cancel()
	}
	s.wg.Wait()
}

// follow is the watch loop: load, watch from the loaded revision, and start
// over when the watch ends.
func (s *Store) follow(ctx context.Context) {
	wait := retryMin
	for ctx.Err() == nil {
		rev, err := s.load(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("apikey: load keys", "prefix", s.prefix, "err", err, "retry_in", wait)
			if !sleep(ctx, &wait) {
				return
			}
			continue
		}
		wait = retryMin
		for wr := range s.kv.Watch(ctx, s.prefix, kvclient.WithPrefix(), kvclient.WithRev(rev+1)) {
			if err := wr.Err(); err != nil {
				s.log.Warn("apikey: watch ended; reloading", "err", err)
				break
			}
			s.apply(wr.GetEvents())
		}
		if !sleep(ctx, &wait) {
			return
		}
	}
}

// load reads every record and replaces the memory copy; it returns the
// revision read.
func (s *Store) load(ctx context.Context) (int64, error) {
	resp, err := s.kv.Get(ctx, s.prefix, kvclient.WithPrefix())
	if err != nil {
		return 0, err
	}
	keys := make(map[string]Key, len(resp.GetKvs()))
	for _, kv := range resp.GetKvs() {
		if k, ok := s.decode(kv); ok {
			keys[k.ID] = k
		}
	}
	s.mu.Lock()
	s.keys.Store(&keys)
	s.mu.Unlock()
	s.readyOnce.Do(func() { close(s.ready) })
	return resp.GetHeader().GetRevision(), nil
}

func (s *Store) apply(events []*raftkvv1.Event) {
	s.update(func(keys map[string]Key) {
		for _, ev := range events {
			id := strings.TrimPrefix(string(ev.GetKv().GetKey()), s.prefix)
			switch ev.GetType() {
			case raftkvv1.Event_EVENT_TYPE_PUT:
				if k, ok := s.decode(ev.GetKv()); ok {
					keys[k.ID] = k
				}
			case raftkvv1.Event_EVENT_TYPE_DELETE:
				delete(keys, id)
			}
		}
	})
}

// update replaces the memory copy with a changed copy of it.
func (s *Store) update(change func(map[string]Key)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := maps.Clone(*s.keys.Load())
	change(keys)
	s.keys.Store(&keys)
}

// decode parses one stored record; a malformed one is logged and skipped.
func (s *Store) decode(kv *raftkvv1.KeyValue) (Key, bool) {
	id := strings.TrimPrefix(string(kv.GetKey()), s.prefix)
	k, err := decodeRecord(id, kv.GetValue())
	if err != nil {
		s.log.Warn("apikey: skipping malformed record", "key", string(kv.GetKey()), "err", err)
		return Key{}, false
	}
	return k, true
}

// sleep waits *wait (then doubles it up to retryMax) or until ctx ends; it
// reports whether ctx is still live.
func sleep(ctx context.Context, wait *time.Duration) bool {
	t := time.NewTimer(*wait)
	defer t.Stop()
	*wait = min(2**wait, retryMax)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// Lookup checks a full key string against the memory copy, without I/O.
// Errors: ErrMalformed, ErrNotFound, ErrMismatch (the secret is wrong), and
// ErrExpired (only for the right secret, so expiry is not revealed to
// someone guessing).
func (s *Store) Lookup(full string) (Key, error) {
	id, hash, err := Parse(full)
	if err != nil {
		return Key{}, err
	}
	k, ok := (*s.keys.Load())[id]
	if !ok {
		return Key{}, ErrNotFound
	}
	if subtle.ConstantTimeCompare(k.hash[:], hash[:]) != 1 {
		return Key{}, ErrMismatch
	}
	if k.Expired(s.now()) {
		return Key{}, ErrExpired
	}
	return k, nil
}

// Count returns how many unexpired keys consumer has in the memory copy.
func (s *Store) Count(consumer string) int {
	now := s.now()
	n := 0
	for _, k := range *s.keys.Load() {
		if k.Consumer == consumer && !k.Expired(now) {
			n++
		}
	}
	return n
}

// Create makes a key for consumer, expiring after ttl (0: never), stores its
// record in raftkv and in the memory copy, and returns the record and the
// full key string: the only time the secret exists outside the caller. The
// write is a transaction that fails rather than overwrite an existing id.
// On an unknown-outcome error the key may exist: List shows it, and it can
// be deleted.
func (s *Store) Create(ctx context.Context, consumer string, ttl time.Duration) (Key, string, error) {
	if consumer == "" || ttl < 0 {
		return Key{}, "", fmt.Errorf("%w: consumer %q, ttl %v", ErrInvalid, consumer, ttl)
	}
	k, full, err := Generate(nil, consumer, s.now(), ttl)
	if err != nil {
		return Key{}, "", err
	}
	val, err := encodeRecord(k)
	if err != nil {
		return Key{}, "", err
	}
	path := s.prefix + k.ID
	resp, err := s.kv.Txn(ctx).
		If(kvclient.Compare(kvclient.CreateRevision(path), "=", 0)).
		Then(kvclient.OpPut(path, string(val))).
		Commit()
	if err != nil {
		return Key{}, "", fmt.Errorf("apikey: create: %w", err)
	}
	if !resp.GetSucceeded() {
		return Key{}, "", fmt.Errorf("apikey: create: key id %s exists", k.ID)
	}
	s.update(func(keys map[string]Key) { keys[k.ID] = k })
	return k, full, nil
}

// List reads the keys of consumer (all keys when empty) from raftkv,
// sorted by creation time then id. Expired keys are listed too.
func (s *Store) List(ctx context.Context, consumer string) ([]Key, error) {
	resp, err := s.kv.Get(ctx, s.prefix, kvclient.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("apikey: list: %w", err)
	}
	var out []Key
	for _, kv := range resp.GetKvs() {
		if k, ok := s.decode(kv); ok && (consumer == "" || k.Consumer == consumer) {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b Key) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Delete removes the key id from raftkv and from the memory copy; every
// node's watch removes it from theirs. ErrNotFound when no such key exists.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !ValidID(id) {
		return ErrNotFound
	}
	resp, err := s.kv.Delete(ctx, s.prefix+id)
	if err != nil {
		return fmt.Errorf("apikey: delete: %w", err)
	}
	s.update(func(keys map[string]Key) { delete(keys, id) })
	if resp.GetDeleted() == 0 {
		return ErrNotFound
	}
	return nil
}
