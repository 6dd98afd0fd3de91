package upstream

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"

	"cairn.dev/cairn/gatewayd/gwconfig"
	"cairn.dev/cairn/node/clusterconn"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// RegistryService is the service name that resolves to the registry's own
// raftkv cluster (gwconfig: 'The service "raftkv" is the gateway's own
// registry cluster').
const RegistryService = "raftkv"

// RegistryResolver resolves services from the raftkv registry: the targets
// of service S are the valid entries under <prefix>S/ (see Entry and
// Register), except RegistryService, whose targets are the endpoints the
// raftkv client was configured with. It is safe for concurrent use; each Watch runs one goroutine
// that its stop function ends.
type RegistryResolver struct {
	kv     *kvclient.Client
	prefix string
	logger *slog.Logger
}

// NewRegistryResolver returns a resolver reading kv under prefix (default
// DefaultRegistryPrefix; a missing trailing '/' is added). The caller keeps
// owning kv; a Watch ends when kv is closed.
func NewRegistryResolver(kv *kvclient.Client, prefix string, logger *slog.Logger) *RegistryResolver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &RegistryResolver{kv: kv, prefix: normPrefix(prefix), logger: logger}
}

// Watch reads the service's entries, calls fn with them (sorted by instance
// id), then watches the service's keys from the revision it read and calls
// fn with the full list after every change. When the watch fails for good
// (a compacted revision) or a read fails, it reads again after a backoff:
// the last list delivered stays in force meanwhile. Invalid entries are
// logged and left out. The watch ends when stop is called, ctx ends, or the
// client is closed. A service name that is empty or holds '/' resolves to no
// targets (and is logged). RegistryService is answered once with the
// client's endpoints (weight 1 each). See Resolver.
func (r *RegistryResolver) Watch(ctx context.Context, service string, fn func([]gwconfig.Target)) (stop func()) {
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
	r       *RegistryResolver
	dir     string                     // <prefix><service>/
	entries map[string]gwconfig.Target // by key
	last    []gwconfig.Target
	sent    bool
	fn      func([]gwconfig.Target)
	logger  *slog.Logger
}

func (r *RegistryResolver) run(ctx context.Context, service string, fn func([]gwconfig.Target)) {
	w := &serviceWatch{r: r, dir: r.prefix + service + "/", fn: fn, logger: r.logger.With("service", service)}
	if err := checkName("service", service); err != nil {
		w.logger.Error("registry watch refused", "err", err)
		fn(nil)
		return
	}
	if service == RegistryService {
		var list []gwconfig.Target
		for _, ep := range r.kv.Endpoints() {
			list = append(list, gwconfig.Target{Address: ep, Weight: 1})
		}
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
	resp, err := w.r.kv.Get(ctx, w.dir, kvclient.WithPrefix())
	if err != nil {
		return err
	}
	w.entries = make(map[string]gwconfig.Target, len(resp.GetKvs()))
	for _, kv := range resp.GetKvs() {
		w.put(kv)
	}
	w.deliver()
	wch := w.r.kv.Watch(ctx, w.dir, kvclient.WithPrefix(), kvclient.WithRev(resp.GetHeader().GetRevision()+1))
	for wr := range wch {
		if err := wr.Err(); err != nil {
			return err
		}
		b.Reset()
		for _, ev := range wr.GetEvents() {
			switch ev.GetType() {
			case raftkvv1.Event_EVENT_TYPE_PUT:
				w.put(ev.GetKv())
			case raftkvv1.Event_EVENT_TYPE_DELETE:
				delete(w.entries, string(ev.GetKv().GetKey()))
			}
		}
		w.deliver()
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return kvclient.ErrClosed // the channel closed without an error: the client was closed
}

// put records one entry, or drops its key when the value is invalid.
func (w *serviceWatch) put(kv *raftkvv1.KeyValue) {
	key := string(kv.GetKey())
	id := strings.TrimPrefix(key, w.dir)
	t, err := ParseEntry(kv.GetValue())
	if err != nil || id == "" || strings.Contains(id, "/") {
		if err == nil {
			err = ErrInvalidEntry
		}
		delete(w.entries, key)
		w.logger.Warn("registry entry ignored", "key", key, "err", err)
		return
	}
	w.entries[key] = t
}

// deliver calls fn with the entries sorted by key when they differ from
// what it delivered last.
func (w *serviceWatch) deliver() {
	keys := make([]string, 0, len(w.entries))
	for k := range w.entries {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	list := make([]gwconfig.Target, len(keys))
	for i, k := range keys {
		list[i] = w.entries[k]
	}
	if w.sent && slices.Equal(list, w.last) {
		return
	}
	w.sent, w.last = true, list
	w.fn(slices.Clone(list))
}
