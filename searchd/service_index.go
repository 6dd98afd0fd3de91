package searchd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	streamdv1 "cairn.dev/cairn/proto/cairn/streamd/v1"
	"cairn.dev/cairn/searchd/analysis"
	"cairn.dev/cairn/searchd/mapping"
	"cairn.dev/cairn/searchd/meta"
	sdclient "cairn.dev/cairn/streamd/client"
)

// indexService serves cairn.searchd.v1.IndexService.
type indexService struct {
	searchdv1.UnimplementedIndexServiceServer
	s *Server
}

// CreateIndex validates the settings and mappings, creates the index's
// streamd topic, then commits the index with its copies placed round-robin
// over the metadata group's members.
func (h *indexService) CreateIndex(ctx context.Context, req *searchdv1.CreateIndexRequest) (*searchdv1.CreateIndexResponse, error) {
	ix, err := h.s.createIndex(ctx, req)
	if err != nil {
		return nil, toStatus(err)
	}
	return &searchdv1.CreateIndexResponse{Header: h.s.header(), Index: indexProto(ix)}, nil
}

func (s *Server) createIndex(ctx context.Context, req *searchdv1.CreateIndexRequest) (*meta.Index, error) {
	if err := meta.ValidateIndexName("name", req.GetName()); err != nil {
		return nil, err
	}
	st := req.GetSettings()
	nodes := sortedKeys(s.memberAddrs())
	shards, replicas := int(st.GetShards()), int(st.GetReplicas())
	if st == nil {
		replicas = min(1, len(nodes)-1)
	}
	if shards == 0 {
		shards = 1
	}
	if shards < 1 || shards > meta.MaxShards {
		return nil, invalidField("settings.shards", "%d shards, must be in [1, %d]", shards, meta.MaxShards)
	}
	if replicas < 0 || replicas > len(nodes)-1 {
		return nil, invalidField("settings.replicas", "%d replicas, must be in [0, %d] (the nodes less one)", replicas, len(nodes)-1)
	}
	refresh := s.cfg.RefreshInterval
	if d := st.GetRefreshInterval(); d != nil {
		refresh = d.AsDuration()
		if refresh == 0 {
			refresh = s.cfg.RefreshInterval
		}
	}
	if k1, b := st.GetBm25K1(), st.GetBm25B(); k1 < 0 || b < 0 || b > 1 {
		return nil, invalidField("settings.bm25_k1", "k1 %v must be >= 0 and b %v in [0, 1]", k1, b)
	}
	if _, err := analysis.NewRegistry(st.GetAnalysisJson()); err != nil {
		return nil, err
	}
	m, err := mapping.Parse(req.GetMappingsJson())
	if err != nil {
		return nil, err
	}
	uuid := newUUID()
	ix := &meta.Index{
		Name: req.GetName(), UUID: uuid, Topic: "searchd." + req.GetName() + "." + uuid[:8],
		Shards: shards, Replicas: replicas, RefreshInterval: refresh,
		AnalysisJSON: st.GetAnalysisJson(), K1: st.GetBm25K1(), B: st.GetBm25B(),
		MappingsJSON: m.JSON(), MappingVersion: 1,
	}
	for sh := 0; sh < shards; sh++ {
		var cs []meta.Copy
		for r := 0; r <= replicas; r++ {
			cs = append(cs, meta.Copy{Node: nodes[(sh+r)%len(nodes)], State: meta.Started})
		}
		ix.Copies = append(ix.Copies, cs)
	}
	if existing, err := s.meta.Index(ix.Name); err == nil {
		return nil, fmt.Errorf("%w: index %s exists (uuid %s)", meta.ErrIndexExists, existing.Name, existing.UUID)
	}
	if err := s.createTopic(ctx, ix); err != nil {
		return nil, err
	}
	res, err := s.propose(ctx, meta.CreateIndex(ix))
	if err != nil {
		if errors.Is(err, meta.ErrIndexExists) || errors.Is(err, meta.ErrInvalidArgument) {
			s.deleteTopic(ix.Topic)
		}
		return nil, err
	}
	s.logger.Info("index created", "index", ix.Name, "uuid", ix.UUID, "shards", shards, "replicas", replicas)
	return res.Index, nil
}

// createTopic creates the index's topic: one partition per shard,
// replicated on min(StreamdReplicas, streamd nodes), compacted by id.
func (s *Server) createTopic(ctx context.Context, ix *meta.Index) error {
	st, err := s.streamd.Status(ctx)
	if err != nil {
		return fmt.Errorf("%w: streamd: %v", ErrShardUnavailable, err)
	}
	repl := int32(min(s.cfg.StreamdReplicas, max(1, len(st.GetMembers()))))
	cfg := &streamdv1.TopicConfig{CleanupPolicy: streamdv1.CleanupPolicy_CLEANUP_POLICY_COMPACT}
	if repl >= 3 {
		cfg.MinInsyncReplicas = 2
	}
	_, err = s.streamd.CreateTopic(ctx, &streamdv1.CreateTopicRequest{Name: ix.Topic, Partitions: int32(ix.Shards), Replication: repl, Config: cfg})
	if err != nil && !errors.Is(err, sdclient.ErrTopicExists) {
		return err
	}
	return nil
}

// deleteTopic deletes a topic, logging failures (a leftover topic costs
// disk only).
func (s *Server) deleteTopic(topic string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.streamd.DeleteTopic(ctx, topic); err != nil && !errors.Is(err, sdclient.ErrTopicNotFound) {
		s.logger.Warn("delete topic", "topic", topic, "err", err)
	}
}

// DeleteIndex deletes the index from the metadata (every copy closes and
// removes its files) and then its topic.
func (h *indexService) DeleteIndex(ctx context.Context, req *searchdv1.DeleteIndexRequest) (*searchdv1.DeleteIndexResponse, error) {
	if err := meta.ValidateIndexName("name", req.GetName()); err != nil {
		return nil, toStatus(err)
	}
	res, err := h.s.propose(ctx, meta.DeleteIndex(req.GetName(), ""))
	if err != nil {
		return nil, toStatus(err)
	}
	h.s.deleteTopic(res.Index.Topic)
	h.s.logger.Info("index deleted", "index", res.Index.Name, "uuid", res.Index.UUID)
	return &searchdv1.DeleteIndexResponse{Header: h.s.header()}, nil
}

// GetIndex returns one index (linearizable: after a read barrier).
func (h *indexService) GetIndex(ctx context.Context, req *searchdv1.GetIndexRequest) (*searchdv1.GetIndexResponse, error) {
	if err := h.s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	ix, err := h.s.meta.Index(req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	return &searchdv1.GetIndexResponse{Header: h.s.header(), Index: indexProto(ix)}, nil
}

// ListIndexes lists every index (after a read barrier).
func (h *indexService) ListIndexes(ctx context.Context, _ *searchdv1.ListIndexesRequest) (*searchdv1.ListIndexesResponse, error) {
	if err := h.s.barrier(ctx); err != nil {
		return nil, toStatus(err)
	}
	ixs, err := h.s.meta.Indexes()
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &searchdv1.ListIndexesResponse{Header: h.s.header()}
	for _, ix := range ixs {
		resp.Indexes = append(resp.Indexes, indexProto(ix))
	}
	return resp, nil
}

// PutMapping merges new fields into an index's mappings.
func (h *indexService) PutMapping(ctx context.Context, req *searchdv1.PutMappingRequest) (*searchdv1.PutMappingResponse, error) {
	add, err := mapping.Parse(req.GetMappingsJson())
	if err != nil {
		return nil, toStatus(err)
	}
	ix, err := h.s.mergeMapping(ctx, req.GetIndex(), add)
	if err != nil {
		return nil, toStatus(err)
	}
	return &searchdv1.PutMappingResponse{Header: h.s.header(), Index: indexProto(ix)}, nil
}

// mergeMapping commits the index's mapping merged with add, retrying when
// another node changed it meanwhile; it returns the index as committed.
func (s *Server) mergeMapping(ctx context.Context, name string, add *mapping.Mapping) (*meta.Index, error) {
	for attempt := 0; ; attempt++ {
		ix, err := s.lookupIndex(ctx, name)
		if err != nil {
			return nil, err
		}
		sc, err := s.schemas.get(ix)
		if err != nil {
			return nil, err
		}
		merged, err := sc.mapping.Merge(add)
		if err != nil {
			return nil, err
		}
		res, err := s.propose(ctx, meta.PutMapping(name, ix.MappingVersion, merged.JSON()))
		if errors.Is(err, meta.ErrMappingConflict) && attempt < 10 {
			if err := s.barrier(ctx); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		return res.Index, nil
	}
}

// Refresh syncs every started copy of the indexes' shards up to their
// partitions' ends and refreshes them.
func (h *indexService) Refresh(ctx context.Context, req *searchdv1.RefreshRequest) (*searchdv1.RefreshResponse, error) {
	names := req.GetIndexes()
	if len(names) == 0 {
		if err := h.s.barrier(ctx); err != nil {
			return nil, toStatus(err)
		}
		ixs, err := h.s.meta.Indexes()
		if err != nil {
			return nil, toStatus(err)
		}
		for _, ix := range ixs {
			names = append(names, ix.Name)
		}
	}
	resp := &searchdv1.RefreshResponse{Header: h.s.header()}
	for _, name := range names {
		ix, err := h.s.lookupIndex(ctx, name)
		if err != nil {
			return nil, toStatus(err)
		}
		total, ok, err := h.s.refreshIndex(ctx, ix)
		if err != nil {
			return nil, toStatus(err)
		}
		resp.TotalShards += int32(total)
		resp.SuccessfulShards += int32(ok)
	}
	return resp, nil
}

// IndexStats sums the statistics of one started copy per shard (docs) and
// of every copy (sizes).
func (h *indexService) IndexStats(ctx context.Context, req *searchdv1.IndexStatsRequest) (*searchdv1.IndexStatsResponse, error) {
	ix, err := h.s.lookupIndex(ctx, req.GetName())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &searchdv1.IndexStatsResponse{Header: h.s.header(), Index: indexProto(ix)}
	for shard := range ix.Copies {
		counted := false
		for i, c := range ix.Copies[shard] {
			if c.State == lostState {
				continue
			}
			st, err := h.s.copyStats(ctx, ix, shard, c.Node)
			if err != nil {
				continue
			}
			resp.Index.Shards[shard].Copies[i].AppliedOffset = st.applied
			resp.Index.Shards[shard].Copies[i].Docs = st.docs
			resp.SizeBytes += st.size
			if !counted && c.State == startedState {
				counted = true
				resp.Docs += st.docs
				resp.DeletedDocs += st.deleted
				resp.Segments += int32(st.segments)
			}
		}
	}
	return resp, nil
}

const (
	lostState    = meta.Lost
	startedState = meta.Started
)

// indexProto renders an index for the API.
func indexProto(ix *meta.Index) *searchdv1.Index {
	out := &searchdv1.Index{
		Name: ix.Name, Uuid: ix.UUID, Topic: ix.Topic, MappingsJson: ix.MappingsJSON, MappingVersion: ix.MappingVersion,
		Settings: &searchdv1.IndexSettings{
			Shards: int32(ix.Shards), Replicas: int32(ix.Replicas), RefreshInterval: durationpb.New(ix.RefreshInterval),
			AnalysisJson: ix.AnalysisJSON, Bm25K1: ix.K1, Bm25B: ix.B,
		},
		CreatedAt: timestamppb.New(time.Unix(0, ix.CreatedUnixNs)),
		Health:    ix.Health(),
	}
	for shard, cs := range ix.Copies {
		sp := &searchdv1.Shard{Id: int32(shard)}
		for _, c := range cs {
			sp.Copies = append(sp.Copies, &searchdv1.ShardCopy{NodeId: c.Node, State: searchdv1.CopyState(c.State)})
		}
		out.Shards = append(out.Shards, sp)
	}
	return out
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
