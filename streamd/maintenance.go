package streamd

import (
	"context"
	"time"

	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
)

// isrLoop asks the controller to change the ISR of partitions this node
// leads: followers that stopped keeping up leave, followers that caught up
// join. It checks four times per ReplicaLagMax.
func (s *Server) isrLoop(ctx context.Context) {
	every := max(s.cfg.ReplicaLagMax/4, 50*time.Millisecond)
	for {
		if !s.sleep(ctx, nil, every) {
			return
		}
		now := s.now()
		for _, p := range s.parts.all() {
			want := p.isrChange(now, s.cfg.ReplicaLagMax)
			if want == nil {
				continue
			}
			st, _ := p.snapshot()
			s.logger.Info("proposing an ISR change", "topic", st.topic, "partition", st.key.partition, "isr", st.isr, "new_isr", want)
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			_, err := s.propose(pctx, &streamdraftv1.Command{Op: &streamdraftv1.Command_AlterPartition{AlterPartition: &streamdraftv1.AlterPartitionOp{
				TopicId:        st.key.topicID,
				Partition:      st.key.partition,
				Leader:         s.cfg.ID,
				LeaderEpoch:    st.leaderEpoch,
				PartitionEpoch: st.partitionEpoch,
				NewIsr:         want,
			}}})
			cancel()
			if err != nil {
				s.logger.Warn("ISR change refused", "topic", st.topic, "partition", st.key.partition, "err", err)
				p.alterDone()
			}
		}
	}
}

// hwSaveInterval is how often high watermark hints are written.
const hwSaveInterval = 2 * time.Second

// maintenanceLoop enforces retention and compaction every
// RetentionInterval and saves high watermark hints.
func (s *Server) maintenanceLoop(ctx context.Context) {
	lastRetention := s.now()
	for {
		if !s.sleep(ctx, nil, min(hwSaveInterval, s.cfg.RetentionInterval)) {
			return
		}
		retention := s.now().Sub(lastRetention) >= s.cfg.RetentionInterval
		if retention {
			lastRetention = s.now()
		}
		for _, p := range s.parts.all() {
			p.savedHW()
			if retention {
				p.enforceRetention()
			}
		}
	}
}
