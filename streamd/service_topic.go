package streamd

import (
	"context"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/meta"
)

// topicService is cairn.streamd.v1.TopicService.
type topicService struct {
	streamdv1.UnimplementedTopicServiceServer
	s *Server
}

func (ts *topicService) CreateTopic(ctx context.Context, req *streamdv1.CreateTopicRequest) (*streamdv1.CreateTopicResponse, error) {
	resp, err := ts.createTopic(ctx, req)
	return resp, toStatus(err)
}

func (ts *topicService) createTopic(ctx context.Context, req *streamdv1.CreateTopicRequest) (*streamdv1.CreateTopicResponse, error) {
	s := ts.s
	if err := meta.ValidateTopicName(req.GetName()); err != nil {
		return nil, err
	}
	parts := req.GetPartitions()
	if parts == 0 {
		parts = 1
	}
	if err := meta.ValidatePartitions(parts, int32(s.cfg.MaxPartitions)); err != nil {
		return nil, err
	}
	repl := req.GetReplication()
	if repl == 0 {
		repl = meta.DefaultReplication(len(s.node.Status().Members))
	}
	live, err := s.awaitLiveNodes(ctx, int(repl))
	if err != nil {
		return nil, err
	}
	if err := meta.ValidateReplication(repl, live); err != nil {
		return nil, err
	}
	cfg := meta.WithDefaults(req.GetConfig(), repl)
	if err := meta.ValidateTopicConfig(cfg, repl); err != nil {
		return nil, err
	}
	res, err := s.propose(ctx, &streamdraftv1.Command{Op: &streamdraftv1.Command_CreateTopic{CreateTopic: &streamdraftv1.CreateTopicOp{
		Name: req.GetName(), Partitions: parts, Replication: repl, Config: cfg,
	}}})
	if err != nil {
		return nil, err
	}
	tr := res.GetTopic()
	return &streamdv1.CreateTopicResponse{Header: s.header(), Topic: topicProto(tr.GetTopic(), tr.GetPartitions(), s.nodeAddr), Created: tr.GetCreated()}, nil
}

func (ts *topicService) DescribeTopic(ctx context.Context, req *streamdv1.DescribeTopicRequest) (*streamdv1.DescribeTopicResponse, error) {
	s := ts.s
	// Read after the barrier, so a topic created (or deleted) through any
	// node is seen by the next describe through any other.
	if err := s.node.LinearizableRead(ctx); err != nil {
		return nil, toStatus(err)
	}
	t, err := s.meta.Topic(req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	view, err := s.topicView(t)
	if err != nil {
		return nil, toStatus(err)
	}
	s.fillOffsets(ctx, view)
	return &streamdv1.DescribeTopicResponse{Header: s.header(), Topic: view}, nil
}

// ListTopics lists every topic with its partitions' placement (no offsets:
// those take a call to each leader, as DescribeTopic makes).
func (ts *topicService) ListTopics(ctx context.Context, _ *streamdv1.ListTopicsRequest) (*streamdv1.ListTopicsResponse, error) {
	s := ts.s
	if err := s.node.LinearizableRead(ctx); err != nil {
		return nil, toStatus(err)
	}
	topics, err := s.meta.Topics()
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &streamdv1.ListTopicsResponse{Header: s.header()}
	for _, t := range topics {
		view, err := s.topicView(t)
		if err != nil {
			return nil, toStatus(err)
		}
		resp.Topics = append(resp.Topics, view)
	}
	return resp, nil
}

func (ts *topicService) DeleteTopic(ctx context.Context, req *streamdv1.DeleteTopicRequest) (*streamdv1.DeleteTopicResponse, error) {
	s := ts.s
	if _, err := s.propose(ctx, &streamdraftv1.Command{Op: &streamdraftv1.Command_DeleteTopic{DeleteTopic: &streamdraftv1.DeleteTopicOp{Name: req.GetName()}}}); err != nil {
		return nil, toStatus(err)
	}
	s.ctrl.topicsChanged()
	return &streamdv1.DeleteTopicResponse{Header: s.header()}, nil
}

func (ts *topicService) AddPartitions(ctx context.Context, req *streamdv1.AddPartitionsRequest) (*streamdv1.AddPartitionsResponse, error) {
	s := ts.s
	if err := meta.ValidatePartitions(req.GetPartitions(), int32(s.cfg.MaxPartitions)); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &streamdraftv1.Command{Op: &streamdraftv1.Command_AddPartitions{AddPartitions: &streamdraftv1.AddPartitionsOp{Name: req.GetName(), Total: req.GetPartitions()}}})
	if err != nil {
		return nil, toStatus(err)
	}
	s.ctrl.topicsChanged()
	tr := res.GetTopic()
	return &streamdv1.AddPartitionsResponse{Header: s.header(), Topic: topicProto(tr.GetTopic(), tr.GetPartitions(), s.nodeAddr)}, nil
}

func (ts *topicService) UpdateTopicConfig(ctx context.Context, req *streamdv1.UpdateTopicConfigRequest) (*streamdv1.UpdateTopicConfigResponse, error) {
	s := ts.s
	res, err := s.propose(ctx, &streamdraftv1.Command{Op: &streamdraftv1.Command_UpdateTopicConfig{UpdateTopicConfig: &streamdraftv1.UpdateTopicConfigOp{Name: req.GetName(), Config: req.GetConfig(), Mask: req.GetMask()}}})
	if err != nil {
		return nil, toStatus(err)
	}
	tr := res.GetTopic()
	return &streamdv1.UpdateTopicConfigResponse{Header: s.header(), Topic: topicProto(tr.GetTopic(), tr.GetPartitions(), s.nodeAddr)}, nil
}

// topicView is a topic with its partitions' placement (no offsets).
func (s *Server) topicView(t *streamdraftv1.TopicRecord) (*streamdv1.Topic, error) {
	parts, err := s.meta.Partitions(t.GetId())
	if err != nil {
		return nil, err
	}
	return topicProto(t, parts, s.nodeAddr), nil
}

// topicProto is the client's view of a topic; addr resolves node addresses.
func topicProto(t *streamdraftv1.TopicRecord, parts []*streamdraftv1.PartitionRecord, addr func(string) string) *streamdv1.Topic {
	out := &streamdv1.Topic{
		Name:        t.GetName(),
		Id:          t.GetId(),
		Replication: t.GetReplication(),
		Config:      t.GetConfig(),
		Created:     timestamppb.New(time.Unix(0, t.GetCreatedUnixNanos())),
	}
	for _, pr := range parts {
		pi := &streamdv1.PartitionInfo{
			Partition:   pr.GetPartition(),
			Replicas:    pr.GetReplicas(),
			Leader:      pr.GetLeader(),
			LeaderEpoch: pr.GetLeaderEpoch(),
			Isr:         pr.GetIsr(),
		}
		if pr.GetLeader() != "" {
			pi.LeaderAddr = addr(pr.GetLeader())
		}
		out.Partitions = append(out.Partitions, pi)
	}
	return out
}

// partitionOffsetsTimeout bounds asking leaders for their offsets.
const partitionOffsetsTimeout = 2 * time.Second

// fillOffsets asks each partition's leader (in parallel, briefly) for its
// log start, high watermark and log end.
func (s *Server) fillOffsets(ctx context.Context, t *streamdv1.Topic) {
	ctx, cancel := context.WithTimeout(ctx, partitionOffsetsTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, pi := range t.GetPartitions() {
		if pi.GetLeader() == "" {
			continue
		}
		wg.Go(func() {
			resp, err := (&streamService{s: s}).listOffsets(ctx, &streamdv1.ListOffsetsRequest{Topic: t.GetName(), Partition: pi.GetPartition(), Spec: streamdv1.OffsetSpec_OFFSET_SPEC_LATEST})
			if err != nil {
				return
			}
			pi.LogStartOffset, pi.HighWatermark, pi.LogEndOffset, pi.OffsetsKnown = resp.GetLogStartOffset(), resp.GetHighWatermark(), resp.GetLogEndOffset(), true
		})
	}
	wg.Wait()
}

// awaitLiveNodes returns the number of registered, unfenced nodes, waiting
// (up to a session timeout) for it to reach want while the controller group
// has that many members: right after a cluster starts, nodes register with
// their first heartbeat.
func (s *Server) awaitLiveNodes(ctx context.Context, want int) (int, error) {
	deadline := time.NewTimer(s.cfg.SessionTimeout)
	defer deadline.Stop()
	for {
		changed := s.meta.Changed()
		nodes, err := s.meta.Nodes()
		if err != nil {
			return 0, err
		}
		live := 0
		for _, n := range nodes {
			if !n.GetFenced() {
				live++
			}
		}
		if live >= want || len(s.node.Status().Members) < want {
			return live, nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			return live, nil
		case <-ctx.Done():
			return live, ctx.Err()
		}
	}
}
