package streamd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/partlog"
)

// partitions holds this node's replicas by key.
type partitions struct {
	s   *Server
	dir string

	mu    sync.RWMutex
	byKey map[pkey]*partition
}

func newPartitions(s *Server, dir string) *partitions {
	return &partitions{s: s, dir: dir, byKey: map[pkey]*partition{}}
}

// get returns the replica, or nil when this node holds none.
func (ps *partitions) get(k pkey) *partition {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	return ps.byKey[k]
}

// all returns every replica.
func (ps *partitions) all() []*partition {
	ps.mu.RLock()
	defer ps.mu.RUnlock()
	out := make([]*partition, 0, len(ps.byKey))
	for _, p := range ps.byKey {
		out = append(out, p)
	}
	return out
}

// closeAll closes every replica's log (at shutdown).
func (ps *partitions) closeAll() {
	ps.mu.Lock()
	all := ps.byKey
	ps.byKey = map[pkey]*partition{}
	ps.mu.Unlock()
	for _, p := range all {
		p.savedHW()
		p.close(false)
	}
}

// replicaDir is where the replica's log lives.
func (ps *partitions) replicaDir(k pkey) string {
	return filepath.Join(ps.dir, fmt.Sprintf("%d-%d", k.topicID, k.partition))
}

var replicaDirName = regexp.MustCompile(`^(\d+)-(\d+)$`)

// reconcileLoop keeps the local replicas as the controller's state says:
// it runs at start and after every change of the metadata (and once a
// second, to retry what failed).
//
// It starts once the controller has registered this run of the node (which
// fences a restarted node: it leads nothing in its old leader epochs, since
// its log may lack what it had not fsynced or may have been damaged) and the
// local metadata has caught up with that (a linearizable read succeeded).
func (s *Server) reconcileLoop(ctx context.Context) {
	for !s.registered.Load() {
		if !s.sleep(ctx, s.registeredKick, s.cfg.HeartbeatInterval) {
			return
		}
	}
	for {
		rctx, cancel := context.WithTimeout(ctx, s.cfg.SessionTimeout)
		err := s.node.LinearizableRead(rctx)
		cancel()
		if err == nil {
			break
		}
		s.logger.Debug("waiting for the controller before taking up replicas", "err", err)
		if !s.sleep(ctx, nil, 100*time.Millisecond) {
			return
		}
	}
	for {
		ch := s.meta.Changed()
		if err := s.reconcile(); err != nil {
			s.logger.Warn("reconcile partitions", "err", err)
		} else {
			s.ready.Store(true)
		}
		if !s.sleep(ctx, ch, time.Second) {
			return
		}
	}
}

// desiredReplicas is every partition this node holds, as the controller's
// state says.
func (s *Server) desiredReplicas() (map[pkey]partState, map[uint64]*streamdraftv1.TopicRecord, error) {
	topics, err := s.meta.Topics()
	if err != nil {
		return nil, nil, err
	}
	out := map[pkey]partState{}
	byID := map[uint64]*streamdraftv1.TopicRecord{}
	for _, t := range topics {
		byID[t.GetId()] = t
		parts, err := s.meta.Partitions(t.GetId())
		if err != nil {
			return nil, nil, err
		}
		for _, pr := range parts {
			if !slices.Contains(pr.GetReplicas(), s.cfg.ID) {
				continue
			}
			st := stateOf(t, pr)
			out[st.key] = st
		}
	}
	return out, byID, nil
}

// stateOf is a partition's state as a replica acts on it.
func stateOf(t *streamdraftv1.TopicRecord, pr *streamdraftv1.PartitionRecord) partState {
	cfg := t.GetConfig()
	return partState{
		topic:          t.GetName(),
		key:            pkey{topicID: t.GetId(), partition: pr.GetPartition()},
		replicas:       pr.GetReplicas(),
		leader:         pr.GetLeader(),
		leaderEpoch:    pr.GetLeaderEpoch(),
		partitionEpoch: pr.GetPartitionEpoch(),
		isr:            pr.GetIsr(),
		minISR:         int(cfg.GetMinInsyncReplicas()),
		maxBatchBytes:  int(cfg.GetMaxBatchBytes()),
	}
}

// reconcile opens, closes, leads and follows replicas to match the
// controller's state, and removes the logs of deleted topics.
func (s *Server) reconcile() error {
	desired, topics, err := s.desiredReplicas()
	if err != nil {
		return err
	}
	ps := s.parts
	// Replicas no longer wanted: their topic was deleted.
	for _, p := range ps.all() {
		k := p.state.key
		if _, ok := desired[k]; ok {
			continue
		}
		s.fetchers.unfollow(k)
		ps.mu.Lock()
		delete(ps.byKey, k)
		ps.mu.Unlock()
		p.close(true)
		s.logger.Info("removed replica of a deleted topic", "topic", p.state.topic, "partition", k.partition)
	}
	var errs []error
	for k, st := range desired {
		p := ps.get(k)
		if p == nil {
			p, err = s.openReplica(topics[k.topicID], st)
			if err != nil {
				errs = append(errs, err)
				continue
			}
		} else {
			p.setOptions(logOptions(ps.replicaDir(k), topics[k.topicID].GetConfig(), s))
		}
		p.apply(st)
		if st.leader != "" && st.leader != s.cfg.ID {
			s.fetchers.follow(p, st.leader, st.leaderEpoch)
		} else {
			s.fetchers.unfollow(k)
		}
	}
	errs = append(errs, s.removeStrayDirs(topics))
	return errors.Join(errs...)
}

// openReplica opens (creating or recovering) a replica's log and registers it.
func (s *Server) openReplica(t *streamdraftv1.TopicRecord, st partState) (*partition, error) {
	ps := s.parts
	dir := ps.replicaDir(st.key)
	log, err := partlog.Open(logOptions(dir, t.GetConfig(), s))
	if err != nil {
		return nil, fmt.Errorf("open replica %s/%d: %w", st.topic, st.key.partition, err)
	}
	p := newPartition(s, log, st, loadHW(dir))
	ps.mu.Lock()
	ps.byKey[st.key] = p
	ps.mu.Unlock()
	s.logger.Info("opened replica", "topic", st.topic, "partition", st.key.partition, "start", log.StartOffset(), "end", log.EndOffset())
	return p, nil
}

// removeStrayDirs deletes replica directories of topics the controller no
// longer has (deleted while this node was down).
func (s *Server) removeStrayDirs(topics map[uint64]*streamdraftv1.TopicRecord) error {
	entries, err := os.ReadDir(s.parts.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		m := replicaDirName.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		id, _ := strconv.ParseUint(m[1], 10, 64)
		part, _ := strconv.ParseInt(m[2], 10, 32)
		k := pkey{topicID: id, partition: int32(part)}
		// Placement is fixed at creation, so a directory of a topic that
		// exists is one of ours (opened above, or failing to open: kept).
		if _, ok := topics[id]; ok || s.parts.get(k) != nil {
			continue
		}
		if err := os.RemoveAll(filepath.Join(s.parts.dir, e.Name())); err != nil {
			return err
		}
		s.logger.Info("removed the log of a deleted topic", "dir", e.Name())
	}
	return nil
}

// logOptions are a replica's log options from its topic's configuration.
func logOptions(dir string, cfg *streamdv1.TopicConfig, s *Server) partlog.Options {
	o := partlog.Options{
		Dir:            dir,
		SegmentBytes:   cfg.GetSegmentBytes(),
		SegmentAge:     cfg.GetSegmentAge().AsDuration(),
		RetentionBytes: cfg.GetRetentionBytes(),
		RetentionAge:   cfg.GetRetention().AsDuration(),
		MaxBatchBytes:  int(cfg.GetMaxBatchBytes()),
		Logger:         s.logger,
	}
	if cfg.GetCleanupPolicy() == streamdv1.CleanupPolicy_CLEANUP_POLICY_COMPACT {
		o.Compact = true
		o.DeleteRetention = cfg.GetDeleteRetention().AsDuration()
	}
	return o
}

// hwFile holds a replica's last known high watermark, so a restarted leader
// serves what was committed at once. It is a hint, never above the truth:
// high watermarks only grow, and it is clamped to the log end when read.
const hwFile = "high-watermark"

func loadHW(dir string) int64 {
	b, err := os.ReadFile(filepath.Join(dir, hwFile))
	if err != nil {
		return 0
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v
}

// savedHW writes the high watermark hint (no fsync: losing it only delays
// consumers until followers report again).
func (p *partition) savedHW() {
	hw := p.highWatermark()
	if hw == p.hwSaved {
		return
	}
	dir := p.log.Dir()
	tmp := filepath.Join(dir, hwFile+".tmp")
	if err := os.WriteFile(tmp, []byte(strconv.FormatInt(hw, 10)), 0o644); err != nil {
		return
	}
	if os.Rename(tmp, filepath.Join(dir, hwFile)) == nil {
		p.hwSaved = hw
	}
}
