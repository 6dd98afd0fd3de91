package registry

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"

	"cairn.dev/cairn/node/clusterconn"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// RegistryService is the service name that resolves to the registry's own
// raftkv cluster (gatewayd's configuration: 'The service "raftkv" is the
// gateway's own registry cluster').
const RegistryService = "raftkv"

// Resolver is the Watcher of the raftkv registry: the instances of service S
// are the valid entries under <prefix>S/ (see Entry and Register), except
// RegistryService, whose instances are the endpoints the raftkv client was
// configured with. It is safe for concurrent use; each Watch runs one
// goroutine that its stop function ends.
type Resolver struct {
	kv     *kvclient.Client
	prefix string
	logger *slog.Logger
}

// NewResolver returns a resolver reading kv under prefix (default
// DefaultPrefix; a missing trailing '/' is added), logging to logger (nil
// discards). The caller keeps owning kv; a Watch ends when kv is closed.
func NewResolver(kv *kvclient.Client, prefix string, logger *slog.Logger) *Resolver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Resolver{kv: kv, prefix: normPrefix(prefix), logger: logger}
}

// Watch reads the service's entries, calls fn with them (sorted by ID), then watches the service's keys from the revision it read and calls
// fn with the full list after every change. When the watch fails for good
// (a compacted revision) or a read fails, it reads again after a backoff:
// the last list delivered stays in force meanwhile. Invalid entries are
// logged and left out. The watch ends when stop is called, ctx ends, or the
// client is closed. A service name that is empty or holds '/' resolves to no
// instances (and is logged). RegistryService is answered once with the
// client's endpoints (each its own ID, weight 1). See Watcher.
func (r *Resolver) Watch(ctx context.Context, service string, fn func([]Instance)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.run(ctx, service, fn)
	}()
	return func() {
		cancel()
		<-done
	}
}

// serviceWatch is the state of one Watch, owned by its goroutine.
type serviceWatch struct {
	r       *Resolver
	dir     string              // <prefix><service>/
	entries map[string]Instance // by key
	last    []Instance
	sent    bool
	fn      func([]Instance)
	logger  *slog.Logger
}

func (r *Resolver) run(ctx context.Context, service string, fn func([]Instance)) {
	w := &serviceWatch{r: r, dir: r.prefix + service + "/", fn: fn, logger: r.logger.With("service", service)}
	if err := checkName("service", service); err != nil {
		w.logger.Error("registry watch refused", "err", err)
		fn(nil)
		return
	}
	if service == RegistryService {
		var list []Instance
		for _, ep := range r.kv.Endpoints() {
			list = append(list, Instance{ID: ep, Address: ep, Weight: 1})
		}
		sortByID(list)
		fn(list)
		return
	}
	var b clusterconn.Backoff
	for ctx.Err() == nil {
		err := w.once(ctx, &b)
		if ctx.Err() != nil || errors.Is(err, kvclient.ErrClosed) {
			return
		}
		w.logger.Warn("registry watch interrupted, reading again", "err", err)
		if !b.Wait(ctx) {
			return
		}
	}
}

// once reads the service's entries, delivers them, and follows the watch
// until it ends; it returns why.
func (w *serviceWatch) once(ctx context.Context, b *clusterconn.Backoff) error {
	return w.r.kv.FollowPrefix(ctx, w.dir, func(kvs []*raftkvv1.KeyValue) {
		w.entries = make(map[string]Instance, len(kvs))
		for _, kv := range kvs {
			w.put(kv)
		}
		w.deliver()
	}, func(evs []*raftkvv1.Event) {
		b.Reset()
		for _, ev := range evs {
			switch ev.GetType() {
			case raftkvv1.Event_EVENT_TYPE_PUT:
				w.put(ev.GetKv())
			case raftkvv1.Event_EVENT_TYPE_DELETE:
				delete(w.entries, string(ev.GetKv().GetKey()))
			}
		}
		w.deliver()
	})
}

// put records one entry, or drops its key when the value is invalid.
func (w *serviceWatch) put(kv *raftkvv1.KeyValue) {
	key := string(kv.GetKey())
	id := strings.TrimPrefix(key, w.dir)
	e, err := ParseEntry(kv.GetValue())
	if err == nil {
		err = checkName("id", id)
	}
	if err != nil {
		delete(w.entries, key)
		w.logger.Warn("registry entry ignored", "key", key, "err", err)
		return
	}
	w.entries[key] = Instance{ID: id, Address: e.Address, Weight: e.Weight}
}

// deliver calls fn with the entries sorted by key, which is by ID, when they
// differ from what it delivered last.
func (w *serviceWatch) deliver() {
	keys := make([]string, 0, len(w.entries))
	for k := range w.entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	list := make([]Instance, len(keys))
	for i, k := range keys {
		list[i] = w.entries[k]
	}
	if w.sent && slices.Equal(list, w.last) {
		return
	}
	w.sent, w.last = true, list
	w.fn(slices.Clone(list))
}
