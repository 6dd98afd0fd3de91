package streamd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"cairn.dev/cairn/streamd/partlog"
	"cairn.dev/cairn/streamd/record"
)

// pkey names a partition replica: the topic's id (not its name, so a topic
// deleted and created again is another replica) and the partition number.
type pkey struct {
	topicID   uint64
	partition int32
}

func (k pkey) String() string { return fmt.Sprintf("%d-%d", k.topicID, k.partition) }

// partState is what the controller says of a partition: the part of the
// metadata a replica acts on.
type partState struct {
	topic          string
	key            pkey
	replicas       []string
	leader         string
	leaderEpoch    int32
	partitionEpoch int32
	isr            []string
	minISR         int
	maxBatchBytes  int
}

// followerState is what a leader knows of one follower, from its fetches.
type followerState struct {
	// leo and durable are the follower's log end and fsynced end, as its last
	// fetch reported them; -1 until it fetches in this leader epoch.
	leo, durable int64
	// lastCaughtUp is the last time the follower had everything the leader
	// had (Kafka's lastCaughtUpTime); prevFetch and leoAtPrevFetch are the
	// time of its previous fetch and the leader's log end then.
	lastCaughtUp   time.Time
	prevFetch      time.Time
	leoAtPrevFetch int64
}

// partition is this node's replica of one partition: its log and, while it
// leads, the high watermark, the followers' progress and the producers
// waiting for acks.
//
// Lock order: partition.mu before anything of the log (the log locks itself).
type partition struct {
	s   *Server
	log *partlog.Log

	mu    sync.Mutex
	state partState
	// leading is true while this node leads the partition at state.leaderEpoch.
	leading bool
	// hw is the high watermark: the end of the prefix every ISR member has
	// fsynced (as leader), or the leader's as last heard (as follower),
	// never above the log end.
	hw        int64
	followers map[string]*followerState
	// alterPending is set while an ISR change this leader proposed is in flight.
	alterPending bool
	// changed is closed and replaced whenever the log end, the durable end,
	// the high watermark or the state changes: fetches and produces waiting
	// for one of them select on it.
	changed chan struct{}
	closed  bool

	// hwSaved is the high watermark the hint file last got (touched only by
	// the maintenance loop and, after it stopped, by closeAll).
	hwSaved int64

	// dirty wakes the syncer after an append; stop ends it; done is closed
	// when it has stopped.
	dirty chan struct{}
	stop  chan struct{}
	done  chan struct{}
}

func newPartition(s *Server, log *partlog.Log, st partState, hw int64) *partition {
	p := &partition{
		s:       s,
		log:     log,
		state:   st,
		hw:      min(hw, log.EndOffset()),
		hwSaved: hw,
		changed: make(chan struct{}),
		dirty:   make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go p.syncLoop()
	return p
}

// notifyLocked wakes everything waiting on p.changed. Call with p.mu held.
func (p *partition) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// apply takes the controller's new state of the partition: it becomes leader
// or follower when the leader epoch moves, and takes the new ISR. It returns
// whether this node now follows another leader (the fetchers then need it).
func (p *partition) apply(st partState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	old := p.state
	p.state = st
	self := p.s.cfg.ID
	switch {
	case st.leader == self && (!p.leading || st.leaderEpoch != old.leaderEpoch):
		p.leading = true
		now := p.s.now()
		p.followers = map[string]*followerState{}
		for _, r := range st.replicas {
			if r != self {
				p.followers[r] = &followerState{leo: -1, durable: -1, lastCaughtUp: now, prevFetch: now}
			}
		}
		p.alterPending = false
		p.s.logger.Info("leading partition", "topic", st.topic, "partition", st.key.partition, "epoch", st.leaderEpoch, "isr", st.isr, "log_end", p.log.EndOffset(), "hw", p.hw)
	case st.leader != self && p.leading:
		p.leading = false
		p.followers = nil
		p.s.logger.Info("stopped leading partition", "topic", st.topic, "partition", st.key.partition, "leader", st.leader, "epoch", st.leaderEpoch)
	}
	if p.leading && !slices.Equal(old.isr, st.isr) {
		p.alterPending = false
	}
	if p.leading {
		p.advanceHWLocked()
	}
	p.notifyLocked()
}

// snapshot returns the partition's state and whether this node leads it.
func (p *partition) snapshot() (partState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state, p.leading
}

// highWatermark is the current high watermark.
func (p *partition) highWatermark() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hw
}

// advanceHWLocked recomputes the leader's high watermark: the least durable
// end among the ISR (this node's own fsynced end included). It never moves
// back. Call with p.mu held, as leader.
func (p *partition) advanceHWLocked() {
	hw := p.log.DurableOffset()
	for _, id := range p.state.isr {
		if id == p.s.cfg.ID {
			continue
		}
		f := p.followers[id]
		if f == nil || f.durable < 0 {
			return
		}
		hw = min(hw, f.durable)
	}
	if hw > p.hw {
		p.hw = hw
		p.notifyLocked()
	}
}

// kickSync asks the syncer to fsync the log.
func (p *partition) kickSync() {
	select {
	case p.dirty <- struct{}{}:
	default:
	}
}

// syncLoop fsyncs the log after appends, coalescing appends made while an
// fsync runs into the next one (group commit), and advances the high
// watermark with the durable end.
func (p *partition) syncLoop() {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			return
		case <-p.dirty:
		}
		if _, err := p.log.Sync(); err != nil {
			p.s.logger.Error("partition log fsync failed; the replica stops acknowledging", "partition", p.state.key, "err", err)
			continue
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return
		}
		if p.leading {
			p.advanceHWLocked()
		}
		p.notifyLocked()
		p.mu.Unlock()
	}
}

// produce appends batch as leader and waits as acks says. It returns the
// batch's offsets, whether it was a duplicate of an earlier idempotent send,
// and the leader epoch it was appended in.
func (p *partition) produce(ctx context.Context, batch record.Batch, acks ackMode, expected *int64) (base, last int64, dup bool, epoch int32, err error) {
	p.mu.Lock()
	if p.closed || !p.leading {
		p.mu.Unlock()
		return 0, 0, false, 0, p.notLeaderErr()
	}
	st := p.state
	epoch = st.leaderEpoch
	if acks == acksAll && len(st.isr) < st.minISR {
		p.mu.Unlock()
		return 0, 0, false, epoch, fmt.Errorf("%w: %s/%d has %d in-sync replicas %v, min_insync_replicas is %d", ErrNotEnoughReplicas, st.topic, st.key.partition, len(st.isr), st.isr, st.minISR)
	}
	if expected != nil {
		base, last, err = p.log.AppendExpect(batch, epoch, *expected, p.s.now())
	} else {
		base, last, err = p.log.Append(batch, epoch, p.s.now())
	}
	if errors.Is(err, partlog.ErrDuplicate) {
		dup, err = true, nil
	}
	if err != nil {
		p.mu.Unlock()
		return 0, 0, false, epoch, withOffsets(err)
	}
	p.notifyLocked()
	p.mu.Unlock()
	p.kickSync()
	p.s.wakeReplicaFetches()
	if acks == acksNone {
		return base, last, dup, epoch, nil
	}
	err = p.waitAck(ctx, last+1, acks, epoch)
	return base, last, dup, epoch, err
}

// waitAck waits until the records below end are durable as acks says, while
// this node still leads in epoch.
func (p *partition) waitAck(ctx context.Context, end int64, acks ackMode, epoch int32) error {
	for {
		p.mu.Lock()
		if p.closed || !p.leading || p.state.leaderEpoch != epoch {
			p.mu.Unlock()
			return fmt.Errorf("%w: this node stopped leading the partition before the records were acknowledged", ErrOutcomeUnknown)
		}
		var done bool
		switch acks {
		case acksLeader:
			done = p.log.DurableOffset() >= end
		default:
			done = p.hw >= end
			if done && len(p.state.isr) < p.state.minISR {
				p.mu.Unlock()
				return fmt.Errorf("%w: the records are committed, but the ISR shrank to %v, below min_insync_replicas %d, before the ack", ErrOutcomeUnknown, p.state.isr, p.state.minISR)
			}
		}
		ch := p.changed
		p.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: %w", ErrOutcomeUnknown, ctx.Err())
		case <-p.s.stopping():
			return fmt.Errorf("%w: %w", ErrOutcomeUnknown, ErrShuttingDown)
		}
	}
}

// notLeaderErr says who leads, for a request this node cannot serve.
func (p *partition) notLeaderErr() error {
	st := p.state
	if st.leader == "" {
		return fmt.Errorf("%w: %s/%d has no leader", ErrOffline, st.topic, st.key.partition)
	}
	return p.s.notLeader(st.topic, st.key.partition, st.leader)
}

// readCommitted reads whole batches from offset while below the high
// watermark, waiting up to wait for one to be there. It returns the
// batches, the high watermark and the log start offset.
func (p *partition) readCommitted(ctx context.Context, offset int64, maxBytes int, wait time.Duration) ([]byte, int64, int64, error) {
	var deadline <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		p.mu.Lock()
		if p.closed || !p.leading {
			err := p.notLeaderErr()
			p.mu.Unlock()
			return nil, 0, 0, err
		}
		hw, start, end := p.hw, p.log.StartOffset(), p.log.EndOffset()
		ch := p.changed
		p.mu.Unlock()
		if offset < start || offset > end {
			return nil, hw, start, fmt.Errorf("%w: offset %d is outside [%d, %d]", partlog.ErrOffsetOutOfRange, offset, start, end)
		}
		if offset < hw {
			b, err := p.log.Read(offset, maxBytes, hw)
			return b, hw, start, err
		}
		if deadline == nil {
			return nil, hw, start, nil
		}
		select {
		case <-ch:
		case <-deadline:
			return nil, hw, start, nil
		case <-ctx.Done():
			return nil, hw, start, ctx.Err()
		case <-p.s.stopping():
			return nil, hw, start, nil
		}
	}
}

// close stops the syncer and closes the log (remove: and deletes its files).
func (p *partition) close(remove bool) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.leading = false
	p.notifyLocked()
	p.mu.Unlock()
	close(p.stop)
	<-p.done
	var err error
	if remove {
		err = p.log.Remove()
	} else {
		err = p.log.Close()
	}
	if err != nil {
		p.s.logger.Warn("partition log close", "partition", p.state.key, "err", err)
	}
}

// setOptions takes a topic configuration change (retention, segment size
// and age, batch limit) into the open log.
func (p *partition) setOptions(o partlog.Options) {
	if err := p.log.SetOptions(o); err != nil {
		p.s.logger.Warn("partition options", "partition", p.state.key, "err", err)
	}
}

// enforceRetention deletes whole segments past the topic's retention, only
// below the high watermark (what followers may still need stays), and
// compacts a compacted topic's closed segments.
func (p *partition) enforceRetention() {
	hw := p.highWatermark()
	if _, err := p.log.EnforceRetention(hw); err != nil {
		p.s.logger.Warn("retention", "partition", p.state.key, "err", err)
	}
	if err := p.log.Compact(); err != nil && !errors.Is(err, partlog.ErrNotCompacted) {
		p.s.logger.Warn("compaction", "partition", p.state.key, "err", err)
	}
}
