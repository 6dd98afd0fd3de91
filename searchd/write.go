package searchd

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sync"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/engine"
	"cairn.dev/cairn/searchd/meta"
	sdclient "cairn.dev/cairn/streamd/client"
)

// MaxIDBytes is the longest document id (Elasticsearch's limit).
const MaxIDBytes = 512

// writeItem is one write of a Put, Delete or Bulk on its way to streamd.
type writeItem struct {
	action searchdv1.BulkAction
	index  string
	id     string
	source []byte
	// field prefixes the request fields named in errors ("items[3]").
	field string

	ix    *meta.Index
	shard int
	mv    uint64
	// existed says whether the id had a live document before the write.
	existed bool
	// skip: nothing to produce (a delete of an absent id).
	skip bool

	seqNo int64
	err   error
}

// result renders the item as Elasticsearch's bulk item.
func (it *writeItem) result() *searchdv1.BulkItemResult {
	r := &searchdv1.BulkItemResult{Action: it.action, Index: it.index, Id: it.id, SeqNo: -1}
	switch {
	case it.err != nil:
		r.Status, r.ErrorType, r.ErrorReason = itemStatus(it.err), errorType(it.err), it.err.Error()
	case it.skip:
		r.Status, r.Result = 404, "not_found"
	case it.action == searchdv1.BulkAction_BULK_ACTION_DELETE:
		r.Status, r.Result = 200, "deleted"
	case it.existed:
		r.Status, r.Result = 200, "updated"
	default:
		r.Status, r.Result = 201, "created"
	}
	if it.err == nil && !it.skip {
		r.SeqNo, r.Version = it.seqNo, it.seqNo+1
	}
	return r
}

// write validates, parses (committing dynamic mapping updates first),
// checks existence, produces and (with refresh) syncs items. Each item
// ends with its own outcome in it.err or its result fields; write itself
// fails only when ctx ends.
func (s *Server) write(ctx context.Context, items []*writeItem, refresh searchdv1.Refresh) error {
	indexes := map[string]*meta.Index{}
	for _, it := range items {
		it.err = s.prepare(ctx, it, indexes)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	type groupKey struct {
		uuid  string
		shard int
	}
	groups := map[groupKey][]*writeItem{}
	var order []groupKey
	for _, it := range items {
		if it.err != nil {
			continue
		}
		k := groupKey{it.ix.UUID, it.shard}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], it)
	}
	var wg sync.WaitGroup
	for _, k := range order {
		wg.Go(func() { s.writeShard(ctx, groups[k], refresh) })
	}
	wg.Wait()
	return ctx.Err()
}

// prepare validates an item, resolves its index and shard, and parses its
// source (committing new fields to the mapping).
func (s *Server) prepare(ctx context.Context, it *writeItem, indexes map[string]*meta.Index) error {
	switch it.action {
	case searchdv1.BulkAction_BULK_ACTION_INDEX, searchdv1.BulkAction_BULK_ACTION_CREATE:
		if it.id == "" {
			it.id = newDocID()
		}
		if len(it.source) == 0 {
			return invalidField(it.field+"source_json", "a document source is required")
		}
		if len(it.source) > s.cfg.MaxDocumentBytes {
			return tooLarge(it.field+"source_json", "max_document_bytes", len(it.source), s.cfg.MaxDocumentBytes)
		}
	case searchdv1.BulkAction_BULK_ACTION_DELETE:
		if it.id == "" {
			return invalidField(it.field+"id", "a delete needs an id")
		}
	default:
		return invalidField(it.field+"action", "unknown action %v", it.action)
	}
	if len(it.id) > MaxIDBytes {
		return tooLarge(it.field+"id", "max_id_bytes", len(it.id), MaxIDBytes)
	}
	ix := indexes[it.index]
	if ix == nil {
		if err := meta.ValidateIndexName(it.field+"index", it.index); err != nil {
			return err
		}
		var err error
		if ix, err = s.lookupIndex(ctx, it.index); err != nil {
			return err
		}
		indexes[it.index] = ix
	}
	it.ix, it.shard, it.mv = ix, engine.ShardOf(it.id, ix.Shards), ix.MappingVersion
	if it.action == searchdv1.BulkAction_BULK_ACTION_DELETE {
		return nil
	}
	sc, err := s.schemas.get(ix)
	if err != nil {
		return err
	}
	_, add, err := sc.mapping.ParseDocument(it.id, it.source, sc.reg)
	if err != nil {
		return err
	}
	if add != nil {
		merged, err := s.mergeMapping(ctx, ix.Name, add)
		if err != nil {
			return err
		}
		if merged.UUID != ix.UUID {
			return fmt.Errorf("%w: index %s was replaced", meta.ErrIndexNotFound, ix.Name)
		}
		indexes[it.index] = merged
		it.ix, it.mv = merged, merged.MappingVersion
	}
	return nil
}

// writeShard checks which ids exist, produces the shard's records as one
// batch and syncs the shard's copies when asked.
func (s *Server) writeShard(ctx context.Context, items []*writeItem, refresh searchdv1.Refresh) {
	ix, shard := items[0].ix, items[0].shard
	fail := func(err error) {
		for _, it := range items {
			if it.err == nil && !it.skip {
				it.err = err
			}
		}
	}
	if err := s.checkExisting(ctx, ix, shard, items); err != nil {
		fail(err)
		return
	}
	var recs []sdclient.Record
	var produced []*writeItem
	live := map[string]bool{}
	for _, it := range items {
		existed, seen := live[it.id]
		if !seen {
			existed = it.existed
		}
		it.existed = existed
		switch {
		case it.action == searchdv1.BulkAction_BULK_ACTION_CREATE && existed:
			it.err = fmt.Errorf("%w: [%s]: version conflict, document already exists", ErrVersionConflict, it.id)
			continue
		case it.action == searchdv1.BulkAction_BULK_ACTION_DELETE && !existed:
			it.skip = true
			continue
		case it.action == searchdv1.BulkAction_BULK_ACTION_DELETE:
			recs = append(recs, putRecord(it.id, nil, it.mv))
			live[it.id] = false
		default:
			recs = append(recs, putRecord(it.id, it.source, it.mv))
			live[it.id] = true
		}
		produced = append(produced, it)
	}
	if len(recs) == 0 {
		return
	}
	p := int32(shard)
	res, err := s.streamd.Produce(ctx, ix.Topic, recs, sdclient.ProduceOptions{Acks: sdclient.AcksAll, Partition: &p})
	if err != nil || len(res) != 1 {
		if err == nil {
			err = fmt.Errorf("%w: streamd answered %d batches for one", ErrShardUnavailable, len(res))
		}
		for _, it := range produced {
			it.err = err
		}
		return
	}
	for i, it := range produced {
		it.seqNo = res[0].BaseOffset + int64(i)
	}
	if refresh != searchdv1.Refresh_REFRESH_UNSPECIFIED {
		if _, err := s.syncShard(ctx, ix, shard, res[0].LastOffset+1); err != nil {
			s.logger.Info("write: refresh after write", "index", ix.Name, "shard", shard, "err", err)
		}
	}
}

// checkExisting sets existed on every item from a realtime get of its id
// on a started copy caught up with the partition's end.
func (s *Server) checkExisting(ctx context.Context, ix *meta.Index, shard int, items []*writeItem) error {
	end, err := s.partitionEnd(ctx, ix, shard)
	if err != nil {
		return err
	}
	if end == 0 {
		return nil // nothing was ever written to the shard
	}
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for _, it := range items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			found, err := s.existsAt(ctx, ix, shard, it.id, end)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			it.existed = found
		})
	}
	wg.Wait()
	return firstErr
}

// existsAt says whether id has a live document once a copy applied below
// offset.
func (s *Server) existsAt(ctx context.Context, ix *meta.Index, shard int, id string, offset int64) (bool, error) {
	resp, err := onCopy(ctx, s, ix, shard, func(ctx context.Context, c searchdv1.ShardServiceClient) (*searchdv1.ShardGetResponse, error) {
		return c.ShardGet(ctx, &searchdv1.ShardGetRequest{Shard: ref(ix, shard), Id: id, MinOffset: offset})
	})
	if err != nil {
		return false, err
	}
	return resp.GetFound(), nil
}

// newDocID returns 20 URL-safe random characters.
func newDocID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
