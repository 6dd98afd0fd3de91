package searchd

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	searchdv1 "cairn.dev/cairn/proto/cairn/searchd/v1"
	"cairn.dev/cairn/searchd/engine"
	"cairn.dev/cairn/searchd/query"
)

var (
	zeroTime   time.Time
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

// copyChunkBytes is the largest data piece of a CopyShard message.
const copyChunkBytes = 1 << 20

// completeMarker starts the body of a ShardSearch that asks for
// completions instead of a search (SearchService.Suggest): the body is
// {"_cairn_complete": {"fields": [...], "prefix": "...", "size": n,
// "fuzzy": bool}} and the result a JSON array of query.Suggestion.
const completeMarker = `{"_cairn_complete":`

type completeRequest struct {
	Fields []string `json:"fields"`
	Prefix string   `json:"prefix"`
	Size   int      `json:"size"`
	Fuzzy  bool     `json:"fuzzy"`
}

// shardService serves cairn.searchd.v1.ShardService, the node-to-node
// phases, on this node's copies.
type shardService struct {
	searchdv1.UnimplementedShardServiceServer
	s *Server
}

// local returns this node's copy of the shard, waiting until it is open.
func (h *shardService) local(ctx context.Context, r *searchdv1.ShardRef) (*shardCopy, *engine.Shard, error) {
	c, err := h.s.copies.findWait(ctx, r.GetIndex(), r.GetIndexUuid(), int(r.GetShard()))
	if err != nil {
		return nil, nil, err
	}
	eng, _, err := c.await(ctx, 0, false)
	return c, eng, err
}

// searchable returns this node's copy of the shard for a search phase:
// open and caught up with its partition since it opened.
func (h *shardService) searchable(ctx context.Context, r *searchdv1.ShardRef) (*engine.Shard, error) {
	c, _, err := h.local(ctx, r)
	if err != nil {
		return nil, err
	}
	return c.readable()
}

func (h *shardService) ShardTermStats(ctx context.Context, req *searchdv1.ShardTermStatsRequest) (*searchdv1.ShardTermStatsResponse, error) {
	if err := h.s.requireNode(ctx); err != nil {
		return nil, err
	}
	eng, err := h.searchable(ctx, req.GetShard())
	if err != nil {
		return nil, toStatus(err)
	}
	st, err := eng.TermStats(req.GetBodyJson())
	if err != nil {
		return nil, toStatus(err)
	}
	b, err := engine.EncodeStats(st)
	if err != nil {
		return nil, toStatus(err)
	}
	return &searchdv1.ShardTermStatsResponse{Header: h.s.header(), StatsJson: b}, nil
}

func (h *shardService) ShardSearch(ctx context.Context, req *searchdv1.ShardSearchRequest) (*searchdv1.ShardSearchResponse, error) {
	if err := h.s.requireNode(ctx); err != nil {
		return nil, err
	}
	eng, err := h.searchable(ctx, req.GetShard())
	if err != nil {
		return nil, toStatus(err)
	}
	body := req.GetBodyJson()
	if bytes.HasPrefix(body, []byte(completeMarker)) {
		var w struct {
			C completeRequest `json:"_cairn_complete"`
		}
		if err := json.Unmarshal(body, &w); err != nil {
			return nil, toStatus(invalidField("body_json", "bad completion request: %v", err))
		}
		out, _ := json.Marshal(eng.Complete(w.C.Fields, w.C.Prefix, w.C.Size, w.C.Fuzzy))
		return &searchdv1.ShardSearchResponse{Header: h.s.header(), Result: out}, nil
	}
	var stats *query.Stats
	if len(req.GetStatsJson()) > 0 {
		if stats, err = engine.DecodeStats(req.GetStatsJson()); err != nil {
			return nil, toStatus(invalidField("stats_json", "%v", err))
		}
	}
	res, err := eng.Search(ctx, body, stats)
	if err != nil {
		return nil, toStatus(err)
	}
	b, err := encodeShardResult(res)
	if err != nil {
		return nil, toStatus(err)
	}
	return &searchdv1.ShardSearchResponse{Header: h.s.header(), Result: b}, nil
}

func (h *shardService) ShardGet(ctx context.Context, req *searchdv1.ShardGetRequest) (*searchdv1.ShardGetResponse, error) {
	if err := h.s.requireNode(ctx); err != nil {
		return nil, err
	}
	c, err := h.s.copies.findWait(ctx, req.GetShard().GetIndex(), req.GetShard().GetIndexUuid(), int(req.GetShard().GetShard()))
	if err != nil {
		return nil, toStatus(err)
	}
	eng, _, err := c.await(ctx, req.GetMinOffset(), false)
	if err != nil {
		return nil, toStatus(err)
	}
	src, found, err := eng.Get(req.GetId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &searchdv1.ShardGetResponse{Header: h.s.header(), Found: found, SourceJson: src}, nil
}

func (h *shardService) ShardSync(ctx context.Context, req *searchdv1.ShardSyncRequest) (*searchdv1.ShardSyncResponse, error) {
	if err := h.s.requireNode(ctx); err != nil {
		return nil, err
	}
	c, err := h.s.copies.findWait(ctx, req.GetShard().GetIndex(), req.GetShard().GetIndexUuid(), int(req.GetShard().GetShard()))
	if err != nil {
		return nil, toStatus(err)
	}
	_, applied, err := c.await(ctx, req.GetMinOffset(), false)
	if err != nil {
		return nil, toStatus(err)
	}
	if req.GetMinOffset() > 0 {
		c.markCaughtUp()
	}
	if req.GetRefresh() {
		c.mu.Lock()
		searchable := c.searchable
		c.mu.Unlock()
		if searchable < req.GetMinOffset() {
			if err := c.refresh(); err != nil {
				return nil, toStatus(err)
			}
		}
	}
	return &searchdv1.ShardSyncResponse{Header: h.s.header(), AppliedOffset: applied}, nil
}

// CopyShard commits the copy, pins the commit point and streams it: a
// first message with the offset and the files (sizes and CRC-32C), then
// each file's data in order.
func (h *shardService) CopyShard(req *searchdv1.CopyShardRequest, stream searchdv1.ShardService_CopyShardServer) error {
	if err := h.s.requireNode(stream.Context()); err != nil {
		return err
	}
	ctx := stream.Context()
	c, _, err := h.local(ctx, req.GetShard())
	if err != nil {
		return toStatus(err)
	}
	if err := c.commit(); err != nil {
		return toStatus(err)
	}
	_, eng := c.progress()
	files, ud, release, err := eng.W.CommitFiles()
	if err != nil {
		return toStatus(err)
	}
	defer release()
	offset, err := strconv.ParseInt(ud["offset"], 10, 64)
	if err != nil {
		offset = 0
	}
	first := &searchdv1.CopyShardResponse{Offset: offset}
	for _, f := range files {
		sum, err := fileCRC(filepath.Join(c.dir, f.Name))
		if err != nil {
			return toStatus(err)
		}
		first.Files = append(first.Files, &searchdv1.ShardFile{Name: f.Name, Size: f.Size, Crc32C: sum})
	}
	if err := stream.Send(first); err != nil {
		return err
	}
	buf := make([]byte, copyChunkBytes)
	for _, f := range files {
		fh, err := os.Open(filepath.Join(c.dir, f.Name))
		if err != nil {
			return toStatus(err)
		}
		left := f.Size
		for left > 0 {
			n, err := io.ReadFull(fh, buf[:min(int64(len(buf)), left)])
			if err != nil {
				fh.Close()
				return toStatus(err)
			}
			left -= int64(n)
			if err := stream.Send(&searchdv1.CopyShardResponse{File: f.Name, Data: buf[:n]}); err != nil {
				fh.Close()
				return err
			}
		}
		fh.Close()
	}
	return nil
}

func fileCRC(path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	if _, err := io.Copy(h, f); err != nil {
		return 0, err
	}
	return h.Sum32(), nil
}
