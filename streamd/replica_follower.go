package streamd

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/node/rpcerr"
	streamdpeerv1 "cairn.dev/cairn/proto/cairn/streamd/peer/v1"
	"cairn.dev/cairn/streamd/partlog"
)

// fetchers run this node's follower side: one fetcher per leader node, each
// copying every partition this node follows on that leader in one long-poll
// request at a time (as Kafka's replica fetcher threads do).
type fetchers struct {
	s *Server

	mu       sync.Mutex // protects byLeader and each fetcher's parts
	byLeader map[string]*fetcher
	wg       sync.WaitGroup
}

// fetcher copies the partitions this node follows on one leader.
type fetcher struct {
	leader string
	parts  map[pkey]*followed // protected by fetchers.mu
	wake   chan struct{}
	cancel context.CancelFunc
}

// followed is one partition a fetcher copies, in one leader epoch.
type followed struct {
	p     *partition
	epoch int32
	// pausedUntil delays the partition after an error that more metadata
	// will fix (the leader's epoch is ahead of or behind ours).
	pausedUntil time.Time
}

func newFetchers(s *Server) *fetchers {
	return &fetchers{s: s, byLeader: map[string]*fetcher{}}
}

// follow makes this node copy p from leader in epoch, moving it from
// whichever fetcher had it before.
func (fs *fetchers) follow(p *partition, leader string, epoch int32) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	key := p.state.key
	for id, f := range fs.byLeader {
		if old, ok := f.parts[key]; ok {
			if id == leader && old.epoch == epoch && old.p == p {
				return
			}
			delete(f.parts, key)
		}
	}
	f := fs.byLeader[leader]
	if f == nil {
		ctx, cancel := context.WithCancel(context.Background())
		f = &fetcher{leader: leader, parts: map[pkey]*followed{}, wake: make(chan struct{}, 1), cancel: cancel}
		fs.byLeader[leader] = f
		fs.wg.Go(func() { fs.run(ctx, f) })
	}
	f.parts[key] = &followed{p: p, epoch: epoch}
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// unfollow stops copying the partition.
func (fs *fetchers) unfollow(key pkey) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.byLeader {
		delete(f.parts, key)
	}
}

// close stops every fetcher and waits for them.
func (fs *fetchers) close() {
	fs.mu.Lock()
	for _, f := range fs.byLeader {
		f.cancel()
	}
	fs.mu.Unlock()
	fs.wg.Wait()
}

// batch returns the partitions the fetcher should ask for now.
func (fs *fetchers) batch(f *fetcher, now time.Time) map[pkey]*followed {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	out := make(map[pkey]*followed, len(f.parts))
	for k, fp := range f.parts {
		if now.After(fp.pausedUntil) {
			out[k] = fp
		}
	}
	return out
}

func (fs *fetchers) pause(f *fetcher, key pkey, fp *followed, d time.Duration) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f.parts[key] == fp {
		fp.pausedUntil = fs.s.now().Add(d)
	}
}

// run is one fetcher's loop: fetch, append, fsync, report in the next fetch.
func (fs *fetchers) run(ctx context.Context, f *fetcher) {
	s := fs.s
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		parts := fs.batch(f, s.now())
		if len(parts) == 0 {
			if !s.sleep(ctx, f.wake, 100*time.Millisecond) {
				return
			}
			continue
		}
		err := fs.fetchOnce(ctx, f, parts)
		if err == nil {
			backoff = 50 * time.Millisecond
			continue
		}
		if ctx.Err() != nil {
			return
		}
		s.logger.Debug("replica fetch failed", "leader", f.leader, "err", err)
		if !s.sleep(ctx, nil, backoff) {
			return
		}
		backoff = min(2*backoff, time.Second)
	}
}

// fetchOnce sends one fetch for parts to the leader and applies the answer.
func (fs *fetchers) fetchOnce(ctx context.Context, f *fetcher, parts map[pkey]*followed) error {
	s := fs.s
	addr := s.nodeAddr(f.leader)
	if addr == "" {
		return errors.New("leader address unknown")
	}
	conn, err := s.peers.Conn(addr)
	if err != nil {
		return err
	}
	req := &streamdpeerv1.ReplicaFetchRequest{
		ReplicaId: s.cfg.ID,
		MaxWait:   durationpb.New(s.cfg.ReplicaFetchWait),
		MaxBytes:  int32(s.cfg.ReplicaFetchBytes),
	}
	for key, fp := range parts {
		log := fp.p.log
		req.Partitions = append(req.Partitions, &streamdpeerv1.PartitionFetch{
			TopicId:          key.topicID,
			Partition:        key.partition,
			LeaderEpoch:      fp.epoch,
			FetchOffset:      log.EndOffset(),
			DurableOffset:    log.DurableOffset(),
			LastFetchedEpoch: log.LastEpoch(),
		})
	}
	cctx, cancel := context.WithTimeout(ctx, s.cfg.ReplicaFetchWait+10*time.Second)
	defer cancel()
	resp, err := streamdpeerv1.NewReplicaServiceClient(conn).ReplicaFetch(cctx, req)
	if err != nil {
		return err
	}
	var appended []*partition
	for _, d := range resp.GetPartitions() {
		key := pkey{topicID: d.GetTopicId(), partition: d.GetPartition()}
		fp := parts[key]
		if fp == nil {
			continue
		}
		wrote, pause := fs.applyData(fp, d)
		if pause > 0 {
			fs.pause(f, key, fp, pause)
		}
		if wrote {
			appended = append(appended, fp.p)
		}
	}
	// Fsync what was appended before the next fetch, which reports it
	// durable to the leader (and so lets the high watermark pass it).
	var wg sync.WaitGroup
	for _, p := range appended {
		wg.Go(func() {
			if _, err := p.log.Sync(); err != nil {
				s.logger.Error("follower fsync failed", "partition", p.state.key, "err", err)
			}
		})
	}
	wg.Wait()
	return nil
}

// applyData applies one partition's part of a fetch response, as long as
// this node still follows it in the epoch it asked in. It returns whether
// records were appended, and how long to pause the partition.
func (fs *fetchers) applyData(fp *followed, d *streamdpeerv1.PartitionData) (bool, time.Duration) {
	s := fs.s
	p := fp.p
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.leading || p.state.leaderEpoch != fp.epoch {
		return false, 0
	}
	key := p.state.key
	switch rpcerr.Reason(d.GetError()) {
	case "":
	case rpcerr.FencedLeaderEpoch, rpcerr.NotPartitionLeader:
		// Our metadata or the leader's lags: the controller's next state
		// (or the leader catching up with it) settles it.
		return false, 100 * time.Millisecond
	case rpcerr.OffsetOutOfRange:
		end := p.log.EndOffset()
		var err error
		switch {
		case end < d.GetLogStartOffset():
			err = p.log.TruncateFullyAndStartAt(d.GetLogStartOffset())
		case end > d.GetLogEndOffset():
			err = p.log.TruncateTo(d.GetLogEndOffset())
		}
		if err != nil {
			s.logger.Error("follower truncation failed", "partition", key, "err", err)
			return false, time.Second
		}
		p.hw = min(p.hw, p.log.EndOffset())
		return false, 0
	default:
		return false, time.Second
	}
	if d.GetDiverging() {
		end := d.GetDivergingEndOffset()
		var err error
		if d.GetDivergingEpoch() < 0 || end < 0 {
			err = p.log.TruncateFullyAndStartAt(d.GetLogStartOffset())
		} else {
			err = p.log.TruncateTo(min(end, p.log.EndOffset()))
		}
		if err != nil {
			s.logger.Error("follower truncation failed", "partition", key, "err", err)
			return false, time.Second
		}
		s.logger.Info("truncated diverging log", "partition", key, "epoch", d.GetDivergingEpoch(), "end", p.log.EndOffset())
		p.hw = min(p.hw, p.log.EndOffset())
		p.notifyLocked()
		return false, 0
	}
	wrote := false
	if b := d.GetBatches(); len(b) > 0 {
		if _, err := p.log.AppendReplica(b); err != nil {
			if errors.Is(err, partlog.ErrNotContiguous) {
				return false, 0
			}
			s.logger.Error("follower append failed", "partition", key, "err", err)
			return false, time.Second
		}
		wrote = true
	}
	if hw := min(d.GetHighWatermark(), p.log.EndOffset()); hw > p.hw {
		p.hw = hw
	}
	p.notifyLocked()
	return wrote, 0
}
