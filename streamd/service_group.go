package streamd

import (
	"context"
	"errors"
	"slices"
	"sort"
	"time"

	streamdraftv1 "cairn.dev/cairn/proto/cairn/streamd/raft/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/group"
	"cairn.dev/cairn/streamd/meta"
)

// Bounds of group requests.
const (
	minSessionTimeout  = time.Second
	maxSessionTimeout  = 5 * time.Minute
	maxOffsetMetadata  = 4 << 10
	maxCommitPartition = 10000
)

// groupOptions configure the coordinator a new controller starts. Its
// generations start above every generation an earlier controller handed out:
// Raft terms only grow, and one controller never hands out 2^32 generations
// to one group.
func (s *Server) groupOptions() group.Options {
	return group.Options{
		Partitions: func(topic string) int {
			t, err := s.meta.Topic(topic)
			if err != nil {
				return 0
			}
			return int(t.GetPartitions())
		},
		Now:            s.now,
		GenerationBase: int64(s.node.Term()) << 32,
		Logger:         s.logger,
	}
}

// topicsChanged tells the coordinator, if this node runs it, that partition
// counts changed.
func (c *controller) topicsChanged() {
	if g, err := c.coordinator(); err == nil {
		g.TopicsChanged()
	}
}

// groupService is cairn.streamd.v1.GroupService, served by the controller.
type groupService struct {
	streamdv1.UnimplementedGroupServiceServer
	s *Server
}

func (gs *groupService) JoinGroup(ctx context.Context, req *streamdv1.JoinGroupRequest) (*streamdv1.JoinGroupResponse, error) {
	s := gs.s
	if err := meta.ValidateGroupName(req.GetGroup()); err != nil {
		return nil, toStatus(err)
	}
	for _, t := range req.GetTopics() {
		if err := meta.ValidateTopicName(t); err != nil {
			return nil, toStatus(err)
		}
	}
	session := req.GetSessionTimeout().AsDuration()
	if req.GetSessionTimeout() != nil && (session < minSessionTimeout || session > maxSessionTimeout) {
		return nil, toStatus(invalid("session_timeout", "must be in [%v, %v], got %v", minSessionTimeout, maxSessionTimeout, session))
	}
	rebalance := req.GetRebalanceTimeout().AsDuration()
	if req.GetRebalanceTimeout() != nil && (rebalance < minSessionTimeout || rebalance > maxSessionTimeout) {
		return nil, toStatus(invalid("rebalance_timeout", "must be in [%v, %v], got %v", minSessionTimeout, maxSessionTimeout, rebalance))
	}
	coord, err := s.ctrl.coordinator()
	if err != nil {
		return nil, toStatus(err)
	}
	res, err := coord.Join(ctx, group.JoinRequest{
		Group:            req.GetGroup(),
		MemberID:         req.GetMemberId(),
		ClientID:         req.GetClientId(),
		Topics:           req.GetTopics(),
		SessionTimeout:   session,
		RebalanceTimeout: rebalance,
		Assignor:         group.Assignor(req.GetAssignor()),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	return &streamdv1.JoinGroupResponse{Header: s.header(), MemberId: res.MemberID, Generation: res.Generation, Assignment: tpsProto(res.Assignment), Members: int32(res.Members)}, nil
}

func (gs *groupService) Heartbeat(_ context.Context, req *streamdv1.HeartbeatRequest) (*streamdv1.HeartbeatResponse, error) {
	coord, err := gs.s.ctrl.coordinator()
	if err != nil {
		return nil, toStatus(err)
	}
	if err := coord.Heartbeat(req.GetGroup(), req.GetMemberId(), req.GetGeneration()); err != nil {
		return nil, toStatus(err)
	}
	return &streamdv1.HeartbeatResponse{Header: gs.s.header()}, nil
}

func (gs *groupService) LeaveGroup(_ context.Context, req *streamdv1.LeaveGroupRequest) (*streamdv1.LeaveGroupResponse, error) {
	coord, err := gs.s.ctrl.coordinator()
	if err != nil {
		return nil, toStatus(err)
	}
	if err := coord.Leave(req.GetGroup(), req.GetMemberId()); err != nil {
		return nil, toStatus(err)
	}
	return &streamdv1.LeaveGroupResponse{Header: gs.s.header()}, nil
}

func (gs *groupService) CommitOffsets(ctx context.Context, req *streamdv1.CommitOffsetsRequest) (*streamdv1.CommitOffsetsResponse, error) {
	resp, err := gs.commitOffsets(ctx, req)
	return resp, toStatus(err)
}

func (gs *groupService) commitOffsets(ctx context.Context, req *streamdv1.CommitOffsetsRequest) (*streamdv1.CommitOffsetsResponse, error) {
	s := gs.s
	if err := meta.ValidateGroupName(req.GetGroup()); err != nil {
		return nil, err
	}
	if n := len(req.GetOffsets()); n == 0 || n > maxCommitPartition {
		return nil, invalid("offsets", "a commit names 1 to %d partitions, got %d", maxCommitPartition, n)
	}
	tps := make([]group.TopicPartition, 0, len(req.GetOffsets()))
	for _, o := range req.GetOffsets() {
		t, err := s.topic(ctx, o.GetTopic())
		if err != nil {
			return nil, err
		}
		if o.GetPartition() < 0 || o.GetPartition() >= t.GetPartitions() {
			return nil, partitionNotFound(o.GetTopic(), o.GetPartition(), t.GetPartitions())
		}
		if o.GetOffset() < 0 {
			return nil, invalid("offsets.offset", "must not be negative, got %d", o.GetOffset())
		}
		if len(o.GetMetadata()) > maxOffsetMetadata {
			return nil, tooLarge("offsets.metadata", len(o.GetMetadata()), maxOffsetMetadata, "offset metadata")
		}
		tps = append(tps, group.TopicPartition{Topic: o.GetTopic(), Partition: o.GetPartition()})
	}
	coord, err := s.ctrl.coordinator()
	if err != nil {
		return nil, err
	}
	if err := coord.CheckCommit(req.GetGroup(), req.GetMemberId(), req.GetGeneration(), tps); err != nil {
		return nil, err
	}
	if _, err := s.propose(ctx, &streamdraftv1.Command{Op: &streamdraftv1.Command_CommitOffsets{CommitOffsets: &streamdraftv1.CommitOffsetsOp{Group: req.GetGroup(), Offsets: req.GetOffsets()}}}); err != nil {
		return nil, err
	}
	return &streamdv1.CommitOffsetsResponse{Header: s.header()}, nil
}

func (gs *groupService) FetchOffsets(ctx context.Context, req *streamdv1.FetchOffsetsRequest) (*streamdv1.FetchOffsetsResponse, error) {
	s := gs.s
	if _, err := s.ctrl.coordinator(); err != nil {
		return nil, toStatus(err)
	}
	if err := s.node.LinearizableRead(ctx); err != nil {
		return nil, toStatus(err)
	}
	offs, err := s.committedOffsets(req.GetGroup())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &streamdv1.FetchOffsetsResponse{Header: s.header()}
	for _, o := range offs {
		if len(req.GetPartitions()) > 0 && !slices.ContainsFunc(req.GetPartitions(), func(tp *streamdv1.TopicPartition) bool {
			return tp.GetTopic() == o.GetTopic() && tp.GetPartition() == o.GetPartition()
		}) {
			continue
		}
		resp.Offsets = append(resp.Offsets, o)
	}
	return resp, nil
}

// committedOffsets is every offset the group committed (none: empty).
func (s *Server) committedOffsets(g string) ([]*streamdv1.PartitionOffset, error) {
	offs, err := s.meta.GroupOffsets(g, nil)
	if errors.Is(err, meta.ErrGroupNotFound) {
		return nil, nil
	}
	return offs, err
}

func (gs *groupService) ListGroups(ctx context.Context, _ *streamdv1.ListGroupsRequest) (*streamdv1.ListGroupsResponse, error) {
	s := gs.s
	coord, err := s.ctrl.coordinator()
	if err != nil {
		return nil, toStatus(err)
	}
	byName := map[string]*streamdv1.GroupSummary{}
	for _, g := range coord.List() {
		byName[g.Group] = &streamdv1.GroupSummary{Group: g.Group, State: g.State.String(), Members: int32(g.Members)}
	}
	names, err := s.meta.Groups()
	if err != nil {
		return nil, toStatus(err)
	}
	for _, name := range names {
		if byName[name] == nil {
			byName[name] = &streamdv1.GroupSummary{Group: name, State: group.StateEmpty.String()}
		}
	}
	resp := &streamdv1.ListGroupsResponse{Header: s.header()}
	for _, g := range byName {
		resp.Groups = append(resp.Groups, g)
	}
	sort.Slice(resp.Groups, func(i, j int) bool { return resp.Groups[i].GetGroup() < resp.Groups[j].GetGroup() })
	return resp, nil
}

func (gs *groupService) DescribeGroup(ctx context.Context, req *streamdv1.DescribeGroupRequest) (*streamdv1.DescribeGroupResponse, error) {
	resp, err := gs.describeGroup(ctx, req)
	return resp, toStatus(err)
}

func (gs *groupService) describeGroup(ctx context.Context, req *streamdv1.DescribeGroupRequest) (*streamdv1.DescribeGroupResponse, error) {
	s := gs.s
	coord, err := s.ctrl.coordinator()
	if err != nil {
		return nil, err
	}
	info, live := coord.Describe(req.GetGroup())
	offs, err := s.committedOffsets(req.GetGroup())
	if err != nil {
		return nil, err
	}
	if !live && len(offs) == 0 {
		return nil, groupNotFound(req.GetGroup())
	}
	resp := &streamdv1.DescribeGroupResponse{Header: s.header(), Group: req.GetGroup(), State: info.State.String(), Generation: info.Generation, Assignor: streamdv1.Assignor(info.Assignor)}
	owner := map[group.TopicPartition]string{}
	topics := map[string]bool{}
	for _, m := range info.Members {
		resp.Members = append(resp.Members, &streamdv1.GroupMember{MemberId: m.MemberID, ClientId: m.ClientID, Topics: m.Topics, Assignment: tpsProto(m.Assignment)})
		for _, tp := range m.Assignment {
			owner[tp] = m.MemberID
		}
		for _, t := range m.Topics {
			topics[t] = true
		}
	}
	committed := map[group.TopicPartition]int64{}
	for _, o := range offs {
		committed[group.TopicPartition{Topic: o.GetTopic(), Partition: o.GetPartition()}] = o.GetOffset()
		topics[o.GetTopic()] = true
	}
	names := make([]string, 0, len(topics))
	for t := range topics {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, name := range names {
		t, err := s.meta.Topic(name)
		if err != nil {
			continue
		}
		view, err := s.topicView(t)
		if err != nil {
			return nil, err
		}
		s.fillOffsets(ctx, view)
		for _, pi := range view.GetPartitions() {
			tp := group.TopicPartition{Topic: name, Partition: pi.GetPartition()}
			pl := &streamdv1.PartitionLag{Topic: name, Partition: pi.GetPartition(), Committed: -1, HighWatermark: pi.GetHighWatermark(), MemberId: owner[tp]}
			from := pi.GetLogStartOffset()
			if c, ok := committed[tp]; ok {
				pl.Committed, from = c, c
			}
			pl.Lag = max(pi.GetHighWatermark()-from, 0)
			resp.Partitions = append(resp.Partitions, pl)
		}
	}
	return resp, nil
}

func (gs *groupService) DeleteGroup(ctx context.Context, req *streamdv1.DeleteGroupRequest) (*streamdv1.DeleteGroupResponse, error) {
	s := gs.s
	coord, err := s.ctrl.coordinator()
	if err != nil {
		return nil, toStatus(err)
	}
	if !coord.Empty(req.GetGroup()) {
		return nil, toStatus(invalid("group", "group %q has members; they must leave first", req.GetGroup()))
	}
	if _, err := s.propose(ctx, &streamdraftv1.Command{Op: &streamdraftv1.Command_DeleteGroup{DeleteGroup: &streamdraftv1.DeleteGroupOp{Group: req.GetGroup()}}}); err != nil {
		return nil, toStatus(err)
	}
	return &streamdv1.DeleteGroupResponse{Header: s.header()}, nil
}

func tpsProto(tps []group.TopicPartition) []*streamdv1.TopicPartition {
	out := make([]*streamdv1.TopicPartition, len(tps))
	for i, tp := range tps {
		out[i] = &streamdv1.TopicPartition{Topic: tp.Topic, Partition: tp.Partition}
	}
	return out
}
