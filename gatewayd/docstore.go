package gatewayd

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// docStore keeps the configuration document under one raftkv key. The
// document's version is the key's mod revision, so a node that has applied
// version v has applied exactly the bytes stored at revision v.
type docStore struct {
	kv     *kvclient.Client
	key    string
	logger *slog.Logger
}

// storedDoc is one version of the document.
type storedDoc struct {
	yaml    []byte
	version int64 // raftkv mod revision; 0 when none is stored
}

// load reads the stored document (version 0 and no bytes when there is none)
// and the store revision it was read at.
func (d *docStore) load(ctx context.Context) (storedDoc, int64, error) {
	resp, err := d.kv.Get(ctx, d.key)
	if err != nil {
		return storedDoc{}, 0, err
	}
	rev := resp.GetHeader().GetRevision()
	if len(resp.GetKvs()) == 0 {
		return storedDoc{}, rev, nil
	}
	kv := resp.GetKvs()[0]
	return storedDoc{yaml: kv.GetValue(), version: kv.GetModRevision()}, rev, nil
}

// store writes doc. With expected > 0 it writes only if the stored version is
// expected (ErrConfigConflict otherwise); expected < 0 writes only if no
// document is stored. It returns the new version.
func (d *docStore) store(ctx context.Context, doc []byte, expected int64) (int64, error) {
	txn := d.kv.Txn(ctx)
	switch {
	case expected > 0:
		txn = txn.If(kvclient.Compare(kvclient.ModRevision(d.key), "=", expected))
	case expected < 0:
		txn = txn.If(kvclient.Compare(kvclient.Version(d.key), "=", 0))
	}
	resp, err := txn.Then(kvclient.OpPut(d.key, string(doc))).Commit()
	if err != nil {
		return 0, err
	}
	if !resp.GetSucceeded() {
		return 0, fmt.Errorf("%w: the stored document is not at version %d", ErrConfigConflict, expected)
	}
	return resp.GetHeader().GetRevision(), nil
}

// watch calls apply with the stored document now and after every change
// until ctx ends; it reconnects after errors. apply is called from one
// goroutine, with versions increasing; a deletion calls it with version 0.
func (d *docStore) watch(ctx context.Context, apply func(storedDoc)) {
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		doc, rev, err := d.load(ctx)
		if err != nil {
			if ctx.Err() == nil {
				d.logger.Warn("config: read from raftkv", "key", d.key, "err", err)
			}
			if !sleepCtx(ctx, &wait) {
				return
			}
			continue
		}
		wait = 100 * time.Millisecond
		apply(doc)
		for wr := range d.kv.Watch(ctx, d.key, kvclient.WithRev(rev+1)) {
			if err := wr.Err(); err != nil {
				if ctx.Err() == nil {
					d.logger.Warn("config: watch ended", "err", err)
				}
				break
			}
			evs := wr.GetEvents()
			if len(evs) == 0 {
				continue
			}
			ev := evs[len(evs)-1] // the last state of the key wins
			switch ev.GetType() {
			case raftkvv1.Event_EVENT_TYPE_PUT:
				apply(storedDoc{yaml: ev.GetKv().GetValue(), version: ev.GetKv().GetModRevision()})
			case raftkvv1.Event_EVENT_TYPE_DELETE:
				apply(storedDoc{})
			}
		}
		if !sleepCtx(ctx, &wait) {
			return
		}
	}
}

// sleepCtx waits *wait (then doubles it, up to 2 s) unless ctx ends first.
func sleepCtx(ctx context.Context, wait *time.Duration) bool {
	t := time.NewTimer(*wait)
	defer t.Stop()
	*wait = min(2*(*wait), 2*time.Second)
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
