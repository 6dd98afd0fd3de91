package kvtxn

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"cairn.dev/cairn/node/rpcerr"
	"cairn.dev/cairn/raftkv/client"
)

// Marker values.
const (
	markerCommitted = "committed"
	markerAborted   = "aborted"
)

// Commit ends the transaction. A transaction that wrote nothing commits
// without an RPC. Otherwise Commit sends one raftkv Txn: compares validating
// the reads (see the package documentation), the buffered writes and the
// commit marker. It returns nil when the writes were applied, an error
// wrapping ErrConflict when a compare failed (nothing was written),
// ErrTooLarge when raftkv refuses the request's size, and ErrAmbiguous only
// when the commit may have been applied and resolution got no answer (see
// the package documentation). Other errors (e.g. the cluster unreachable
// before the request was sent) mean nothing was written. After Commit,
// whatever it returns, the transaction is finished.
func (t *Txn) Commit(ctx context.Context) error {
	if t.done {
		return doneError("commit")
	}
	defer t.Rollback() // release the buffers; the transaction is finished
	if t.w.empty() {
		return nil
	}
	cmps := t.compares()
	ops := t.writeOps()
	marker := newMarkerKey()
	for attempt := 0; ; attempt++ {
		lease, err := t.db.markerLease(ctx)
		if err != nil {
			return err
		}
		all := append([]client.Cmp{client.Compare(client.CreateRevision(marker), "=", 0)}, cmps...)
		then := append(slices.Clip(ops), client.OpPut(marker, markerCommitted, client.WithLease(lease)))
		resp, err := t.db.send(ctx, all, then, nil)
		switch {
		case err == nil && resp.GetSucceeded():
			return nil
		case err == nil:
			return t.conflict()
		case errors.Is(err, client.ErrLeaseNotFound) && attempt == 0:
			// The marker lease is gone (expired or revoked): nothing was
			// applied. Try once more with a new lease.
			t.db.dropLease(lease)
			continue
		case client.IsUnknownOutcome(err):
			return t.db.resolve(ctx, marker, lease, err)
		}
		return commitError(ctx, err)
	}
}

// conflict is the error of a commit whose compares failed.
func (t *Txn) conflict() error {
	if t.iso == ReadCommitted {
		return conflictError("a row locked FOR UPDATE changed after it was read")
	}
	return conflictError("data read at revision %d changed before the commit", t.rev)
}

// compares returns the conditions validating the transaction's reads.
func (t *Txn) compares() []client.Cmp {
	var cmps []client.Cmp
	if t.iso == ReadCommitted {
		keys := make([]string, 0, len(t.locks))
		for k, rev := range t.locks {
			if rev != 0 {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			cmps = append(cmps, client.Compare(client.Changed(k), "<", t.locks[k]+1))
		}
		return cmps
	}
	for _, s := range t.spans.spans {
		var target client.Cmp
		switch {
		case s.isPoint():
			target = client.Changed(string(s.start))
		case s.end == nil:
			target = client.ChangedRange(string(s.start), "\x00")
		default:
			target = client.ChangedRange(string(s.start), string(s.end))
		}
		cmps = append(cmps, client.Compare(target, "<", t.rev+1))
	}
	return cmps
}

// markerHole is the range of commit markers, which buffered range deletes
// never cover.
var markerHole = span{start: []byte(markerPrefix), end: client.PrefixEnd([]byte(markerPrefix))}

// writeOps returns the buffered writes as raftkv ops: puts and deletes of
// keys, and the deleted ranges with holes at the keys put and at the markers.
func (t *Txn) writeOps() []client.Op {
	ops := make([]client.Op, 0, t.w.ops+1)
	for _, p := range t.w.points {
		if p.del {
			ops = append(ops, client.OpDelete(string(p.key)))
		} else {
			ops = append(ops, client.OpPut(string(p.key), string(p.value)))
		}
	}
	for _, tomb := range t.w.tombs {
		// The points inside a tomb are puts (see writeBuffer).
		lo, _ := t.w.find(tomb.start)
		hi := len(t.w.points)
		if tomb.end != nil {
			hi, _ = t.w.find(tomb.end)
		}
		holes := make([]span, 0, hi-lo+1)
		for _, p := range t.w.points[lo:hi] {
			holes = append(holes, pointSpan(p.key))
		}
		// Markers sort among the puts; keep the holes sorted by start.
		i, _ := slices.BinarySearchFunc(holes, markerHole.start, func(h span, k []byte) int { return bytes.Compare(h.start, k) })
		holes = slices.Insert(holes, i, markerHole)
		for _, piece := range pieces(tomb, holes) {
			if piece.end == nil {
				ops = append(ops, client.OpDelete(string(piece.start), client.WithFromKey()))
			} else {
				ops = append(ops, client.OpDelete(string(piece.start), client.WithRange(string(piece.end))))
			}
		}
	}
	return ops
}

// newMarkerKey returns a fresh marker key: markerPrefix and 16 random bytes.
func newMarkerKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return markerPrefix + hex.EncodeToString(b[:])
}

// commitError is the error of a commit that raftkv refused or that did not
// reach it: nothing was applied.
func commitError(ctx context.Context, err error) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		md := ce.Metadata()
		if ce.Reason == rpcerr.LimitExceeded || md[rpcerr.KeyLimitName] == "max_txn_ops" {
			return tooLargeError("raftkv refused the commit: %s (limit %s is %s)", ce.GRPCStatus().Message(), md[rpcerr.KeyLimitName], md[rpcerr.KeyLimit])
		}
	}
	return kvError(ctx, "commit", fmt.Errorf("not applied: %w", err))
}
