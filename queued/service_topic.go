package queued

import (
	"context"
	"errors"

	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
	"cairn.dev/cairn/queued/store"
)

// topicService handlers validate, call the domain, and translate the error.
type topicService struct {
	queuedv1.UnimplementedTopicServiceServer
	s *Server
}

func (h *topicService) CreateTopic(ctx context.Context, req *queuedv1.CreateTopicRequest) (*queuedv1.CreateTopicResponse, error) {
	s := h.s
	if err := validName("name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_CreateTopic{CreateTopic: &queuedraftv1.CreateTopicOp{Name: req.GetName()}}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetCreateTopic()
	if resp == nil {
		resp = &queuedv1.CreateTopicResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

func (h *topicService) DeleteTopic(ctx context.Context, req *queuedv1.DeleteTopicRequest) (*queuedv1.DeleteTopicResponse, error) {
	s := h.s
	if err := validName("name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_DeleteTopic{DeleteTopic: &queuedraftv1.DeleteTopicOp{Name: req.GetName()}}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetDeleteTopic()
	if resp == nil {
		resp = &queuedv1.DeleteTopicResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

func (h *topicService) GetTopic(ctx context.Context, req *queuedv1.GetTopicRequest) (*queuedv1.GetTopicResponse, error) {
	s := h.s
	if err := validName("name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	if err := s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	applied := s.store.LastApplied()
	t, err := s.store.GetTopic(req.GetName())
	if err != nil {
		if errors.Is(err, store.ErrTopicNotFound) {
			err = &domainError{base: ErrTopicNotFound, msg: "topic " + quote(req.GetName())}
		}
		return nil, toStatus(err)
	}
	return &queuedv1.GetTopicResponse{Header: s.header(applied), Topic: t}, nil
}

func (h *topicService) ListTopics(ctx context.Context, req *queuedv1.ListTopicsRequest) (*queuedv1.ListTopicsResponse, error) {
	s := h.s
	size, err := validatePage(req.GetPrefix(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, toStatus(err)
	}
	if err := s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	applied := s.store.LastApplied()
	ts, next, err := s.store.ListTopics(req.GetPrefix(), req.GetPageToken(), size)
	if err != nil {
		return nil, toStatus(err)
	}
	return &queuedv1.ListTopicsResponse{Header: s.header(applied), Topics: ts, NextPageToken: next}, nil
}

func (h *topicService) Subscribe(ctx context.Context, req *queuedv1.SubscribeRequest) (*queuedv1.SubscribeResponse, error) {
	s := h.s
	if err := validName("topic", req.GetTopic()); err != nil {
		return nil, toStatus(err)
	}
	if err := validateSubscription(req.GetSubscription()); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_Subscribe{Subscribe: &queuedraftv1.SubscribeOp{Topic: req.GetTopic(), Subscription: req.GetSubscription()}}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetSubscribe()
	if resp == nil {
		resp = &queuedv1.SubscribeResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

func (h *topicService) Unsubscribe(ctx context.Context, req *queuedv1.UnsubscribeRequest) (*queuedv1.UnsubscribeResponse, error) {
	s := h.s
	if err := validName("topic", req.GetTopic()); err != nil {
		return nil, toStatus(err)
	}
	if err := validName("queue", req.GetQueue()); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_Unsubscribe{Unsubscribe: &queuedraftv1.UnsubscribeOp{Topic: req.GetTopic(), Queue: req.GetQueue()}}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetUnsubscribe()
	if resp == nil {
		resp = &queuedv1.UnsubscribeResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}

func (h *topicService) Publish(ctx context.Context, req *queuedv1.PublishRequest) (*queuedv1.PublishResponse, error) {
	s := h.s
	if err := validatePublish(req); err != nil {
		return nil, toStatus(err)
	}
	res, err := s.propose(ctx, &queuedraftv1.Command{Op: &queuedraftv1.Command_Publish{Publish: &queuedraftv1.PublishOp{
		Topic: req.GetTopic(), Body: req.GetBody(), Attributes: req.GetAttributes(), GroupId: req.GetGroupId(), DeduplicationId: req.GetDeduplicationId(),
	}}})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := res.GetPublish()
	if resp == nil {
		resp = &queuedv1.PublishResponse{}
	}
	resp.Header = s.fillHeader(resp.GetHeader())
	return resp, nil
}
