package raftkv

import (
	"errors"

	raftkvv1 "cairn.dev/cairn/proto/cairn/raftkv/v1"
)

// watchCatchupLimit caps the events read from history in one step.
const watchCatchupLimit = 4096

type watchService struct {
	raftkvv1.UnimplementedWatchServiceServer
	s *Server
}

// Watch streams matching events from start_revision on. Events come from this node's
// store: first from its history, then live from the apply loop; a revision counter
// (next) makes the switch between the two lossless and duplicate-free.
func (ws *watchService) Watch(req *raftkvv1.WatchRequest, stream raftkvv1.WatchService_WatchServer) error {
	s := ws.s
	if err := s.limits.keyRange("watch", req.GetKey(), req.GetRangeEnd()); err != nil {
		return toStatus(err)
	}
	if req.GetStartRevision() < 0 {
		return toStatus(errors.Join(ErrInvalidArgument, errors.New("watch.start_revision must be >= 0")))
	}
	var noPut, noDelete bool
	for _, f := range req.GetFilters() {
		switch f {
		case raftkvv1.WatchRequest_FILTER_TYPE_NOPUT:
			noPut = true
		case raftkvv1.WatchRequest_FILTER_TYPE_NODELETE:
			noDelete = true
		}
	}
	key, end := req.GetKey(), req.GetRangeEnd()
	w := s.hub.register(key, end)
	defer s.hub.unregister(w)

	next := req.GetStartRevision()
	if next == 0 {
		next = s.store.Revision() + 1
	}
	if next <= s.store.CompactRevision() {
		_, _, err := s.store.Events(next, key, end, 1)
		if err == nil {
			err = errors.New("raftkv: required revision has been compacted")
		}
		return toStatus(err)
	}
	if err := stream.Send(&raftkvv1.WatchResponse{Header: s.header(0), Created: true}); err != nil {
		return err
	}
	send := func(evs []*raftkvv1.Event) error {
		out := make([]*raftkvv1.Event, 0, len(evs))
		var last int64
		for _, ev := range evs {
			rev := ev.GetKv().GetModRevision()
			if rev < next {
				continue
			}
			last = rev
			if (noPut && ev.GetType() == raftkvv1.Event_EVENT_TYPE_PUT) || (noDelete && ev.GetType() == raftkvv1.Event_EVENT_TYPE_DELETE) {
				continue
			}
			if !req.GetPrevKv() && ev.GetPrevKv() != nil {
				ev = &raftkvv1.Event{Type: ev.GetType(), Kv: ev.GetKv()}
			}
			out = append(out, ev)
		}
		if last == 0 {
			return nil
		}
		next = last + 1
		if len(out) == 0 {
			return nil
		}
		return stream.Send(&raftkvv1.WatchResponse{Header: s.header(last), Events: out})
	}
	catchUp := func() error {
		for next <= s.store.Revision() {
			evs, complete, err := s.store.Events(next, key, end, watchCatchupLimit)
			if err != nil {
				return toStatus(err)
			}
			if len(evs) >= watchCatchupLimit {
				lastRev := evs[len(evs)-1].GetKv().GetModRevision()
				firstRev := evs[0].GetKv().GetModRevision()
				if firstRev == lastRev {
					// One revision holds more than the limit: read it whole.
					if evs, complete, err = s.store.Events(next, key, end, 0); err != nil {
						return toStatus(err)
					}
				} else {
					// Drop the last, maybe partial, revision; the next step rereads it.
					i := len(evs)
					for i > 0 && evs[i-1].GetKv().GetModRevision() == lastRev {
						i--
					}
					evs, complete = evs[:i], lastRev-1
				}
			}
			if err := send(evs); err != nil {
				return err
			}
			if complete+1 > next {
				next = complete + 1
			}
		}
		return nil
	}
	if err := catchUp(); err != nil {
		return err
	}
	for {
		select {
		case evs := <-w.ch:
			// A batch dropped earlier signalled lag before this later batch was
			// queued; catch up first so that nothing older is skipped.
			select {
			case <-w.lag:
				if err := catchUp(); err != nil {
					return err
				}
			default:
			}
			if err := send(evs); err != nil {
				return err
			}
		case <-w.lag:
			if err := catchUp(); err != nil {
				return err
			}
		case <-stream.Context().Done():
			return stream.Context().Err()
		case <-s.stopping():
			return toStatus(ErrShuttingDown)
		}
	}
}
