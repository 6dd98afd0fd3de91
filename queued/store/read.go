package store

import (
	"time"

	queuedv1 "cairn.dev/cairn/proto/cairn/queued/v1"
)

// DefaultListLimit is the page size of ListQueues and ListTopics when limit
// is 0 or less.
const DefaultListLimit = 1000

// GetQueue returns the queue named name with its stats as of the last sweep
// (see the package documentation); oldest_age is measured at now, the
// caller's clock. A missing queue fails with ErrQueueNotFound.
func (s *Store) GetQueue(name string, now time.Time) (*queuedv1.Queue, error) {
	return nil, ErrQueueNotFound
}

// ListQueues returns up to limit queues (DefaultListLimit when limit <= 0)
// whose names start with prefix and sort after after, in name order. next is
// the name to pass as after for the next page, empty on the last page.
func (s *Store) ListQueues(prefix, after string, limit int, now time.Time) (qs []*queuedv1.Queue, next string, err error) {
	return nil, "", nil
}

// GetTopic returns the topic named name; a missing topic fails with
// ErrTopicNotFound.
func (s *Store) GetTopic(name string) (*queuedv1.Topic, error) {
	return nil, ErrTopicNotFound
}

// ListTopics returns up to limit topics (DefaultListLimit when limit <= 0)
// whose names start with prefix and sort after after, in name order. next is
// the name to pass as after for the next page, empty on the last page.
func (s *Store) ListTopics(prefix, after string, limit int) (ts []*queuedv1.Topic, next string, err error) {
	return nil, "", nil
}

// Receivable says whether a Receive on queue applied at now would deliver
// (or dead-letter) something; when not, next is the earliest time it could,
// zero when the queue stores no message that could come due. A missing queue
// fails with ErrQueueNotFound.
func (s *Store) Receivable(queue string, now time.Time) (ok bool, next time.Time, err error) {
	return false, time.Time{}, ErrQueueNotFound
}
