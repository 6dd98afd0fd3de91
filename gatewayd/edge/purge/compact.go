package purge

import (
	"context"
	"fmt"
	"time"

	kvclient "cairn.dev/cairn/raftkv/client"
)

// Defaults of CompactOptions.
const (
	DefaultRetention = 24 * time.Hour
	DefaultMinKeep   = 1000
)

// CompactOptions says which records Compact keeps.
type CompactOptions struct {
	// Retention: records published longer ago are deleted (default 24 h).
	Retention time.Duration
	// MinKeep: the newest MinKeep records are kept whatever their age
	// (default 1000).
	MinKeep int64
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Compact deletes the purge records under prefix ("" is DefaultPrefix) that
// are older than the retention, except the newest MinKeep, together with
// their acknowledgements, and returns how many records it deleted.
// Publishers call it now and then; concurrent calls, and calls concurrent
// with Publish and subscribers, are safe. A subscriber that had not applied
// a deleted record calls ApplyAll when it next catches up. Seq numbers are
// never reused. The applied/<node> keys are left alone (one small key per
// node name ever seen): deleting a node's key while it registers would make
// Wait miss its progress.
//
// Records are deleted oldest first, in one range deletion, up to the first
// one that is young enough to keep (publishers' clocks may disagree a
// little: a record older than a younger one before it is kept with it).
func Compact(ctx context.Context, kv *kvclient.Client, prefix string, o CompactOptions) (int64, error) {
	if kv == nil {
		return 0, fmt.Errorf("%w: kv is nil", ErrInvalidArgument)
	}
	if o.Retention < 0 {
		return 0, fmt.Errorf("%w: Retention %v must be >= 0", ErrInvalidArgument, o.Retention)
	}
	if o.MinKeep < 0 {
		return 0, fmt.Errorf("%w: MinKeep %d must be >= 0", ErrInvalidArgument, o.MinKeep)
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.MinKeep == 0 {
		o.MinKeep = DefaultMinKeep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	l, err := newLayout(prefix)
	if err != nil {
		return 0, err
	}
	resp, err := kv.Get(ctx, l.head())
	if err != nil {
		return 0, fmt.Errorf("purge: compact: %w", err)
	}
	head, _, err := headOf(resp)
	if err != nil {
		return 0, fmt.Errorf("purge: compact: %w", err)
	}
	rev := resp.GetHeader().GetRevision()
	limit := head - o.MinKeep // the newest Seq that may go
	cutoff := o.Now().Add(-o.Retention)
	var cut int64 // delete every record <= cut
	from := l.logDir()
scan:
	for limit > 0 {
		page, err := kv.Get(ctx, from, kvclient.WithRange(l.record(limit+1)), kvclient.WithRev(rev), kvclient.WithLimit(pageSize))
		if err != nil {
			return 0, fmt.Errorf("purge: compact: %w", err)
		}
		for _, kvp := range page.GetKvs() {
			seq, err := l.recordSeq(kvp.GetKey())
			if err != nil {
				return 0, fmt.Errorf("purge: compact: %w", err)
			}
			rec, _, err := decodeRecord(seq, kvp.GetValue())
			if err == nil && !rec.At.Before(cutoff) {
				break scan
			}
			// An undecodable record is old news to every subscriber
			// (they dropped everything for it): it goes too.
			cut = seq
		}
		if !page.GetMore() || len(page.GetKvs()) == 0 {
			break
		}
		from = l.record(cut + 1)
	}
	if cut == 0 {
		return 0, nil
	}
	del, err := kv.Delete(ctx, l.logDir(), kvclient.WithRange(l.record(cut+1)))
	if err != nil {
		return 0, fmt.Errorf("purge: compact: %w", err)
	}
	if _, err := kv.Delete(ctx, l.acksDir(), kvclient.WithRange(l.acks(cut+1))); err != nil {
		return del.GetDeleted(), fmt.Errorf("purge: compact acknowledgements: %w", err)
	}
	return del.GetDeleted(), nil
}
