package client

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/node/clusterconn"
)

// Defaults for WriteBehindConfig fields left zero.
const (
	DefaultWriteBehindQueueSize     = 10000
	DefaultWriteBehindBatchSize     = 100
	DefaultWriteBehindFlushInterval = 100 * time.Millisecond
)

// WriteBehindConfig configures a WriteBehind.
type WriteBehindConfig struct {
	// QueueSize bounds the writes accepted but not yet saved to the store.
	// When it is reached, Set and Delete block (see WriteBehind). Default 10000.
	QueueSize int
	// BatchSize is the most writes saved in one batch. Default 100.
	BatchSize int
	// FlushInterval is the longest a write waits for its batch to fill before
	// the batch is saved. Default 100ms.
	FlushInterval time.Duration
	// TTL of the cached copies; 0 means no expiry.
	TTL time.Duration
	// OnError, if set, is called by the flusher for every failed save (the
	// save is retried); it must not block.
	OnError func(key string, err error)
	// Logger receives failed saves; nil discards them.
	Logger *slog.Logger
}

func (c WriteBehindConfig) withDefaults() (WriteBehindConfig, error) {
	if c.QueueSize == 0 {
		c.QueueSize = DefaultWriteBehindQueueSize
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultWriteBehindBatchSize
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultWriteBehindFlushInterval
	}
	switch {
	case c.QueueSize < 0:
		return c, fmt.Errorf("cached client: WriteBehindConfig.QueueSize must not be negative, got %d", c.QueueSize)
	case c.BatchSize < 0:
		return c, fmt.Errorf("cached client: WriteBehindConfig.BatchSize must not be negative, got %d", c.BatchSize)
	case c.FlushInterval < 0:
		return c, fmt.Errorf("cached client: WriteBehindConfig.FlushInterval must not be negative, got %v", c.FlushInterval)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// WriteBehind keeps a cache in front of a Store and saves writes to the store
// later, in batches: Set and Delete change the cache at once and queue the
// change; one background goroutine (the flusher) takes up to BatchSize
// queued changes, keeps only the last change of each key, and saves them.
// Reads come from the cache, then from the changes not saved yet, then from
// the store. Its methods may be called concurrently.
//
// The queue is bounded by QueueSize. When it is full, Set and Delete block
// until the flusher frees a slot or their context ends (then they return the
// context's error and change nothing): back-pressure, rather than an error
// the caller would have to handle by retrying. A failed save is retried with
// backoff (up to 1s apart) until it succeeds, so a store outage fills the
// queue and then blocks writers; OnError reports every failure.
//
// Durability: a change is only in the cache and in this process's memory
// until it is saved. A crash loses the queued changes (up to QueueSize, or
// FlushInterval's worth), and the cache may then hold values the store never
// got. Use WriteThrough where that is not acceptable.
//
// The changes of one key reach the cache and the queue in the same order
// (they are serialised per key), so the store ends with the value the cache
// got last.
type WriteBehind struct {
	cache *Client
	store Store
	cfg   WriteBehindConfig

	slots   chan struct{} // a token per queued change; capacity QueueSize
	queue   chan wbOp     // capacity QueueSize; closed by Close
	closing chan struct{} // closed by Close
	done    chan struct{} // closed when the flusher has returned
	// stopFlush cancels the flusher's retries when Close's context ends.
	flushCtx  context.Context
	stopFlush context.CancelFunc
	stripes   [64]sync.Mutex // serialise the changes of one key (by ring.Hash)

	mu       sync.Mutex // protects the fields below
	closed   bool
	pending  map[string]wbOp // last queued change of each key not saved yet
	seq      uint64
	inflight sync.WaitGroup // Set and Delete calls past the closed check
	lost     int            // changes dropped because Close's context ended
}

// wbOp is one queued change.
type wbOp struct {
	key string
	val []byte
	del bool
	seq uint64
}

// NewWriteBehind returns a WriteBehind over cache and store and starts its
// flusher. The caller must Close it (before closing cache).
func NewWriteBehind(cache *Client, store Store, cfg WriteBehindConfig) (*WriteBehind, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	w := &WriteBehind{
		cache: cache, store: store, cfg: cfg,
		slots:   make(chan struct{}, cfg.QueueSize),
		queue:   make(chan wbOp, cfg.QueueSize),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
		pending: map[string]wbOp{},
	}
	w.flushCtx, w.stopFlush = context.WithCancel(context.Background())
	go w.flush()
	return w, nil
}

// Set writes val to the cache (with the configured TTL) and queues it for the
// store. It blocks while the queue is full; see the type's documentation.
func (w *WriteBehind) Set(ctx context.Context, key string, val []byte) error {
	return w.change(ctx, wbOp{key: key, val: val})
}

// Delete removes key from the cache and queues its deletion from the store.
func (w *WriteBehind) Delete(ctx context.Context, key string) error {
	return w.change(ctx, wbOp{key: key, del: true})
}

func (w *WriteBehind) change(ctx context.Context, op wbOp) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrWriteBehindClosed
	}
	w.inflight.Add(1)
	w.mu.Unlock()
	defer w.inflight.Done()

	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.closing:
		return ErrWriteBehindClosed
	}
	stripe := &w.stripes[ring.Hash(op.key)%uint64(len(w.stripes))]
	stripe.Lock()
	defer stripe.Unlock()
	var err error
	if op.del {
		_, err = w.cache.Delete(ctx, op.key)
	} else {
		_, err = w.cache.Set(ctx, op.key, op.val, WithTTL(w.cfg.TTL))
	}
	if err != nil {
		<-w.slots
		return err
	}
	w.mu.Lock()
	w.seq++
	op.seq = w.seq
	w.pending[op.key] = op
	w.mu.Unlock()
	w.queue <- op // never blocks: the slot bounds the queue
	return nil
}

// Get returns key's value from the cache, else from the changes not saved
// yet, else from the store (caching it, as GetOrLoad does).
func (w *WriteBehind) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if val, ok, err := w.cache.Get(ctx, key); err != nil || ok {
		return val, ok, err
	}
	w.mu.Lock()
	op, ok := w.pending[key]
	w.mu.Unlock()
	if ok {
		return op.val, !op.del, nil
	}
	wt := WriteThrough{Cache: w.cache, Store: w.store, TTL: w.cfg.TTL}
	return wt.Get(ctx, key)
}

// Pending returns the number of changes not saved to the store yet.
func (w *WriteBehind) Pending() int { return len(w.slots) }

// Close stops accepting changes (Set and Delete then fail with
// ErrWriteBehindClosed; blocked ones return it at once), saves every queued
// change and returns when the flusher is done. If ctx ends first, the
// remaining changes are dropped and Close returns an error saying how many.
// Close is idempotent.
func (w *WriteBehind) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.closing)
		w.mu.Unlock()
		w.inflight.Wait()
		close(w.queue)
	} else {
		w.mu.Unlock()
	}
	select {
	case <-w.done:
	case <-ctx.Done():
		w.stopFlush()
		<-w.done
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.lost > 0 {
		return fmt.Errorf("cached client: write-behind closed with %d changes not saved: %w", w.lost, ctx.Err())
	}
	return nil
}

// flush is the flusher: it saves batches until the queue is closed and
// drained.
func (w *WriteBehind) flush() {
	defer close(w.done)
	defer w.stopFlush()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first, ok := <-w.queue
		if !ok {
			return
		}
		batch := []wbOp{first}
		timer.Reset(w.cfg.FlushInterval)
	fill:
		for len(batch) < w.cfg.BatchSize {
			select {
			case op, ok := <-w.queue:
				if !ok {
					break fill
				}
				batch = append(batch, op)
			case <-w.closing:
				// Closing: save what is queued without waiting for the timer.
				select {
				case op, ok := <-w.queue:
					if !ok {
						break fill
					}
					batch = append(batch, op)
				default:
					break fill
				}
			case <-timer.C:
				break fill
			}
		}
		timer.Stop()
		w.save(batch)
	}
}

// save saves the last change of each key of batch, retrying failures until
// they succeed or the flusher is stopped, then frees the batch's slots.
func (w *WriteBehind) save(batch []wbOp) {
	last := make(map[string]int, len(batch))
	for i, op := range batch {
		last[op.key] = i
	}
	for i, op := range batch {
		if last[op.key] != i {
			continue
		}
		var b clusterconn.Backoff
		for {
			if w.flushCtx.Err() != nil {
				w.mu.Lock()
				w.lost++
				w.mu.Unlock()
				break
			}
			var err error
			if op.del {
				err = w.store.Delete(w.flushCtx, op.key)
			} else {
				err = w.store.Save(w.flushCtx, op.key, op.val)
			}
			if err == nil {
				break
			}
			w.cfg.Logger.Warn("cached client: write-behind save failed; retrying", "key", op.key, "err", err)
			if w.cfg.OnError != nil {
				w.cfg.OnError(op.key, err)
			}
			if !b.Wait(w.flushCtx) {
				w.mu.Lock()
				w.lost++
				w.mu.Unlock()
				break
			}
		}
	}
	w.mu.Lock()
	for _, op := range batch {
		if p, ok := w.pending[op.key]; ok && p.seq == op.seq {
			delete(w.pending, op.key)
		}
	}
	w.mu.Unlock()
	for range batch {
		<-w.slots
	}
}
