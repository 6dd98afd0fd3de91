package searchd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/searchd/engine"
	"cairn.dev/cairn/searchd/index"
	"cairn.dev/cairn/searchd/meta"
	sdclient "cairn.dev/cairn/streamd/client"
)

// copyKey names a hosted copy: the index's uuid, the shard and the
// allocation the metadata gave it.
type copyKey struct {
	uuid  string
	shard int
	alloc uint64
}

// copySet is the shard copies this node hosts. Its loop (run) follows the
// metadata: it opens the copies placed on this node and closes (and
// deletes) those no longer placed here.
type copySet struct {
	s *Server

	mu     sync.Mutex // protects copies
	copies map[copyKey]*shardCopy
}

func newCopySet(s *Server) *copySet { return &copySet{s: s, copies: map[copyKey]*shardCopy{}} }

// run reconciles the hosted copies with the metadata after every change
// and every second, until ctx ends; then it closes every copy (each
// commits first).
func (cs *copySet) run(ctx context.Context) {
	defer cs.closeAll()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		changed := cs.s.meta.Changed()
		cs.reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-tick.C:
		}
	}
}

// reconcile opens missing copies and drops stale ones.
func (cs *copySet) reconcile(ctx context.Context) {
	ixs, err := cs.s.meta.Indexes()
	if err != nil {
		cs.s.logger.Warn("copies: read metadata", "err", err)
		return
	}
	want := map[copyKey]*meta.Index{}
	uuids := map[string]bool{}
	for _, ix := range ixs {
		uuids[ix.UUID] = true
		for shard := range ix.Copies {
			if c, ok := ix.CopyOn(shard, cs.s.cfg.ID); ok && c.State != meta.Lost {
				want[copyKey{ix.UUID, shard, c.AllocID}] = ix
			}
		}
	}
	cs.mu.Lock()
	var drop []*shardCopy
	for k, c := range cs.copies {
		if want[k] == nil {
			drop = append(drop, c)
			delete(cs.copies, k)
		}
	}
	var start []*shardCopy
	for k, ix := range want {
		if c := cs.copies[k]; c != nil {
			c.setIndex(ix)
			continue
		}
		c := newShardCopy(cs.s, ix, k)
		cs.copies[k] = c
		start = append(start, c)
	}
	cs.mu.Unlock()
	for _, c := range drop {
		c.stop()
		if err := os.RemoveAll(c.dir); err != nil {
			cs.s.logger.Warn("copies: remove a dropped copy", "dir", c.dir, "err", err)
		}
	}
	for _, c := range start {
		c.start(ctx)
	}
	cs.removeStaleDirs(uuids, want)
}

// removeStaleDirs deletes copy directories of deleted indexes and of
// allocations no longer placed here.
func (cs *copySet) removeStaleDirs(uuids map[string]bool, want map[copyKey]*meta.Index) {
	root := filepath.Join(cs.s.cfg.DataDir, ShardsDir)
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if !uuids[e.Name()] {
			cs.s.schemas.forget(e.Name())
			_ = os.RemoveAll(filepath.Join(root, e.Name()))
			continue
		}
		shards, _ := os.ReadDir(filepath.Join(root, e.Name()))
		for _, sh := range shards {
			shard, err := strconv.Atoi(sh.Name())
			allocs, _ := os.ReadDir(filepath.Join(root, e.Name(), sh.Name()))
			for _, a := range allocs {
				alloc, err2 := strconv.ParseUint(a.Name(), 10, 64)
				if err != nil || err2 != nil || want[copyKey{e.Name(), shard, alloc}] == nil {
					_ = os.RemoveAll(filepath.Join(root, e.Name(), sh.Name(), a.Name()))
				}
			}
		}
	}
}

// closeAll stops every copy (each commits and closes).
func (cs *copySet) closeAll() {
	cs.mu.Lock()
	all := make([]*shardCopy, 0, len(cs.copies))
	for k, c := range cs.copies {
		all = append(all, c)
		delete(cs.copies, k)
	}
	cs.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range all {
		wg.Go(c.stop)
	}
	wg.Wait()
}

// find returns the hosted copy of a shard of the index with uuid (any
// allocation), or ErrCopyNotHere.
func (cs *copySet) find(uuid string, shard int) (*shardCopy, error) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for k, c := range cs.copies {
		if k.uuid == uuid && k.shard == shard {
			return c, nil
		}
	}
	return nil, fmt.Errorf("%w: index %s shard %d", ErrCopyNotHere, uuid, shard)
}

// findWait is find, waiting up to 5s (or ctx) when the metadata places
// a copy of the shard on this node that is not open yet (a node starting
// or a copy just placed).
func (cs *copySet) findWait(ctx context.Context, index, uuid string, shard int) (*shardCopy, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := cs.find(uuid, shard)
		if err == nil || time.Now().After(deadline) {
			return c, err
		}
		ix, merr := cs.s.meta.Index(index)
		if merr != nil || ix.UUID != uuid || shard < 0 || shard >= ix.Shards {
			return nil, err
		}
		if cp, ok := ix.CopyOn(shard, cs.s.cfg.ID); !ok || cp.State == meta.Lost {
			return nil, err
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return nil, ctx.Err()
		}
	}
}

// all returns the hosted copies.
func (cs *copySet) all() []*shardCopy {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make([]*shardCopy, 0, len(cs.copies))
	for _, c := range cs.copies {
		out = append(out, c)
	}
	return out
}

// shardCopy is one hosted copy: its engine shard, fed by a consumer of its
// partition, refreshed and committed on schedule.
type shardCopy struct {
	s     *Server
	key   copyKey
	name  string
	topic string
	dir   string

	cancel context.CancelFunc
	done   chan struct{}

	mu sync.Mutex // protects the fields below
	ix *meta.Index
	// eng is nil until the copy is open (after recovery).
	eng *engine.Shard
	// applied is the next partition offset to apply; searchable the
	// applied offset as of the last refresh; committed as of the last
	// commit.
	applied, searchable, committed int64
	// caughtUp is set once the copy has applied up to the partition's high
	// watermark as a fetch saw it after open: before, a copy reopened after
	// a restart would answer searches with an old view.
	caughtUp bool
	// engVersion is the mapping version the engine shard parses with.
	engVersion     uint64
	opsSinceCommit int
	lastCommit     time.Time
	// changed is closed (and replaced) whenever applied or searchable move
	// or the copy fails or stops.
	changed chan struct{}
	// err is why the copy stopped serving (nil while it serves).
	err error
}

func newShardCopy(s *Server, ix *meta.Index, k copyKey) *shardCopy {
	return &shardCopy{
		s: s, key: k, name: ix.Name, topic: ix.Topic, ix: ix,
		dir:     filepath.Join(s.cfg.DataDir, ShardsDir, k.uuid, strconv.Itoa(k.shard), strconv.FormatUint(k.alloc, 10)),
		changed: make(chan struct{}), done: make(chan struct{}),
	}
}

// setIndex gives the copy newer metadata of its index (reconcile may
// hold an older read than one the copy saw) and brings the engine's
// mapping up to date.
func (c *shardCopy) setIndex(ix *meta.Index) {
	c.mu.Lock()
	if c.ix != nil && ix.MappingVersion < c.ix.MappingVersion {
		ix = withMapping(ix, c.ix)
	}
	c.ix = ix
	c.mu.Unlock()
	c.syncMapping(ix)
}

// syncMapping gives the engine shard ix's mapping when it is newer than
// the one it has.
func (c *shardCopy) syncMapping(ix *meta.Index) {
	if ix.UUID != c.key.uuid {
		return
	}
	c.mu.Lock()
	eng, have := c.eng, c.engVersion
	c.mu.Unlock()
	if eng == nil || ix.MappingVersion <= have {
		return
	}
	sc, err := c.s.schemas.get(ix)
	if err != nil {
		c.s.logger.Warn("copy: parse mapping", "index", c.name, "version", ix.MappingVersion, "err", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if sc.version > c.engVersion {
		eng.SetMapping(sc.mapping)
		c.engVersion = sc.version
	}
}

// withMapping returns ix with the mappings of newer.
func withMapping(ix, newer *meta.Index) *meta.Index {
	out := *ix
	out.MappingsJSON, out.MappingVersion = newer.MappingsJSON, newer.MappingVersion
	return &out
}

func (c *shardCopy) index() *meta.Index {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ix
}

// notifyLocked wakes the waiters of changed. c.mu must be held.
func (c *shardCopy) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// start runs the copy's loop: recovery when needed, then consume.
func (c *shardCopy) start(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	c.cancel = cancel
	go func() { // owned by the copy: stop cancels and waits for it
		defer close(c.done)
		c.loop(ctx)
	}()
}

// stop ends the loop, commits and closes the index.
func (c *shardCopy) stop() {
	if c.cancel == nil {
		return
	}
	c.cancel()
	<-c.done
}

// loop opens the copy (recovering it from a peer when it is new and
// INITIALIZING), then consumes its partition until ctx ends.
func (c *shardCopy) loop(ctx context.Context) {
	log := c.s.logger.With("index", c.name, "shard", c.key.shard, "alloc", c.key.alloc)
	for {
		err := c.open(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			c.fail(ctx.Err())
			return
		}
		log.Warn("copy: open", "err", err)
		if !sleepCtx(ctx, time.Second) {
			c.fail(ctx.Err())
			return
		}
	}
	defer c.close(log)
	c.consume(ctx, log)
}

// open opens the copy's index (from its last commit), first copying a
// started peer's commit point when the copy has none and is INITIALIZING.
func (c *shardCopy) open(ctx context.Context) error {
	ix := c.index()
	sc, err := c.s.schemas.get(ix)
	if err != nil {
		return err
	}
	self, _ := ix.CopyOn(c.key.shard, c.s.cfg.ID)
	if !index.HasCommit(c.dir) && self.State == meta.Initializing {
		if err := c.s.recoverFromPeer(ctx, ix, c.key.shard, c.dir); err != nil {
			c.s.logger.Info("copy: peer recovery failed, replaying the partition", "index", c.name, "shard", c.key.shard, "err", err)
			_ = os.RemoveAll(c.dir)
		}
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return err
	}
	w, err := index.Open(index.Options{Dir: c.dir})
	if err != nil {
		return err
	}
	var from int64
	if ud := w.CommitData(); ud != nil {
		if from, err = strconv.ParseInt(ud["offset"], 10, 64); err != nil {
			_ = w.Close()
			return fmt.Errorf("searchd: copy %s: bad commit offset %q", c.dir, ud["offset"])
		}
	}
	eng := engine.NewShard(w, sc.mapping, sc.reg, c.s.engineSettings(ix))
	caughtUp := false
	if off, err := c.s.streamd.ListOffsets(ctx, c.topic, int32(c.key.shard), streamdv1.OffsetSpec_OFFSET_SPEC_LATEST, time.Time{}); err == nil {
		caughtUp = from >= off.HighWatermark
	}
	c.mu.Lock()
	c.eng, c.applied, c.searchable, c.committed, c.lastCommit = eng, from, from, from, time.Now()
	c.caughtUp, c.engVersion = caughtUp, sc.version
	c.notifyLocked()
	c.mu.Unlock()
	return nil
}

// consume fetches the partition from the applied offset and applies it,
// refreshing every refresh_interval and committing on schedule.
func (c *shardCopy) consume(ctx context.Context, log interface {
	Warn(string, ...any)
	Info(string, ...any)
}) {
	lastRefresh := time.Now()
	for ctx.Err() == nil {
		c.mu.Lock()
		from, ix := c.applied, c.ix
		c.mu.Unlock()
		f, err := c.s.streamd.Fetch(ctx, c.topic, int32(c.key.shard), from, sdclient.FetchOptions{MaxWait: 200 * time.Millisecond, MaxBytes: 4 << 20})
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, sdclient.ErrOffsetOutOfRange) {
				c.skipToLogStart(ctx, from, log)
			}
			log.Info("copy: fetch", "err", err)
			sleepCtx(ctx, 200*time.Millisecond)
			continue
		}
		if err := c.applyRecords(ctx, f); err != nil {
			if ctx.Err() == nil {
				log.Warn("copy: apply", "err", err)
				sleepCtx(ctx, 200*time.Millisecond)
			}
			continue
		}
		c.markStartedIfCaughtUp(ctx, f.HighWatermark, log)
		if ri := ix.RefreshInterval; ri >= 0 && time.Since(lastRefresh) >= ri {
			if err := c.refresh(); err != nil {
				log.Warn("copy: refresh", "err", err)
			}
			lastRefresh = time.Now()
		}
		c.mu.Lock()
		due := c.applied > c.committed && (c.opsSinceCommit >= c.s.cfg.CommitOps || time.Since(c.lastCommit) >= c.s.cfg.CommitInterval)
		c.mu.Unlock()
		if due {
			if err := c.commit(); err != nil {
				log.Warn("copy: commit", "err", err)
			}
		}
	}
}

// skipToLogStart moves a copy whose next offset is below the partition's
// log start (records dropped by streamd) to the log start: what was dropped
// was superseded (compaction keeps every id's last record).
func (c *shardCopy) skipToLogStart(ctx context.Context, from int64, log interface{ Warn(string, ...any) }) {
	off, err := c.s.streamd.ListOffsets(ctx, c.topic, int32(c.key.shard), streamdv1.OffsetSpec_OFFSET_SPEC_EARLIEST, time.Time{})
	if err != nil || off.LogStart <= from {
		return
	}
	log.Warn("copy: offset below the log start, skipping to it", "from", from, "log_start", off.LogStart)
	c.mu.Lock()
	if c.applied == from {
		c.applied = off.LogStart
		c.notifyLocked()
	}
	c.mu.Unlock()
}

// markStartedIfCaughtUp proposes STARTED for an INITIALIZING copy that
// has applied up to the partition's high watermark.
func (c *shardCopy) markStartedIfCaughtUp(ctx context.Context, hw int64, log interface{ Info(string, ...any) }) {
	ix := c.index()
	self, ok := ix.CopyOn(c.key.shard, c.s.cfg.ID)
	c.mu.Lock()
	applied := c.applied
	c.mu.Unlock()
	if !ok || self.State != meta.Initializing || self.AllocID != c.key.alloc || applied < hw {
		return
	}
	if err := c.refresh(); err != nil {
		return
	}
	_, err := c.s.propose(ctx, meta.SetCopyState(ix.Name, ix.UUID, c.key.shard, c.s.cfg.ID, c.key.alloc, meta.Started))
	if err != nil {
		log.Info("copy: mark started", "err", err)
		return
	}
	log.Info("copy: started", "applied", applied)
}

// applyRecords applies fetched records in order and moves applied to the
// fetch's next offset.
func (c *shardCopy) applyRecords(ctx context.Context, f *sdclient.Fetched) error {
	c.mu.Lock()
	eng := c.eng
	c.mu.Unlock()
	for _, r := range f.Records {
		if err := c.awaitMapping(ctx, recordMappingVersion(r)); err != nil {
			return err
		}
		id := string(r.Key)
		if r.Value == nil {
			if _, err := eng.Delete(id); err != nil {
				return err
			}
		} else if err := eng.Put(id, r.Value); err != nil {
			// The coordinating node parsed this source before producing it:
			// a failure here is a record no copy can apply; skip it.
			c.s.logger.Warn("copy: unparsable record skipped", "index", c.name, "shard", c.key.shard, "offset", r.Offset, "err", err)
		}
		c.mu.Lock()
		c.applied = r.Offset + 1
		c.opsSinceCommit++
		c.mu.Unlock()
	}
	c.mu.Lock()
	if f.NextOffset > c.applied {
		c.applied = f.NextOffset
	}
	if c.applied >= f.HighWatermark {
		c.caughtUp = true
	}
	if len(f.Records) > 0 || f.NextOffset > 0 {
		c.notifyLocked()
	}
	c.mu.Unlock()
	return nil
}

// awaitMapping waits until the copy's metadata has mapping version v.
func (c *shardCopy) awaitMapping(ctx context.Context, v uint64) error {
	for {
		ch := c.s.meta.Changed()
		ix, err := c.s.meta.Index(c.name)
		if err != nil {
			return err
		}
		if ix.UUID != c.key.uuid {
			return fmt.Errorf("%w: index %s was replaced", ErrCopyNotHere, c.name)
		}
		if ix.MappingVersion >= v {
			c.setIndex(ix)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		case <-time.After(time.Second):
		}
	}
}

// refresh makes everything applied searchable.
func (c *shardCopy) refresh() error {
	c.mu.Lock()
	eng, applied := c.eng, c.applied
	c.mu.Unlock()
	if eng == nil {
		return ErrShardUnavailable
	}
	if err := eng.W.Refresh(); err != nil {
		return err
	}
	c.mu.Lock()
	if applied > c.searchable {
		c.searchable = applied
		c.notifyLocked()
	}
	c.mu.Unlock()
	return nil
}

// commit makes everything applied durable with its offset.
func (c *shardCopy) commit() error {
	c.mu.Lock()
	eng, applied, ops := c.eng, c.applied, c.opsSinceCommit
	c.mu.Unlock()
	if eng == nil {
		return ErrShardUnavailable
	}
	if err := eng.W.Commit(map[string]string{"offset": strconv.FormatInt(applied, 10)}); err != nil {
		return err
	}
	c.mu.Lock()
	c.committed, c.lastCommit = applied, time.Now()
	c.opsSinceCommit -= ops
	if applied > c.searchable {
		c.searchable = applied // Commit refreshes
		c.notifyLocked()
	}
	c.mu.Unlock()
	return nil
}

// close commits and closes the index; waiters see ErrCopyNotHere.
func (c *shardCopy) close(log interface{ Warn(string, ...any) }) {
	c.mu.Lock()
	dirty := c.applied > c.committed
	c.mu.Unlock()
	if dirty {
		if err := c.commit(); err != nil {
			log.Warn("copy: commit on close", "err", err)
		}
	}
	c.mu.Lock()
	eng := c.eng
	c.mu.Unlock()
	c.fail(fmt.Errorf("%w: copy closed", ErrCopyNotHere))
	if eng != nil {
		if err := eng.W.Close(); err != nil {
			log.Warn("copy: close", "err", err)
		}
	}
}

// fail records why the copy stopped serving and wakes its waiters.
func (c *shardCopy) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.notifyLocked()
	c.mu.Unlock()
}

// await waits until the copy has applied below offset (and, with
// searchable, refreshed past it); it returns the engine shard and the
// applied offset.
func (c *shardCopy) await(ctx context.Context, offset int64, searchable bool) (*engine.Shard, int64, error) {
	for {
		c.mu.Lock()
		eng, applied, srch, err, ch := c.eng, c.applied, c.searchable, c.err, c.changed
		c.mu.Unlock()
		if err != nil {
			return nil, 0, err
		}
		if eng != nil && applied >= offset && (!searchable || srch >= offset) {
			return eng, applied, nil
		}
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-ch:
		}
	}
}

// markCaughtUp records that the copy has applied up to an offset a caller
// read as the partition's end (ShardSync of a refresh).
func (c *shardCopy) markCaughtUp() {
	c.mu.Lock()
	c.caughtUp = true
	c.mu.Unlock()
}

// readable returns the engine for a search once the copy has caught up
// with its partition since it opened; before, ErrCopyNotHere sends the
// caller to another copy.
func (c *shardCopy) readable() (*engine.Shard, error) {
	if ix, err := c.s.meta.Index(c.name); err == nil {
		c.syncMapping(ix)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	if c.eng == nil || !c.caughtUp {
		return nil, fmt.Errorf("%w: copy of %s shard %d is catching up", ErrCopyNotHere, c.name, c.key.shard)
	}
	return c.eng, nil
}

// progress returns the applied offset and the engine (nil before open).
func (c *shardCopy) progress() (int64, *engine.Shard) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applied, c.eng
}

// sleepCtx sleeps d unless ctx ends first; false when it did.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
