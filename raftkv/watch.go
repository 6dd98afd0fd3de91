package raftkv

import (
	"bytes"
	"sync"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// watchHub fans applied events out to the watchers on this node. publish is called
// from the apply goroutine and never blocks: a watcher whose buffer is full is marked
// lagging and catches up from the store's history instead, so no event is lost.
type watchHub struct {
	mu       sync.Mutex // protects watchers
	watchers map[*watcher]struct{}
}

func newWatchHub() *watchHub { return &watchHub{watchers: map[*watcher]struct{}{}} }

// watcher is one Watch stream's registration.
type watcher struct {
	key, end []byte
	// ch carries batches of matching events in revision order.
	ch chan []*raftkvv1.Event
	// lag is signalled (non-blocking, capacity 1) when events were dropped.
	lag chan struct{}
}

const watcherBuffer = 256

func (h *watchHub) register(key, end []byte) *watcher {
	w := &watcher{key: key, end: end, ch: make(chan []*raftkvv1.Event, watcherBuffer), lag: make(chan struct{}, 1)}
	h.mu.Lock()
	h.watchers[w] = struct{}{}
	h.mu.Unlock()
	return w
}

func (h *watchHub) unregister(w *watcher) {
	h.mu.Lock()
	delete(h.watchers, w)
	h.mu.Unlock()
}

func (h *watchHub) publish(events []*raftkvv1.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watchers {
		var match []*raftkvv1.Event
		for _, ev := range events {
			if inRange(ev.GetKv().GetKey(), w.key, w.end) {
				match = append(match, ev)
			}
		}
		if len(match) == 0 {
			continue
		}
		select {
		case w.ch <- match:
		default:
			w.signalLag()
		}
	}
}

// resyncAll makes every watcher re-read history, e.g. after a snapshot restore.
func (h *watchHub) resyncAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.watchers {
		w.signalLag()
	}
}

func (w *watcher) signalLag() {
	select {
	case w.lag <- struct{}{}:
	default:
	}
}

// inRange applies raftkv's key/range_end rules: empty end = exactly key;
// end "\x00" = every key >= key; otherwise [key, end).
func inRange(k, key, end []byte) bool {
	switch {
	case len(end) == 0:
		return bytes.Equal(k, key)
	case bytes.Equal(end, []byte{0}):
		return bytes.Compare(k, key) >= 0
	default:
		return bytes.Compare(k, key) >= 0 && bytes.Compare(k, end) < 0
	}
}
