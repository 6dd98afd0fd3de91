package cdc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"

	"cairn.dev/cairn/node/clusterconn"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// Defaults of Config.
const (
	DefaultProgressPrefix   = "/cairn/searchd/sync/"
	DefaultBatchSize        = 500
	DefaultPageSize         = 1000
	DefaultProgressInterval = time.Second
)

// Config configures a Syncer.
type Config struct {
	// Prefix is the raftkv key prefix followed; required.
	Prefix string
	// Index is the searchd index kept in sync; required. It must exist.
	Index string
	// ProgressKey is the raftkv key of the saved progress; empty means
	// DefaultProgressPrefix + Index. It must not be under Prefix.
	ProgressKey string
	// FromRevision, when positive, starts the watch at that revision
	// instead of the saved progress (no full resync first).
	FromRevision int64
	// BatchSize bounds the items of one Bulk call; zero means
	// DefaultBatchSize.
	BatchSize int
	// PageSize bounds the keys of one range read of a full resync; zero
	// means DefaultPageSize.
	PageSize int
	// ProgressInterval is the least time between two saves of the
	// progress; zero means DefaultProgressInterval.
	ProgressInterval time.Duration
	// OnProgress, if set, is called (from Run's goroutine) after each save
	// of the progress.
	OnProgress func(Stats)
	// Logger logs resyncs and skipped keys; nil discards.
	Logger *slog.Logger
}

// Validate reports what is wrong with c.
func (c Config) Validate() error {
	var errs []error
	if c.Prefix == "" {
		errs = append(errs, errors.New("cdc: prefix must be set (following every key of raftkv is refused)"))
	}
	if c.Index == "" {
		errs = append(errs, errors.New("cdc: index must be set"))
	}
	if pk := c.progressKey(); c.Prefix != "" && strings.HasPrefix(pk, c.Prefix) {
		errs = append(errs, fmt.Errorf("cdc: progress key %q is under the prefix %q: the sync would follow its own progress", pk, c.Prefix))
	}
	if c.BatchSize < 0 || c.PageSize < 0 || c.ProgressInterval < 0 || c.FromRevision < 0 {
		errs = append(errs, errors.New("cdc: batch size, page size, progress interval and from revision must not be negative"))
	}
	return errors.Join(errs...)
}

func (c Config) progressKey() string {
	if c.ProgressKey != "" {
		return c.ProgressKey
	}
	return DefaultProgressPrefix + c.Index
}

// Stats are a Syncer's counters since it started.
type Stats struct {
	// Revision is the last raftkv revision applied and saved.
	Revision int64 `json:"revision"`
	// Indexed and Deleted count the documents written and deleted.
	Indexed int64 `json:"indexed"`
	Deleted int64 `json:"deleted"`
	// Skipped counts keys not synced: values that are not JSON objects,
	// documents searchd refused.
	Skipped int64 `json:"skipped"`
	// Resyncs counts full resynchronisations.
	Resyncs int64 `json:"resyncs"`
}

// progress is the saved progress.
type progress struct {
	Revision int64  `json:"revision"`
	Prefix   string `json:"prefix"`
	Index    string `json:"index"`
}

// Syncer keeps one index following one prefix. Run it once.
type Syncer struct {
	cfg     Config
	kv      *kvclient.Client
	docs    searchdv1.DocumentServiceClient
	indexes searchdv1.IndexServiceClient
	search  searchdv1.SearchServiceClient
	logger  *slog.Logger

	mu    sync.Mutex // protects stats
	stats Stats

	// Owned by Run's goroutine.
	batch     []*searchdv1.BulkItem
	applied   int64 // revision up to which every write is acknowledged
	saved     int64 // revision last saved
	lastSaved time.Time
}

// New returns a Syncer over a raftkv client and a connection to searchd.
func New(cfg Config, kv *kvclient.Client, conn grpc.ClientConnInterface) (*Syncer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.BatchSize == 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.ProgressInterval == 0 {
		cfg.ProgressInterval = DefaultProgressInterval
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Syncer{
		cfg: cfg, kv: kv, logger: logger.With("index", cfg.Index, "prefix", cfg.Prefix),
		docs:    searchdv1.NewDocumentServiceClient(conn),
		indexes: searchdv1.NewIndexServiceClient(conn),
		search:  searchdv1.NewSearchServiceClient(conn),
	}, nil
}

// Stats returns the counters. Safe to call from any goroutine.
func (s *Syncer) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Syncer) count(f func(*Stats)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.stats)
}

// Run syncs until ctx ends (then it saves the progress and returns nil) or
// an error it cannot get past: the index or raftkv refusing the sync.
func (s *Syncer) Run(ctx context.Context) error {
	if _, err := s.indexes.GetIndex(ctx, &searchdv1.GetIndexRequest{Name: s.cfg.Index}); err != nil {
		return fmt.Errorf("cdc: index %s: %w", s.cfg.Index, err)
	}
	next, err := s.start(ctx)
	if err != nil {
		return s.end(ctx, err)
	}
	for {
		next, err = s.follow(ctx, next)
		if errors.Is(err, kvclient.ErrCompacted) {
			s.logger.Warn("cdc: the revision to resume from was compacted; resyncing the whole prefix", "from_revision", next)
			if next, err = s.resync(ctx); err == nil {
				continue
			}
		}
		return s.end(ctx, err)
	}
}

// end saves what was applied (with a fresh deadline when ctx ended) and
// turns a context end into a clean return.
func (s *Syncer) end(ctx context.Context, err error) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if serr := s.save(sctx, true); serr != nil && err == nil && ctx.Err() == nil {
		err = serr
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// start returns the revision to watch from: FromRevision, the saved
// progress + 1, or after a full resync.
func (s *Syncer) start(ctx context.Context) (int64, error) {
	if s.cfg.FromRevision > 0 {
		s.applied = s.cfg.FromRevision - 1
		return s.cfg.FromRevision, nil
	}
	resp, err := s.kv.Get(ctx, s.cfg.progressKey())
	if err != nil {
		return 0, fmt.Errorf("cdc: read progress: %w", err)
	}
	if len(resp.GetKvs()) == 1 {
		var p progress
		if err := json.Unmarshal(resp.GetKvs()[0].GetValue(), &p); err == nil && p.Prefix == s.cfg.Prefix && p.Revision > 0 {
			s.applied, s.saved = p.Revision, p.Revision
			s.count(func(st *Stats) { st.Revision = p.Revision })
			s.logger.Info("cdc: resuming", "revision", p.Revision)
			return p.Revision + 1, nil
		}
		s.logger.Warn("cdc: saved progress is for another prefix or unreadable; resyncing", "key", s.cfg.progressKey())
	}
	return s.resync(ctx)
}

// follow watches from rev and applies events until the watch ends; it
// returns the revision to resume from with the error that ended it.
func (s *Syncer) follow(ctx context.Context, from int64) (int64, error) {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := s.kv.Watch(wctx, s.cfg.Prefix, kvclient.WithPrefix(), kvclient.WithRev(from))
	tick := time.NewTicker(s.cfg.ProgressInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return s.applied + 1, ctx.Err()
		case <-tick.C:
			if err := s.save(ctx, false); err != nil {
				return s.applied + 1, err
			}
		case resp, ok := <-ch:
			if !ok {
				return s.applied + 1, ctx.Err()
			}
			if err := resp.Err(); err != nil {
				return s.applied + 1, err
			}
			last := int64(0)
			for _, ev := range resp.Events {
				s.add(ev.GetType() == raftkvv1.Event_EVENT_TYPE_DELETE, ev.GetKv())
				last = ev.GetKv().GetModRevision()
				if len(s.batch) >= s.cfg.BatchSize {
					if err := s.flush(ctx); err != nil {
						return s.applied + 1, err
					}
				}
			}
			if err := s.flush(ctx); err != nil {
				return s.applied + 1, err
			}
			if last > s.applied {
				s.applied = last
			}
			if err := s.save(ctx, false); err != nil {
				return s.applied + 1, err
			}
		}
	}
}

// add queues the write of one key.
func (s *Syncer) add(deleted bool, kv *raftkvv1.KeyValue) {
	id, ok := DocID(string(kv.GetKey()), s.cfg.Prefix)
	if !ok {
		s.skip(kv.GetKey(), "the key is the prefix itself")
		return
	}
	if deleted {
		s.batch = append(s.batch, &searchdv1.BulkItem{Action: searchdv1.BulkAction_BULK_ACTION_DELETE, Id: id})
		return
	}
	v := bytes.TrimSpace(kv.GetValue())
	if len(v) == 0 || v[0] != '{' || !json.Valid(v) {
		s.skip(kv.GetKey(), "the value is not a JSON object")
		return
	}
	s.batch = append(s.batch, &searchdv1.BulkItem{Action: searchdv1.BulkAction_BULK_ACTION_INDEX, Id: id, SourceJson: v})
}

func (s *Syncer) skip(key []byte, why string) {
	s.logger.Warn("cdc: key skipped", "key", string(key), "why", why)
	s.count(func(st *Stats) { st.Skipped++ })
}

// flush sends the queued writes, retrying a call that fails as a whole
// until it succeeds or ctx ends.
func (s *Syncer) flush(ctx context.Context) error {
	if len(s.batch) == 0 {
		return nil
	}
	req := &searchdv1.BulkRequest{Index: s.cfg.Index, Items: s.batch}
	var b clusterconn.Backoff
	for {
		resp, err := s.docs.Bulk(ctx, req)
		if err == nil {
			s.tally(resp)
			s.batch = s.batch[:0]
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.logger.Warn("cdc: bulk failed; retrying", "items", len(s.batch), "err", err)
		if !b.Wait(ctx) {
			return ctx.Err()
		}
	}
}

// tally counts a Bulk answer's items.
func (s *Syncer) tally(resp *searchdv1.BulkResponse) {
	s.count(func(st *Stats) {
		for _, it := range resp.GetItems() {
			switch {
			case it.GetErrorType() != "":
				st.Skipped++
				s.logger.Warn("cdc: searchd refused a document", "id", it.GetId(), "status", it.GetStatus(), "type", it.GetErrorType(), "reason", it.GetErrorReason())
			case it.GetAction() == searchdv1.BulkAction_BULK_ACTION_DELETE:
				if it.GetResult() == "deleted" {
					st.Deleted++
				}
			default:
				st.Indexed++
			}
		}
	})
}

// save stores the applied revision when it moved, at most once per
// ProgressInterval unless force.
func (s *Syncer) save(ctx context.Context, force bool) error {
	if s.applied <= s.saved || !force && time.Since(s.lastSaved) < s.cfg.ProgressInterval {
		return nil
	}
	b, _ := json.Marshal(progress{Revision: s.applied, Prefix: s.cfg.Prefix, Index: s.cfg.Index})
	if _, err := s.kv.Put(ctx, s.cfg.progressKey(), string(b)); err != nil {
		return fmt.Errorf("cdc: save progress: %w", err)
	}
	s.saved, s.lastSaved = s.applied, time.Now()
	s.count(func(st *Stats) { st.Revision = s.applied })
	if s.cfg.OnProgress != nil {
		s.cfg.OnProgress(s.Stats())
	}
	return nil
}
