package purge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"cairn.dev/cairn/node/clusterconn"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// Publish appends a purge to the log under prefix ("" is DefaultPrefix) and
// returns its record. The record's Seq is head+1, allocated in the same
// transaction that writes it (see the package documentation), so Seq is
// dense and increases in commit order; concurrent publishers retry until
// their transaction wins. by names the publisher (at most MaxByBytes).
//
// A write whose outcome is unknown (raftkv failed over mid-call) is not
// blindly repeated: each later attempt first checks whether a record with
// this call's random id took the slot tried, so a purge is published once.
// Publish returns when the record is committed, or with ctx's error; a
// spec that does not Validate is refused before anything is written.
func Publish(ctx context.Context, kv *kvclient.Client, prefix string, spec Spec, by string) (Record, error) {
	if kv == nil {
		return Record{}, fmt.Errorf("%w: kv is nil", ErrInvalidArgument)
	}
	if err := spec.Validate(); err != nil {
		return Record{}, err
	}
	if len(by) > MaxByBytes {
		return Record{}, fmt.Errorf("%w: by is %d bytes, the limit is %d", ErrInvalidArgument, len(by), MaxByBytes)
	}
	l, err := newLayout(prefix)
	if err != nil {
		return Record{}, err
	}
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	rv := recordValue{Spec: spec, At: time.Now().UTC(), By: by, ID: hex.EncodeToString(raw[:])}
	val, err := encodeRecord(rv)
	if err != nil {
		return Record{}, err
	}
	rec := Record{Spec: spec, At: rv.At, By: by}
	var (
		tried []int64 // slots of attempts whose outcome is unknown
		b     clusterconn.Backoff
	)
	for {
		head, modRev, err := readHead(ctx, kv, l)
		if err != nil {
			if !waitRetry(ctx, &b, err) {
				return Record{}, fmt.Errorf("purge: publish: %w", err)
			}
			continue
		}
		if seq, found, err := findOwn(ctx, kv, l, tried, head, rv.ID); err != nil {
			if !waitRetry(ctx, &b, err) {
				return Record{}, fmt.Errorf("purge: publish: %w", err)
			}
			continue
		} else if found {
			rec.Seq = seq
			return rec, nil
		}
		seq := head + 1
		resp, err := kv.Txn(ctx).
			If(kvclient.Compare(kvclient.ModRevision(l.head()), "=", modRev)).
			Then(kvclient.OpPut(l.head(), formatSeq(seq)), kvclient.OpPut(l.record(seq), val)).
			Commit()
		switch {
		case err == nil && resp.GetSucceeded():
			rec.Seq = seq
			return rec, nil
		case err == nil:
			// Another publisher took the slot: read head again.
			b.Reset()
		case kvclient.IsUnknownOutcome(err):
			tried = append(tried, seq)
			if !waitRetry(ctx, &b, err) {
				return Record{}, fmt.Errorf("purge: publish: %w", err)
			}
		default:
			if !waitRetry(ctx, &b, err) {
				return Record{}, fmt.Errorf("purge: publish: %w", err)
			}
		}
	}
}

// readHead returns the Seq of the newest record (0 for an empty log) and the
// mod revision of the head key (0 when it does not exist).
func readHead(ctx context.Context, kv *kvclient.Client, l layout) (head, modRev int64, err error) {
	resp, err := kv.Get(ctx, l.head())
	if err != nil {
		return 0, 0, err
	}
	return headOf(resp)
}

// headOf decodes a read of the head key.
func headOf(resp *raftkvv1.RangeResponse) (head, modRev int64, err error) {
	if len(resp.GetKvs()) == 0 {
		return 0, 0, nil
	}
	kv := resp.GetKvs()[0]
	head, err = parseSeq(string(kv.GetValue()))
	return head, kv.GetModRevision(), err
}

// findOwn reports whether one of the slots tried (those not beyond head)
// holds the record with id.
func findOwn(ctx context.Context, kv *kvclient.Client, l layout, tried []int64, head int64, id string) (int64, bool, error) {
	for _, seq := range tried {
		if seq > head {
			continue
		}
		resp, err := kv.Get(ctx, l.record(seq))
		if err != nil {
			return 0, false, err
		}
		if len(resp.GetKvs()) == 0 {
			continue // compacted already; it was someone's
		}
		if _, got, err := decodeRecord(seq, resp.GetKvs()[0].GetValue()); err == nil && got == id {
			return seq, true, nil
		}
	}
	return 0, false, nil
}

// waitRetry waits one backoff step before retrying after err. It returns
// false when the call should give up: ctx is done, or err is not one that
// waiting can cure (the client is closed, an argument was refused).
func waitRetry(ctx context.Context, b *clusterconn.Backoff, err error) bool {
	if !retryable(err) {
		return false
	}
	return b.Wait(ctx)
}
