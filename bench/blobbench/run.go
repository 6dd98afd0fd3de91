package blobbench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"cairn.dev/cairn/bench/benchrun"
)

// fillPerClient is how many objects a Duration run with get alone writes
// per client before it reads.
const fillPerClient = 8

// Run performs the run cfg describes: for each size, its ops in order, then
// the deletion of the size's objects (unless Keep). It returns the results
// measured so far with an error when cfg is invalid, when the bucket cannot
// be created, or when ctx ends; failed requests are counted in the results,
// and objects that could not be deleted make the error at the end.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	admin, err := newClient(cfg, cfg.Endpoints[0])
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	bctx, cancel := context.WithTimeout(ctx, cfg.RequestTimeout)
	created, err := admin.ensureBucket(bctx, cfg.Bucket)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("blobbench: bucket %s at %s: %s", cfg.Bucket, cfg.Endpoints[0], errorText(err))
	}
	clients, err := benchrun.OpenAll(ctx, cfg.RequestTimeout, cfg.Clients, func(_ context.Context, i int) (client, error) {
		return newClient(cfg, cfg.Endpoints[i%len(cfg.Endpoints)])
	})
	if err != nil {
		return nil, err
	}
	defer benchrun.CloseAll(clients)

	var results []Result
	var cleanupErr error
	for _, size := range cfg.Sizes {
		s := &sizeRun{cfg: cfg, pool: newPool(size, cfg.Seed)}
		if cfg.has(OpPut) {
			results = append(results, s.put(ctx, clients, true))
		} else {
			s.put(ctx, clients, false)
		}
		if cfg.has(OpGet) && ctx.Err() == nil {
			results = append(results, s.get(ctx, clients))
		}
		if !cfg.Keep {
			cleanupErr = errors.Join(cleanupErr, s.cleanup(clients))
		}
		if ctx.Err() != nil {
			break
		}
	}
	if created && !cfg.Keep && cleanupErr == nil {
		tctx, cancel := context.WithTimeout(context.Background(), cfg.RequestTimeout)
		if err := admin.removeBucket(tctx, cfg.Bucket); err != nil {
			cleanupErr = fmt.Errorf("blobbench: removing bucket %s: %s", cfg.Bucket, errorText(err))
		}
		cancel()
	}
	return results, errors.Join(ctx.Err(), cleanupErr)
}

// written is an object the run wrote: its number and CRC-32C.
type written struct {
	j   uint64
	crc uint32
}

// sizeRun is the run of one size.
type sizeRun struct {
	cfg     Config
	pool    *pool
	objects []written // written successfully, in no particular order
}

func (s *sizeRun) key(j uint64) string {
	return fmt.Sprintf("%s/%s/%09d", s.cfg.Prefix, FormatSize(s.pool.size), j)
}

// tally gathers one op's outcomes across clients.
type tally struct {
	ok, errs, corrupt atomic.Int64
	firstErr          atomic.Pointer[string]
	mu                sync.Mutex // protects lat
	lat               []time.Duration
}

func (t *tally) fail(what string, err error) {
	t.errs.Add(1)
	if errors.Is(err, errCorrupt) {
		t.corrupt.Add(1)
	}
	msg := what + ": " + errorText(err)
	t.firstErr.CompareAndSwap(nil, &msg)
}

// result summarizes the tally of an op that ran for elapsed.
func (t *tally) result(op Op, cfg Config, size int64, elapsed time.Duration) Result {
	r := Result{
		Op: op, Size: size, Clients: cfg.Clients, Objects: t.ok.Load(), Errors: t.errs.Load(),
		Corrupt: t.corrupt.Load(), Duration: elapsed, Latency: summarize(t.lat),
	}
	if e := t.firstErr.Load(); e != nil {
		r.FirstError = *e
	}
	if elapsed > 0 {
		r.ObjectsPerSec = float64(r.Objects) / elapsed.Seconds()
		r.MiBps = r.ObjectsPerSec * float64(size) / (1 << 20)
	}
	return r
}

// quota is how an op decides whether to start request k (0-based).
type quota struct {
	count    int       // > 0: exactly count requests
	deadline time.Time // else: until then...
	max      int       // ...and at most max requests
}

func (q quota) allows(k int) bool {
	if q.count > 0 {
		return k < q.count
	}
	return k < q.max && time.Now().Before(q.deadline)
}

// drive runs do(client, k) for k = 0, 1, ... on every client at once, each
// client sending one request after another, until q refuses k or ctx
// ends. It returns how long that took.
func drive(ctx context.Context, clients []client, q quota, do func(c client, k int)) time.Duration {
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if !q.allows(k) {
					return
				}
				do(c, k)
			}
		})
	}
	wg.Wait()
	return time.Since(start)
}

// put writes objects 0, 1, ...: Count of them, or for Duration; or, when
// not measured (get alone), Count or fillPerClient per client.
func (s *sizeRun) put(ctx context.Context, clients []client, measured bool) Result {
	q := quota{count: s.cfg.Count, deadline: time.Now().Add(s.cfg.Duration), max: s.cfg.MaxObjects}
	if !measured && q.count == 0 {
		q.count = fillPerClient * len(clients)
	}
	var t tally
	var mu sync.Mutex // protects s.objects
	elapsed := drive(ctx, clients, q, func(c client, k int) {
		j := uint64(k)
		b, crc := s.pool.object(j)
		key := s.key(j)
		rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		t0 := time.Now()
		err := c.put(rctx, s.cfg.Bucket, key, b)
		lat := time.Since(t0)
		cancel()
		if err != nil {
			t.fail("put "+key, err)
			return
		}
		t.ok.Add(1)
		mu.Lock()
		s.objects = append(s.objects, written{j, crc})
		mu.Unlock()
		t.mu.Lock()
		t.lat = append(t.lat, lat)
		t.mu.Unlock()
	})
	return t.result(OpPut, s.cfg, s.pool.size, elapsed)
}

// get reads the objects written, in a seeded random order (again and again
// in a Duration run or when fewer than Count were written), checking each.
func (s *sizeRun) get(ctx context.Context, clients []client) Result {
	var t tally
	if len(s.objects) == 0 {
		msg := "no objects to read: every put failed"
		t.firstErr.Store(&msg)
		return t.result(OpGet, s.cfg, s.pool.size, 0)
	}
	order := make([]written, len(s.objects))
	copy(order, s.objects)
	r := rand.New(rand.NewPCG(s.cfg.Seed, uint64(s.pool.size)))
	r.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	q := quota{count: s.cfg.Count, deadline: time.Now().Add(s.cfg.Duration), max: int(^uint(0) >> 1)}
	elapsed := drive(ctx, clients, q, func(c client, k int) {
		o := order[k%len(order)]
		key := s.key(o.j)
		rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		t0 := time.Now()
		err := c.get(rctx, s.cfg.Bucket, key, s.pool.size, o.crc)
		lat := time.Since(t0)
		cancel()
		if err != nil {
			t.fail("get "+key, err)
			return
		}
		t.ok.Add(1)
		t.mu.Lock()
		t.lat = append(t.lat, lat)
		t.mu.Unlock()
	})
	return t.result(OpGet, s.cfg, s.pool.size, elapsed)
}

// cleanup deletes the objects written, with every client, even after ctx
// ended (under a deadline of its own).
func (s *sizeRun) cleanup(clients []client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*s.cfg.RequestTimeout)
	defer cancel()
	var t tally
	drive(ctx, clients, quota{count: len(s.objects)}, func(c client, k int) {
		key := s.key(s.objects[k].j)
		rctx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
		defer cancel()
		if err := c.remove(rctx, s.cfg.Bucket, key); err != nil {
			t.fail("delete "+key, err)
			return
		}
		t.ok.Add(1)
	})
	if n := int64(len(s.objects)) - t.ok.Load(); n > 0 {
		first := "the cleanup's deadline passed"
		if e := t.firstErr.Load(); e != nil {
			first = *e
		}
		return fmt.Errorf("blobbench: %d objects of %s not deleted, e.g. %s", n, FormatSize(s.pool.size), first)
	}
	return nil
}
