package meta

import (
	"bytes"
	"iter"
	"strings"
	"time"

	"go.etcd.io/bbolt"

	blobdraftv1 "cairn.dev/cairn/proto/cairn/blobd/raft/v1"
)

// LifecycleKind is what a lifecycle rule asks for.
type LifecycleKind int

const (
	// Expire: delete the object (DeleteObject).
	Expire LifecycleKind = iota + 1
	// Transition: move the object to Tier (SetObjectTier with Etag and
	// Version as the expected ones).
	Transition
	// AbortUpload: abort the incomplete multipart upload UploadID.
	AbortUpload
)

// LifecycleAction is one thing due under a bucket's lifecycle rules.
type LifecycleAction struct {
	Kind        LifecycleKind
	Bucket, Key string
	// Etag and Version identify the object (Expire, Transition).
	Etag    string
	Version uint64
	// Tier is the target tier of a Transition.
	Tier blobdraftv1.Tier
	// UploadID is the upload to abort.
	UploadID string
	// Rule is the id of the rule that asked.
	Rule string
}

// LifecycleDue returns when a rule of days days is due for something
// created at created: S3 adds the days and rounds up to the next midnight
// UTC.
func LifecycleDue(created time.Time, days int32) time.Time {
	t := created.UTC().Add(time.Duration(days) * 24 * time.Hour)
	mid := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if mid.Before(t) {
		mid = mid.AddDate(0, 0, 1)
	}
	return mid
}

// objectAction returns what the rules ask for o at now, if anything:
// expiration wins over transitions, and the coldest due transition over a
// warmer one; a transition never warms an object.
func objectAction(rules []*blobdraftv1.LifecycleRule, o *blobdraftv1.ObjectRecord, now time.Time) (LifecycleAction, bool) {
	created := time.Unix(0, o.CreatedUnixNanos)
	act := LifecycleAction{Bucket: o.Bucket, Key: o.Key, Etag: o.Etag, Version: o.Version}
	due := func(days int32) bool { return days > 0 && !now.Before(LifecycleDue(created, days)) }
	for _, r := range rules {
		if r.Disabled || !strings.HasPrefix(o.Key, r.Prefix) {
			continue
		}
		switch {
		case due(r.ExpirationDays):
			act.Kind, act.Rule, act.Tier = Expire, r.Id, 0
			return act, true
		case due(r.TransitionArchiveDays) && o.Tier < blobdraftv1.Tier_TIER_ARCHIVE && act.Tier < blobdraftv1.Tier_TIER_ARCHIVE:
			act.Kind, act.Rule, act.Tier = Transition, r.Id, blobdraftv1.Tier_TIER_ARCHIVE
		case due(r.TransitionCoolDays) && o.Tier < blobdraftv1.Tier_TIER_COOL && act.Tier < blobdraftv1.Tier_TIER_COOL:
			act.Kind, act.Rule, act.Tier = Transition, r.Id, blobdraftv1.Tier_TIER_COOL
		}
	}
	return act, act.Kind != 0
}

// LifecycleActions iterates over what the buckets' lifecycle rules ask for
// at now (the proposer's clock): objects to expire or move to a colder
// tier, incomplete uploads to abort. It scans every object of every bucket
// with rules, a page per read transaction, so the caller may propose the
// actions as they come. An error ends the iteration.
func (s *Store) LifecycleActions(now time.Time) iter.Seq2[LifecycleAction, error] {
	return func(yield func(LifecycleAction, error) bool) {
		for _, table := range [][]byte{bucketObjects, bucketUploadKeys} {
			var from []byte
			for {
				page, next, err := s.lifecyclePage(table, from, now)
				if err != nil {
					yield(LifecycleAction{}, err)
					return
				}
				for _, a := range page {
					if !yield(a, nil) {
						return
					}
				}
				if next == nil {
					break
				}
				from = next
			}
		}
	}
}

// lifecyclePage scans up to pageSize entries of table from key from and
// returns the actions due and the key to continue at (nil: done).
func (s *Store) lifecyclePage(table, from []byte, now time.Time) (out []LifecycleAction, next []byte, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		rules := map[string][]*blobdraftv1.LifecycleRule{}
		rulesOf := func(bucket string) ([]*blobdraftv1.LifecycleRule, error) {
			if r, ok := rules[bucket]; ok {
				return r, nil
			}
			b, err := getBucket(tx, bucket)
			rules[bucket] = b.GetRules()
			return b.GetRules(), err
		}
		c := tx.Bucket(table).Cursor()
		k, v := c.First()
		if from != nil {
			k, v = c.Seek(from)
		}
		for n := 0; k != nil; k, v = c.Next() {
			if n == pageSize {
				next = bytes.Clone(k)
				return nil
			}
			n++
			i := bytes.IndexByte(k, 0)
			bucket := string(k[:i])
			rs, err := rulesOf(bucket)
			if err != nil || len(rs) == 0 {
				if err != nil {
					return err
				}
				continue
			}
			if bytes.Equal(table, bucketObjects) {
				o, err := unmarshal("object", k, v, &blobdraftv1.ObjectRecord{})
				if err != nil {
					return err
				}
				if a, ok := objectAction(rs, o, now); ok {
					out = append(out, a)
				}
				continue
			}
			id := string(k[len(k)-UploadIDLen:])
			u, err := getUpload(tx, id)
			if err != nil || u == nil {
				return cmpErr(err, ErrCorrupt)
			}
			for _, r := range rs {
				d := r.AbortIncompleteMultipartDays
				if !r.Disabled && d > 0 && strings.HasPrefix(u.Key, r.Prefix) && !now.Before(LifecycleDue(time.Unix(0, u.InitiatedUnixNanos), d)) {
					out = append(out, LifecycleAction{Kind: AbortUpload, Bucket: u.Bucket, Key: u.Key, UploadID: u.UploadId, Rule: r.Id})
					break
				}
			}
		}
		return nil
	})
	return out, next, err
}
