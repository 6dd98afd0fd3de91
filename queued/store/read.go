package store

import (
	"bytes"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	queuedraftv1 "cairn.dev/cairn/proto/cairn/queued/raft/v1"
	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// DefaultListLimit is the page size of ListQueues and ListTopics when limit
// is 0 or less.
const DefaultListLimit = 1000

// readQueue loads the record of the queue named name and its age bucket.
func readQueue(tx *bbolt.Tx, name string) (*queuedraftv1.QueueRecord, *bbolt.Bucket, error) {
	v := tx.Bucket(bucketQueues).Get([]byte(name))
	if v == nil {
		return nil, nil, fmt.Errorf("%w: %q", ErrQueueNotFound, name)
	}
	return decodeQueue(tx, name, v)
}

func decodeQueue(tx *bbolt.Tx, name string, v []byte) (*queuedraftv1.QueueRecord, *bbolt.Bucket, error) {
	rec := &queuedraftv1.QueueRecord{}
	if err := proto.Unmarshal(v, rec); err != nil {
		return nil, nil, fmt.Errorf("%w: queue %q: %v", ErrCorrupt, name, err)
	}
	qb := tx.Bucket(bucketQ).Bucket(u64(rec.GetId()))
	if qb == nil {
		return nil, nil, fmt.Errorf("%w: queue %q has no bucket %d", ErrCorrupt, name, rec.GetId())
	}
	return rec, qb, nil
}

// GetQueue returns the queue named name with its stats as of the last sweep
// (see the package documentation); oldest_age is measured at now, the
// caller's clock. A missing queue fails with ErrQueueNotFound.
func (s *Store) GetQueue(name string, now time.Time) (*queuedv1.Queue, error) {
	var q *queuedv1.Queue
	err := s.view(func(tx *bbolt.Tx) error {
		rec, qb, err := readQueue(tx, name)
		if err != nil {
			return err
		}
		q = queueView(tx, rec, qb.Bucket(subAge), now.UnixNano())
		return nil
	})
	return q, err
}

// ListQueues returns up to limit queues (DefaultListLimit when limit <= 0)
// whose names start with prefix and sort after after, in name order. next is
// the name to pass as after for the next page, empty on the last page.
func (s *Store) ListQueues(prefix, after string, limit int, now time.Time) (qs []*queuedv1.Queue, next string, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		var err error
		next, err = list(tx.Bucket(bucketQueues), prefix, after, limit, func(k, v []byte) error {
			rec, qb, err := decodeQueue(tx, string(k), v)
			if err != nil {
				return err
			}
			qs = append(qs, queueView(tx, rec, qb.Bucket(subAge), now.UnixNano()))
			return nil
		})
		return err
	})
	return qs, next, err
}

// list calls fn for up to limit keys of b that start with prefix and sort
// after after, in order, and returns the last key given when more follow.
func list(b *bbolt.Bucket, prefix, after string, limit int, fn func(k, v []byte) error) (string, error) {
	if limit <= 0 {
		limit = DefaultListLimit
	}
	p := []byte(prefix)
	c := b.Cursor()
	k, v := c.Seek(p)
	if after != "" && after >= prefix {
		k, v = c.Seek([]byte(after))
		if k != nil && string(k) == after {
			k, v = c.Next()
		}
	}
	n := 0
	last := ""
	for ; k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if n == limit {
			return last, nil
		}
		if err := fn(k, v); err != nil {
			return "", err
		}
		last = string(k)
		n++
	}
	return "", nil
}

// GetTopic returns the topic named name; a missing topic fails with
// ErrTopicNotFound.
func (s *Store) GetTopic(name string) (*queuedv1.Topic, error) {
	var t *queuedv1.Topic
	err := s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketTopics).Get([]byte(name))
		if v == nil {
			return fmt.Errorf("%w: %q", ErrTopicNotFound, name)
		}
		rec := &queuedraftv1.TopicRecord{}
		if err := proto.Unmarshal(v, rec); err != nil {
			return fmt.Errorf("%w: topic %q: %v", ErrCorrupt, name, err)
		}
		t = topicView(rec)
		return nil
	})
	return t, err
}

// ListTopics returns up to limit topics (DefaultListLimit when limit <= 0)
// whose names start with prefix and sort after after, in name order. next is
// the name to pass as after for the next page, empty on the last page.
func (s *Store) ListTopics(prefix, after string, limit int) (ts []*queuedv1.Topic, next string, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		var err error
		next, err = list(tx.Bucket(bucketTopics), prefix, after, limit, func(k, v []byte) error {
			rec := &queuedraftv1.TopicRecord{}
			if err := proto.Unmarshal(v, rec); err != nil {
				return fmt.Errorf("%w: topic %q: %v", ErrCorrupt, k, err)
			}
			ts = append(ts, topicView(rec))
			return nil
		})
		return err
	})
	return ts, next, err
}

// Receivable says whether a Receive on queue applied at now would deliver
// (or dead-letter, or drop as past retention) something; when not, next is
// the earliest time it could, zero when the queue stores no message that
// could come due. A missing queue fails with ErrQueueNotFound.
func (s *Store) Receivable(queue string, now time.Time) (ok bool, next time.Time, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		rec, qb, err := readQueue(tx, queue)
		if err != nil {
			return err
		}
		if rec.GetAttributes().GetType() == queuedv1.QueueType_QUEUE_TYPE_FIFO {
			if k, _ := qb.Bucket(subReady).Cursor().First(); k != nil {
				ok = true
				return nil
			}
		}
		// Standard: every message by visible-at; FIFO: the heads not seen
		// visible yet.
		if k, _ := qb.Bucket(subAvail).Cursor().First(); k != nil {
			at, _ := splitTimeSeq(k)
			if at <= now.UnixNano() {
				ok = true
			} else {
				next = time.Unix(0, at)
			}
		}
		return nil
	})
	return ok, next, err
}
