package blobchaos

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"cairn.dev/cairn/cluster/chaos"
)

// The operation kinds recorded by the blobd workload. Key is always an
// object key of the workload's bucket (a prefix for listings).
const (
	// KindPut is a PUT of Rev bytes of content Session (a content id, see
	// Content) whose hex SHA-256 is Value.
	KindPut chaos.OpKind = "b-put"
	// KindDelete is a DELETE.
	KindDelete chaos.OpKind = "b-delete"
	// KindGet is a GET of the whole object. OK with Found false: the object
	// did not exist. OK with Found: Rev bytes read, Value their hex
	// SHA-256, Session the content id their header named (0: none), Token
	// the bytes that differ from that content. Fail: the read failed.
	KindGet chaos.OpKind = "b-get"
	// KindList lists the keys under prefix Key; Value is the keys listed,
	// separated by spaces.
	KindList chaos.OpKind = "b-list"
	// KindRepair is a repair status: Found says healthy, Rev counts the
	// degraded volumes, Index those being repaired, Value sums it up.
	KindRepair chaos.OpKind = "b-repair"
	// KindFinal is a GET of the drain, after the workloads stopped (and
	// after the full restart of a scenario that has one), recorded as
	// KindGet is; a key may have several when reads failed.
	KindFinal chaos.OpKind = "b-final"
	// KindFinalList is the drain's listing of every key, recorded as
	// KindList is.
	KindFinalList chaos.OpKind = "b-final-list"
)

// kinds classifies the kinds for the framework: PUTs and DELETEs are the
// writes; GETs and listings the reads; repair statuses and the drain's
// operations are events, left out of the rates.
var kinds = chaos.Kinds{
	KindPut: chaos.ClassWrite, KindDelete: chaos.ClassWrite,
	KindGet: chaos.ClassRead, KindList: chaos.ClassRead,
	KindRepair: chaos.ClassEvent, KindFinal: chaos.ClassEvent, KindFinalList: chaos.ClassEvent,
}

// Blob is the blobd workload. Writers PUT objects of random sizes (log
// uniform from 1 B to MaxSize, and in short runs now and then one of about
// BigSize) to keys of their own ("w<client>/<n>"): mostly new keys, a share
// Overwrite of PUTs to a key of theirs written before, and a share Delete of
// DELETEs of one. A key is only ever written by one writer, one operation at
// a time, so its writes are ordered. Readers GET keys written so far (half
// of them the key a writer acknowledged last, to catch reads that miss a
// write acknowledged before them) and LIST one writer's prefix. A monitor
// records the repair status every RepairEvery. Drain reads every key once
// the faults are over.
//
// A Blob is used by one scenario run: it keeps the keys written and the
// drain's state.
type Blob struct {
	// Bucket is the bucket; default "chaos-blob".
	Bucket string
	// Writers and Readers are the numbers of clients of each kind;
	// defaults 4 and 3.
	Writers, Readers int
	// MaxSize is the largest object; default 2 MiB for a fault phase
	// under chaos.LongPhase and 64 MiB for longer ones.
	MaxSize int64
	// BigSize is the size (± 20%) of the occasional big object of short
	// runs, BigShare their share of PUTs; defaults 10 MiB and 0.02.
	BigSize  int64
	BigShare float64
	// Overwrite and Delete are the shares of a writer's operations that
	// overwrite or delete one of its keys; defaults 0.15 and 0.10.
	Overwrite, Delete float64
	// Timeout bounds each request; default 30s.
	Timeout time.Duration
	// ReadEvery and WriteEvery pause a client between operations;
	// defaults 20ms and 10ms.
	ReadEvery, WriteEvery time.Duration
	// RepairEvery is the monitor's period; default 500ms.
	RepairEvery time.Duration
	// DrainTimeout bounds the drain; default 60s plus the fault phase.
	DrainTimeout time.Duration
	// ClientBase is the first client number in the history; default 1000.
	// Writers take ClientBase+i, readers ClientBase+100+i, the monitor
	// ClientBase+200, the repair checker ClientBase+300, the drain's readers
	// ClientBase+900+i and its listing ClientBase+950.
	ClientBase int

	// dial returns the client every worker uses; nil means newStore. The
	// tests set it to a fake.
	dial func(env *chaos.Env, timeout time.Duration) (objectStore, error)

	keys      keyRegistry
	drainOnce sync.Once
}

// Name implements chaos.Workload.
func (w *Blob) Name() string { return "blob" }

// Kinds implements chaos.Workload.
func (w *Blob) Kinds() chaos.Kinds { return kinds }

// config is a Blob with its defaults filled in.
type config struct {
	bucket                string
	writers, readers      int
	maxSize, bigSize      int64
	bigShare              float64
	overwrite, delete     float64
	timeout               time.Duration
	readEvery, writeEvery time.Duration
	repairEvery           time.Duration
	drainTimeout          time.Duration
	clientBase            int
}

func (w *Blob) config(phase time.Duration) config {
	c := config{bucket: w.Bucket, writers: w.Writers, readers: w.Readers, maxSize: w.MaxSize,
		bigSize: w.BigSize, bigShare: w.BigShare, overwrite: w.Overwrite, delete: w.Delete,
		timeout: w.Timeout, readEvery: w.ReadEvery, writeEvery: w.WriteEvery,
		repairEvery: w.RepairEvery, drainTimeout: w.DrainTimeout, clientBase: w.ClientBase}
	if c.bucket == "" {
		c.bucket = "chaos-blob"
	}
	if c.writers <= 0 {
		c.writers = 4
	}
	if c.readers <= 0 {
		c.readers = 3
	}
	if c.maxSize <= 0 {
		c.maxSize = 2 << 20
		if phase >= chaos.LongPhase {
			c.maxSize = 64 << 20
		}
	}
	if c.bigSize == 0 {
		c.bigSize = 10 << 20
	}
	if c.bigShare == 0 {
		c.bigShare = 0.02
	}
	if phase >= chaos.LongPhase {
		c.bigShare = -1 // the long runs' sizes reach 64 MiB anyway
	}
	if c.overwrite == 0 {
		c.overwrite = 0.15
	}
	if c.delete == 0 {
		c.delete = 0.10
	}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	if c.readEvery <= 0 {
		c.readEvery = 20 * time.Millisecond
	}
	if c.writeEvery <= 0 {
		c.writeEvery = 10 * time.Millisecond
	}
	if c.repairEvery <= 0 {
		c.repairEvery = 500 * time.Millisecond
	}
	if c.drainTimeout <= 0 {
		c.drainTimeout = time.Minute + phase
	}
	if c.clientBase == 0 {
		c.clientBase = 1000
	}
	return c
}

// size draws an object size: log-uniform in [1, maxSize], or about
// bigSize with probability bigShare.
func (c config) size(rng *rand.Rand) int64 {
	if c.bigShare > 0 && rng.Float64() < c.bigShare {
		return c.bigSize*8/10 + rng.Int64N(c.bigSize*4/10+1)
	}
	return max(1, min(c.maxSize, int64(math.Exp(rng.Float64()*math.Log(float64(c.maxSize)+1)))))
}

// store dials the client of one worker.
func (w *Blob) store(env *chaos.Env, cfg config) (objectStore, error) {
	if w.dial != nil {
		return w.dial(env, cfg.timeout)
	}
	return newStore(env, cfg.timeout)
}

// Run implements chaos.Workload: it creates the bucket, then runs the
// writers, the readers and the repair monitor until ctx ends.
func (w *Blob) Run(ctx context.Context, env *chaos.Env) error {
	cfg := w.config(env.Phase)
	if err := w.createBucket(ctx, env, cfg); err != nil {
		return err
	}
	var wg sync.WaitGroup
	start := func(fn func(objectStore)) error {
		s, err := w.store(env, cfg)
		if err != nil {
			return err
		}
		wg.Go(func() {
			defer s.Close()
			fn(s)
		})
		return nil
	}
	var err error
	for i := range cfg.writers {
		if err == nil {
			err = start(func(s objectStore) { w.write(ctx, env, s, cfg, cfg.clientBase+i) })
		}
	}
	for i := range cfg.readers {
		if err == nil {
			err = start(func(s objectStore) { w.read(ctx, env, s, cfg, cfg.clientBase+100+i) })
		}
	}
	if err == nil {
		err = start(func(s objectStore) { w.monitor(ctx, env, s, cfg) })
	}
	wg.Wait()
	return err
}

// createBucket creates the bucket, retrying for up to a minute.
func (w *Blob) createBucket(ctx context.Context, env *chaos.Env, cfg config) error {
	s, err := w.store(env, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		rctx, cancel := context.WithTimeout(ctx, cfg.timeout)
		err := s.CreateBucket(rctx, cfg.bucket)
		cancel()
		if err == nil {
			env.Logger.Info("blobchaos: bucket created", "bucket", cfg.bucket, "max_size", cfg.maxSize)
			return nil
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return fmt.Errorf("create bucket %s: %w", cfg.bucket, err)
		}
		chaos.Hold(ctx, 200*time.Millisecond)
	}
}

// keyRegistry holds, per writer, the keys it has PUT (from the invocation
// of the first PUT of each) and the key it had acknowledged last, for the
// readers. Safe for concurrent use.
type keyRegistry struct {
	mu    sync.Mutex // protects the fields below
	byW   map[int][]string
	acked map[int]string
	order []int // writers, in the order they first wrote
}

func (r *keyRegistry) add(writer int, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byW == nil {
		r.byW, r.acked = map[int][]string{}, map[int]string{}
	}
	if _, ok := r.byW[writer]; !ok {
		r.order = append(r.order, writer)
	}
	r.byW[writer] = append(r.byW[writer], key)
}

func (r *keyRegistry) ack(writer int, key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acked[writer] = key
}

// pick returns a key for a reader: the key a random writer acknowledged
// last (fresh), or any key written so far; ok is false before any PUT.
func (r *keyRegistry) pick(rng *rand.Rand, fresh bool) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.order) == 0 {
		return "", false
	}
	wr := r.order[rng.IntN(len(r.order))]
	if k, ok := r.acked[wr]; fresh && ok {
		return k, true
	}
	ks := r.byW[wr]
	return ks[rng.IntN(len(ks))], true
}

// writers returns the writers that have PUT something.
func (r *keyRegistry) writers() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int(nil), r.order...)
}

// prefix is the key prefix of writer client's keys.
func prefix(client int) string { return fmt.Sprintf("w%d/", client) }

// write runs one writer until ctx ends.
func (w *Blob) write(ctx context.Context, env *chaos.Env, s objectStore, cfg config, id int) {
	h := env.History
	rng := env.Rand(chaos.Stream(w.Name(), id))
	var own []string
	puts := 0
	for ctx.Err() == nil {
		x := rng.Float64()
		var out chaos.Outcome
		switch {
		case len(own) > 0 && x < cfg.delete:
			key := own[rng.IntN(len(own))]
			op := h.Invoke(chaos.Op{Client: id, Kind: KindDelete, Key: key})
			rctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
			err := s.Delete(rctx, cfg.bucket, key)
			cancel()
			out = writeOutcome(err)
			h.Complete(op, out, err, nil)
		default:
			var key string
			if len(own) > 0 && x < cfg.delete+cfg.overwrite {
				key = own[rng.IntN(len(own))]
			} else {
				key = fmt.Sprintf("%s%05d", prefix(id), len(own))
				own = append(own, key)
				w.keys.add(id, key)
			}
			cid, size := contentID(id, puts), cfg.size(rng)
			puts++
			op := h.Invoke(chaos.Op{Client: id, Kind: KindPut, Key: key, Value: Digest(cid, size), Rev: size, Session: cid})
			// Requests are not tied to ctx: cancelling them at the end
			// of the run would only turn answers into unknown outcomes.
			rctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
			err := s.Put(rctx, cfg.bucket, key, Content(cid, size), size)
			cancel()
			out = writeOutcome(err)
			h.Complete(op, out, err, nil)
			if out == chaos.OK {
				w.keys.ack(id, key)
			}
		}
		if out != chaos.OK {
			chaos.Hold(ctx, 50*time.Millisecond) // a fault: do not spin
		}
		chaos.Hold(ctx, cfg.writeEvery)
	}
}

// read runs one reader until ctx ends.
func (w *Blob) read(ctx context.Context, env *chaos.Env, s objectStore, cfg config, id int) {
	rng := env.Rand(chaos.Stream(w.Name(), id))
	for ctx.Err() == nil {
		x := rng.Float64()
		if x < 0.3 {
			ws := w.keys.writers()
			p := ""
			if len(ws) > 0 {
				p = prefix(ws[rng.IntN(len(ws))])
			}
			list(env.History, s, cfg, id, KindList, p)
		} else if key, ok := w.keys.pick(rng, x < 0.65); ok {
			get(env.History, s, cfg, id, KindGet, key)
		}
		chaos.Hold(ctx, cfg.readEvery)
	}
}

// get GETs key, verifying what it reads on the fly, records it as kind and
// returns its outcome.
func get(h *chaos.History, s objectStore, cfg config, client int, kind chaos.OpKind, key string) chaos.Outcome {
	op := h.Invoke(chaos.Op{Client: client, Kind: kind, Key: key})
	rctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	v := NewVerifier()
	err := s.Get(rctx, cfg.bucket, key, v)
	switch {
	case err == nil:
		r := v.Result()
		h.Complete(op, chaos.OK, nil, func(o *chaos.Op) {
			o.Found, o.Value, o.Rev, o.Session, o.Token = true, r.SHA, r.Len, r.ID, uint64(r.Wrong)
		})
		return chaos.OK
	case isNotFound(err):
		h.Complete(op, chaos.OK, nil, nil)
		return chaos.OK
	}
	h.Complete(op, chaos.Fail, err, nil)
	return chaos.Fail
}

// list lists the keys under p, records it as kind and returns its outcome.
func list(h *chaos.History, s objectStore, cfg config, client int, kind chaos.OpKind, p string) chaos.Outcome {
	op := h.Invoke(chaos.Op{Client: client, Kind: kind, Key: p})
	rctx, cancel := context.WithTimeout(context.Background(), cfg.timeout)
	defer cancel()
	keys, err := s.List(rctx, cfg.bucket, p)
	if err != nil {
		h.Complete(op, chaos.Fail, err, nil)
		return chaos.Fail
	}
	h.Complete(op, chaos.OK, nil, func(o *chaos.Op) { o.Value = strings.Join(keys, " ") })
	return chaos.OK
}

// monitor records the repair status every repairEvery until ctx ends.
func (w *Blob) monitor(ctx context.Context, env *chaos.Env, s objectStore, cfg config) {
	for ctx.Err() == nil {
		repairStatus(env.History, s, cfg.clientBase+200, cfg.timeout)
		chaos.Hold(ctx, cfg.repairEvery)
	}
}

// repairStatus asks for the repair status once and records it.
func repairStatus(h *chaos.History, s objectStore, client int, timeout time.Duration) (RepairStatus, bool) {
	op := h.Invoke(chaos.Op{Client: client, Kind: KindRepair})
	rctx, cancel := context.WithTimeout(context.Background(), min(timeout, 5*time.Second))
	defer cancel()
	st, err := s.Repair(rctx)
	if err != nil {
		h.Complete(op, chaos.Fail, err, nil)
		return st, false
	}
	h.Complete(op, chaos.OK, nil, func(o *chaos.Op) {
		o.Found, o.Rev, o.Index = st.Healthy, int64(st.Degraded), uint64(st.Repairing)
		o.Value = fmt.Sprintf("volumes %d, degraded %d, repairing %d, down servers %d, bytes to copy %d, corrupt found %d",
			st.Volumes, st.Degraded, st.Repairing, st.Down, st.BytesToCopy, st.CorruptFound)
	})
	return st, true
}
