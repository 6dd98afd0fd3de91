package partlog

import (
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Defaults for zero Options fields.
const (
	DefaultSegmentBytes       = 128 << 20
	DefaultIndexIntervalBytes = 4096
	DefaultMaxBatchBytes      = 1 << 20
	// MaxSegmentBytes bounds SegmentBytes: index positions are uint32.
	MaxSegmentBytes = 1 << 31
)

// Options configure a Log. Zero values take the defaults shown.
type Options struct {
	// Dir is the replica's directory; created when missing. Required.
	Dir string
	// SegmentBytes: the active segment is rolled before a batch would take it
	// past this size (default 128 MiB, at most 2 GiB).
	SegmentBytes int64
	// SegmentAge: the active segment is rolled at an append once its first
	// append is this old (0 = never).
	SegmentAge time.Duration
	// IndexIntervalBytes: one offset index entry (and at most one time index
	// entry) per this many bytes of log (default 4096).
	IndexIntervalBytes int
	// RetentionBytes: EnforceRetention deletes the oldest closed segments
	// while the log stays at least this big without them (<= 0: no limit).
	RetentionBytes int64
	// RetentionAge: EnforceRetention deletes closed segments whose largest
	// record timestamp is older than this (<= 0: keep forever).
	RetentionAge time.Duration
	// Compact enables Compact. DeleteRetention is how long a tombstone (a
	// record with a nil value) outlives the records it deletes.
	Compact         bool
	DeleteRetention time.Duration
	// MaxBatchBytes bounds one appended batch (default 1 MiB).
	MaxBatchBytes int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives recovery and retention events (default slog.Default()).
	Logger *slog.Logger
}

func (o *Options) setDefaults() error {
	if o.Dir == "" {
		return fmt.Errorf("partlog: options.dir is empty")
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = DefaultSegmentBytes
	}
	if o.SegmentBytes < 0 || o.SegmentBytes > MaxSegmentBytes {
		return fmt.Errorf("partlog: options.segment_bytes %d outside (0, %d]", o.SegmentBytes, int64(MaxSegmentBytes))
	}
	if o.IndexIntervalBytes == 0 {
		o.IndexIntervalBytes = DefaultIndexIntervalBytes
	}
	if o.IndexIntervalBytes < 0 {
		return fmt.Errorf("partlog: options.index_interval_bytes %d is negative", o.IndexIntervalBytes)
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.MaxBatchBytes < 0 || int64(o.MaxBatchBytes) > math.MaxInt32 {
		return fmt.Errorf("partlog: options.max_batch_bytes %d out of range", o.MaxBatchBytes)
	}
	if o.SegmentAge < 0 {
		return fmt.Errorf("partlog: options.segment_age %v is negative", o.SegmentAge)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return nil
}

// SetOptions changes the options a topic's configuration may change while
// the log is open: SegmentBytes, SegmentAge, RetentionBytes, RetentionAge,
// DeleteRetention and MaxBatchBytes (zero values mean the defaults, as in
// Open). Dir, IndexIntervalBytes, Compact, Now and Logger stay as opened.
// The new values apply from the next append, roll or retention pass.
func (l *Log) SetOptions(o Options) error {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	cur := l.opts
	o.Dir, o.IndexIntervalBytes, o.Compact, o.Now, o.Logger = cur.Dir, cur.IndexIntervalBytes, cur.Compact, cur.Now, cur.Logger
	if err := o.setDefaults(); err != nil {
		return err
	}
	l.opts = o
	return nil
}
