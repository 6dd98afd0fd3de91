package cached

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"cairn.dev/cairn/cached/ring"
	"cairn.dev/cairn/cached/store"
	cachedpeerv1 "cairn.dev/cairn/proto/cairn/cached/peer/v1"
	cachedv1 "cairn.dev/cairn/proto/cairn/cached/v1"
)

// replicate copies the current state of keys (value and TTL, or absence) from
// the local store to each key's replicas: the next Replicas-1 distinct members
// after the owner on the ring. It is a no-op when Replicas is 1.
//
// Replication is synchronous and best effort: the write that called it waits
// until every replica answered or ReplicationTimeout passed, then succeeds
// whatever happened. A failure is logged and counted
// (cairn_cached_replication_errors_total); the replica then serves an older
// value, or none, if it ever answers for the owner. Because the state sent is
// read after the write, two concurrent writes of one key may reach a replica
// in the opposite order; the next write of the key repairs it. Replicas keep
// their own versions.
func (s *Server) replicate(ctx context.Context, keys ...string) {
	if s.cfg.Replicas <= 1 {
		return
	}
	type batch struct {
		m      ring.Member
		writes []*cachedpeerv1.ReplicaWrite
	}
	var batches []*batch
	for _, k := range keys {
		var w *cachedpeerv1.ReplicaWrite
		for _, m := range s.replicasOf(k) {
			if w == nil {
				w = s.replicaWrite(k)
			}
			var b *batch
			for _, x := range batches {
				if x.m.ID == m.ID {
					b = x
				}
			}
			if b == nil {
				b = &batch{m: m}
				batches = append(batches, b)
			}
			b.writes = append(b.writes, w)
		}
	}
	if len(batches) == 0 {
		return
	}
	// The copy must not fail because the client went away after its write.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ReplicationTimeout)
	defer cancel()
	for _, b := range batches {
		c, err := s.peerClient(b.m)
		if err == nil {
			s.metrics.replicated.Add(int64(len(b.writes)))
			_, err = c.Replicate(rctx, &cachedpeerv1.ReplicateRequest{From: s.cfg.ID, Writes: b.writes})
		}
		if err != nil {
			s.metrics.replicaErrs.Add(int64(len(b.writes)))
			s.logger.Debug("replication failed", "replica", b.m.ID, "keys", len(b.writes), "err", err)
		}
	}
}

// replicaWrite describes key's current local state.
func (s *Server) replicaWrite(key string) *cachedpeerv1.ReplicaWrite {
	it, ok := s.store.Peek(key)
	if !ok {
		return &cachedpeerv1.ReplicaWrite{Key: []byte(key), Deleted: true}
	}
	w := &cachedpeerv1.ReplicaWrite{Key: []byte(key), Value: it.Value, Version: it.Version}
	if it.Kind == store.KindHash {
		w.HashFields = make([][]byte, 0, 2*len(it.Fields))
		for _, f := range it.Fields {
			w.HashFields = append(w.HashFields, []byte(f.Name), f.Value)
		}
	}
	if !it.ExpiresAt.IsZero() {
		w.Ttl = durationpb.New(time.Until(it.ExpiresAt))
	}
	return w
}

// peerService implements cachedv1.PeerService.
type peerService struct {
	cachedpeerv1.UnimplementedPeerServiceServer
	s *Server
}

// Replicate applies an owner's writes to the local store, in order. A write
// whose TTL ran out in transit deletes the key. A write with hash fields
// replaces the key with that hash.
func (p *peerService) Replicate(_ context.Context, req *cachedpeerv1.ReplicateRequest) (*cachedpeerv1.ReplicateResponse, error) {
	p.s.gate.RLock()
	defer p.s.gate.RUnlock()
	var n int32
	for _, w := range req.GetWrites() {
		key := string(w.GetKey())
		if key == "" {
			return nil, toStatus(ErrEmptyKey)
		}
		var ttl time.Duration
		if w.Ttl != nil {
			if ttl = w.Ttl.AsDuration(); ttl <= 0 {
				w.Deleted = true
			}
		}
		var err error
		switch hf := w.GetHashFields(); {
		case w.GetDeleted():
			p.s.store.Delete(key)
		case len(hf) > 0:
			if len(hf)%2 != 0 {
				return &cachedpeerv1.ReplicateResponse{Applied: n}, toStatus(fmt.Errorf("%w: hash_fields of %q has an odd length", ErrInvalidArgument, key))
			}
			fields := make([]store.Field, 0, len(hf)/2)
			for i := 0; i < len(hf); i += 2 {
				fields = append(fields, store.Field{Name: string(hf[i]), Value: hf[i+1]})
			}
			err = p.s.store.SetHash(key, fields, ttl)
		default:
			_, err = p.s.store.Set(key, w.GetValue(), store.SetOptions{TTL: ttl})
		}
		if err != nil {
			return &cachedpeerv1.ReplicateResponse{Applied: n}, toStatus(err)
		}
		n++
	}
	return &cachedpeerv1.ReplicateResponse{Applied: n}, nil
}

// Command runs one RESP command against the local store (no routing) and
// returns its encoded reply.
func (p *peerService) Command(ctx context.Context, req *cachedpeerv1.CommandRequest) (*cachedpeerv1.CommandResponse, error) {
	if len(req.GetArgs()) == 0 {
		return nil, toStatus(ErrInvalidArgument)
	}
	return &cachedpeerv1.CommandResponse{Reply: p.s.execToBytes(ctx, req.GetArgs())}, nil
}

// Commands runs a batch of RESP commands against the local store (no
// routing), one after the other in request order, and returns their encoded
// replies in the same order.
func (p *peerService) Commands(ctx context.Context, req *cachedpeerv1.CommandsRequest) (*cachedpeerv1.CommandsResponse, error) {
	cmds := req.GetCommands()
	for _, c := range cmds {
		if len(c.GetArgs()) == 0 {
			return nil, toStatus(ErrInvalidArgument)
		}
	}
	return &cachedpeerv1.CommandsResponse{Replies: p.s.execBatchToBytes(ctx, cmds)}, nil
}

// ringService implements cachedv1.RingService.
type ringService struct {
	cachedv1.UnimplementedRingServiceServer
	s *Server
}

func (r *ringService) Ring(context.Context, *cachedv1.RingRequest) (*cachedv1.RingResponse, error) {
	v := r.s.currentView()
	if v == nil {
		return nil, toStatus(ErrNotServing)
	}
	shares := v.ring.Shares()
	resp := &cachedv1.RingResponse{Vnodes: int32(v.ring.VNodes()), Replicas: int32(r.s.cfg.Replicas), Epoch: v.epoch}
	for _, m := range v.ring.Members() {
		resp.Members = append(resp.Members, &cachedv1.Member{Id: m.ID, Addr: m.Addr, RespAddr: m.RESPAddr, Share: shares[m.ID]})
	}
	return resp, nil
}

// Status reports the node's view; state is "serving" once it has a ring and
// serves, "starting" before and "stopping" after shutdown began.
func (r *ringService) Status(context.Context, *cachedv1.StatusRequest) (*cachedv1.StatusResponse, error) {
	s := r.s
	state := "starting"
	select {
	case <-s.life.Stopping():
		state = "stopping"
	case <-s.life.Ready():
		state = "serving"
	default:
	}
	resp := &cachedv1.StatusResponse{NodeId: s.cfg.ID, State: state, RespAddr: s.RESPAddr()}
	if v := s.currentView(); v != nil {
		resp.Members, resp.Epoch = int32(v.ring.Len()), v.epoch
	}
	return resp, nil
}
