package raftkv

import (
	"context"
	"io"
	"os"

	"cairn.dev/cairn/node/raftnode"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

type clusterService struct {
	raftkvv1.UnimplementedClusterServiceServer
	s *Server
}

func (c *clusterService) Status(ctx context.Context, _ *raftkvv1.StatusRequest) (*raftkvv1.StatusResponse, error) {
	st := c.s.node.Status()
	resp := &raftkvv1.StatusResponse{
		Header:          c.s.header(0),
		LeaderId:        st.LeaderID,
		LeaderAddress:   st.LeaderAddr,
		State:           st.State,
		RaftTerm:        st.Term,
		LastIndex:       st.LastIndex,
		CommitIndex:     st.CommitIndex,
		AppliedIndex:    st.AppliedIndex,
		DbSize:          c.s.store.Size(),
		CompactRevision: c.s.store.CompactRevision(),
		Version:         Version,
	}
	resp.Members = raftnode.MembersProto(st.Members)
	return resp, nil
}

// snapshotChunk is the size of each Snapshot stream message.
const snapshotChunk = 256 << 10

// Snapshot streams a consistent copy of this member's database, taken after a
// linearizable read barrier. It is spooled to a
// temporary file first so that the size is known and a slow reader does not hold
// a database transaction open.
func (c *clusterService) Snapshot(_ *raftkvv1.SnapshotRequest, stream raftkvv1.ClusterService_SnapshotServer) error {
	// A backup holds every write acknowledged before it was asked for, even when
	// this member lags the leader.
	if err := c.s.barrier(stream.Context(), raftkvv1.Consistency_CONSISTENCY_LINEARIZABLE); err != nil {
		return toStatus(err)
	}
	f, err := os.CreateTemp(c.s.cfg.DataDir, "backup-*.db")
	if err != nil {
		return toStatus(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := c.s.store.Snapshot(f); err != nil {
		return toStatus(err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return toStatus(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return toStatus(err)
	}
	buf := make([]byte, snapshotChunk)
	var sent int64
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			sent += int64(n)
			if err := stream.Send(&raftkvv1.SnapshotResponse{Blob: buf[:n], RemainingBytes: size - sent}); err != nil {
				return err
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return toStatus(err)
		}
	}
}
