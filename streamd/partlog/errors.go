package partlog

import (
	"errors"
	"fmt"
)

// Errors returned by the log. Batch validation failures wrap record.ErrCorrupt.
var (
	// ErrOffsetOutOfRange: a read or truncation below StartOffset or above
	// EndOffset.
	ErrOffsetOutOfRange = errors.New("partlog: offset out of range")
	// ErrOffsetMismatch: AppendExpect's expected offset is not EndOffset; the
	// error is a *MismatchError carrying both.
	ErrOffsetMismatch = errors.New("partlog: offset mismatch")
	// ErrNotContiguous: a replica append whose batches do not start at
	// EndOffset or do not follow one another.
	ErrNotContiguous = errors.New("partlog: batches not contiguous with the log")
	// ErrOutOfOrderSequence: an idempotent batch whose base sequence is not
	// the next one for its producer and epoch.
	ErrOutOfOrderSequence = errors.New("partlog: out of order sequence")
	// ErrProducerFenced: an idempotent batch from an older epoch than the
	// producer's latest.
	ErrProducerFenced = errors.New("partlog: producer fenced")
	// ErrDuplicate: an idempotent batch the log already holds; Append returns
	// the offsets it was stored at with it, and writes nothing.
	ErrDuplicate = errors.New("partlog: duplicate batch")
	// ErrStaleEpoch: a leader append with an epoch below the log's last one.
	ErrStaleEpoch = errors.New("partlog: leader epoch older than the log's")
	// ErrBatchTooLarge: a batch larger than Options.MaxBatchBytes.
	ErrBatchTooLarge = errors.New("partlog: batch too large")
	// ErrClosed: the log was closed.
	ErrClosed = errors.New("partlog: log closed")
	// ErrFailed wraps the storage error (a failed write, fsync or truncate)
	// after which the log refuses everything: what is on disk is no longer
	// known, so the replica must be reopened (which recovers it).
	ErrFailed = errors.New("partlog: log failed")
)

// MismatchError is AppendExpect's error when the expected offset is not the
// log's end offset. It matches ErrOffsetMismatch with errors.Is.
type MismatchError struct {
	Expected, End int64
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("partlog: offset mismatch: expected %d, log end offset %d", e.Expected, e.End)
}

// Is makes errors.Is(err, ErrOffsetMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrOffsetMismatch }
