package streamd

import (
	"context"
	"errors"
	"slices"
	"time"

	"cairn.dev/cairn/node/rpcerr"
	streamdpeerv1 "cairn.dev/cairn/proto/cairn/streamd/peer/v1"
	"cairn.dev/cairn/streamd/partlog"
)

// replicaService is the leader's side of replication: followers' fetches.
type replicaService struct {
	streamdpeerv1.UnimplementedReplicaServiceServer
	s *Server
}

// ReplicaFetch records each follower's progress (advancing high watermarks),
// then returns the batches past each fetch offset, waiting up to max_wait
// when there are none.
func (r *replicaService) ReplicaFetch(ctx context.Context, req *streamdpeerv1.ReplicaFetchRequest) (*streamdpeerv1.ReplicaFetchResponse, error) {
	s := r.s
	wait := req.GetMaxWait().AsDuration()
	if wait > 30*time.Second {
		wait = 30 * time.Second
	}
	maxBytes := int(req.GetMaxBytes())
	if maxBytes <= 0 || maxBytes > s.cfg.ReplicaFetchBytes {
		maxBytes = s.cfg.ReplicaFetchBytes
	}
	var deadline <-chan time.Time
	first := true
	for {
		// Take the wake channel before reading, so an append between the
		// read and the wait is not missed.
		wake := s.replicaFetchWake()
		resp := &streamdpeerv1.ReplicaFetchResponse{}
		budget := maxBytes
		any := false
		for _, pf := range req.GetPartitions() {
			d := r.fetchOne(req.GetReplicaId(), pf, &budget, first)
			if len(d.Batches) > 0 || d.Error != "" || d.Diverging {
				any = true
			}
			resp.Partitions = append(resp.Partitions, d)
		}
		first = false
		if any || wait <= 0 {
			return resp, nil
		}
		if deadline == nil {
			t := time.NewTimer(wait)
			defer t.Stop()
			deadline = t.C
		}
		select {
		case <-wake:
		case <-deadline:
			return resp, nil
		case <-ctx.Done():
			return nil, toStatus(ctx.Err())
		case <-s.stopping():
			return resp, nil
		}
	}
}

// fetchOne serves one partition of a follower's fetch. report says whether
// to record the follower's progress (the first pass of a request only).
func (r *replicaService) fetchOne(replica string, pf *streamdpeerv1.PartitionFetch, budget *int, report bool) *streamdpeerv1.PartitionData {
	s := r.s
	key := pkey{topicID: pf.GetTopicId(), partition: pf.GetPartition()}
	d := &streamdpeerv1.PartitionData{TopicId: key.topicID, Partition: key.partition}
	p := s.parts.get(key)
	if p == nil {
		d.Error = string(rpcerr.PartitionNotFound)
		return d
	}
	p.mu.Lock()
	st := p.state
	switch {
	case p.closed || !p.leading || pf.GetLeaderEpoch() > st.leaderEpoch:
		p.mu.Unlock()
		d.Error = string(rpcerr.NotPartitionLeader)
		return d
	case pf.GetLeaderEpoch() < st.leaderEpoch:
		p.mu.Unlock()
		d.Error = string(rpcerr.FencedLeaderEpoch)
		return d
	case !slices.Contains(st.replicas, replica):
		p.mu.Unlock()
		d.Error = string(rpcerr.PartitionNotFound)
		return d
	}
	start, end := p.log.StartOffset(), p.log.EndOffset()
	d.LogStartOffset, d.LogEndOffset = start, end
	off := pf.GetFetchOffset()
	// Does the follower's log agree with ours up to its end? Its last batch's
	// epoch must end, in our log, at or after its end.
	if le := pf.GetLastFetchedEpoch(); le >= 0 && off > 0 {
		epoch, epochEnd := p.log.EndOffsetForEpoch(le)
		if epoch != le || epochEnd < off {
			p.mu.Unlock()
			d.Diverging, d.DivergingEpoch, d.DivergingEndOffset = true, epoch, epochEnd
			d.HighWatermark = p.hw
			return d
		}
	}
	if off < start || off > end {
		p.mu.Unlock()
		d.Error = string(rpcerr.OffsetOutOfRange)
		return d
	}
	if report {
		p.recordFollowerLocked(replica, off, min(pf.GetDurableOffset(), off))
	}
	d.HighWatermark = p.hw
	p.mu.Unlock()
	if off < end && *budget > 0 {
		b, err := p.log.Read(off, *budget, end)
		if err != nil {
			if errors.Is(err, partlog.ErrOffsetOutOfRange) {
				d.Error = string(rpcerr.OffsetOutOfRange)
			} else {
				s.logger.Warn("replica fetch read", "partition", key, "err", err)
				d.Error = string(rpcerr.Internal)
			}
			return d
		}
		d.Batches = b
		*budget -= len(b)
	}
	return d
}

// recordFollowerLocked takes a follower's reported progress: its log end and
// fsynced end advance the high watermark, and whether it had caught up with
// this log feeds the ISR checks. Call with p.mu held, as leader.
func (p *partition) recordFollowerLocked(id string, leo, durable int64) {
	f := p.followers[id]
	if f == nil {
		return
	}
	now := p.s.now()
	end := p.log.EndOffset()
	switch {
	case leo >= end:
		f.lastCaughtUp = now
	case leo >= f.leoAtPrevFetch && f.leo >= 0:
		f.lastCaughtUp = f.prevFetch
	}
	f.prevFetch, f.leoAtPrevFetch = now, end
	f.leo = leo
	f.durable = durable
	p.advanceHWLocked()
}

// isrChange returns the ISR this leader wants now, or nil when the current
// one is right: followers not caught up for ReplicaLagMax leave, followers
// whose fsynced end reached the high watermark join (their logs agree with
// this one: a fetch from a diverging log reports no progress). The leader itself always stays.
func (p *partition) isrChange(now time.Time, lagMax time.Duration) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || !p.leading || p.alterPending {
		return nil
	}
	st := p.state
	var want []string
	changed := false
	for _, id := range st.replicas {
		if id == p.s.cfg.ID {
			want = append(want, id)
			continue
		}
		f := p.followers[id]
		in := slices.Contains(st.isr, id)
		switch {
		case in && (f == nil || now.Sub(f.lastCaughtUp) > lagMax):
			changed = true
		case in:
			want = append(want, id)
		case !in && f != nil && f.durable >= 0 && f.durable >= p.hw && !p.s.fencedNode(id):
			want = append(want, id)
			changed = true
		}
	}
	if !changed {
		return nil
	}
	p.alterPending = true
	return want
}

// alterDone clears the pending mark after a failed ISR proposal, so the
// next check may try again.
func (p *partition) alterDone() {
	p.mu.Lock()
	p.alterPending = false
	p.mu.Unlock()
}
