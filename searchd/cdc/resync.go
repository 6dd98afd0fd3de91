package cdc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	kvclient "cairn.dev/cairn/raftkv/client"
)

// resync makes the index hold exactly the documents of the prefix at one
// revision R and returns R+1, the revision to watch from. A compaction
// during the read restarts it at a newer revision.
func (s *Syncer) resync(ctx context.Context) (int64, error) {
	for {
		rev, err := s.resyncAt(ctx)
		if errors.Is(err, kvclient.ErrCompacted) {
			continue
		}
		if err != nil {
			return 0, err
		}
		s.count(func(st *Stats) { st.Resyncs++ })
		s.applied = rev
		if err := s.save(ctx, true); err != nil {
			return 0, err
		}
		return rev + 1, nil
	}
}

func (s *Syncer) resyncAt(ctx context.Context) (int64, error) {
	s.logger.Info("cdc: full resync")
	end := string(kvclient.PrefixEnd([]byte(s.cfg.Prefix)))
	keys := map[string]bool{}
	var rev int64
	start := s.cfg.Prefix
	for {
		opts := []kvclient.OpOption{kvclient.WithRange(end), kvclient.WithLimit(int64(s.cfg.PageSize))}
		if rev > 0 {
			opts = append(opts, kvclient.WithRev(rev))
		}
		resp, err := s.kv.Get(ctx, start, opts...)
		if err != nil {
			return 0, fmt.Errorf("cdc: read the prefix: %w", err)
		}
		if rev == 0 {
			rev = resp.GetHeader().GetRevision()
		}
		for _, kv := range resp.GetKvs() {
			if id, ok := DocID(string(kv.GetKey()), s.cfg.Prefix); ok {
				keys[id] = true
			}
			s.add(false, kv)
			if len(s.batch) >= s.cfg.BatchSize {
				if err := s.flush(ctx); err != nil {
					return 0, err
				}
			}
		}
		kvs := resp.GetKvs()
		if !resp.GetMore() || len(kvs) == 0 {
			break
		}
		start = string(kvs[len(kvs)-1].GetKey()) + "\x00"
	}
	if err := s.flush(ctx); err != nil {
		return 0, err
	}
	if err := s.deleteStale(ctx, keys); err != nil {
		return 0, err
	}
	return rev, nil
}

// deleteStale deletes the index's documents whose id is not in keep: it
// refreshes the index, then pages through its ids sorted by _id.
func (s *Syncer) deleteStale(ctx context.Context, keep map[string]bool) error {
	if _, err := s.indexes.Refresh(ctx, &searchdv1.RefreshRequest{Indexes: []string{s.cfg.Index}}); err != nil {
		return fmt.Errorf("cdc: refresh %s: %w", s.cfg.Index, err)
	}
	var after any
	for {
		body := map[string]any{
			"query": map[string]any{"match_all": map[string]any{}}, "_source": false,
			"size": s.cfg.PageSize, "sort": []any{map[string]any{"_id": "asc"}}, "track_total_hits": false,
		}
		if after != nil {
			body["search_after"] = []any{after}
		}
		b, _ := json.Marshal(body)
		resp, err := s.search.Search(ctx, &searchdv1.SearchRequest{Indexes: []string{s.cfg.Index}, BodyJson: b})
		if err != nil {
			return fmt.Errorf("cdc: list the ids of %s: %w", s.cfg.Index, err)
		}
		hits := resp.GetHits()
		for _, h := range hits {
			if !keep[h.GetId()] {
				s.batch = append(s.batch, &searchdv1.BulkItem{Action: searchdv1.BulkAction_BULK_ACTION_DELETE, Id: h.GetId()})
			}
		}
		if err := s.flush(ctx); err != nil {
			return err
		}
		if len(hits) < s.cfg.PageSize {
			return nil
		}
		after = hits[len(hits)-1].GetId()
	}
}
