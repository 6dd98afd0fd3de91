package streamd

import "fmt"

// Waiters is the number of long-polling fetches and fetch streams waiting
// on s (tests poll it to know a fetch is parked).
func (s *Server) Waiters() int64 { return s.waiters.Load() }

// ReplicaInfo is one local replica's offsets, for tests.
type ReplicaInfo struct {
	Start, End, HW int64
	Leading        bool
	Dir            string
}

// Replica reports s's replica of partition p of the topic with id topicID
// (ok false when s holds none).
func (s *Server) Replica(topicID uint64, p int32) (ReplicaInfo, bool) {
	r := s.parts.get(pkey{topicID: topicID, partition: p})
	if r == nil {
		return ReplicaInfo{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return ReplicaInfo{Start: r.log.StartOffset(), End: r.log.EndOffset(), HW: r.hw, Leading: r.leading, Dir: r.log.Dir()}, true
}

// ReplicaBytes reads every batch of s's replica from its start to its end.
func (s *Server) ReplicaBytes(topicID uint64, p int32) ([]byte, error) {
	r := s.parts.get(pkey{topicID: topicID, partition: p})
	if r == nil {
		return nil, fmt.Errorf("no replica of %d-%d on %s", topicID, p, s.cfg.ID)
	}
	var out []byte
	off := r.log.StartOffset()
	for {
		end := r.log.EndOffset()
		if off >= end {
			return out, nil
		}
		b, err := r.log.Read(off, 1<<20, end)
		if err != nil {
			return nil, err
		}
		if len(b) == 0 {
			return out, nil
		}
		out = append(out, b...)
		next, ok := batchesEnd(b)
		if !ok {
			return out, nil
		}
		off = next
	}
}

// ReplicaDir is where s keeps the log of partition p of topic topicID.
func (s *Server) ReplicaDir(topicID uint64, p int32) string {
	return s.parts.replicaDir(pkey{topicID: topicID, partition: p})
}
