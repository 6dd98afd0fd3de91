package client

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/streamd/record"
)

// FetchOptions shape a Fetch. Zero values mean the server's defaults (1 MiB,
// no wait).
type FetchOptions struct {
	MaxBytes int32
	// MaxWait is how long the leader waits for a first record.
	MaxWait time.Duration
}

// Fetched is the answer of a Fetch.
type Fetched struct {
	Records []Record
	// HighWatermark is the partition's committed end when the leader
	// answered; NextOffset is the offset to fetch next.
	HighWatermark int64
	NextOffset    int64
	LogStart      int64
}

// Fetch reads committed records of one partition from offset, from its
// leader.
func (c *Client) Fetch(ctx context.Context, topic string, partition int32, offset int64, opts FetchOptions) (*Fetched, error) {
	req := &streamdv1.FetchRequest{Topic: topic, Partition: partition, Offset: offset, MaxBytes: opts.MaxBytes, RawBatches: true}
	if opts.MaxWait > 0 {
		req.MaxWait = durationpb.New(opts.MaxWait)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.conn.Config().RequestTimeout+opts.MaxWait)
		defer cancel()
	}
	resp, err := partitionCall(ctx, c, "fetch", topic, partition, false, false, func(ctx context.Context, sc streamdv1.StreamServiceClient) (*streamdv1.FetchResponse, error) {
		return sc.Fetch(ctx, req)
	})
	if err != nil {
		return nil, err
	}
	out := &Fetched{HighWatermark: resp.GetHighWatermark(), NextOffset: offset, LogStart: resp.GetLogStartOffset()}
	b := resp.GetBatches()
	for len(b) > 0 {
		batch, rest, err := record.Next(b)
		if err != nil {
			return nil, errs.Local("fetch", err)
		}
		if err := batch.Records(func(r record.Record) bool {
			if r.Offset >= offset {
				out.Records = append(out.Records, Record{
					Topic: topic, Partition: partition, Offset: r.Offset,
					Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: time.UnixMilli(r.Timestamp),
				})
			}
			return true
		}); err != nil {
			return nil, errs.Local("fetch", err)
		}
		out.NextOffset = max(out.NextOffset, batch.NextOffset())
		b = rest
	}
	return out, nil
}

// Offsets are a partition's offsets at its leader.
type Offsets struct {
	LogStart, HighWatermark, LogEnd int64
	LeaderEpoch                     int32
	// Offset is the answer to the question asked (earliest, latest, or at
	// a time).
	Offset int64
}

// ListOffsets asks the partition's leader for its offsets; at, when not
// zero, asks for the first offset whose timestamp is at or after it.
func (c *Client) ListOffsets(ctx context.Context, topic string, partition int32, spec streamdv1.OffsetSpec, at time.Time) (Offsets, error) {
	req := &streamdv1.ListOffsetsRequest{Topic: topic, Partition: partition, Spec: spec}
	if !at.IsZero() {
		req.Timestamp = timestamppb.New(at)
	}
	resp, err := partitionCall(ctx, c, "list-offsets", topic, partition, false, false, func(ctx context.Context, sc streamdv1.StreamServiceClient) (*streamdv1.ListOffsetsResponse, error) {
		return sc.ListOffsets(ctx, req)
	})
	if err != nil {
		return Offsets{}, err
	}
	return Offsets{LogStart: resp.GetLogStartOffset(), HighWatermark: resp.GetHighWatermark(), LogEnd: resp.GetLogEndOffset(), LeaderEpoch: resp.GetLeaderEpoch(), Offset: resp.GetOffset()}, nil
}

// CreateTopic creates a topic (see cairn.streamd.v1.TopicService).
func (c *Client) CreateTopic(ctx context.Context, req *streamdv1.CreateTopicRequest) (*streamdv1.CreateTopicResponse, error) {
	return call(ctx, c, "create-topic", true, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.CreateTopicResponse, error) {
		return c.topics.CreateTopic(ctx, req, co...)
	})
}

// DescribeTopic returns a topic with its partitions' leaders, ISR and offsets.
func (c *Client) DescribeTopic(ctx context.Context, name string) (*streamdv1.Topic, error) {
	resp, err := call(ctx, c, "describe-topic", false, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.DescribeTopicResponse, error) {
		return c.topics.DescribeTopic(ctx, &streamdv1.DescribeTopicRequest{Name: name}, co...)
	})
	return resp.GetTopic(), err
}

// ListTopics lists the topics.
func (c *Client) ListTopics(ctx context.Context) ([]*streamdv1.Topic, error) {
	resp, err := call(ctx, c, "list-topics", false, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.ListTopicsResponse, error) {
		return c.topics.ListTopics(ctx, &streamdv1.ListTopicsRequest{}, co...)
	})
	return resp.GetTopics(), err
}

// DeleteTopic deletes a topic and its data.
func (c *Client) DeleteTopic(ctx context.Context, name string) error {
	_, err := call(ctx, c, "delete-topic", true, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.DeleteTopicResponse, error) {
		return c.topics.DeleteTopic(ctx, &streamdv1.DeleteTopicRequest{Name: name}, co...)
	})
	c.forget(name)
	return err
}

// AddPartitions raises a topic's partition count to total.
func (c *Client) AddPartitions(ctx context.Context, name string, total int32) (*streamdv1.Topic, error) {
	resp, err := call(ctx, c, "add-partitions", true, func(ctx context.Context, co ...grpc.CallOption) (*streamdv1.AddPartitionsResponse, error) {
		return c.topics.AddPartitions(ctx, &streamdv1.AddPartitionsRequest{Name: name, Partitions: total}, co...)
	})
	c.forget(name)
	return resp.GetTopic(), err
}
