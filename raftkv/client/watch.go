package client

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"cairn.dev/cairn/node/clusterconn"
	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// WatchResponse is one message of a watch: a batch of events, the created
// notification (see WithCreatedNotify), or, as the last message before the
// channel closes, the error that ended the watch.
type WatchResponse struct {
	// WatchResponse is never nil; it is empty in an error response.
	*raftkvv1.WatchResponse
	err error
}

// Err returns the error that ended the watch, nil for a response carrying events.
// errors.Is(resp.Err(), ErrCompacted) when the start revision has been compacted.
func (r WatchResponse) Err() error { return r.err }

// WatchChan delivers the responses of a watch. It is closed when the watch ends:
// its context is done, the client is closed, or an error that resuming cannot fix
// occurred (then the last response carries it, see WatchResponse.Err).
type WatchChan <-chan WatchResponse

// Watch streams the events on key (or a range of keys with WithPrefix, WithRange
// or WithFromKey) from WithRev(rev) on, or from after the current revision.
// Options: WithRev, WithPrevKV, WithFilterPut, WithFilterDelete, WithCreatedNotify.
//
// Events arrive in revision order. When the stream breaks (node killed, connection
// reset, server restart), Watch reopens it on the next ready node from the
// revision after the last event delivered and drops anything older, so events are
// neither lost nor duplicated. A start revision that is (or, while reconnecting,
// has become) older than the compacted history ends the watch with ErrCompacted.
//
// The channel is unbuffered: a watch does not read ahead of its consumer. Cancel
// ctx to stop the watch; the channel is then closed without an error response.
func (c *Client) Watch(ctx context.Context, key string, opts ...OpOption) WatchChan {
	o := newOp(key, opts)
	w := &watcher{c: c, req: o.watchRequest(), createdNotify: o.createdNotify, ch: make(chan WatchResponse)}
	wctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(c.conn.Context(), cancel)
	started := c.conn.Go(func() {
		defer close(w.ch)
		defer cancel()
		defer stop()
		w.run(wctx)
	})
	if !started {
		stop()
		cancel()
		ch := make(chan WatchResponse, 1)
		ch <- WatchResponse{WatchResponse: &raftkvv1.WatchResponse{}, err: errs.Local("watch", ErrClosed)}
		close(ch)
		return ch
	}
	return w.ch
}

// watcher is the state of one Watch, owned by its goroutine.
type watcher struct {
	c             *Client
	req           *raftkvv1.WatchRequest
	createdNotify bool
	ch            chan WatchResponse

	// next is the first revision not yet delivered; 0 until known.
	next     int64
	notified bool
}

func (w *watcher) run(ctx context.Context) {
	w.next = w.req.StartRevision
	var b clusterconn.Backoff
	for {
		err := w.stream(ctx, &b)
		if ctx.Err() != nil {
			return
		}
		if !resumable(err) {
			w.send(ctx, WatchResponse{WatchResponse: &raftkvv1.WatchResponse{}, err: toError("watch", kindRead, err)})
			return
		}
		if !b.Wait(ctx) {
			return
		}
	}
}

// resumable reports whether a watch stream that ended with err should be reopened.
func resumable(err error) bool {
	if errors.Is(err, io.EOF) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.Canceled, codes.Aborted, codes.Internal, codes.Unknown:
		// Canceled only reaches here when our own context is alive: the server or
		// a proxy ended the stream. Internal and Unknown cover broken HTTP/2 streams.
		return true
	}
	return false
}

// stream opens one watch stream from w.next and delivers its events until it ends.
func (w *watcher) stream(ctx context.Context, b *clusterconn.Backoff) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req := proto.Clone(w.req).(*raftkvv1.WatchRequest)
	req.StartRevision = w.next
	st, err := w.c.watch.Watch(sctx, req, grpc.WaitForReady(true))
	if err != nil {
		return err
	}
	for {
		resp, err := st.Recv()
		if err != nil {
			return err
		}
		b.Reset()
		if resp.GetCreated() {
			if w.next == 0 {
				w.next = resp.GetHeader().GetRevision() + 1
			}
			if w.createdNotify && !w.notified {
				w.notified = true
				if !w.send(ctx, WatchResponse{WatchResponse: resp}) {
					return ctx.Err()
				}
			}
			continue
		}
		kept := make([]*raftkvv1.Event, 0, len(resp.GetEvents()))
		for _, ev := range resp.GetEvents() {
			if rev := ev.GetKv().GetModRevision(); rev >= w.next {
				kept = append(kept, ev)
			}
		}
		if len(kept) == 0 {
			continue
		}
		w.next = kept[len(kept)-1].GetKv().GetModRevision() + 1
		resp.Events = kept
		if !w.send(ctx, WatchResponse{WatchResponse: resp}) {
			return ctx.Err()
		}
	}
}

func (w *watcher) send(ctx context.Context, r WatchResponse) bool {
	select {
	case w.ch <- r:
		return true
	case <-ctx.Done():
		return false
	}
}

// FollowPrefix reads every key under prefix and hands them to snapshot,
// then watches the prefix from the revision it read and hands each batch of
// changes to events, in order, missing none in between. It returns when the
// watch ends: the watch's error (a compacted revision, a node lost), ctx's
// error, or ErrClosed when the client was closed. snapshot and events run on
// the caller's goroutine. Callers that keep following read again after an
// error, with a backoff: the next snapshot replaces everything they held.
func (c *Client) FollowPrefix(ctx context.Context, prefix string, snapshot func([]*raftkvv1.KeyValue), events func([]*raftkvv1.Event)) error {
	resp, err := c.Get(ctx, prefix, WithPrefix())
	if err != nil {
		return err
	}
	snapshot(resp.GetKvs())
	for wr := range c.Watch(ctx, prefix, WithPrefix(), WithRev(resp.GetHeader().GetRevision()+1)) {
		if err := wr.Err(); err != nil {
			return err
		}
		events(wr.GetEvents())
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return ErrClosed // the channel closed without an error: the client was closed
}
