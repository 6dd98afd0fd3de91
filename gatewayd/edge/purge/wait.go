package purge

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cairn.dev/cairn/node/clusterconn"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// Result is what Wait saw when it returned.
type Result struct {
	// Applied names the nodes that applied the purge: the live ones whose
	// applied Seq reached it, and any that acknowledged it before leaving.
	// Sorted.
	Applied []string
	// Pending names the live nodes that had not applied it. Sorted; empty
	// when Wait returns nil.
	Pending []string
	// Removed sums the entries the nodes reported removing for this record.
	Removed int64
}

// Wait waits until every live edge (a key under prefix+"nodes/") has applied
// the record seq, and returns who applied it and who is pending. A node that
// dies stops being waited for when its lease expires; a node that joins
// while Wait runs is waited for too. With no live node Wait returns at once.
//
// When ctx ends first, Wait returns the Result as it last saw it and ctx's
// error. raftkv errors are retried until ctx ends, except those that cannot
// pass (closed client, refused request), which are returned at once.
func Wait(ctx context.Context, kv *kvclient.Client, prefix string, seq int64) (Result, error) {
	if kv == nil {
		return Result{}, fmt.Errorf("%w: kv is nil", ErrInvalidArgument)
	}
	if seq < 1 {
		return Result{}, fmt.Errorf("%w: seq %d must be >= 1", ErrInvalidArgument, seq)
	}
	l, err := newLayout(prefix)
	if err != nil {
		return Result{}, err
	}
	w := &waiter{l: l, seq: seq}
	var b clusterconn.Backoff
	for {
		rev, err := w.snapshot(ctx, kv)
		if err == nil {
			if w.done() {
				return w.result(), nil
			}
			b.Reset()
			err = w.follow(ctx, kv, rev)
			if err == nil {
				return w.result(), nil
			}
		}
		if ctx.Err() != nil {
			return w.result(), ctx.Err()
		}
		if !retryable(err) {
			return w.result(), fmt.Errorf("purge: wait: %w", err)
		}
		if !b.Wait(ctx) {
			// ctx ends within the backoff step (a call failing on ctx's
			// deadline can see it a moment before ctx does): Wait's
			// outcome is ctx's.
			<-ctx.Done()
			return w.result(), ctx.Err()
		}
	}
}

// waiter is one Wait's view of the nodes, owned by its goroutine.
type waiter struct {
	l   layout
	seq int64

	live    map[string]bool
	applied map[string]int64
	removed map[string]int64 // acks of seq
}

// snapshot reads nodes/, applied/ and acks/<seq>/ at one revision and
// returns it.
func (w *waiter) snapshot(ctx context.Context, kv *kvclient.Client) (int64, error) {
	nodes, err := kv.Get(ctx, w.l.nodesDir(), kvclient.WithPrefix(), kvclient.WithKeysOnly())
	if err != nil {
		return 0, err
	}
	rev := nodes.GetHeader().GetRevision()
	applied, err := kv.Get(ctx, w.l.appliedDir(), kvclient.WithPrefix(), kvclient.WithRev(rev))
	if err != nil {
		return 0, err
	}
	acks, err := kv.Get(ctx, w.l.acks(w.seq), kvclient.WithPrefix(), kvclient.WithRev(rev))
	if err != nil {
		return 0, err
	}
	w.live, w.applied, w.removed = map[string]bool{}, map[string]int64{}, map[string]int64{}
	for _, kv := range nodes.GetKvs() {
		w.event(raftkvv1.Event_EVENT_TYPE_PUT, kv)
	}
	for _, kv := range applied.GetKvs() {
		w.event(raftkvv1.Event_EVENT_TYPE_PUT, kv)
	}
	for _, kv := range acks.GetKvs() {
		w.event(raftkvv1.Event_EVENT_TYPE_PUT, kv)
	}
	return rev, nil
}

// follow watches acks/ .. nodes/ from after rev and updates the view until
// every live node applied seq (nil), or the watch or ctx ends (an error).
func (w *waiter) follow(ctx context.Context, kv *kvclient.Client, rev int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	end := string(kvclient.PrefixEnd([]byte(w.l.nodesDir())))
	for resp := range kv.Watch(wctx, w.l.acksDir(), kvclient.WithRange(end), kvclient.WithRev(rev+1)) {
		if err := resp.Err(); err != nil {
			return err
		}
		for _, ev := range resp.GetEvents() {
			w.event(ev.GetType(), ev.GetKv())
		}
		if w.done() {
			return nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("purge: wait: watch ended")
}

// event applies one change of a key in the watched range to the view.
func (w *waiter) event(typ raftkvv1.Event_EventType, kv *raftkvv1.KeyValue) {
	key := string(kv.GetKey())
	put := typ == raftkvv1.Event_EVENT_TYPE_PUT
	if n, ok := strings.CutPrefix(key, w.l.nodesDir()); ok {
		if put {
			w.live[n] = true
		} else {
			delete(w.live, n)
		}
		return
	}
	if n, ok := strings.CutPrefix(key, w.l.appliedDir()); ok {
		if put {
			if v, err := parseSeq(string(kv.GetValue())); err == nil {
				w.applied[n] = v
			}
		} else {
			delete(w.applied, n)
		}
		return
	}
	if n, ok := strings.CutPrefix(key, w.l.acks(w.seq)); ok && put {
		if v, err := strconv.ParseInt(string(kv.GetValue()), 10, 64); err == nil {
			w.removed[n] = v
		}
	}
}

// done reports whether every live node applied seq.
func (w *waiter) done() bool {
	for n := range w.live {
		if w.applied[n] < w.seq {
			return false
		}
	}
	return true
}

func (w *waiter) result() Result {
	var r Result
	for n := range w.live {
		if w.applied[n] >= w.seq {
			r.Applied = append(r.Applied, n)
		} else {
			r.Pending = append(r.Pending, n)
		}
	}
	for n, v := range w.removed {
		r.Removed += v
		if !w.live[n] {
			r.Applied = append(r.Applied, n) // acknowledged, then left
		}
	}
	slices.Sort(r.Applied)
	slices.Sort(r.Pending)
	return r
}
