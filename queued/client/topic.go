package client

import (
	"context"
	"errors"

	"google.golang.org/grpc"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

var errEmptyResult = errors.New("the server answered without a result")

// CreateTopic creates a topic; creating one that exists succeeds (created false).
func (c *Client) CreateTopic(ctx context.Context, name string) (*queuedv1.Topic, bool, error) {
	resp, err := call(ctx, c, "create-topic", kindIdempotent, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.CreateTopicResponse, error) {
		return c.topics.CreateTopic(ctx, &queuedv1.CreateTopicRequest{Name: name}, co...)
	})
	return resp.GetTopic(), resp.GetCreated(), err
}

// DeleteTopic deletes a topic and its subscriptions (not the queues).
func (c *Client) DeleteTopic(ctx context.Context, name string) error {
	_, err := call(ctx, c, "delete-topic", kindWrite, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.DeleteTopicResponse, error) {
		return c.topics.DeleteTopic(ctx, &queuedv1.DeleteTopicRequest{Name: name}, co...)
	})
	return err
}

// GetTopic returns a topic and its subscriptions.
func (c *Client) GetTopic(ctx context.Context, name string) (*queuedv1.Topic, error) {
	resp, err := call(ctx, c, "get-topic", kindRead, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.GetTopicResponse, error) {
		return c.topics.GetTopic(ctx, &queuedv1.GetTopicRequest{Name: name}, co...)
	})
	return resp.GetTopic(), err
}

// ListTopics returns one page of topics (see ListQueues).
func (c *Client) ListTopics(ctx context.Context, prefix, pageToken string, pageSize int) ([]*queuedv1.Topic, string, error) {
	req := &queuedv1.ListTopicsRequest{Prefix: prefix, PageToken: pageToken, PageSize: uint32(max(pageSize, 0))}
	resp, err := call(ctx, c, "list-topics", kindRead, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.ListTopicsResponse, error) {
		return c.topics.ListTopics(ctx, req, co...)
	})
	return resp.GetTopics(), resp.GetNextPageToken(), err
}

// Subscribe delivers the topic's future messages into queue, only those
// whose String attributes match filter when it is not empty (every key
// present, with one of the listed values). Subscribing again replaces the
// filter.
func (c *Client) Subscribe(ctx context.Context, topic, queue string, filter map[string][]string) (*queuedv1.Topic, error) {
	sub := &queuedv1.Subscription{Queue: queue}
	for k, vs := range filter {
		if sub.Filter == nil {
			sub.Filter = map[string]*queuedv1.FilterValues{}
		}
		sub.Filter[k] = &queuedv1.FilterValues{Values: vs}
	}
	req := &queuedv1.SubscribeRequest{Topic: topic, Subscription: sub}
	resp, err := call(ctx, c, "subscribe", kindIdempotent, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.SubscribeResponse, error) {
		return c.topics.Subscribe(ctx, req, co...)
	})
	return resp.GetTopic(), err
}

// Unsubscribe stops delivering the topic's messages into queue.
func (c *Client) Unsubscribe(ctx context.Context, topic, queue string) (*queuedv1.Topic, error) {
	req := &queuedv1.UnsubscribeRequest{Topic: topic, Queue: queue}
	resp, err := call(ctx, c, "unsubscribe", kindIdempotent, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.UnsubscribeResponse, error) {
		return c.topics.Unsubscribe(ctx, req, co...)
	})
	return resp.GetTopic(), err
}

// Publish enqueues one copy of the message into every subscribed queue whose
// filter matches, all or none, and lists the copies.
func (c *Client) Publish(ctx context.Context, req *queuedv1.PublishRequest) ([]*queuedv1.Delivered, error) {
	resp, err := call(ctx, c, "publish", kindWrite, 0, func(ctx context.Context, co ...grpc.CallOption) (*queuedv1.PublishResponse, error) {
		return c.topics.Publish(ctx, req, co...)
	})
	return resp.GetDelivered(), err
}
