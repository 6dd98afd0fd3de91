package purge

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"cairn.dev/cairn/node/nodetest"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// Tests of the log sharing one raftkv, each under its own prefix.
func TestLog(t *testing.T) {
	addr, kv := newKV(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	t.Run("ConcurrentPublishersGetDenseSeqs", func(t *testing.T) {
		const prefix, writers, each = "/t/dense/", 4, 8
		seed := nodetest.Seed(t)
		var (
			mu   sync.Mutex
			seqs []int64
			wg   sync.WaitGroup
		)
		errs := make(chan error, writers*each)
		for w := range writers {
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			wg.Go(func() {
				for i := range each {
					spec := Spec{URL: fmt.Sprintf("/w%d/%d", w, i)}
					if rng.IntN(2) == 0 {
						spec = Spec{Tag: fmt.Sprintf("w%d-%d", w, i), Soft: true}
					}
					rec, err := Publish(ctx, kv, prefix, spec, "w")
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					seqs = append(seqs, rec.Seq)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		slices.Sort(seqs)
		for i, s := range seqs {
			if s != int64(i+1) {
				t.Fatalf("seqs %v are not 1..%d", seqs, writers*each)
			}
		}
		l, _ := newLayout(prefix)
		resp, err := kv.Get(ctx, l.logDir(), kvclient.WithPrefix())
		if err != nil || len(resp.GetKvs()) != writers*each {
			t.Fatalf("log holds %d records (%v), want %d", len(resp.GetKvs()), err, writers*each)
		}
		// Seq order is commit order: each record was written after the one before.
		for i := 1; i < len(resp.GetKvs()); i++ {
			if resp.GetKvs()[i].GetModRevision() <= resp.GetKvs()[i-1].GetModRevision() {
				t.Fatalf("record %d written at revision %d, not after record %d's %d", i+1, resp.GetKvs()[i].GetModRevision(), i, resp.GetKvs()[i-1].GetModRevision())
			}
		}
	})

	t.Run("CompactKeepsTheNewestAndTheYoung", func(t *testing.T) {
		const prefix = "/t/compact/"
		for i := range 5 {
			if _, err := Publish(ctx, kv, prefix, Spec{URL: fmt.Sprintf("/%d", i)}, ""); err != nil {
				t.Fatal(err)
			}
		}
		later := func() time.Time { return time.Now().Add(2 * time.Hour) }
		for _, tc := range []struct {
			o    CompactOptions
			want int64
		}{
			{CompactOptions{}, 0}, // 24 h, keep 1000
			{CompactOptions{Retention: time.Hour, MinKeep: 1}, 0},             // all young
			{CompactOptions{Retention: time.Hour, MinKeep: 2, Now: later}, 3}, // old, keep 2
			{CompactOptions{Retention: time.Hour, MinKeep: 2, Now: later}, 0}, // nothing more
		} {
			n, err := Compact(ctx, kv, prefix, tc.o)
			if err != nil || n != tc.want {
				t.Fatalf("Compact(%+v) = %d, %v; want %d", tc.o, n, err, tc.want)
			}
		}
		rec, err := Publish(ctx, kv, prefix, Spec{URL: "/next"}, "")
		if err != nil || rec.Seq != 6 {
			t.Fatalf("Publish after Compact: %+v, %v; want Seq 6 (never reused)", rec, err)
		}
	})

	t.Run("WaitWithNoEdgeReturnsAtOnce", func(t *testing.T) {
		res, err := Wait(ctx, kv, "/t/empty/", 1)
		if err != nil || len(res.Applied)+len(res.Pending) != 0 {
			t.Fatalf("Wait = %+v, %v; want an empty result", res, err)
		}
	})

	t.Run("UndecodableRecordDropsEverything", func(t *testing.T) {
		const prefix = "/t/bad/"
		cache := &fakeCache{}
		e := startEdgeAt(t, addr, prefix, "edge-1", "", 10*time.Second, cache)
		if err := e.sub.Run(ctx); !errors.Is(err, ErrRunning) {
			t.Fatalf("a second Run = %v, want ErrRunning", err)
		}
		good, err := Publish(ctx, kv, prefix, Spec{Tag: "a"}, "")
		if err != nil {
			t.Fatal(err)
		}
		// A record from a newer format (or a corrupt one): head and record
		// written as Publish does.
		l, _ := newLayout(prefix)
		if _, err := kv.Txn(ctx).Then(kvclient.OpPut(l.head(), formatSeq(2)), kvclient.OpPut(l.record(2), `{"purge":"everything"}`)).Commit(); err != nil {
			t.Fatal(err)
		}
		third, err := Publish(ctx, kv, prefix, Spec{Tag: "c"}, "")
		if err != nil || third.Seq != 3 {
			t.Fatalf("Publish = %+v, %v; want Seq 3", third, err)
		}
		wctx, cancel := context.WithTimeout(ctx, testTimeout)
		defer cancel()
		if res, err := Wait(wctx, kv, prefix, third.Seq); err != nil || !slices.Equal(res.Applied, []string{"edge-1"}) {
			t.Fatalf("Wait = %+v, %v", res, err)
		}
		if got := cache.seqs(); !slices.Equal(got, []int64{good.Seq, third.Seq}) || cache.applyAlls() != 1 {
			t.Fatalf("applied %v with %d ApplyAll; want [1 3] and one ApplyAll for record 2", got, cache.applyAlls())
		}
	})

	t.Run("StoppedEdgeIsNotWaitedFor", func(t *testing.T) {
		const prefix = "/t/stop/"
		startEdgeAt(t, addr, prefix, "edge-1", "", 30*time.Second, &fakeCache{})
		b := startEdgeAt(t, addr, prefix, "edge-2", "", 30*time.Second, &fakeCache{})
		b.stop() // graceful: the lease is revoked, not left to expire
		rec, err := Publish(ctx, kv, prefix, Spec{URL: "/x"}, "")
		if err != nil {
			t.Fatal(err)
		}
		res, err := Wait(ctx, kv, prefix, rec.Seq)
		if err != nil || !slices.Equal(res.Applied, []string{"edge-1"}) || len(res.Pending) != 0 {
			t.Fatalf("Wait = %+v, %v; want edge-1 only", res, err)
		}
	})

	t.Run("RetryableErrors", func(t *testing.T) {
		put, err := kv.Put(ctx, "/t/retry/k", "v")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Put(ctx, "/t/retry/k", "w"); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Compact(ctx, put.GetHeader().GetRevision()+1); err != nil {
			t.Fatal(err)
		}
		_, compacted := kv.Get(ctx, "/t/retry/k", kvclient.WithRev(put.GetHeader().GetRevision()))
		if !errors.Is(compacted, kvclient.ErrCompacted) || !retryable(compacted) {
			t.Fatalf("read of a compacted revision: %v, retryable %v; want ErrCompacted, retryable", compacted, retryable(compacted))
		}
		closed, err := kvclient.New(kvclient.Config{Endpoints: []string{addr}})
		if err != nil {
			t.Fatal(err)
		}
		_ = closed.Close()
		_, errClosed := closed.Get(ctx, "k")
		_, errBig := kv.Put(ctx, string(make([]byte, 64<<10)), "v")
		for _, err := range []error{errClosed, errBig, ErrInvalidArgument, ErrInvalidSpec} {
			if err == nil || retryable(err) {
				t.Errorf("retryable(%v) = true, want false", err)
			}
		}
		if !retryable(context.DeadlineExceeded) {
			t.Error("a timed-out call is not retryable")
		}
	})

	t.Run("AcknowledgedOnlyAfterApplied", func(t *testing.T) {
		const prefix = "/t/ackafter/"
		release := make(chan struct{})
		entered := make(chan Record, 1)
		kvc := dial(t, addr)
		sub, err := NewSubscriber(SubscriberOptions{
			KV: kvc, Prefix: prefix, Node: "slow", Logger: nodetest.Logger(t),
			Apply: func(r Record) int64 {
				entered <- r
				<-release
				return 7
			},
			ApplyAll: func() int64 { return 0 },
		})
		if err != nil {
			t.Fatal(err)
		}
		rctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- sub.Run(rctx) }()
		var releaseOnce sync.Once
		free := func() { releaseOnce.Do(func() { close(release) }) }
		defer func() { free(); stop(); <-done }()
		waitLive(t, kv, prefix, "slow")

		rec, err := Publish(ctx, kv, prefix, Spec{URL: "/slow"}, "")
		if err != nil {
			t.Fatal(err)
		}
		<-entered // Apply is running
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		res, err := Wait(short, kv, prefix, rec.Seq)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || !slices.Equal(res.Pending, []string{"slow"}) || sub.LastApplied() != 0 {
			t.Fatalf("Wait during Apply = %+v, %v (LastApplied %d); want slow pending", res, err, sub.LastApplied())
		}
		free()
		res, err = Wait(ctx, kv, prefix, rec.Seq)
		if err != nil || !slices.Equal(res.Applied, []string{"slow"}) || res.Removed != 7 {
			t.Fatalf("Wait after Apply = %+v, %v; want slow applied, removed 7", res, err)
		}
	})

	t.Run("PublishFindsItsOwnRecord", func(t *testing.T) {
		// The read-back Publish does after a write with an unknown outcome.
		const prefix = "/t/own/"
		l, _ := newLayout(prefix)
		rec, err := Publish(ctx, kv, prefix, Spec{Tag: "x"}, "")
		if err != nil {
			t.Fatal(err)
		}
		resp, err := kv.Get(ctx, l.record(rec.Seq))
		if err != nil || len(resp.GetKvs()) != 1 {
			t.Fatalf("record %d: %v", rec.Seq, err)
		}
		_, id, err := decodeRecord(rec.Seq, resp.GetKvs()[0].GetValue())
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			tried []int64
			head  int64
			id    string
			found bool
		}{
			{[]int64{rec.Seq}, rec.Seq, id, true},
			{[]int64{rec.Seq}, rec.Seq, "someone-else", false},
			{[]int64{rec.Seq}, rec.Seq - 1, id, false}, // not visible yet
			{[]int64{rec.Seq + 5}, rec.Seq + 5, id, false},
			{nil, rec.Seq, id, false},
		} {
			seq, found, err := findOwn(ctx, kv, l, tc.tried, tc.head, tc.id)
			if err != nil || found != tc.found || (found && seq != rec.Seq) {
				t.Errorf("findOwn(%v, head %d, %q) = %d, %v, %v; want found %v", tc.tried, tc.head, tc.id, seq, found, err, tc.found)
			}
		}
	})

	t.Run("LogStartedAfreshWhileWatching", func(t *testing.T) {
		const prefix = "/t/afresh/"
		cache := &fakeCache{}
		e := startEdgeAt(t, addr, prefix, "edge-1", "", 10*time.Second, cache)
		var (
			last Record
			err  error
		)
		for _, u := range []string{"/1", "/2"} {
			if last, err = Publish(ctx, kv, prefix, Spec{URL: u}, ""); err != nil {
				t.Fatal(err)
			}
		}
		nodetest.WaitFor(t, testTimeout, "records applied", func() bool { return e.sub.LastApplied() == last.Seq })
		l, _ := newLayout(prefix)
		if _, err := kv.Delete(ctx, l.prefix+"purges/", kvclient.WithPrefix()); err != nil {
			t.Fatal(err)
		}
		rec, err := Publish(ctx, kv, prefix, Spec{URL: "/new"}, "")
		if err != nil || rec.Seq != 1 {
			t.Fatalf("first record of the new log: %+v, %v", rec, err)
		}
		nodetest.WaitFor(t, testTimeout, "the new log noticed", func() bool { return cache.applyAlls() == 1 && e.sub.LastApplied() == 1 })
		if got := cache.seqs(); !slices.Equal(got, []int64{1, 2}) {
			t.Fatalf("applied %v; want [1 2] from the old log, then ApplyAll for the new one", got)
		}
		next, err := Publish(ctx, kv, prefix, Spec{URL: "/next"}, "")
		if err != nil {
			t.Fatal(err)
		}
		if res, err := Wait(ctx, kv, prefix, next.Seq); err != nil || !slices.Equal(res.Applied, []string{"edge-1"}) {
			t.Fatalf("Wait on the new log = %+v, %v", res, err)
		}
	})
}
