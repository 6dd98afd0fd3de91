package store

import (
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// topic loads the topic named name; nil when it does not exist.
func (a *applier) topic(name string) (*queuedraftv1.TopicRecord, error) {
	v := a.tx.Bucket(bucketTopics).Get([]byte(name))
	if v == nil {
		return nil, nil
	}
	t := &queuedraftv1.TopicRecord{}
	if err := proto.Unmarshal(v, t); err != nil {
		return nil, fmt.Errorf("%w: topic %q: %v", ErrCorrupt, name, err)
	}
	return t, nil
}

func (a *applier) mustTopic(name string) (*queuedraftv1.TopicRecord, error) {
	t, err := a.topic(name)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, fail(reasonTopicNotFound, "topic %q does not exist", name)
	}
	return t, nil
}

func (a *applier) putTopic(t *queuedraftv1.TopicRecord) error {
	v, err := marshal(t)
	if err != nil {
		return err
	}
	return a.tx.Bucket(bucketTopics).Put([]byte(t.GetName()), v)
}

func topicView(t *queuedraftv1.TopicRecord) *queuedv1.Topic {
	subs := make([]*queuedv1.Subscription, len(t.GetSubscriptions()))
	for i, s := range t.GetSubscriptions() {
		subs[i] = proto.CloneOf(s)
	}
	return &queuedv1.Topic{
		Name:          t.GetName(),
		Subscriptions: subs,
		Created:       ts(t.GetCreatedUnixNanos()),
		Published:     t.GetPublished(),
	}
}

func (a *applier) createTopic(op *queuedraftv1.CreateTopicOp) (*queuedv1.CreateTopicResponse, error) {
	name := op.GetName()
	if name == "" {
		return nil, fail(reasonInvalidArgument, "topic name is empty")
	}
	t, err := a.topic(name)
	if err != nil {
		return nil, err
	}
	if t != nil {
		return &queuedv1.CreateTopicResponse{Topic: topicView(t)}, nil
	}
	t = &queuedraftv1.TopicRecord{Name: name, CreatedUnixNanos: a.now}
	if err := a.putTopic(t); err != nil {
		return nil, err
	}
	a.meta.topics++
	return &queuedv1.CreateTopicResponse{Topic: topicView(t), Created: true}, nil
}

func (a *applier) deleteTopic(op *queuedraftv1.DeleteTopicOp) (*queuedv1.DeleteTopicResponse, error) {
	t, err := a.mustTopic(op.GetName())
	if err != nil {
		return nil, err
	}
	sb := a.tx.Bucket(bucketSubs)
	for _, s := range t.GetSubscriptions() {
		if err := sb.Delete(pairKey(s.GetQueue(), t.GetName())); err != nil {
			return nil, err
		}
	}
	if err := a.tx.Bucket(bucketTopics).Delete([]byte(t.GetName())); err != nil {
		return nil, err
	}
	a.meta.topics--
	return &queuedv1.DeleteTopicResponse{}, nil
}

func (a *applier) subscribe(op *queuedraftv1.SubscribeOp) (*queuedv1.SubscribeResponse, error) {
	t, err := a.mustTopic(op.GetTopic())
	if err != nil {
		return nil, err
	}
	sub := op.GetSubscription()
	if sub.GetQueue() == "" {
		return nil, fail(reasonInvalidArgument, "subscription names no queue")
	}
	if _, err := a.mustQueue(sub.GetQueue()); err != nil {
		return nil, err
	}
	sub = proto.CloneOf(sub)
	i, found := slices.BinarySearchFunc(t.Subscriptions, sub.GetQueue(), func(s *queuedv1.Subscription, q string) int {
		return strings.Compare(s.GetQueue(), q)
	})
	if found {
		t.Subscriptions[i] = sub
	} else {
		t.Subscriptions = slices.Insert(t.Subscriptions, i, sub)
	}
	if err := a.tx.Bucket(bucketSubs).Put(pairKey(sub.GetQueue(), t.GetName()), empty); err != nil {
		return nil, err
	}
	if err := a.putTopic(t); err != nil {
		return nil, err
	}
	return &queuedv1.SubscribeResponse{Topic: topicView(t)}, nil
}

func (a *applier) unsubscribe(op *queuedraftv1.UnsubscribeOp) (*queuedv1.UnsubscribeResponse, error) {
	t, err := a.mustTopic(op.GetTopic())
	if err != nil {
		return nil, err
	}
	queue := op.GetQueue()
	t.Subscriptions = slices.DeleteFunc(t.Subscriptions, func(s *queuedv1.Subscription) bool { return s.GetQueue() == queue })
	if err := a.tx.Bucket(bucketSubs).Delete(pairKey(queue, t.GetName())); err != nil {
		return nil, err
	}
	if err := a.putTopic(t); err != nil {
		return nil, err
	}
	return &queuedv1.UnsubscribeResponse{Topic: topicView(t)}, nil
}

// FilterMatches says whether a message with attributes attrs passes a
// subscription's filter: for every key, the message has that attribute, it is
// not binary, and its string value is one of the listed values. An empty
// filter passes everything.
func FilterMatches(filter map[string]*queuedv1.FilterValues, attrs map[string]*queuedv1.AttributeValue) bool {
	for k, fv := range filter {
		v, ok := attrs[k]
		if !ok || strings.HasPrefix(v.GetDataType(), "Binary") {
			return false
		}
		if !slices.Contains(fv.GetValues(), v.GetStringValue()) {
			return false
		}
	}
	return true
}

func (a *applier) publish(op *queuedraftv1.PublishOp) (*queuedv1.PublishResponse, error) {
	t, err := a.mustTopic(op.GetTopic())
	if err != nil {
		return nil, err
	}
	// Check every copy before enqueuing any: all or none.
	var targets []*queueTx
	for _, s := range t.GetSubscriptions() {
		if !FilterMatches(s.GetFilter(), op.GetAttributes()) {
			continue
		}
		q, err := a.queue(s.GetQueue())
		if err != nil {
			return nil, err
		}
		if q == nil {
			continue
		}
		group, dedup := "", ""
		if q.fifo {
			group, dedup = op.GetGroupId(), op.GetDeduplicationId()
		}
		if f := checkNew(q, op.GetBody(), op.GetAttributes(), group, dedup, false); f != nil {
			return nil, f
		}
		targets = append(targets, q)
	}
	resp := &queuedv1.PublishResponse{}
	for _, q := range targets {
		m := newMessage{body: op.GetBody(), attrs: op.GetAttributes(), delay: int64(q.attrs().GetDeliveryDelay().AsDuration())}
		if q.fifo {
			m.group, m.dedupID = op.GetGroupId(), op.GetDeduplicationId()
		}
		id, _, dup, err := a.add(q, m)
		if err != nil {
			return nil, err
		}
		resp.Delivered = append(resp.Delivered, &queuedv1.Delivered{Queue: q.rec.GetName(), MessageId: id, Duplicate: dup})
	}
	t.Published++
	if err := a.putTopic(t); err != nil {
		return nil, err
	}
	return resp, nil
}
